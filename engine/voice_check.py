"""Whether a voice clip that loads cleanly (engine/audio.py) sounds like a voice at all: a steady tone, a
hum or a noise is refused with a sentence saying what it sounds like."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from engine.audio import VoicePrompt

# A clip whose strongest frequency stays within a bin (4 Hz at 16 kHz) in this share of its loud frames is a
# tone, not a voice (the steadiest built-in voice, HTS slt, holds it in 59 % of them); speech rises and falls
# by several dB from syllable to syllable (4.4-5.7 dB for the built-in voices), a hum or noise does not.
_TONE_FFT = 4096
_STEADY_PEAK_SHARE = 0.9
_STEADY_LEVEL_DB = 1.5


def speech_problem(prompt: VoicePrompt) -> str | None:
    """Why a clip that loads cleanly is still not a voice: a steady tone or beeps, or a hum or noise whose
    level never changes; None when it may well be speech.

    Args:
        prompt: the prepared clip (`load_voice_prompt`).

    Returns:
        A sentence for the user naming what the clip sounds like, or None.
    """
    samples = np.asarray(prompt.samples, dtype=np.float64)
    n = min(_TONE_FFT, len(samples))
    if n < 256:
        return None
    frames = np.lib.stride_tricks.sliding_window_view(samples, n)[:: n // 8]
    power = np.abs(np.fft.rfft(frames * np.hanning(n), axis=-1)) ** 2
    level_db = 10 * np.log10(power.sum(axis=1) + 1e-20)
    loud = level_db > level_db.max() - 30.0
    peaks = power[loud].argmax(axis=1)
    if np.mean(np.abs(peaks - np.median(peaks)) <= 1) >= _STEADY_PEAK_SHARE:
        hz = float(np.median(peaks)) * prompt.sample_rate / n
        return (
            f"it sounds like a steady tone at {hz:.0f} Hz, not a voice: the dialogue would come out as a buzz. "
            "Use a recording of the speaker talking (3-15 s)."
        )
    if float(np.std(level_db[loud])) < _STEADY_LEVEL_DB:
        return (
            "its loudness never rises and falls as speech does: it sounds like a hum or noise, not a voice. "
            "Use a recording of the speaker talking (3-15 s)."
        )
    return None
