"""The record of a parallel decode: what every iteration fixed, the tokens, and the model's confidence."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

UNKNOWN = -1  # token value of a position not (yet) generated, and of every padded frame


@dataclass
class TraceStep:
    """One decoding iteration.

    Attributes:
        stage: human-readable name of what was decoded ("level 0", "group 1 coarse", ...).
        levels: the levels decoded in this iteration.
        iteration: index of the iteration inside its stage.
        fixed: [B, Q, T] bool, the positions fixed in this iteration.
        tokens: [B, Q, T] int32, the token grid after this iteration (UNKNOWN where not fixed yet).
        confidence: [B, Q, T] float in [0, 1]: for fixed positions the probability the model gave the token
            when it chose it; for the stage's still-masked positions the probability of the current
            candidate; 0 for levels not reached yet and for padding.
        guidance: classifier-free guidance weight used (1 = none).
        seconds: wall time of the iteration.
    """

    stage: str
    levels: tuple[int, ...]
    iteration: int
    fixed: Tensor
    tokens: Tensor
    confidence: Tensor
    guidance: float
    seconds: float


@dataclass
class DecodeTrace:
    """All iterations of one decode, in order. Attributes: method, lengths [B], steps, forward passes."""

    method: str
    lengths: Tensor
    steps: list[TraceStep] = field(default_factory=list)
    forward_passes: int = 0

    def __len__(self) -> int:
        return len(self.steps)

    def fixed_counts(self) -> Tensor:
        """[iterations, B] number of positions fixed by each iteration in each example."""
        if not self.steps:
            return torch.zeros(0, len(self.lengths), dtype=torch.long)
        return torch.stack([s.fixed.sum(dim=(1, 2)) for s in self.steps])

    def fill_order(self) -> Tensor:
        """[B, Q, T] index of the iteration that fixed each position (UNKNOWN for padding / never fixed)."""
        first = self.steps[0].fixed
        order = torch.full(first.shape, UNKNOWN, dtype=torch.long)
        for i, s in enumerate(self.steps):
            order[s.fixed] = i
        return order


@dataclass
class DecodeResult:
    """Attributes: tokens [B, Q, T] (UNKNOWN on padded frames), lengths [B], trace."""

    tokens: Tensor
    lengths: Tensor
    trace: DecodeTrace
