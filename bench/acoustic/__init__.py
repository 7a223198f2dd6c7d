"""Quality of the acoustic generator on the reserved evaluation voices: WER and speaker similarity of
generated speech by decoder and first-level iterations, real-time factor, and the targets they are held to.

Each held-out sentence is generated from its text (pipeline: text-to-semantic + acoustic + codec) in the voice
of another utterance of the same reserved voice; a third utterance of that voice is the reference for speaker
similarity. `run(out_dir)` returns report sections; the command line prints them:

    python -m bench.acoustic [--per-voice N] [--methods group,soundstorm,spans] [--iterations 1,2,4,8,16]
        [--iterations spans:1,4,16] [--acoustic PATH] [--with-speed] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from bench.acoustic.items import (
    DEFAULT_CORPUS,
    ITERATIONS,
    METHODS,
    VOICE_MATCH_STRENGTHS,
    EvalItem,
    eval_items,
)
from bench.acoustic.measure import check_sweep, measure, measure_speed
from bench.acoustic.report import check_targets, plot, sections
from bench.report import Section, section_markdown
from engine.acoustic.decoding import DECODERS
from engine.errors import UserInputError
from engine.pipeline import DialogueSynthesizer

__all__ = [
    "ITERATIONS",
    "VOICE_MATCH_STRENGTHS",
    "EvalItem",
    "check_sweep",
    "check_targets",
    "eval_items",
    "main",
    "measure",
    "measure_speed",
    "run",
    "sections",
]


def run(
    out_dir: Path,
    corpus: str | None = None,
    acoustic: str | Path | Any = None,
    per_voice: int = 4,
    methods: Sequence[str] = METHODS,
    iterations: Sequence[int] | Mapping[str, Sequence[int]] = ITERATIONS,
    items: Sequence[EvalItem] | None = None,
    synth: DialogueSynthesizer | None = None,
    with_speed: bool = False,
    log: Callable[[str], None] = print,
) -> list[Section]:
    """Measure the acoustic generator and return report sections; figures also go to
    `out_dir/acoustic_figures.json` and the plot to `out_dir/acoustic_quality_by_iterations.png`.

    Args:
        out_dir: results directory.
        corpus: corpus with the eval split (default $CORPUS_DIR or /work/corpus); unused when `items` given.
        acoustic: checkpoint path or AcousticModel (default the shipped assets/acoustic/acoustic.pt).
        per_voice: target sentences per reserved voice.
        methods: decoders to sweep.
        iterations: first-level iteration counts to sweep, for every method or per method.
        items: what to generate, instead of the corpus's eval split.
        synth: a pipeline to use (its models); built from `acoustic` when None.
        with_speed: also time 10 s / 30 s against the autoregressive baselines (minutes).
        log: progress sink.
    """
    check_sweep(methods, iterations)
    synth = synth or DialogueSynthesizer(acoustic=acoustic)
    synth.load()
    items = list(items) if items is not None else eval_items(corpus or DEFAULT_CORPUS, per_voice)
    figures = measure(synth, items, methods, iterations, log=log)
    if with_speed:
        figures["speed"] = measure_speed(synth, log=log)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "acoustic_figures.json").write_text(json.dumps(figures, indent=2) + "\n")
    return sections(figures, plot(figures, out))


def _iteration_list(text: str) -> tuple[str | None, tuple[int, ...]]:
    """Iteration counts for every method ("1,2,4") or for one ("spans:1,4,16")."""
    method, _, counts = text.rpartition(":")
    try:
        return method.strip() or None, tuple(int(v) for v in counts.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of whole numbers, optionally after 'method:'"
        ) from None


def main(argv: list[str] | None = None) -> int:
    """Command line: measure and print the tables."""
    p = argparse.ArgumentParser(prog="python -m bench.acoustic", description=__doc__.split("\n")[0])
    p.add_argument("--corpus", default=DEFAULT_CORPUS, help="corpus with the eval split")
    p.add_argument(
        "--acoustic", default=None, help="acoustic checkpoint (default assets/acoustic/acoustic.pt)"
    )
    p.add_argument("--per-voice", type=int, default=4, help="target sentences per reserved voice")
    p.add_argument(
        "--iterations",
        type=_iteration_list,
        action="append",
        default=[],
        help="e.g. 1,2,4,8,16 (every method; the default) or spans:1,4,16 (one method); may be repeated",
    )
    p.add_argument("--methods", default=",".join(METHODS), help=f"comma-separated, of {', '.join(DECODERS)}")
    p.add_argument("--with-speed", action="store_true", help="also the 10/30 s AR ratios (about 6+ minutes)")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--out", type=Path, default=Path("bench/results"), help="where the PNG and JSON go")
    p.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    methods = tuple(m.strip() for m in args.methods.split(",") if m.strip())
    default = next((c for m, c in reversed(args.iterations) if m is None), ITERATIONS)
    iterations = {m: default for m in methods} | {m: c for m, c in args.iterations if m is not None}
    start = time.perf_counter()
    try:
        result = run(
            args.out,
            args.corpus,
            args.acoustic,
            args.per_voice,
            methods,
            iterations,
            with_speed=args.with_speed,
            log=lambda m: print(m, file=sys.stderr, flush=True),
        )
    except UserInputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for section in result:
        print(section_markdown(section, args.out))
    if args.json:
        args.json.write_text((args.out / "acoustic_figures.json").read_text())
    print(f"\n({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    return 0
