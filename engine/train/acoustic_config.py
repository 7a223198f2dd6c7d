"""The acoustic trainer's settings (saved in every checkpoint), its learning-rate schedule and the parsing of
its masking-scheme and level-weight options."""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.acoustic.masking import SCHEMES
from engine.errors import UserInputError


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings; saved in the checkpoint next to the model config."""

    steps: int = 20000
    batch_size: int = 16
    crop: int = 250
    prompt_frames: int = 150
    lr: float = 5e-4
    warmup: int = 500
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    schemes: tuple[tuple[str, float], ...] = (("soundstorm", 1.0), ("group", 1.0), ("spans", 1.0))
    drop_prob: float = 0.1
    span: int = 3
    level_weights: tuple[float, ...] | None = None
    seed: int = 0
    log_every: int = 20
    save_every: int = 200
    eval_batches: int = 4
    channel_prob: float = 0.0  # share of prompts taken through a degraded channel, where the data has them


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warmup, then cosine decay to `min_lr_ratio` of the peak."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = min(1.0, (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup))
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def parse_schemes(text: str) -> tuple[tuple[str, float], ...]:
    """'soundstorm:1,group:2' -> (("soundstorm", 1.0), ("group", 2.0))."""
    out = []
    for part in text.split(","):
        name, _, weight = part.partition(":")
        if name not in SCHEMES:
            raise UserInputError(
                f"Masking scheme {name!r} is unknown; use some of {SCHEMES}, e.g. 'soundstorm:1'."
            )
        out.append((name, float(weight or 1.0)))
    return tuple(out)


def parse_level_weights(text: str | None) -> tuple[float, ...] | None:
    """'3,3,1,1' -> (3.0, 3.0, 1.0, 1.0); None or '' -> None (uniform)."""
    if not text:
        return None
    try:
        return tuple(float(w) for w in text.split(","))
    except ValueError:
        raise UserInputError(
            f"--level-weights {text!r} is not a list of numbers; write one weight per level, e.g. '3,3,1,1'."
        ) from None
