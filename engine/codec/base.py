"""The codec protocol every codec follows (waveform <-> LongTensor[n_q, T] of tokens), and the loader."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import torch

from engine.errors import UserInputError

DEFAULT_CODEC_DIR = Path(__file__).resolve().parents[2] / "assets" / "codec"
VOCODERS = ("world", "neural")  # what voices the tokens: WORLD at 16 kHz, or the neural decoder at 24 kHz


@runtime_checkable
class Codec(Protocol):
    """Turns mono audio into discrete tokens and back.

    Tokens are a LongTensor[n_q, T]: level q of frame t. Levels are organised in `groups` (level indices
    of each group, coarse to fine); a plain RVQ has a single group holding every level.
    """

    sample_rate: int
    frame_rate: float
    n_q: int
    codebook_sizes: tuple[int, ...]
    codebook_size: int
    groups: tuple[tuple[int, ...], ...]

    def encode(self, samples: np.ndarray) -> torch.LongTensor:
        """Tokens [n_q, T] of float32 mono samples at `sample_rate`."""
        ...

    def decode(self, codes: torch.LongTensor, levels: Sequence[int] | None = None) -> np.ndarray:
        """Float32 mono samples of codes [n_q, T].

        `levels[g]` is how many levels of group g to use (coarse first); the others count as a zero
        residual. None uses every level.
        """
        ...


def resolve_levels(groups: tuple[tuple[int, ...], ...], levels: Sequence[int] | None) -> tuple[int, ...]:
    """Per-group level counts, checked against the groups; None means all levels.

    Args:
        groups: level indices of each group.
        levels: how many levels of each group to use.

    Returns:
        One count per group.
    """
    if levels is None:
        return tuple(len(g) for g in groups)
    levels = tuple(int(n) for n in levels)
    if len(levels) != len(groups):
        raise UserInputError(
            f"levels={levels} gives {len(levels)} counts but this codec has {len(groups)} groups; "
            f"give one count per group, e.g. levels={tuple(len(g) for g in groups)} for all levels."
        )
    for n, g in zip(levels, groups):
        if not 1 <= n <= len(g):
            raise UserInputError(
                f"levels={levels} asks for {n} levels of a group that has {len(g)}; use 1..{len(g)}."
            )
    return levels


def check_codes(codes: torch.Tensor, codebook_sizes: tuple[int, ...]) -> torch.LongTensor:
    """Codes as a LongTensor [n_q, T], checked for shape and per-level range."""
    codes = torch.as_tensor(codes).long()
    if codes.ndim != 2 or codes.shape[0] != len(codebook_sizes):
        raise UserInputError(
            f"codes have shape {tuple(codes.shape)}; this codec decodes [{len(codebook_sizes)}, frames]."
        )
    sizes = torch.tensor(codebook_sizes)[:, None]
    if codes.numel() and ((codes < 0) | (codes >= sizes)).any():
        raise UserInputError(f"codes fall outside the codebooks (sizes {codebook_sizes} per level).")
    return codes


def load_codec(
    path: str | Path | None = None, vocoder: str = "world", vocoder_path: str | Path | None = None
) -> Codec:
    """Load a trained codec from its directory (or .pt file); default: the shipped assets/codec/.

    Args:
        path: directory holding codec.pt, or the .pt file itself.
        vocoder: "world" (16 kHz WORLD synthesis, the default) or "neural" (the trained neural decoder,
            24 kHz; engine/codec/neural_codec.py).
        vocoder_path: the neural decoder's export (default assets/vocoder/vocoder.pt).

    Returns:
        The codec, ready to encode and decode.
    """
    from engine.codec.group_codec import GroupRVQCodec

    if vocoder not in VOCODERS:
        raise UserInputError(f"Unknown vocoder {vocoder!r}; use one of {VOCODERS}.")

    p = Path(path) if path is not None else DEFAULT_CODEC_DIR
    if p.is_dir():
        p = p / "codec.pt"
    if not p.exists():
        raise UserInputError(
            f"No codec checkpoint at {p}. Train one with "
            "`python -m engine.train.train_codec --corpus /work/corpus --out assets/codec`, "
            "or pass the directory of an existing one."
        )
    codec = GroupRVQCodec.load(p)
    if vocoder == "world":
        return codec
    from engine.codec.neural_codec import with_neural_decoder  # loads the audio helpers: only when asked

    return with_neural_decoder(codec, vocoder_path)
