"""What a corpus build has made so far: the running tally, the summary in DIR/corpus.json (counts, hours,
speakers, synthesis speed per engine) and the progress line the build prints."""

from __future__ import annotations

import json
import os
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from engine.data.sentences import Sentence
from engine.data.synthesize import SAMPLE_RATE
from engine.data.voices import Speaker

SUMMARY_NAME = "corpus.json"


class BuildTally:
    """Running counts of a build: utterances, seconds and speakers per split; synthesis time per engine."""

    def __init__(self, entries: Iterable[dict]) -> None:
        self.seconds: Counter[str] = Counter()
        self.count: Counter[str] = Counter()
        self.by_speaker: dict[str, Counter[str]] = defaultdict(Counter)
        self.synth_audio: Counter[str] = Counter()
        self.synth_wall: Counter[str] = Counter()
        self.failures = 0
        for entry in entries:
            self.add(entry)

    def add(self, entry: dict) -> None:
        self.seconds[entry["split"]] += entry["duration"]
        self.count[entry["split"]] += 1
        self.by_speaker[entry["split"]][entry["speaker"]] += 1

    @property
    def train_valid_hours(self) -> float:
        return (self.seconds["train"] + self.seconds["valid"]) / 3600


def write_summary(
    out: str,
    target_hours: float,
    tally: BuildTally,
    sentences: Sequence[Sentence],
    command: str,
    train_speakers: Sequence[Speaker],
    eval_speakers: Sequence[Speaker],
) -> None:
    path = os.path.join(out, SUMMARY_NAME)
    previous = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            previous = json.load(handle)
    speed = previous.get("speed", {})
    for engine in tally.synth_audio:
        old = speed.get(engine, {"audio_s": 0.0, "wall_s": 0.0})
        audio, wall = old["audio_s"] + tally.synth_audio[engine], old["wall_s"] + tally.synth_wall[engine]
        speed[engine] = {
            "audio_s": round(audio, 1),
            "wall_s": round(wall, 1),
            "x_realtime": round(audio / wall, 1),
        }
    summary = {
        "command": command,
        "updated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "sample_rate": SAMPLE_RATE,
        "phone_set": "engine.text.phone_inventory.PHONE_SET",
        "target_train_valid_hours": target_hours,
        "sentences": dict(Counter(s.split for s in sentences), total=len(sentences)),
        "utterances": dict(tally.count),
        "hours": {split: round(seconds / 3600, 3) for split, seconds in tally.seconds.items()},
        "speakers": {split: dict(sorted(counts.items())) for split, counts in tally.by_speaker.items()},
        "train_speakers": [s.id for s in train_speakers],
        "eval_speakers": [s.id for s in eval_speakers],
        "speed": speed,
        "note": "speed: seconds of 16 kHz audio per second of one worker's synthesis time, per engine.",
    }
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(summary, handle, indent=1)
    os.replace(tmp, path)
    tally.synth_audio.clear()
    tally.synth_wall.clear()


def progress_line(
    tally: BuildTally, total: int, made: int, made_train_valid_s: float, elapsed: float, target_h: float
) -> str:
    """One progress line: corpus size per split, this run's utterances/hour and audio per wall time, ETA."""
    per_hour = made * 3600 / elapsed if elapsed > 0 else 0.0
    speed = made_train_valid_s / elapsed if elapsed > 0 else 0.0
    left_s = max(0.0, target_h - tally.train_valid_hours) * 3600
    eta = f"{left_s / speed / 60:.0f} min" if speed > 0 else "?"
    return (
        f"[build] {total} utts | train {tally.seconds['train'] / 3600:.2f} h, valid {tally.seconds['valid'] / 3600:.2f} h,"
        f" eval {tally.seconds['eval'] / 3600:.2f} h | this run {per_hour:.0f} utt/h, {speed:.1f} s audio/s |"
        f" ETA {eta} | failures {tally.failures}"
    )
