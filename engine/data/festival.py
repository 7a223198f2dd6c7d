"""festival voices (e.g. ked_diphone): audio and segment end times from a Scheme script run by `festival -b`."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import numpy as np

from engine.data.wavio import read_wav

_SCRIPT = """
(voice_{voice})
(set! stretch (Parameter.get 'Duration_Stretch))
(Parameter.set 'Duration_Stretch (/ (if stretch stretch 1.0) {rate}))
(set! utt1 (Utterance Text "{text}"))
(utt.synth utt1)
(utt.save.wave utt1 "{wav}" 'riff)
(mapcar (lambda (s) (format t "SEG %s %f\\n" (item.name s) (item.feat s "end"))) (utt.relation.items utt1 'Segment))
"""


def festival_available(voice: str) -> bool:
    """Whether festival is installed and can load `voice` (e.g. "ked_diphone")."""
    if shutil.which("festival") is None:
        return False
    result = subprocess.run(
        ["festival", "-b", f"(voice_{voice})"], capture_output=True, text=True, timeout=60, check=False
    )
    return result.returncode == 0 and "SIOD ERROR" not in result.stderr + result.stdout


def synthesize(
    text: str, voice: str, rate: float = 1.0
) -> tuple[np.ndarray, int, list[tuple[str, float, float]]]:
    """Speak one sentence with a festival voice.

    Args:
        text: one sentence (double quotes and backslashes are dropped: they would end the Scheme string).
        voice: festival voice name without the "voice_" prefix, e.g. "ked_diphone".
        rate: speed relative to the voice's own (its Duration_Stretch is divided by it); HTS voices time
            their phones with their own model and take only 1.0.

    Returns:
        (int16 audio, sample rate, [(radio phone, start_s, end_s)]), contiguous from 0.
    """
    if voice.endswith("_hts") and rate != 1.0:
        raise ValueError(f"festival voice {voice} ignores Duration_Stretch: use rate 1.0")
    safe = text.replace("\\", " ").replace('"', "")
    with tempfile.TemporaryDirectory() as tmp:
        wav_path, script_path = os.path.join(tmp, "x.wav"), os.path.join(tmp, "x.scm")
        with open(script_path, "w", encoding="utf-8") as handle:
            handle.write(_SCRIPT.format(voice=voice, rate=float(rate), text=safe, wav=wav_path))
        result = subprocess.run(["festival", "-b", script_path], capture_output=True, text=True, check=True)
        audio, sample_rate = read_wav(wav_path)
    segments: list[tuple[str, float, float]] = []
    start = 0.0
    for line in result.stdout.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[0] == "SEG":
            end = float(fields[2])
            segments.append((fields[1], start, end))
            start = end
    return audio, sample_rate, segments
