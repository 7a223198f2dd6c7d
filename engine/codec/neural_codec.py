"""The WORLD group-RVQ codec with its tokens decoded by the trained neural decoder (engine/vocoder/) at
24 kHz instead of by WORLD at 16 kHz: same tokens, same encoder, so the acoustic model and every decoder
stay as they are.

It speaks the codec protocol at the decoder's rate: `encode` takes 24 kHz audio and analyses it at the
codec's own 16 kHz; `decode` returns 24 kHz. Voice matching (engine/codec/voice_match.py) still works on
the dequantized WORLD features, which the neural decoder then voices: `synthesize_features` is the one
place the two vocoders differ. An anchored decoder (`world_anchor`) voices them with WORLD's synthesis of
the same frames beside them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from engine.audio import resample
from engine.codec.group_codec import GroupRVQCodec
from engine.errors import UserInputError
from engine.vocoder.generator import NeuralDecoder, load_generator

DEFAULT_VOCODER_PATH = Path(__file__).resolve().parents[2] / "assets" / "vocoder" / "vocoder.pt"
TRAIN_VOCODER_COMMAND = (
    "`python -m engine.train.prepare_vocoder --out /work/vocoder_data`, then `python -m "
    "engine.train.train_vocoder --data /work/vocoder_data --out /work/runs/vocoder --export PATH` (docs/models/vocoder.md)"
)


class NeuralDecodedCodec(GroupRVQCodec):
    """A GroupRVQCodec whose feature frames are voiced by a NeuralDecoder (see the module docstring)."""

    def __init__(self, base: GroupRVQCodec, decoder: NeuralDecoder, decoder_metadata: dict | None = None):
        super().__init__(base.cfg, base.layout, base.quantizers, base.metadata, base.refiner)
        shape = decoder.cfg
        if shape.feature_dim != base.layout.dim or shape.hop * base.frame_rate != shape.sample_rate:
            raise UserInputError(
                f"The neural decoder ({shape.feature_dim} features, hop {shape.hop} at {shape.sample_rate} Hz) "
                f"does not fit this codec ({base.layout.dim} features, {base.frame_rate:g} frames/s)."
            )
        self.decoder = decoder.eval()
        self.decoder_metadata = decoder_metadata or {}
        self.sample_rate = shape.sample_rate

    def features(self, samples: np.ndarray) -> np.ndarray:
        """Raw WORLD feature vectors [T, dim] of mono samples at the decoder's rate (analysed at 16 kHz)."""
        world_rate = self.cfg.world.sample_rate
        return super().features(resample(np.asarray(samples, dtype=np.float32), self.sample_rate, world_rate))

    @torch.inference_mode()
    def synthesize_features(self, raw: np.ndarray) -> np.ndarray:
        """Float32 mono samples at the decoder's rate (T x hop) of raw feature vectors [T, dim]."""
        if len(raw) == 0:
            return np.zeros(0, dtype=np.float32)
        z = torch.from_numpy(self.layout.normalize(raw).astype(np.float32))[None]
        world = None
        if self.decoder.cfg.world_anchor:
            world = torch.from_numpy(world_anchor(super().synthesize_features(raw), self))[None]
        return self.decoder(z, world)[0].numpy().astype(np.float32)


def world_anchor(world: np.ndarray, codec: GroupRVQCodec, sample_rate: int = 24000) -> np.ndarray:
    """WORLD's samples of T frames at the codec's rate, resampled to `sample_rate` and cut or padded to exactly
    T frames there: what an anchored neural decoder hears beside the frames."""
    n = round(len(world) * sample_rate / codec.cfg.world.sample_rate)
    out = resample(world, codec.cfg.world.sample_rate, sample_rate)[:n]
    return np.pad(out, (0, n - len(out))).astype(np.float32)


def with_neural_decoder(base: GroupRVQCodec, path: str | Path | None = None) -> NeuralDecodedCodec:
    """`base` decoding through the neural decoder exported at `path` (default assets/vocoder/vocoder.pt)."""
    p = Path(path) if path is not None else DEFAULT_VOCODER_PATH
    if not p.is_file():
        raise UserInputError(
            f"No neural decoder at {p}. Train one with {TRAIN_VOCODER_COMMAND}, "
            "or use --vocoder world (the default)."
        )
    try:
        decoder, metadata = load_generator(p)
    except ValueError as error:
        raise UserInputError(str(error)) from None
    return NeuralDecodedCodec(base, decoder, metadata)
