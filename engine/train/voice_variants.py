"""New training voices made from recorded ones, in the WORLD feature domain.

A variant of a speaker scales its F0 and warps the frequency axis of its spectral envelope (a warp above 1
moves the formants up, as a shorter vocal tract does). Each variant is applied alike to every utterance of
the speaker, so a variant is a consistent voice of its own: a training target and its prompt (another
utterance of the same speaker) share it. The acoustic model trained on the 48 recorded training voices
reaches speaker similarity 0.885 on them but 0.69 on the reserved voices; variants are more voices.

The WORLD-coded envelope is linear in the log spectrum, and so is the warp, so a warp is one
[n_envelope, n_envelope] matrix on the coded envelope.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from engine.codec.group_codec import FeatureLayout, GroupCodecConfig
from engine.codec.world_features import WorldConfig, code_log_spectrum, envelope_basis

# Ranges of the random variants: F0 up to 6 semitones either way, formants up to 20 % either way. Speaker
# similarity (resemblyzer) of a variant to its source voice, 4 training voices x 3 variants: 0.76-0.94;
# between two utterances of one variant: 0.87-0.95, as of the source voice (0.89-0.94).
F0_SCALE_RANGE = (2 ** (-6 / 12), 2 ** (6 / 12))
WARP_RANGE = (1 / 1.2, 1.2)


@dataclass(frozen=True)
class VoiceVariant:
    """F0 multiplied by `f0_scale`; envelope frequency axis stretched by `warp` (value at f moves to f * warp)."""

    f0_scale: float
    warp: float

    def apply(self, raw: np.ndarray, codec_cfg: GroupCodecConfig) -> np.ndarray:
        """Raw feature vectors [T, dim] (FEATURE_NAMES order) of the variant; aperiodicity is kept."""
        slices = FeatureLayout(codec_cfg, np.zeros(1), np.ones(1)).slices
        out = np.array(raw, dtype=np.float32, copy=True)
        out[:, slices["log_f0"]] += np.float32(np.log(self.f0_scale))
        env = slice(slices["energy"].start, slices["envelope"].stop)  # c0 first, as WORLD codes it
        out[:, env] = raw[:, env] @ warp_matrix(self.warp, codec_cfg.world)
        return out


@lru_cache(maxsize=64)
def warp_matrix(warp: float, world: WorldConfig) -> np.ndarray:
    """[n_envelope, n_envelope] float32: coded envelope -> coded envelope of the frequency-warped spectrum."""
    basis = envelope_basis(world, world.n_envelope).astype(
        np.float64
    )  # [n_env, n_bins] log spectrum per code
    freqs = np.linspace(0.0, world.sample_rate / 2, world.fft_size // 2 + 1)
    # Output bin f reads the input spectrum at f / warp (flat past Nyquist).
    resample = np.stack([np.interp(freqs / warp, freqs, row) for row in np.eye(len(freqs))])
    warped = code_log_spectrum(basis @ resample, world, world.n_envelope)
    # Coding is not exactly the inverse of the basis (identity round trip off by up to 0.05); undo that part.
    round_trip = code_log_spectrum(basis, world, world.n_envelope)
    return np.linalg.solve(round_trip.T, warped.T).T.astype(np.float32)


def speaker_variants(speaker: str, count: int, seed: int = 0) -> list[VoiceVariant]:
    """`count` variants of one speaker, drawn log-uniformly from the ranges; stable for a speaker name."""
    rng = np.random.default_rng([seed, zlib.crc32(speaker.encode())])
    out = []
    for _ in range(count):
        f0 = float(np.exp(rng.uniform(*np.log(F0_SCALE_RANGE))))
        warp = float(np.exp(rng.uniform(*np.log(WARP_RANGE))))
        out.append(VoiceVariant(round(f0, 4), round(warp, 4)))
    return out


def variant_speaker(speaker: str, index: int) -> str:
    """Speaker name of a variant (the corpus groups prompts by this name)."""
    return f"{speaker}+v{index}"
