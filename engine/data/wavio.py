"""16-bit PCM wav reading/writing for the corpus (atomic writes) and resampling to the corpus rate."""

from __future__ import annotations

import os
import wave
from math import gcd

import numpy as np
from scipy.signal import resample_poly


def read_wav(path: str) -> tuple[np.ndarray, int]:
    """(int16 mono samples, sample rate) of a 16-bit PCM wav; multi-channel files are mixed down."""
    with wave.open(path, "rb") as handle:
        if handle.getsampwidth() != 2:
            raise ValueError(f"{path}: expected 16-bit PCM, got {8 * handle.getsampwidth()}-bit")
        rate, channels = handle.getframerate(), handle.getnchannels()
        audio = np.frombuffer(handle.readframes(handle.getnframes()), dtype="<i2")
    if channels > 1:
        audio = audio.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return audio.astype(np.int16), rate


def resample(audio: np.ndarray, rate: int, target: int) -> np.ndarray:
    """int16 audio resampled from `rate` to `target` Hz (polyphase filter), clipped to the int16 range."""
    if rate == target:
        return audio
    step = gcd(rate, target)
    out = resample_poly(audio.astype(np.float32), target // step, rate // step)
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)


def write_wav_atomic(path: str, audio: np.ndarray, rate: int) -> None:
    """Write int16 mono `audio` to `path` through a temporary file and a rename, so readers never see half a file."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    with wave.open(tmp, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(audio.astype("<i2").tobytes())
    os.replace(tmp, path)
