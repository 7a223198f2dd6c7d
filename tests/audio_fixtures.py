"""Builders of test audio files (made at test time in a temporary folder, never committed)."""

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile
from conftest import espeak_to_wav

SENTENCE = "The quick brown fox jumps over the lazy dog, and then it runs away."


def need_ffmpeg() -> None:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed: run `bash install.sh`")


def speech(tmp_path: Path, text: str = SENTENCE) -> tuple[np.ndarray, int]:
    """espeak-ng speech as float samples (about 4 s for the default sentence) and its sample rate."""
    wav = espeak_to_wav(text, tmp_path / "espeak.wav")
    samples, rate = soundfile.read(wav, dtype="float32")
    return samples, rate


def write_wav(path: Path, samples: np.ndarray, rate: int, subtype: str = "PCM_16") -> Path:
    """Write samples ([n] or [n, channels]) with libsndfile, independently of the module under test."""
    soundfile.write(path, samples, rate, subtype=subtype)
    return path


def ffmpeg_convert(source: Path, target: Path, *options: str) -> Path:
    """Convert `source` with ffmpeg; `options` go before the output name (codec, rate, channels...)."""
    need_ffmpeg()
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(source), *options, str(target)],
        check=True,
        capture_output=True,
    )
    return target


def tone_webm_without_duration(target: Path, seconds: float) -> Path:
    """An opus/webm file streamed through a pipe, so its header states no duration (as browser recordings)."""
    need_ffmpeg()
    result = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", f"sine=f=220:d={seconds}:r=8000",
         "-c:a", "libopus", "-b:a", "6k", "-compression_level", "0", "-frame_duration", "60",
         "-f", "webm", "-"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    target.write_bytes(result.stdout)
    return target


def first_speech_sample(samples: np.ndarray, threshold: float = 0.02) -> int:
    """Index of the first sample louder than `threshold` (espeak's output starts with a little silence)."""
    return int(np.flatnonzero(np.abs(samples) > threshold)[0])


def tiny_corpus(root: Path) -> str:
    """Four speakers x three utterances: espeak audio with a made-up alignment spread over it (speaker s3 is
    the valid split, the rest train)."""
    from engine.text.phonemize import phonemize

    (root / "wavs").mkdir(parents=True)
    texts = ["Hello there, how are you today?", "I am fine, thank you.", "The weather is nice again."]
    entries = []
    for speaker, speed in enumerate((120, 150, 190, 230)):
        for index, text in enumerate(texts):
            name = f"wavs/s{speaker}_{index}.wav"
            audio, rate = soundfile.read(espeak_to_wav(text, root / name, speed=speed))
            phones, duration = phonemize(text), len(audio) / rate
            bounds = np.linspace(0.0, duration, len(phones) + 2)  # a leading silence, then even phones
            aligned = [["_", 0.0, bounds[1]]] + [[p, a, b] for p, a, b in zip(phones, bounds[1:-1], bounds[2:])]
            entries.append({
                "id": f"s{speaker}_{index}", "speaker": f"s{speaker}", "engine": "espeak", "voice": "en-us",
                "split": "valid" if speaker == 3 else "train", "text": text, "wav": name, "sample_rate": rate,
                "duration": duration, "phones": aligned,
            })
    (root / "manifest.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries))
    return str(root)
