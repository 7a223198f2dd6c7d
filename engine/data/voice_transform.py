"""New voices from the corpus's own: pitch, vocal-tract length and spectral tilt changed in WORLD features.

The corpus's ~80 synthesizer voices are ~80 points; a real speaker falls between or beyond them. A
`VoiceTransform` moves a voice continuously: its pitch (level and range), the length of its vocal tract
(a frequency warp of the spectral envelope: formants move together, as between speakers) and the slope of
its spectrum (breathy or pressed). Each virtual speaker of the training data is one transform drawn from
`VoiceTransform.draw`, applied to all its utterances, so its prompt and its target are the same voice.

    t = VoiceTransform.draw(np.random.default_rng(7))
    frames2 = t.apply(frames, world_config)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyworld

from engine.codec.world_features import WorldConfig, WorldFrames, _decode_envelope


@dataclass(frozen=True)
class VoiceTransform:
    """f0_scale: pitch ratio; f0_range: ratio of log-F0 spread about its mean; vtl: formant frequency ratio
    (> 1 a shorter tract: formants up); tilt: dB per octave added about 1 kHz."""

    f0_scale: float = 1.0
    f0_range: float = 1.0
    vtl: float = 1.0
    tilt: float = 0.0

    @classmethod
    def draw(cls, rng: np.random.Generator) -> VoiceTransform:
        """A random voice within what people span: pitch x0.67-1.5, formants x0.86-1.16, tilt +-3 dB/oct.

        Pitch and formants move together more often than not (a smaller speaker has both higher), as
        between real speakers, with enough independent spread to cover the rest.
        """
        size = rng.normal()
        f0_scale = float(np.exp(np.clip(0.22 * size + 0.12 * rng.normal(), -0.4, 0.4)))
        vtl = float(np.exp(np.clip(0.06 * size + 0.03 * rng.normal(), -0.15, 0.15)))
        return cls(f0_scale, float(np.exp(rng.uniform(-0.35, 0.35))), vtl, float(rng.uniform(-3, 3)))

    def apply(self, frames: WorldFrames, cfg: WorldConfig) -> WorldFrames:
        """The same speech in the transformed voice (same frames, voicing and aperiodicity)."""
        log_f0 = frames.log_f0.astype(np.float64)
        voiced = frames.voiced
        centre = float(np.mean(log_f0[voiced])) if voiced.any() else float(np.mean(log_f0))
        log_f0 = centre + np.log(self.f0_scale) + self.f0_range * (log_f0 - centre)
        log_f0 = np.clip(log_f0, np.log(cfg.f0_floor), np.log(cfg.f0_ceil))
        return WorldFrames(
            log_f0.astype(np.float32),
            voiced.copy(),
            self._warp_envelope(frames.envelope, cfg),
            frames.aperiodicity.copy(),
        )

    def _warp_envelope(self, coded: np.ndarray, cfg: WorldConfig) -> np.ndarray:
        if self.vtl == 1.0 and self.tilt == 0.0:
            return coded.copy()
        log_sp = np.log(_decode_envelope(coded, cfg))  # [T, bins]
        bins = log_sp.shape[1]
        freqs = np.linspace(0.0, cfg.sample_rate / 2, bins)
        # The new envelope at f is the old one at f / vtl; past the old band edge it stays flat.
        source = np.clip(np.arange(bins) / self.vtl, 0, bins - 1)
        left = np.minimum(source.astype(np.int64), bins - 2)
        weight = source - left
        warped = log_sp[:, left] * (1 - weight) + log_sp[:, left + 1] * weight
        octaves = np.log2(np.maximum(freqs, 60.0) / 1000.0)
        warped += self.tilt * octaves * (np.log(10) / 20)
        sp = np.ascontiguousarray(np.exp(warped))
        return pyworld.code_spectral_envelope(sp, cfg.sample_rate, coded.shape[1]).astype(np.float32)

    def describe(self) -> str:
        return f"pitch x{self.f0_scale:.2f} (range x{self.f0_range:.2f}), formants x{self.vtl:.3f}, tilt {self.tilt:+.1f} dB/oct"
