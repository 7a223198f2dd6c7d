"""How each decoder divides the codec levels into stages, each filled over a number of iterations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.acoustic.layout import TokenLayout
from engine.errors import UserInputError


@dataclass(frozen=True)
class Stage:
    """Levels filled together over `steps` iterations; `span` > 1 fixes whole spans of frames at once."""

    name: str
    levels: tuple[int, ...]
    steps: int
    span: int = 1


def _per_level_steps(layout: TokenLayout, steps: int | Sequence[int], n: int, what: str) -> list[int]:
    if isinstance(steps, int):
        out = [steps] + [1] * (n - 1)
    else:
        out = [int(s) for s in steps]
    if len(out) != n or min(out) < 1:
        raise UserInputError(
            f"steps={steps!r} does not fit: give one positive number, or {n} positive numbers (one per {what})."
        )
    return out


def plan_soundstorm(layout: TokenLayout, steps: int | Sequence[int]) -> list[Stage]:
    """One stage per level in decoding order; an int n means (n, 1, 1, ...) as in SoundStorm."""
    counts = _per_level_steps(layout, steps, layout.n_q, "level")
    return [Stage(f"level {q}", (q,), s) for q, s in zip(layout.level_order, counts, strict=True)]


def plan_group(layout: TokenLayout, steps: int | Sequence[int]) -> list[Stage]:
    """Per group: its coarse level over n iterations, then all its finer levels together in one pass."""
    n_groups = len(layout.groups)
    counts = [steps] * n_groups if isinstance(steps, int) else list(steps)
    counts = _per_level_steps(layout, counts, n_groups, "group")
    stages = []
    for g, (group, s) in enumerate(zip(layout.groups, counts, strict=True)):
        stages.append(Stage(f"group {g} coarse (level {group[0]})", (group[0],), s))
        if len(group) > 1:
            stages.append(Stage(f"group {g} fine (levels {', '.join(map(str, group[1:]))})", group[1:], 1))
    return stages


def plan_spans(layout: TokenLayout, steps: int | Sequence[int], span: int = 3) -> list[Stage]:
    """One stage per level, fixing spans of `span` frames (MAGNeT)."""
    counts = _per_level_steps(layout, steps, layout.n_q, "level")
    return [Stage(f"level {q} spans", (q,), s, span) for q, s in zip(layout.level_order, counts, strict=True)]
