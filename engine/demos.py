"""The shipped examples: built-in demo voices (assets/voices/) and ready dialogues (demos/<name>/)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VOICES_DIR = ROOT / "assets" / "voices"
DEMOS_DIR = ROOT / "demos"


@dataclass(frozen=True)
class Demo:
    """One ready dialogue: its transcript and the built-in voice clip of each speaker tag."""

    name: str
    title: str
    transcript: str
    voices: dict[str, Path]  # speaker tag ("S1") -> voice clip


def demo_voices(directory: Path | None = None) -> dict[str, Path]:
    """The built-in voices.

    Args:
        directory: where the clips are; assets/voices/ of this repository by default.

    Returns:
        {voice name: wav path}, sorted by name; the name is the file's stem ("us1_male").
    """
    directory = VOICES_DIR if directory is None else directory
    return {path.stem: path for path in sorted(directory.glob("*.wav"))}


def demo_voice_words(directory: Path | None = None) -> dict[Path, str]:
    """What each built-in voice clip says (from voices.json), so its speaker's tempo can be measured on it.

    Args:
        directory: where the clips and voices.json are; assets/voices/ of this repository by default.

    Returns:
        {resolved wav path: its words}; empty when there is no readable voices.json.
    """
    directory = VOICES_DIR if directory is None else directory
    try:
        entries = json.loads((directory / "voices.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return {
        (directory / entry["file"]).resolve(): entry["text"]
        for entry in entries.values()
        if isinstance(entry, dict) and entry.get("file") and entry.get("text")
    }


def _load_demo(folder: Path, voices: dict[str, Path]) -> Demo:
    try:
        meta = json.loads((folder / "demo.json").read_text(encoding="utf-8"))
        transcript = (folder / "transcript.txt").read_text(encoding="utf-8")
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(
            f"Demo {folder.name}: needs a readable demo.json and transcript.txt ({err})."
        ) from err
    mapping: dict[str, Path] = {}
    for speaker, voice in meta.get("voices", {}).items():
        if voice not in voices:
            raise ValueError(
                f"Demo {folder.name}: {speaker} uses voice {voice!r}, which is not in assets/voices/ "
                f"(there: {', '.join(voices) or 'none'}); run `python -m engine.data.demo_voices`."
            )
        mapping[speaker] = voices[voice]
    return Demo(folder.name, meta.get("title", folder.name), transcript.strip() + "\n", mapping)


def list_demos(directory: Path | None = None, voices_directory: Path | None = None) -> list[Demo]:
    """The ready dialogues, sorted by name.

    Each demo is a folder holding `transcript.txt` and `demo.json`:
    `{"title": "...", "voices": {"S1": "<built-in voice name>", ...}}`.

    Args:
        directory: the folder of demo folders; demos/ of this repository by default.
        voices_directory: the built-in voices; assets/voices/ by default.

    Returns:
        The demos, with each speaker's voice resolved to its clip.

    Raises:
        ValueError: a demo folder is incomplete or names a voice that is not built in.
    """
    directory = DEMOS_DIR if directory is None else directory
    voices = demo_voices(voices_directory)
    folders = (
        sorted(p for p in directory.iterdir() if (p / "demo.json").exists()) if directory.is_dir() else []
    )
    return [_load_demo(folder, voices) for folder in folders]
