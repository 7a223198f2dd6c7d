"""`python -m bench [--only codec,t2s] [--with-speed] [--out DIR]`: run the benchmarks present and write
RESULTS.md. Each benchmark's figures also go to `DIR/parts/<name>.md` with their own commit and date, so a
run restricted with --only updates those parts and keeps the others."""

import argparse
import importlib
import inspect
import os
import pkgutil
import sys
import time
import traceback
from pathlib import Path

import bench
from bench.report import Section, write_part, write_results

# Pipeline order; any other bench/<name>.py with a `run` function follows, alphabetically.
PLANNED = ("codec", "t2s", "acoustic", "e2e", "app", "real_voices")
# Short names accepted by --only.
ALIASES = {"real": "real_voices"}
# Helpers, not benchmarks of their own: acoustic_speed is what `acoustic --with-speed` runs on the real model.
_NOT_BENCHMARKS = {"report", "acoustic_speed"}
REPO = Path(__file__).resolve().parent.parent
# Before torch loads: spinning OpenMP threads distort timings on a shared 2-core machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def available() -> list[str]:
    """Names of the benchmark modules present in bench/, in pipeline order."""
    found = {m.name for m in pkgutil.iter_modules(bench.__path__)} - _NOT_BENCHMARKS - {"__main__"}
    return [n for n in PLANNED if n in found] + sorted(found - set(PLANNED))


def _set_threads(n: int) -> None:
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(n)


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmarks; exit status 1 if one failed or a requested one does not exist."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", default="", help="comma-separated benchmark names, e.g. codec,t2s")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results", help="results directory")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (the machine has 2 cores)")
    parser.add_argument(
        "--with-speed",
        action="store_true",
        help="benchmarks that can also time the autoregressive baselines do so (minutes more)",
    )
    args = parser.parse_args(argv)
    _set_threads(args.threads)

    present = available()
    wanted = [ALIASES.get(n.strip(), n.strip()) for n in args.only.split(",") if n.strip()] or present
    unknown = [n for n in wanted if n not in present]
    if unknown:
        print(
            f"No benchmark named {', '.join(unknown)}; present: {', '.join(present) or 'none yet'}.",
            file=sys.stderr,
        )
        return 1

    notes = []
    missing = [n for n in PLANNED if n not in present]
    if not present:
        notes.append(
            f"No benchmark modules yet (planned: {', '.join(PLANNED)}); only the header was written."
        )
    elif missing:
        notes.append(f"Not written yet: {', '.join(missing)}.")

    args.out.mkdir(parents=True, exist_ok=True)
    failed = False
    for name in wanted:
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.{name}")
            kwargs = {}
            if args.with_speed and "with_speed" in inspect.signature(module.run).parameters:
                kwargs["with_speed"] = True
            result = list(module.run(args.out, **kwargs))
        except Exception as err:  # noqa: BLE001 - one broken benchmark must not lose the others' figures
            traceback.print_exc()
            failed = True
            result = [Section(title=name, text=f"**Failed:** {type(err).__name__}: {err}")]
        elapsed = time.perf_counter() - start
        write_part(args.out, REPO, name, result, elapsed)
        print(f"[bench] {name} done in {elapsed:.1f} s", file=sys.stderr, flush=True)

    path = write_results(args.out, REPO, present, notes)
    print(path)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
