"""Print the text-to-semantic figures: `python -m bench.t2s [--corpus DIR] [--json FILE]`."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import torch

from bench.report import section_markdown
from bench.t2s.measure import DEFAULT_CORPUS, measure
from bench.t2s.tables import sections
from engine.errors import UserInputError
from engine.semantic.t2s import DEFAULT_CHECKPOINT


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.t2s", description="Text-to-semantic figures on the corpus's evaluation split."
    )
    parser.add_argument("--corpus", default=DEFAULT_CORPUS)
    parser.add_argument("--checkpoint", default=DEFAULT_CHECKPOINT)
    parser.add_argument("--json", help="also write the raw figures here")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        figures = measure(args.corpus, args.checkpoint)
    except UserInputError as error:
        sys.exit(str(error))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1, default=float))
    with tempfile.TemporaryDirectory() as tmp:
        for section in sections(figures):
            print(section_markdown(section, Path(tmp)))


if __name__ == "__main__":
    main()
