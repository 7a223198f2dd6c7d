"""What the real-speech set holds (speakers, their prompt and reference clips) and reading it back from its
manifest, `real_speech.json`."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DIR = Path(os.environ.get("REAL_SPEECH_DIR", "/work/real_speech"))
MANIFEST = "real_speech.json"


@dataclass(frozen=True)
class RealClip:
    """One recording of the set.

    Attributes:
        wav: path relative to the set's folder.
        text: what is said ("" when no transcript ships; the benchmark then transcribes it).
        origin: package and path inside it.
        seconds: its length.
        sample_rate: its sample rate.
    """

    wav: str
    text: str
    origin: str
    seconds: float
    sample_rate: int


@dataclass(frozen=True)
class RealSpeaker:
    """A speaker of the set.

    Attributes:
        id: short name, e.g. "asterisk-allison".
        person: who speaks: two ids with one person (the same recordings through two channels) are one
            speaker for identification.
        channel: how the recording reached us (studio, audiobook mp3, telephone 8 kHz, ...).
        licence: of the recordings, as their package states it.
        prompt: the voice prompt (the clips it joins are `prompt_parts`).
        references: other recordings of the speaker.
        reference_is_prompt: only one recording ships; the prompt stands in as its own reference.
    """

    id: str
    person: str
    channel: str
    licence: str
    prompt: RealClip
    prompt_parts: tuple[RealClip, ...]
    references: tuple[RealClip, ...]
    reference_is_prompt: bool = False


@dataclass(frozen=True)
class RealSpeechSet:
    folder: Path
    speakers: tuple[RealSpeaker, ...]
    fetched: tuple[str, ...] = field(default=())

    def path(self, clip: RealClip) -> Path:
        return self.folder / clip.wav


def load(folder: Path = DEFAULT_DIR) -> RealSpeechSet:
    """The set written by `build`; a readable error when it has not been built."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(
            f"No real-speech set at {folder}: build it with `python -m engine.data.real_speech --out {folder}`."
        )
    data = json.loads(path.read_text())

    def clip(d: dict) -> RealClip:
        return RealClip(**d)

    speakers = tuple(
        RealSpeaker(
            s["id"],
            s["person"],
            s["channel"],
            s["licence"],
            clip(s["prompt"]),
            tuple(clip(c) for c in s["prompt_parts"]),
            tuple(clip(c) for c in s["references"]),
            s["reference_is_prompt"],
        )
        for s in data["speakers"]
    )
    return RealSpeechSet(Path(folder), speakers, tuple(data.get("fetched", ())))
