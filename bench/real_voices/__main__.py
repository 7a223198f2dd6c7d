"""Run the real-voice benchmark from the command line: `python -m bench.real_voices [--sentences 8] ...`."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench import real_voices
from bench.real_voices.cases import SENTENCES
from bench.real_voices.measure import DEFAULT_CORPUS, DEFAULT_METHODS, REPO, measure
from bench.real_voices.tables import sections
from bench.report import section_markdown
from engine import denoise
from engine.codec.base import VOCODERS
from engine.data import real_speech
from engine.pipeline.settings import DEFAULT_PACE_CHECK


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.real_voices", description=real_voices.__doc__.split("\n\n")[0]
    )
    parser.add_argument("--sentences", type=int, default=SENTENCES)
    parser.add_argument(
        "--sentence-seed",
        type=int,
        default=0,
        help="which held-out sentences (0: the benchmark's; another value to choose a setting on others)",
    )
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument(
        "--methods",
        default=",".join(DEFAULT_METHODS),
        help="decoders, the first one the default (it runs under every seed); each at its default "
        "iterations, on the real voices",
    )
    parser.add_argument(
        "--guarded-only",
        action="store_true",
        help="leave out the run without the duration guards (a third shorter)",
    )
    parser.add_argument(
        "--denoise",
        choices=denoise.MODES,
        default=denoise.DEFAULT_MODE,
        help="background-noise removal of the voice clips (engine/denoise.py)",
    )
    parser.add_argument(
        "--pace-check",
        action=argparse.BooleanOptionalAction,
        default=DEFAULT_PACE_CHECK,
        help="make the turns heard off their clip's pace again (engine/pipeline/pace_check.py)",
    )
    parser.add_argument("--corpus", default=DEFAULT_CORPUS)
    parser.add_argument("--real", type=Path, default=real_speech.DEFAULT_DIR)
    parser.add_argument("--acoustic", help="acoustic checkpoint (default assets/acoustic/acoustic.pt)")
    parser.add_argument(
        "--vocoder", choices=VOCODERS, default="world", help="what decodes the codec's tokens to sound"
    )
    parser.add_argument(
        "--vocoder-checkpoint", type=Path, help="neural decoder export (default: the shipped)"
    )
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(2)
    summary, settings = measure(
        args.out,
        args.sentences,
        [int(s) for s in args.seeds.split(",")],
        args.methods.split(","),
        args.corpus,
        args.real,
        args.acoustic,
        unguarded=not args.guarded_only,
        vocoder=args.vocoder,
        vocoder_path=args.vocoder_checkpoint,
        sentence_seed=args.sentence_seed,
        denoise=args.denoise,
        pace_check=args.pace_check,
    )
    for section in sections(summary, settings, args.out):
        print(section_markdown(section, args.out))


if __name__ == "__main__":
    main()
