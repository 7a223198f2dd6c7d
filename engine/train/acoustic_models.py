"""The acoustic trainer's models and checkpoints: a new parallel model or AR baseline from the command line
(tied to a codec's codebooks), a model back from a checkpoint, and the training and shipped forms on disk."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from engine.acoustic.baselines import ARBaseline, ARConfig
from engine.acoustic.layout import TokenLayout
from engine.acoustic.model import AcousticConfig, AcousticModel, save_checkpoint
from engine.errors import UserInputError


def codec_codebooks(codec_dir: str, layout: TokenLayout) -> list[Tensor]:
    """The codebook [K_q, D_q] of every token level of a Group-RVQ codec, in token order."""
    from engine.codec import GroupRVQCodec, load_codec

    codec = load_codec(codec_dir)
    if not isinstance(codec, GroupRVQCodec) or tuple(codec.codebook_sizes) != layout.codebook_sizes:
        raise UserInputError(
            f"--codec {codec_dir} is not the Group-RVQ codec the training data was encoded with "
            f"(levels {layout.codebook_sizes}); give that codec's directory, or leave --codec out."
        )
    books: list[Tensor | None] = [None] * layout.n_q
    for vq, levels in zip(codec.quantizers, codec.groups):
        for q, cb in zip(levels, vq.codebooks):
            books[q] = cb.float()
    return [b for b in books if b is not None]


def build_model(arch: str, layout: TokenLayout, semantic_vocab: tuple[int, ...], args: argparse.Namespace):
    """A new model of `arch` for this token layout, sized by the command line; tied to `args.codec`'s codebooks."""
    common: dict[str, Any] = {
        "codebook_sizes": layout.codebook_sizes,
        "groups": layout.groups,
        "semantic_vocab": semantic_vocab,
        "d_model": args.d_model,
        "n_layers": args.layers,
        "n_heads": args.heads,
        "dropout": args.dropout,
    }
    if arch == "parallel":
        books = codec_codebooks(args.codec, layout) if args.codec else []
        model = AcousticModel(
            AcousticConfig(
                **common,
                ff_mult=args.ff_mult,
                conv_kernel=args.conv_kernel,
                prompt_mode=args.prompt_mode,
                codebook_dims=tuple(b.shape[1] for b in books),
            )
        )
        if books:
            model.set_codebooks(books)
        return model
    return ARBaseline(ARConfig(**common, pattern=arch))


def save_model(path: Path, model: nn.Module, metadata: dict, **extra: Any) -> None:
    """Write a model with its config and metadata (and `extra`, e.g. optimizer state) atomically."""
    if isinstance(model, AcousticModel):
        save_checkpoint(path, model, metadata, **extra)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(
        {"config": model.config.to_dict(), "model": model.state_dict(), "metadata": metadata, **extra}, tmp
    )
    tmp.replace(path)


def export_model(path: Path, model: nn.Module, metadata: dict, arch: str) -> None:
    """The shipped form: no optimizer state, float16 weights, and the metadata also as readable JSON beside."""
    if isinstance(model, AcousticModel):
        save_checkpoint(path, model, metadata, half=True, arch=arch)
    else:
        save_model(path, model, metadata, arch=arch)
    path.with_suffix(".json").write_text(json.dumps({"arch": arch, **metadata}, indent=1, default=str) + "\n")


def rebuild_model(state: dict[str, Any]) -> nn.Module:
    """The model stored in a checkpoint dict (parallel or autoregressive, by its `arch`)."""
    if state.get("arch", "parallel") == "parallel":
        model: nn.Module = AcousticModel(AcousticConfig.from_dict(state["config"]))
    else:
        model = ARBaseline(ARConfig(**state["config"]))
    model.load_state_dict(state["model"])
    return model
