"""flite voices: audio and segment end times from `flite -psdur` (the synthesizer's own segment relation)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import numpy as np

from engine.data.wavio import read_wav

# Default mean F0 (Hz) of the voices whose pitch flite can move (int_f0_target_mean), measured here with
# an autocorrelation pitch tracker on one sentence; rms and awb ignore the feature.
F0_MEAN = {"kal": 95.0, "kal16": 95.0, "slt": 167.0}


def flite_available(voice: str) -> bool:
    """Whether the flite binary is installed and lists `voice` (e.g. "slt")."""
    if shutil.which("flite") is None:
        return False
    listing = subprocess.run(["flite", "-lv"], capture_output=True, text=True, check=False).stdout
    return voice in listing.split()


def parse_psdur(output: str) -> list[tuple[str, float, float]]:
    """Segments from `flite -psdur` output ("pau:0.164 hh:0.255 ..." = name:end_time).

    Args:
        output: flite's stdout.

    Returns:
        [(name, start_s, end_s)], contiguous from 0.
    """
    segments: list[tuple[str, float, float]] = []
    start = 0.0
    for token in output.split():
        name, sep, end = token.rpartition(":")
        if not sep:
            continue
        try:
            end_s = float(end)
        except ValueError:
            continue
        segments.append((name, start, end_s))
        start = end_s
    return segments


def synthesize(text: str, voice: str, rate: float = 1.0, pitch: float = 1.0) -> tuple[np.ndarray, int, list]:
    """Speak one sentence with a flite voice.

    Args:
        text: one sentence.
        voice: flite voice name ("kal16", "slt", "rms", "awb").
        rate: speed relative to the voice's default (duration_stretch = 1 / rate).
        pitch: base pitch relative to the voice's default (only voices in F0_MEAN can move).

    Returns:
        (int16 audio, sample rate, [(CMU phone, start_s, end_s)]).
    """
    command = ["flite", "-voice", voice, "-psdur", "--setf", f"duration_stretch={1.0 / rate:.4f}"]
    if pitch != 1.0 and voice in F0_MEAN:
        command += ["--setf", f"int_f0_target_mean={F0_MEAN[voice] * pitch:.1f}"]
    with tempfile.TemporaryDirectory() as tmp:
        wav_path = os.path.join(tmp, "x.wav")
        result = subprocess.run(
            command + ["-t", text, "-o", wav_path], capture_output=True, text=True, check=True
        )
        audio, sample_rate = read_wav(wav_path)
    return audio, sample_rate, parse_psdur(result.stdout)
