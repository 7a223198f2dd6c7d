"""The long-form benchmark's dialogues: the shipped demo transcripts, one pass through all of them (17 turns,
three speakers, 60.0 s of speech at default settings) repeated for as many minutes as wanted, in three
built-in voices; and the short one, the first four turns of a pass."""

from __future__ import annotations

from pathlib import Path

from engine.demos import demo_voices, list_demos

# One built-in voice per speaker tag of the demos, for every pass.
VOICES = {"S1": "rms-male", "S2": "slt-female", "S3": "en1-male"}
SHORT_TURNS = 4


def demo_lines(demos_dir: Path | None = None) -> list[str]:
    """Every turn of the shipped demos, demo by demo (sorted by name): one pass of the long dialogues."""
    return [line for demo in list_demos(demos_dir) for line in demo.transcript.splitlines() if line.strip()]


def long_dialogue(passes: int, demos_dir: Path | None = None) -> str:
    """The demo turns said `passes` times over (one pass is about a minute)."""
    return "\n".join(demo_lines(demos_dir) * passes)


def short_dialogue(demos_dir: Path | None = None) -> str:
    """The first SHORT_TURNS turns of a pass (the cafe lesson's opening)."""
    return "\n".join(demo_lines(demos_dir)[:SHORT_TURNS])


def voice_clips(voices_dir: Path | None = None) -> dict[str, Path]:
    """Speaker tag -> the built-in voice clip it speaks with."""
    clips = demo_voices(voices_dir)
    return {speaker: clips[name] for speaker, name in VOICES.items()}
