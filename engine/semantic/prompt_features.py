"""What the duration model hears of a voice prompt: its speaking rate and a timing-style fingerprint.

The fingerprint is how much each mel band's level moves during speech (standard deviation of log-mel over
speech frames, after removing the clip's mean): voices whose vowels are long and steady move less than voices
with long, noisy consonants, and synthesizers of one family share a shape. Both parts are sums over frames, so
a prompt made of several recordings is measured by adding their parts (`combine`).

The dynamics are how fast the spectrum moves: log quantiles of the frame-to-frame change of the log-mel
spectrum over speech (one and two frames apart). They say how a synthesizer joins its sounds rather than how
the voice sounds: the reserved flite voice's nearest training voices by dynamics are the flite voices and the
festival diphone voice's is flite's diphone voice, where the band fingerprint put both next to a mbrola voice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.signal import resample_poly

from engine.semantic.speaking_rate import ANALYSIS_RATE, SpeakingRate, measure_speaking_rate

STYLE_BANDS = 24
_DYNAMICS_QUANTILES = ((1, (10, 25, 50, 75, 90)), (2, (25, 50, 75)))  # (frames apart, percentiles)
DYNAMICS = sum(len(q) for _, q in _DYNAMICS_QUANTILES)
STYLE_KINDS = ("bands", "dynamics", "bands+dynamics")
# d(dynamics) / d(log speaking speed): faster speech moves the spectrum more per frame. Fitted on one sentence
# read by espeak-ng en-us and mbrola us1 at 110-260 words per minute (means of the two voices); training uses
# it to shift the dynamics along with its tempo augmentation, so the level of change does not fight the rate.
DYNAMICS_TEMPO_SLOPES = (0.74, 0.70, 0.83, 0.56, 0.38, 0.90, 0.64, 0.34)
_N_FFT = 640  # 40 ms window
_HOP = 320  # 20 ms, the codec frame
_SPEECH_RANGE_DB = 35.0


def _mel_bank(n_mels: int, n_fft: int = _N_FFT, rate: int = ANALYSIS_RATE) -> np.ndarray:
    mel = 2595 * np.log10(1 + np.array([50.0, 7600.0]) / 700)
    edges = 700.0 * (10 ** (np.linspace(mel[0], mel[1], n_mels + 2) / 2595) - 1)
    freqs = np.fft.rfftfreq(n_fft, 1 / rate)
    return np.stack([
        np.clip(np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)), 0, None)
        for lo, mid, hi in zip(edges[:-2], edges[1:-1], edges[2:])
    ])


_BANKS: dict[int, np.ndarray] = {}


def log_mel(samples: np.ndarray, n_frames: int | None = None, n_mels: int = 40) -> np.ndarray:
    """Natural-log mel energies of 16 kHz audio, one row per 20 ms frame (frame i centred at (i + 0.5) * 20 ms).

    Args:
        samples: float audio in [-1, 1] at 16 kHz.
        n_frames: rows wanted (default: the audio's length in frames).
        n_mels: bands.
    """
    if n_mels not in _BANKS:
        _BANKS[n_mels] = _mel_bank(n_mels)
    n_frames = int(np.ceil(len(samples) / _HOP)) if n_frames is None else n_frames
    padded = np.pad(np.asarray(samples, dtype=np.float64), (_HOP // 2, _N_FFT))
    index = np.minimum(np.arange(_N_FFT)[None] + _HOP * np.arange(n_frames)[:, None], len(padded) - 1)
    power = np.abs(np.fft.rfft(padded[index] * np.hanning(_N_FFT), axis=1)) ** 2
    return np.log(power @ _BANKS[n_mels].T + 1e-8)


@dataclass(frozen=True)
class PromptFeatures:
    """A prompt's speaking rate and the sums behind its style fingerprint.

    Attributes:
        rate: syllable nuclei and speaking time.
        band_square_sums: per band, sum over speech frames of (log-mel - the clip's mean) squared.
        frames: speech frames summed.
        dynamics_sums: each recording's log quantiles of spectral change, times its speech frames, summed.
        dynamics_frames: the frames weighting `dynamics_sums`.
    """

    rate: SpeakingRate
    band_square_sums: tuple[float, ...]
    frames: int
    dynamics_sums: tuple[float, ...] = (0.0,) * DYNAMICS
    dynamics_frames: int = 0

    @property
    def style(self) -> np.ndarray:
        """Log standard deviation of each band's log-mel level during speech, [STYLE_BANDS]."""
        return 0.5 * np.log(np.asarray(self.band_square_sums) / max(self.frames, 1) + 1e-6)

    @property
    def dynamics(self) -> np.ndarray:
        """Log quantiles of the frame-to-frame spectral change over speech, [DYNAMICS] (recordings weighted by
        their speech frames)."""
        return np.asarray(self.dynamics_sums) / max(self.dynamics_frames, 1)

    def style_vector(self, kind: str) -> np.ndarray:
        """The fingerprint a duration model of `DurationConfig.style_kind` is conditioned on."""
        parts = {
            "bands": [self.style], "dynamics": [self.dynamics], "bands+dynamics": [self.style, self.dynamics]
        }
        if kind not in parts:
            raise ValueError(f"style kind {kind!r} is not one of {STYLE_KINDS}")
        return np.concatenate(parts[kind])

    @staticmethod
    def combine(parts: Sequence[PromptFeatures]) -> PromptFeatures:
        """The features of several recordings of one speaker heard as one prompt."""
        return PromptFeatures(
            rate=SpeakingRate(
                nuclei=sum(p.rate.nuclei for p in parts), speech_seconds=sum(p.rate.speech_seconds for p in parts)
            ),
            band_square_sums=tuple(np.sum([p.band_square_sums for p in parts], axis=0).tolist()),
            frames=sum(p.frames for p in parts),
            dynamics_sums=tuple(np.sum([p.dynamics_sums for p in parts], axis=0).tolist()),
            dynamics_frames=sum(p.dynamics_frames for p in parts),
        )


def measure_prompt(samples: np.ndarray, sample_rate: int) -> PromptFeatures:
    """Speaking rate and style of a clip, from its audio alone.

    Args:
        samples: mono audio, float in [-1, 1] or int16.
        sample_rate: its rate.

    Returns:
        PromptFeatures.

    Raises:
        UserInputError: too little speech in the clip (from `measure_speaking_rate`).
    """
    audio = np.asarray(samples, dtype=np.float64).reshape(-1)
    if np.issubdtype(np.asarray(samples).dtype, np.integer):
        audio = audio / 32768.0
    rate = measure_speaking_rate(audio, sample_rate)
    if sample_rate != ANALYSIS_RATE:
        audio = resample_poly(audio, ANALYSIS_RATE, sample_rate)
    bands = log_mel(audio, n_mels=STYLE_BANDS)
    level = np.log(np.exp(bands).sum(axis=1))
    is_speech = level > np.percentile(level, 95) - _SPEECH_RANGE_DB / (10 / np.log(10))
    speech = bands[is_speech]
    deviations = speech - speech.mean(axis=0)
    dynamics = _spectral_dynamics(bands - speech.mean(axis=0), is_speech)
    return PromptFeatures(
        rate=rate, band_square_sums=tuple((deviations**2).sum(axis=0).tolist()), frames=len(speech),
        dynamics_sums=tuple((dynamics * len(speech)).tolist()) if dynamics is not None else (0.0,) * DYNAMICS,
        dynamics_frames=len(speech) if dynamics is not None else 0,
    )


def _spectral_dynamics(bands: np.ndarray, is_speech: np.ndarray) -> np.ndarray | None:
    """Log quantiles of the RMS change of log-mel bands between speech frames 1 and 2 apart.

    Returns None when the clip has too few speech frames for quantiles."""
    out = []
    for lag, percentiles in _DYNAMICS_QUANTILES:
        both = is_speech[lag:] & is_speech[:-lag]
        if both.sum() < 5:
            return None
        change = np.sqrt(((bands[lag:] - bands[:-lag])[both] ** 2).mean(axis=1))
        out.append(np.log(np.percentile(change, percentiles) + 1e-3))
    return np.concatenate(out)
