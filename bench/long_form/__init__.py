"""Long dialogues (issue 24's targets, one run): time to first audio for a 4-turn, a 3-minute and a 15-minute
dialogue; the 15-minute one's real-time factor and peak memory (and the 3-minute one's, to show the peak does
not grow with length); how soon a stop frees the line; how soon another user's short job starts behind the
long one; and whether each speaker sounds the same, and every turn as loud, from the first minute to the last.

    python -m bench.long_form [--minutes 3,15] [--repeats 5]

prints the report; `run(out_dir)` returns it as sections (for `python -m bench --only long_form`) and writes
long_form.json. Modules: dialogues.py (what is said), first_audio.py, lengths.py (a whole dialogue in a fresh
process), line.py (fair turns and stops through the app's handlers), machine.py (how busy other work kept
the cores), report.py (the targets).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads (see engine/cli.py)

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from bench.long_form.dialogues import VOICES, demo_lines, long_dialogue, short_dialogue, voice_clips
from bench.long_form.first_audio import first_audio_times
from bench.long_form.lengths import generate, in_fresh_process
from bench.long_form.line import fair_waits, stop_times
from bench.long_form.machine import OtherLoad
from bench.long_form.report import LongFormFigures, sections
from bench.report import Section, section_markdown

MINUTES = (3, 15)
REPEATS = 5
# When another user's short job is submitted: (after the long job's n-th chunk, seconds later), in turn.
FAIR_AFTER = ((1, 0.0), (4, 1.0), (7, 2.0))
# When the long job is stopped, once each: mid-way through its fourth chunk (a full one) at these points.
STOP_AFTER = ((3, 0.3), (3, 1.0), (3, 1.8))


def measure(minutes: tuple[int, ...] = MINUTES, repeats: int = REPEATS) -> LongFormFigures:
    """Every figure of the report, in one run (the longest of `minutes` is the one the targets are for)."""
    import torch

    from engine.ui import handlers, synthesis

    others = OtherLoad()
    threads = torch.get_num_threads()
    clips = {speaker: str(path) for speaker, path in voice_clips().items()}
    pass_turns = len(demo_lines())
    names = {m: f"{m} min" for m in minutes}
    lengths = {
        names[m]: in_fresh_process(generate, long_dialogue(m), clips, pass_turns, threads=threads)
        for m in minutes
    }
    handlers.warm_up()  # as the app does when it starts
    synth = synthesis.synthesizer()
    synth.synthesize(short_dialogue(), clips, keep_trace=False)
    transcripts = {"4 turns": short_dialogue(), **{names[m]: long_dialogue(m) for m in minutes}}
    first = first_audio_times(synth, transcripts, clips, repeats)
    longest = long_dialogue(max(minutes))
    waits = fair_waits(longest, short_dialogue(), VOICES, FAIR_AFTER)
    stops = stop_times(longest, VOICES, STOP_AFTER)
    return LongFormFigures(first, lengths, waits, stops, others.cores(), threads)


def run(out_dir: Path, minutes: tuple[int, ...] = MINUTES, repeats: int = REPEATS) -> list[Section]:
    """Measure, write out_dir/long_form.json and return the report sections (for `python -m bench`)."""
    figures = measure(minutes, repeats)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "long_form.json").write_text(json.dumps(asdict(figures), indent=1) + "\n")
    return sections(figures)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.long_form", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", default=",".join(map(str, MINUTES)), help="lengths, e.g. 3,15")
    parser.add_argument("--repeats", type=int, default=REPEATS, help="first-audio timings per length")
    parser.add_argument("--out", type=Path, default=Path("bench/results"), help="where long_form.json goes")
    args = parser.parse_args(argv)
    minutes = tuple(int(m) for m in args.minutes.split(",") if m.strip())
    for section in run(args.out, minutes, args.repeats):
        print(section_markdown(section, args.out))
    return 0
