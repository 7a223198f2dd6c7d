"""What the small training scripts (duration model, phone recognizer) share: the log line, the learning-rate
schedule, and a command line built from a settings dataclass."""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import sys
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from engine.errors import UserInputError


def log(out_dir: str, message: str) -> None:
    """Print a time-stamped line and append it to OUT/train.log."""
    line = f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M:%S} {message}"
    print(line, flush=True)
    with open(os.path.join(out_dir, "train.log"), "a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def warmup_cosine_lr(step: int, peak: float, warmup: int, steps: int) -> float:
    """Linear warmup to `peak`, then cosine decay to 5 % of it at `steps`."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(steps - warmup, 1)
    return peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))))


def command_line(
    description: str,
    settings: Any,
    train: Callable[[str, str, Any, int], dict],
    default_out: str,
    default_threads: int,
    argv: list[str] | None = None,
) -> None:
    """`--corpus --out --threads` plus one option per field of the `settings` dataclass instance (its
    defaults); runs `train(corpus, out, settings, threads)` and prints the metadata it returns, or the
    message of a UserInputError."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--corpus", required=True, help="corpus folder with manifest.jsonl")
    parser.add_argument("--out", default=default_out, help="where the checkpoint, train.log and resume.pt go")
    parser.add_argument("--threads", type=int, default=default_threads, help="torch threads")
    fields = asdict(settings)
    for name, value in fields.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    args = parser.parse_args(argv)
    chosen = type(settings)(**{name: getattr(args, name) for name in fields})
    try:
        metadata = train(args.corpus, args.out, chosen, args.threads)
    except UserInputError as error:
        sys.exit(str(error))
    print(json.dumps(metadata, indent=1))
