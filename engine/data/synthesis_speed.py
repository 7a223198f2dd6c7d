"""Synthesis speed per engine: seconds of audio per second of wall time and of CPU time (children included).

`python -m engine.data.synthesis_speed [--sentences N]` speaks the same N corpus-like sentences with one
training speaker per engine (and festival's reserved voice) and prints both ratios. CPU time is the fair
figure on a shared machine; wall time is what a build sees.
"""

from __future__ import annotations

import argparse
import resource
import time

from engine.data.sentences import candidate_utterances, fortune_texts
from engine.data.synthesize import synthesize
from engine.data.voices import EVAL_SPEAKERS, TRAIN_SPEAKERS, Speaker


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(speaker: Speaker, texts: list[str]) -> tuple[float, float, float]:
    """(audio seconds, wall seconds, CPU seconds) for `speaker` saying `texts` (after one warm-up sentence)."""
    synthesize(speaker, texts[0])
    wall, cpu, audio = time.perf_counter(), _cpu_seconds(), 0.0
    for text in texts:
        audio += synthesize(speaker, text).duration
    return audio, time.perf_counter() - wall, _cpu_seconds() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=20)
    args = parser.parse_args()
    texts = [text for _, text in candidate_utterances(fortune_texts())][: args.sentences]
    chosen: dict[str, Speaker] = {}
    for speaker in TRAIN_SPEAKERS + EVAL_SPEAKERS:
        chosen.setdefault(speaker.engine, speaker)
    for engine, speaker in chosen.items():
        audio, wall, cpu = measure(speaker, texts)
        print(
            f"{engine:9s} {speaker.id:32s} {audio:6.1f} s audio: {audio / wall:6.1f}x wall, "
            f"{audio / max(cpu, 1e-9):6.1f}x CPU"
        )


if __name__ == "__main__":
    main()
