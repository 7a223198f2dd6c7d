"""The record of a parallel decode: what every iteration fixed, the tokens, and the model's confidence."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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


def _pad_frames(x: Tensor, t: int, value: float | bool) -> Tensor:
    """x [B, Q, T_x] padded with `value` to T = t frames."""
    if x.shape[-1] == t:
        return x
    return torch.nn.functional.pad(x, (0, t - x.shape[-1]), value=value)


def _joined(
    results: Sequence[DecodeResult], lengths: Tensor, join: Callable[[list[Tensor], float | bool], Tensor]
) -> DecodeResult:
    """Several decodes (all with the same plan of stages) as one result of `lengths`: every grid (tokens,
    and each iteration's fixed, tokens and confidence) made by `join(grids, padding value)` from theirs,
    times and passes summed."""
    first = results[0].trace
    trace = DecodeTrace(method=first.method, lengths=lengths.clone())
    trace.forward_passes = sum(r.trace.forward_passes for r in results)
    for k, step in enumerate(first.steps):
        steps = [r.trace.steps[k] for r in results]
        trace.steps.append(
            TraceStep(
                stage=step.stage,
                levels=step.levels,
                iteration=step.iteration,
                fixed=join([s.fixed for s in steps], False),
                tokens=join([s.tokens for s in steps], UNKNOWN),
                confidence=join([s.confidence for s in steps], 0.0),
                guidance=step.guidance,
                seconds=sum(s.seconds for s in steps),
            )
        )
    return DecodeResult(tokens=join([r.tokens for r in results], UNKNOWN), lengths=lengths, trace=trace)


def merge_results(results: Sequence[DecodeResult]) -> DecodeResult:
    """Decodes of consecutive batches of turns (a long dialogue decoded chunk by chunk) as one: turns
    stacked in order, every grid padded to the longest turn, iteration k of the merged trace holding
    iteration k of every batch (all were decoded with the same plan of stages), times and passes summed."""
    if not results:
        raise ValueError("no decodes to merge")
    if len(results) == 1:
        return results[0]
    t = max(r.tokens.shape[-1] for r in results)
    return _joined(
        results,
        torch.cat([r.lengths for r in results]),
        lambda grids, value: torch.cat([_pad_frames(g, t, value) for g in grids]),
    )


def replace_turns(result: DecodeResult, rows: Sequence[int], again: DecodeResult) -> DecodeResult:
    """`result` with its turns `rows` replaced by the turns of `again` (those turns decoded once more, in that
    order, with the same plan of stages): every grid as long as the longest turn now, the trace's times and
    passes summed."""
    if len(rows) != len(again.lengths):
        raise ValueError(f"{len(rows)} rows to replace but {len(again.lengths)} turns decoded again")
    if len(result.trace.steps) != len(again.trace.steps):
        raise ValueError("the turns decoded again went through another plan of stages")
    index = torch.as_tensor(list(rows), dtype=torch.long)
    lengths = result.lengths.clone()
    lengths[index] = again.lengths
    t = int(lengths.max())

    def put(grids: list[Tensor], value: float | bool) -> Tensor:
        old, new = grids
        out = _pad_frames(old[..., :t], t, value).clone()  # beyond every turn's length is padding only
        out[index] = _pad_frames(new[..., :t], t, value)
        return out

    return _joined([result, again], lengths, put)
