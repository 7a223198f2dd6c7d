"""Speech the measurement tests judge: everyday sentences by espeak-ng (a male and a female voice) and by
mbrola voices where installed; shared by test_eval_metrics.py and test_eval_speakers.py."""

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import espeak_to_wav

# Everyday sentences, as a dialogue would hold; Whisper tiny.en hears espeak-ng's en-us voice well on these.
SENTENCES = (
    "I will meet you at the station at seven in the morning.",
    "Could you please close the window, it is getting cold in here.",
    "We bought three apples and a loaf of bread at the market.",
)


def read_clip(path: Path) -> tuple[np.ndarray, int]:
    samples, sr = sf.read(path, dtype="float32")
    return samples, sr


def mbrola_clip(text: str, voice: str, path: Path) -> tuple[np.ndarray, int]:
    """16 kHz speech of an mbrola voice (contrib/non-free: skipped where it is not installed)."""
    database = Path("/usr/share/mbrola") / voice / voice
    if shutil.which("mbrola") is None or not database.exists():
        pytest.skip(f"mbrola voice {voice} is not installed (only needed to build evaluation voices)")
    pho = subprocess.run(
        ["espeak-ng", "-v", f"mb-{voice}", "-q", "--pho", text], check=True, capture_output=True, text=True
    ).stdout
    path.with_suffix(".pho").write_text(pho)
    # -e: skip diphones the database lacks instead of stopping.
    subprocess.run(
        ["mbrola", "-e", str(database), str(path.with_suffix(".pho")), str(path)],
        check=True,
        capture_output=True,
    )
    return read_clip(path)


def espeak_sentences(folder: Path) -> list[tuple[np.ndarray, int]]:
    """The test sentences spoken by espeak-ng en-us (22.05 kHz), written into `folder`."""
    return [read_clip(espeak_to_wav(t, folder / f"s{i}.wav")) for i, t in enumerate(SENTENCES)]


def female_espeak(folder: Path) -> tuple[np.ndarray, int]:
    """The second test sentence in espeak-ng's female en-us+f3 voice."""
    return read_clip(espeak_to_wav(SENTENCES[1], folder / "f.wav", voice="en-us+f3"))
