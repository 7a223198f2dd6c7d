"""End-to-end figures: a ~30 s two-speaker dialogue in two reserved evaluation voices, made by the whole
pipeline; real-time factor of each stage and in total, peak memory, and per turn Whisper WER and speaker
similarity.

    python -m bench.e2e [--method group] [--iterations N] [--seed 0] [--acoustic PATH] [--corpus DIR]

prints the tables; `run(out_dir)` returns them as report sections (for `python -m bench`). The corpus is
`$CORPUS_DIR` (default /work/corpus); the model is assets/acoustic/acoustic.pt unless `--acoustic` says otherwise.
"""
from __future__ import annotations

import os

# Spinning OpenMP threads make torch many times slower when other processes share the 2 cores (see
# engine/cli.py); the setting only takes effect before torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

import torch

from bench.e2e.case import DEFAULT_CORPUS, STAGES, DialogueCase, corpus_dialogue, warmup_transcript
from bench.e2e.measure import E2EFigures, TurnFigures, measure, score_turns
from bench.e2e.report import sections, tables
from bench.report import Section, section_markdown
from engine.audio import write_audio
from engine.errors import UserInputError
from engine.pipeline import DEFAULT_ACOUSTIC_CHECKPOINT, DialogueResult, DialogueSynthesizer

__all__ = [
    "DEFAULT_CORPUS",
    "STAGES",
    "DialogueCase",
    "E2EFigures",
    "TurnFigures",
    "corpus_dialogue",
    "main",
    "measure",
    "run",
    "score_turns",
    "sections",
    "tables",
    "warmup_transcript",
]


def _save(out_dir: Path, figures: E2EFigures, result: DialogueResult, case: DialogueCase) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "e2e.json").write_text(
        json.dumps({"case": asdict(case), "figures": asdict(figures)}, indent=1)
    )
    write_audio(out_dir / "e2e_dialogue.wav", result.audio, result.sample_rate)


def run(
    out_dir: Path,
    corpus: str = DEFAULT_CORPUS,
    acoustic: str | None = None,
    method: str = "group",
    iterations: int | None = None,
    seed: int = 0,
) -> list[Section]:
    """Measure and return the report sections; the raw figures and the dialogue's audio go to out_dir.

    Args:
        out_dir: results folder (e2e.json, e2e_dialogue.wav).
        corpus: corpus folder holding the eval split.
        acoustic: acoustic checkpoint (None: assets/acoustic/acoustic.pt).
        method, iterations, seed: the acoustic decoding.
    """
    case = corpus_dialogue(corpus)
    synth = DialogueSynthesizer(acoustic=acoustic)
    figures, result = measure(
        synth,
        case.transcript,
        case.voices,
        case.other_recordings,
        method,
        iterations,
        seed,
        case.reference_recordings,
    )
    _save(Path(out_dir), figures, result, case)
    return sections(figures, case, str(acoustic or DEFAULT_ACOUSTIC_CHECKPOINT))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.e2e", description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=DEFAULT_CORPUS)
    parser.add_argument("--acoustic", help="acoustic checkpoint (default assets/acoustic/acoustic.pt)")
    parser.add_argument("--method", default="group", help="group, soundstorm or spans")
    parser.add_argument("--iterations", type=int, help="the method's main step count (default: its own)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (the machine has 2 cores)")
    parser.add_argument("--out", type=Path, help="also write e2e.json and e2e_dialogue.wav here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        try:
            result = run(out, args.corpus, args.acoustic, args.method, args.iterations, args.seed)
        except UserInputError as error:
            sys.exit(str(error))
        for section in result:
            print(section_markdown(section, out))

