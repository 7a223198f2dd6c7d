"""Blend two acoustic models of one lineage: the weighted mean of their weights (as WiSE-FT does with a
fine-tuned model and the one it started from), to keep part of what a fine-tune gained and part of what it
forgot.

    python -m engine.train.blend_acoustic assets/acoustic/acoustic.pt /work/runs/ft/acoustic.pt \\
        --weight 0.5 --out /work/runs/blend/acoustic.pt

`--weight w` gives `(1 - w) * first + w * second`. Both models must have the same shape and share the
codec's codebooks (a fine-tune from the first does); the output is exported as `train_acoustic --export`
writes it (float16, metadata also as JSON beside), its metadata naming both parents, the weight and this
command, and keeping the second's training record. With `--data DIR` (an acoustic corpus, as `train_acoustic
--data` takes) its held-out masked-token accuracy is measured there, with the second model's training masks.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import torch

from engine.acoustic.model import load_model
from engine.errors import UserInputError
from engine.train.acoustic_models import export_model


def blend(
    first: Path, second: Path, weight: float, out: Path, command: str, data: Path | None = None
) -> dict:
    """Write the blend of `first` and `second` to `out` (its held-out accuracy measured on `data` when given);
    returns its metadata."""
    if not 0.0 <= weight <= 1.0:
        raise UserInputError(f"--weight {weight} is outside 0..1; 0 keeps the first model, 1 the second.")
    model_a, meta_a = load_model(first)
    model_b, meta_b = load_model(second)
    if model_a.config.to_dict() != model_b.config.to_dict():
        raise UserInputError(f"{first} and {second} have different shapes; only one lineage can be blended.")
    weights_a, weights_b = model_a.state_dict(), model_b.state_dict()
    blended = {
        name: torch.lerp(a, weights_b[name], weight) if a.is_floating_point() else a
        for name, a in weights_a.items()
    }
    model_b.load_state_dict(blended)
    meta = {
        **meta_b,
        "command": command,
        "blend": {
            "first": str(first),
            "second": str(second),
            "weight_of_second": weight,
            "first_command": meta_a.get("command"),
            "second_command": meta_b.get("command"),
        },
        "quality": {},  # the parents' held-out accuracies do not carry over
        "trained_real_persons": sorted(
            {*meta_a.get("trained_real_persons", []), *meta_b.get("trained_real_persons", [])}
        ),
    }
    if data is not None:
        if "train_config" not in meta_b:
            raise UserInputError(
                f"{second} does not say how it was trained (no train_config in its metadata), so its masks for "
                "measuring on --data are unknown; leave --data out, or blend toward a model train_acoustic exported."
            )
        from engine.acoustic.data import read_corpus
        from engine.train.train_acoustic import held_out_quality

        meta["quality"] = held_out_quality(model_b, read_corpus(data), meta_b["train_config"])
        meta["data"] = str(data)
    export_model(out, model_b, meta, "parallel")  # load_model reads parallel models only
    return meta


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="python -m engine.train.blend_acoustic", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("first", type=Path, help="the model blended from (weight 1 - w)")
    parser.add_argument("second", type=Path, help="the model blended toward (weight w)")
    parser.add_argument("--weight", type=float, default=0.5, help="w, the second model's share")
    parser.add_argument("--out", type=Path, required=True, help="the blended model's path")
    parser.add_argument(
        "--data", type=Path, help="acoustic corpus to measure the blend's held-out accuracy on"
    )
    args = parser.parse_args(argv)
    command = shlex.join([sys.executable, "-m", "engine.train.blend_acoustic", *argv])
    try:
        blend(args.first, args.second, args.weight, args.out, command, args.data)
    except UserInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
