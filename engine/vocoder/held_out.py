"""Which speakers and recordings the decoder must never train on: the real-voice benchmark's unseen real
speakers (every speaker of the real-speech set), its clips, and the corpus's reserved synthetic voices.

One exception, as issue 22 lists them among its training audio: the Asterisk prompts of Allison Smith (568
ship) may train the decoder, except the ten the benchmark plays. A decoder trained on her names her in its
metadata (`trained_real_persons`), and the real-voice benchmark then reports her apart from its unseen
speakers (bench/real_voices/cases.py's SEEN).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from engine.data import asterisk
from engine.data.real_speech import MANIFEST
from engine.data.voices import RESERVED_VOICES
from engine.errors import UserInputError

TRAINABLE_REAL_PERSONS = frozenset({asterisk.PERSON})


class HeldOutSpeakerError(UserInputError):
    """A held-out speaker or clip was offered as training data."""


@dataclass(frozen=True)
class BenchmarkSpeech:
    """What the real-voice benchmark holds: its people and, per person, the stems of the clips it plays."""

    folder: Path
    persons: frozenset[str]
    clip_stems: frozenset[tuple[str, str]]  # (person, file stem of the source recording)


def benchmark_speech(folder: Path) -> BenchmarkSpeech:
    """The benchmark's speakers and clips from the real-speech set's manifest (which must exist: without it
    nothing can be checked)."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise UserInputError(
            f"No real-speech manifest at {path}: build it (`python -m engine.data.real_speech --out {folder}`) "
            "so the benchmark's speakers can be kept out of the decoder's training data."
        )
    speakers = json.loads(path.read_text())["speakers"]
    persons, stems = set(), set()
    for s in speakers:
        persons.update((s["id"], s["person"]))
        for clip in [s["prompt"], *s["prompt_parts"], *s["references"]]:
            for origin in clip["origin"].split(" + "):
                stems.add((s["person"], PurePosixPath(origin.strip()).stem))
    return BenchmarkSpeech(Path(folder), frozenset(persons), frozenset(stems))


def check_trainable(
    bench: BenchmarkSpeech,
    person: str,
    source: Path,
    engine_voice: tuple[str, str] | None = None,
    allowed: frozenset[str] = TRAINABLE_REAL_PERSONS,
) -> None:
    """Raise HeldOutSpeakerError unless this recording may train the decoder.

    Args:
        bench: the benchmark's speakers and clips.
        person: who speaks (a real-speech person id, or a corpus speaker id).
        source: the recording's file.
        engine_voice: (engine, voice) of a synthetic speaker, checked against the reserved voices.
        allowed: real persons of the benchmark whose other recordings may train.
    """
    folder = bench.folder.resolve()
    resolved = Path(source).resolve()
    if resolved.is_relative_to(folder) and not resolved.is_relative_to(folder / "downloads"):
        raise HeldOutSpeakerError(
            f"{source} is a clip of the real-voice benchmark; it cannot train the decoder."
        )
    if person in bench.persons and person not in allowed:
        raise HeldOutSpeakerError(
            f"{person} is one of the real-voice benchmark's unseen speakers; it cannot train the decoder."
        )
    if (person, Path(source).stem) in bench.clip_stems:
        raise HeldOutSpeakerError(
            f"{source} ({person}) is a recording the real-voice benchmark plays; it cannot train the decoder."
        )
    if engine_voice is not None and (engine_voice[0], engine_voice[1].split("+")[0]) in RESERVED_VOICES:
        raise HeldOutSpeakerError(
            f"{engine_voice} is a voice reserved for evaluation; it cannot train the decoder."
        )
