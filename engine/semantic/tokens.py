"""Semantic tokens: what is said, one token per codec frame. The protocol, and its phone implementation.

The phone tokenizer gives each 20 ms frame the id of the phone sounding at the frame's centre, optionally
folded with the frame's position inside that phone (begin / middle / end thirds). The default is plain phone
ids: a token -> mean log-mel lookup explains 60.5% of the eval frames' variance with phone ids, 61.7% with 3
position buckets, 62.3% with 4 (`bench/t2s/`: fitted on ~1,000 train, scored on 120 eval utterances); a
bidirectional acoustic model sees where a run of one phone starts and ends, so that gain does not pay for 3x
the vocabulary. A learned unit tokenizer (k-means over speech features, HuBERT-style) implements the same
protocol from the recording (`audio=`), and the rest of the pipeline never assumes phones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import torch

from engine.text.phone_inventory import PAD, PHONE_ID, PHONE_SET, SHORT_PAUSE

FRAME_RATE = 50  # the codec's frames per second (20 ms frames)


@runtime_checkable
class SemanticTokenizer(Protocol):
    """Maps an utterance to one semantic token per codec frame.

    Attributes:
        vocab_size: number of token ids (the acoustic model's embedding size); `pad_id` is among them.
        frame_rate: tokens per second; equals the codec's frame rate.
        pad_id: the id that pads a batch (never produced for real frames).
    """

    vocab_size: int
    frame_rate: int
    pad_id: int

    def from_alignment(
        self, phones: Sequence[tuple[str, float, float]], n_frames: int, audio: np.ndarray | None = None
    ) -> torch.Tensor:
        """Tokens of a recorded utterance (training data), exactly `n_frames` long.

        Args:
            phones: (phone symbol, start_s, end_s) covering the utterance, as in the corpus manifest.
            n_frames: frames of the utterance, round(duration * frame_rate).
            audio: the 16 kHz recording; needed by tokenizers that read sound (learned units), ignored by phones.

        Returns:
            LongTensor [n_frames].
        """
        ...

    def from_durations(self, phones: Sequence[str], frames: Sequence[int]) -> torch.Tensor:
        """Tokens of text to be spoken (inference): each phone held for its predicted number of frames.

        Args:
            phones: phone symbols, e.g. from `engine.text.phonemize`.
            frames: frames per phone (non-negative ints), as the duration model predicts them.

        Returns:
            LongTensor [sum(frames)].
        """
        ...


def frame_boundaries(seconds: np.ndarray, frame_rate: int = FRAME_RATE) -> np.ndarray:
    """Times (s) -> frame indices by rounding half up, the one rounding used for training and inference.

    A frame belongs to the phone that covers its centre; that is the same as rounding each phone boundary
    to the nearest frame edge. Rounding cumulative times (not each duration) keeps the total exact.
    """
    return np.floor(np.asarray(seconds, dtype=np.float64) * frame_rate + 0.5).astype(np.int64)


def alignment_frames(
    phones: Sequence[tuple[str, float, float]], n_frames: int, frame_rate: int = FRAME_RATE
) -> tuple[list[str], list[int]]:
    """An alignment -> (phones, frames per phone) covering exactly `n_frames` frames.

    Gaps between phones and frames after the last phone become a short pause; phones are clipped to the
    utterance; phones shorter than half a frame get 0 frames (they are kept, so the list stays parallel to
    the input, with `SHORT_PAUSE` entries appended or inserted for gaps).

    Args:
        phones: (symbol, start_s, end_s), in time order.
        n_frames: the utterance's length in frames.
        frame_rate: frames per second.

    Returns:
        (symbols, frames) with sum(frames) == n_frames.
    """
    symbols: list[str] = []
    frames: list[int] = []
    cursor = 0  # frames assigned so far
    for symbol, start, end in phones:
        first = min(int(frame_boundaries(start, frame_rate)), n_frames)
        last = min(int(frame_boundaries(max(end, start), frame_rate)), n_frames)
        if first > cursor:  # a gap in the alignment is silence
            symbols.append(SHORT_PAUSE)
            frames.append(first - cursor)
            cursor = first
        symbols.append(symbol)
        frames.append(max(last - cursor, 0))
        cursor = max(cursor, last)
    if cursor < n_frames:
        symbols.append(SHORT_PAUSE)
        frames.append(n_frames - cursor)
    return symbols, frames


class PhoneTokenizer:
    """Frame-level phone ids, optionally with the frame's position inside its phone folded into the id.

    Token id = phone_id * positions + bucket, bucket = floor(frame_in_phone * positions / phone_frames).
    With positions=1 the token is the phone id of `PHONE_SET`; padding is 0 either way.
    """

    frame_rate = FRAME_RATE

    def __init__(self, positions: int = 1) -> None:
        if positions < 1:
            raise ValueError("positions must be at least 1")
        self.positions = positions
        self.vocab_size = len(PHONE_SET) * positions
        self.pad_id = PHONE_ID[PAD] * positions

    def from_alignment(
        self, phones: Sequence[tuple[str, float, float]], n_frames: int, audio: np.ndarray | None = None
    ) -> torch.Tensor:
        """Tokens of a recorded utterance; see `SemanticTokenizer.from_alignment` (audio is not used)."""
        symbols, frames = alignment_frames(phones, n_frames, self.frame_rate)
        return self.from_durations(symbols, frames)

    def from_durations(self, phones: Sequence[str], frames: Sequence[int]) -> torch.Tensor:
        """Tokens for phones held `frames` frames each; see `SemanticTokenizer.from_durations`."""
        if len(phones) != len(frames):
            raise ValueError(f"{len(phones)} phones but {len(frames)} durations")
        counts = np.asarray(frames, dtype=np.int64)
        if (counts < 0).any():
            raise ValueError("frame counts must not be negative")
        try:
            ids = np.array([PHONE_ID[phone] for phone in phones], dtype=np.int64)
        except KeyError as error:
            raise ValueError(f"{error.args[0]!r} is not in PHONE_SET") from None
        tokens = np.repeat(ids * self.positions, counts)
        if self.positions > 1 and len(tokens):
            starts = np.repeat(np.cumsum(counts) - counts, counts)
            within = np.arange(len(tokens)) - starts
            tokens += within * self.positions // np.repeat(counts, counts)
        return torch.from_numpy(tokens)

    def phone_of(self, tokens: torch.Tensor) -> torch.Tensor:
        """Phone ids (indices of `PHONE_SET`) of tokens, dropping the position bucket."""
        return tokens // self.positions
