"""Time to first audio: how soon the first chunk comes out of `DialogueSynthesizer.stream`, for dialogues of
several lengths, each timed several times in turn (the stream is closed after its first chunk)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

from engine.pipeline import DialogueSynthesizer


def first_audio_times(
    synth: DialogueSynthesizer, transcripts: Mapping[str, str], voices: Mapping[str, str | Path], repeats: int
) -> dict[str, list[float]]:
    """Seconds from calling `stream` to its first chunk, `repeats` times per transcript (the transcripts
    taken in turn, so a busy moment of the machine does not fall on one length only)."""
    times: dict[str, list[float]] = {name: [] for name in transcripts}
    for _ in range(repeats):
        for name, transcript in transcripts.items():
            start = time.perf_counter()
            chunks = iter(synth.stream(transcript, voices, keep=False))
            next(chunks)
            times[name].append(time.perf_counter() - start)
            chunks.close()
    return times
