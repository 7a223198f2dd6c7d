"""The neural decoder trainer's settings (saved in every checkpoint) and its command line."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields

from engine.vocoder.generator import VocoderConfig


@dataclass(frozen=True)
class VocoderTrainConfig:
    """Optimisation settings; the loss weights are HiFi-GAN's and Vocos's (mel x45, feature matching x2)."""

    steps: int = 200_000
    batch_size: int = 8
    crop: int = 40  # frames: 0.8 s of audio per item
    lr: float = 2e-4
    warmup: int = 1000
    weight_decay: float = 0.01
    grad_clip: float = 10.0
    adversarial_start: int = 20_000  # steps of spectral losses only, before the discriminators join
    # Frames of each item the discriminators hear: 0.4 s, as HiFi-GAN's 8192 samples.
    adversarial_crop: int = 20
    mel_weight: float = 45.0
    stft_weight: float = 1.0
    adversarial_weight: float = 1.0
    feature_match_weight: float = 2.0
    seed: int = 0
    log_every: int = 20
    save_every: int = 500
    eval_every: int = 5000  # quality measured on the held-out pairs, logged and kept in the checkpoint
    eval_pairs: int = 8


def build_parser() -> argparse.ArgumentParser:
    """--data --out --codec --export --threads --fresh --init, one option per VocoderTrainConfig field, and the
    generator's shape (--dim --intermediate --layers --world-anchor)."""
    p = argparse.ArgumentParser(description="Train the neural decoder of the codec's tokens (resumable).")
    p.add_argument("--data", required=True, help="training pairs (python -m engine.train.prepare_vocoder)")
    p.add_argument("--out", required=True, help="run folder: resume.pt, train.log.jsonl")
    p.add_argument("--codec", help="codec the pairs' tokens are of (default: the one named in the data)")
    p.add_argument(
        "--export", help="also write the generator alone here at the end, e.g. assets/vocoder/vocoder.pt"
    )
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint and start over")
    p.add_argument(
        "--init",
        help="with no checkpoint in --out: start from this generator export (its shape, weights and step "
        "count; new discriminators and optimizers, the warmup run again), e.g. after the machine lost the run",
    )
    for f in fields(VocoderTrainConfig):
        p.add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default), default=f.default)
    shape = VocoderConfig()
    for name in ("dim", "intermediate", "layers"):
        p.add_argument(f"--{name}", type=int, default=getattr(shape, name), help="generator shape")
    p.add_argument(
        "--world-anchor",
        action="store_true",
        help="the generator writes a change to WORLD's synthesis of the frames (engine/vocoder/generator.py)",
    )
    return p


def configs_from(args: argparse.Namespace) -> tuple[VocoderTrainConfig, VocoderConfig]:
    train = VocoderTrainConfig(**{f.name: getattr(args, f.name) for f in fields(VocoderTrainConfig)})
    shape = VocoderConfig(
        dim=args.dim, intermediate=args.intermediate, layers=args.layers, world_anchor=args.world_anchor
    )
    return train, shape
