"""Build the real-speech set from the command line: `python -m engine.data.real_speech [--out DIR]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.data import real_speech
from engine.data.real_speech.build import build
from engine.data.real_speech.speech_set import DEFAULT_DIR, MANIFEST


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m engine.data.real_speech", description=real_speech.__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_DIR, help="folder of the set (default %(default)s)"
    )
    args = parser.parse_args(argv)
    real = build(args.out, log=lambda m: print(m, file=sys.stderr))
    print("fetched: " + "; ".join(real.fetched))
    for s in real.speakers:
        refs = "its prompt" if s.reference_is_prompt else f"{len(s.references)} references"
        print(
            f"{s.id:24s} prompt {s.prompt.seconds:5.1f} s ({len(s.prompt_parts)} clips), {refs}; {s.channel}"
        )
    print(f"wrote {args.out / MANIFEST}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
