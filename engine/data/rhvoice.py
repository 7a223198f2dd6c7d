"""RHVoice English voices (Debian `rhvoice`, `rhvoice-english`): audio from `RHVoice-test`, phone times by forced
alignment of the project's phonemization (RHVoice reports no phone times).

Licences (/usr/share/doc/rhvoice-english/copyright): alan, bdl, clb and slt fall under the package's LGPL-2.1+
data; evgeniy-eng and lyubov are CC-BY-NC-ND-4.0 (no derivatives, no commercial use) and are not used. bdl, clb
and slt are built from CMU ARCTIC recordings; slt is the CMU ARCTIC speaker the real-voice benchmark holds
(as flite's and festival's slt, which the corpus trains on already).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import numpy as np

from engine.data.forced_align import align
from engine.data.wavio import read_wav
from engine.text.phonemize import phonemize

VOICES = ("alan", "bdl", "clb", "slt")
VOICE_DIR = "/usr/share/RHVoice/voices"


def rhvoice_available(voice: str) -> bool:
    """Whether RHVoice-test is installed with `voice` (one of VOICES)."""
    return shutil.which("RHVoice-test") is not None and os.path.isdir(os.path.join(VOICE_DIR, voice))


def speak(text: str, voice: str, rate: float = 1.0, pitch: float = 1.0) -> tuple[np.ndarray, int]:
    """(int16 audio, sample rate: 24 kHz) of `voice` saying `text` (rate and pitch relative to the voice's)."""
    if voice not in VOICES:
        raise ValueError(f"RHVoice voice {voice!r} is not one the corpus may use: {VOICES}")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "x.wav")
        command = ["RHVoice-test", "-p", voice, "-o", path]  # its -R option leaves the rate at 24 kHz
        command += ["-r", str(round(100 * rate)), "-t", str(round(100 * pitch))]
        subprocess.run(command, input=text, text=True, capture_output=True, check=True)
        return read_wav(path)


def synthesize(
    text: str, voice: str, rate: float = 1.0, pitch: float = 1.0
) -> tuple[np.ndarray, int, list[tuple[str, float, float]]]:
    """Speak one sentence and align its phones.

    Returns:
        (int16 audio, its sample rate, [(inventory phone or "_", start_s, end_s)]) over the audio.
    """
    audio, sample_rate = speak(text, voice, rate, pitch)
    phones = ["_", *phonemize(text)]  # lead-in silence, the words, the final "_."
    return audio, sample_rate, align(audio, sample_rate, phones)
