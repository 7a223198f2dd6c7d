"""What a user of the page waits for: pressing Generate on a 4-turn dialogue (the first four turns of the
podcast-intro demo, its built-in voices, default settings) until the first progress update, until the audio
plays, and until every output (figures, downloads) is there. The page's own handler runs in-process on the
shipped models, loaded first as the app does at start; the first run also encodes the voice clips.

    python -m bench.app [--runs 5]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads (see engine/cli.py)

import argparse
import statistics
import sys
import time
from pathlib import Path

from bench.report import Section, Table, section_markdown

DEMO = "podcast-intro"
TURNS = 4
# The targets: the whole dialogue within 10 s of pressing Generate, the first progress within 1 s.
TOTAL_TARGET_S = 10.0
FIRST_PROGRESS_TARGET_S = 1.0


class _ProgressClock:
    """Stands in for gr.Progress: records when the first update arrives and the stages shown."""

    def __init__(self, start: float) -> None:
        self.start = start
        self.first: float | None = None
        self.stages: list[str] = []

    def __call__(self, fraction: float, desc: str | None = None) -> None:
        if self.first is None:
            self.first = time.perf_counter() - self.start
        self.stages.append(desc or "")


def measure(runs: int = 5) -> dict:
    """Time `runs` presses of Generate (the first one with cold voice clips).

    Returns:
        Per run: seconds to the first progress update, to the audio, to all outputs; the audio's length.
    """
    from engine.acoustic.decoding import DEFAULT_STEPS, DEFAULT_TEMPERATURE
    from engine.demos import list_demos
    from engine.pipeline import DEFAULT_PACE_CHECK, DEFAULT_VOICE_MATCH
    from engine.ui import handlers

    demo = next(d for d in list_demos() if d.name == DEMO)
    lines = [line for line in demo.transcript.splitlines() if line.strip()][:TURNS]
    voices = [demo.voices.get(s) for s in handlers.SPEAKERS]
    # clip words left empty: the pipeline knows the built-in voices' words
    speaker_values = [str(v) if v else None for v in voices] + [None] * 4 + [""] * 4 + [1.0] * 4
    t0 = time.perf_counter()
    handlers.warm_up()
    load_s = time.perf_counter() - t0
    rows = []
    for run in range(runs):
        start = time.perf_counter()
        clock = _ProgressClock(start)
        outputs = handlers.generate_dialogue(
            "\n".join(lines),
            "group",
            DEFAULT_STEPS["group"],
            DEFAULT_TEMPERATURE,
            1.0,
            0,
            DEFAULT_VOICE_MATCH,
            DEFAULT_PACE_CHECK,
            *speaker_values,
            progress=clock,
        )
        (sample_rate, audio), *_ = next(outputs)
        audio_s = time.perf_counter() - start
        for _ in outputs:
            pass
        rows.append(
            {
                "run": run + 1,
                "first_progress_s": clock.first,
                "audio_s": audio_s,
                "all_outputs_s": time.perf_counter() - start,
                "dialogue_s": len(audio) / sample_rate,
                "stages": len(clock.stages),
            }
        )
    return {"load_s": load_s, "turns": len(lines), "iterations": DEFAULT_STEPS["group"], "rows": rows}


def sections(figures: dict) -> list[Section]:
    rows = figures["rows"]
    warm = rows[1:] or rows
    med = {k: statistics.median(r[k] for r in warm) for k in ("first_progress_s", "audio_s", "all_outputs_s")}
    worst_first = max(r["first_progress_s"] for r in rows)
    worst_total = max(r["all_outputs_s"] for r in rows)
    text = (
        f"Pressing Generate on the first {figures['turns']} turns of the `{DEMO}` demo "
        f"({rows[0]['dialogue_s']:.1f} s of speech; group decoder, {figures['iterations']} iteration(s), seed 0), through the page's "
        f"handler on the shipped models, loaded first as the app does at start ({figures['load_s']:.1f} s). "
        f"Run 1 also encodes the voice clips; the medians are over runs 2–{len(rows)}.\n\n"
        f"Targets: whole dialogue < {TOTAL_TARGET_S:.0f} s — slowest run {worst_total:.2f} s "
        f"({'met' if worst_total < TOTAL_TARGET_S else 'not met'}); first progress < "
        f"{FIRST_PROGRESS_TARGET_S:.0f} s — slowest {worst_first:.2f} s "
        f"({'met' if worst_first < FIRST_PROGRESS_TARGET_S else 'not met'}). Median first progress "
        f"{med['first_progress_s']:.2f} s, audio playing {med['audio_s']:.2f} s, all outputs "
        f"{med['all_outputs_s']:.2f} s."
    )
    table = Table(
        columns=("run", "first progress (s)", "audio ready (s)", "all outputs (s)", "progress updates"),
        rows=tuple(
            (r["run"], r["first_progress_s"], r["audio_s"], r["all_outputs_s"], r["stages"]) for r in rows
        ),
        float_format=".2f",
    )
    return [Section(title="App: time from pressing Generate", text=text, items=(table,))]


def run(out_dir: Path, runs: int = 5) -> list[Section]:
    """Measure and return the report section (for `python -m bench`)."""
    return sections(measure(runs))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.app", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="presses of Generate (the first is cold)")
    args = parser.parse_args(argv)
    for section in run(Path("bench/results"), args.runs):
        print(section_markdown(section, Path("bench/results")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
