"""Parallel decoders of the acoustic model: SoundStorm MaskGIT, group-wise G-IPD and MAGNeT span decoding.

All three share one signature and one loop (`decoding_loop.run_stages`); they differ in how they divide the
levels into stages (`decoding_stages`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from engine.acoustic.decoding_loop import Callback, run_stages
from engine.acoustic.decoding_stages import plan_group, plan_soundstorm, plan_spans
from engine.acoustic.model import AcousticModel
from engine.acoustic.trace import DecodeResult
from engine.errors import UserInputError

# group stays at 2: group@1 (3 passes instead of 5) decodes every level in a single step, and single-step
# levels are greedy, so its output ignores the seed and the temperature. In the five acoustic benchmark runs
# of 2026-11-21/22 it scored a WER at or below group@2's every time (0.497 vs 0.576 in the latest) at a
# similarity within 0.011 either way; it is there for whoever wants the fastest, deterministic output.
DEFAULT_STEPS = {"soundstorm": 16, "group": 2, "spans": 8}
DEFAULT_GUIDANCE = {"soundstorm": 1.0, "group": 1.0, "spans": 3.0}
# Sampling temperature of candidate tokens when none is given (the pipeline, CLI and app start from it).
# Measured on the step-1700 checkpoint, group@2, 10 held-out sentences: WER 1.01 at 1.0, 0.86 at
# 0.7, 0.86 at 0.5, 0.78 at 0.3, 0.76 greedy; on the shipped step-4000 one: 1.57 at 0.7 (Whisper inserts
# words into the noisier speech), 0.64 at 0.3, 0.59 greedy. 0.3 keeps the seed meaningful near the greedy WER.
DEFAULT_TEMPERATURE = 0.3


def pad_turns(items: Sequence[Tensor]) -> tuple[Tensor, Tensor]:
    """Stack per-turn tensors whose last dimension is frames into a zero-padded batch for the decoders.

    Args:
        items: e.g. semantic tokens [T_i] of each turn, or prompt tokens [Q, P_i] of each turn's speaker.

    Returns:
        The batch [B, ..., max T_i] and the lengths [B].
    """
    if not items:
        raise UserInputError("No turns to generate; write at least one line of dialogue.")
    lengths = torch.tensor([x.shape[-1] for x in items])
    out = torch.zeros(len(items), *items[0].shape[:-1], int(lengths.max()), dtype=torch.long)
    for i, x in enumerate(items):
        out[i, ..., : x.shape[-1]] = x
    return out, lengths


def decode_soundstorm(
    model: AcousticModel,
    semantic: Tensor,
    lengths: Tensor | None = None,
    prompt: Tensor | None = None,
    prompt_lengths: Tensor | None = None,
    *,
    steps: int | Sequence[int] = DEFAULT_STEPS["soundstorm"],
    temperature: float = DEFAULT_TEMPERATURE,
    choice_temperature: float = 4.5,
    guidance: float = DEFAULT_GUIDANCE["soundstorm"],
    seed: int = 0,
    callback: Callback | None = None,
    keep_trace: bool = True,
) -> DecodeResult:
    """SoundStorm: level by level (in the layout's order), confidence-based MaskGIT with a cosine schedule.

    Args:
        model: the acoustic model.
        semantic: [B, T] (or [B, T, F]) semantic ids of B turns, padded to T frames.
        lengths: [B] frames of each turn (None: all T).
        prompt: [B, Q, P] (or [Q, P], shared) prompt codec tokens, or None.
        prompt_lengths: [B] valid prompt frames (None: all P).
        steps: iterations per level; an int n means (n, 1, ..., 1). Single-step levels are greedy.
        temperature: sampling temperature of candidate tokens (0 = greedy).
        choice_temperature: Gumbel noise on the confidence when choosing what to fix, annealed to 0.
        guidance: classifier-free guidance weight, annealed linearly to 1 (1 = off).
        seed: random seed; the same seed gives the same tokens.
        callback: called as callback(iteration, total) after each iteration.
        keep_trace: record every iteration (set False to save memory).

    Returns:
        Tokens [B, Q, T] (UNKNOWN on padded frames) and the trace.
    """
    return run_stages(
        model,
        semantic,
        lengths,
        prompt,
        prompt_lengths,
        plan_soundstorm(model.config.layout, steps),
        method="soundstorm",
        temperature=temperature,
        choice_temperature=choice_temperature,
        guidance=guidance,
        seed=seed,
        callback=callback,
        keep_trace=keep_trace,
    )


def decode_group(
    model: AcousticModel,
    semantic: Tensor,
    lengths: Tensor | None = None,
    prompt: Tensor | None = None,
    prompt_lengths: Tensor | None = None,
    *,
    steps: int | Sequence[int] = DEFAULT_STEPS["group"],
    temperature: float = DEFAULT_TEMPERATURE,
    choice_temperature: float = 4.5,
    guidance: float = DEFAULT_GUIDANCE["group"],
    seed: int = 0,
    callback: Callback | None = None,
    keep_trace: bool = True,
) -> DecodeResult:
    """G-IPD: group by group, the coarse level over `steps` iterations, then the finer levels in one pass.

    Each group is conditioned on every group decoded before it, as Group-MLM trains it. `steps` is one
    int (the same for every group's coarse level) or one int per group. The default, 2, gives 5 forward
    passes on the pitch | spectrum codec: measured here (bench/acoustic_speed.py), that is what beats the
    delay-pattern baseline by more than 3x on 30 s; 4 per group (9 passes) was about 2.2x. Other arguments
    as `decode_soundstorm`.
    """
    return run_stages(
        model,
        semantic,
        lengths,
        prompt,
        prompt_lengths,
        plan_group(model.config.layout, steps),
        method="group",
        temperature=temperature,
        choice_temperature=choice_temperature,
        guidance=guidance,
        seed=seed,
        callback=callback,
        keep_trace=keep_trace,
    )


def decode_spans(
    model: AcousticModel,
    semantic: Tensor,
    lengths: Tensor | None = None,
    prompt: Tensor | None = None,
    prompt_lengths: Tensor | None = None,
    *,
    steps: int | Sequence[int] = DEFAULT_STEPS["spans"],
    temperature: float = DEFAULT_TEMPERATURE,
    choice_temperature: float = 4.5,
    guidance: float = DEFAULT_GUIDANCE["spans"],
    seed: int = 0,
    callback: Callback | None = None,
    keep_trace: bool = True,
    span: int = 3,
) -> DecodeResult:
    """MAGNeT: level by level, fixing the most confident spans of `span` frames; CFG annealed to 1.

    A span's confidence is that of its least confident token. Other arguments as `decode_soundstorm`.
    """
    return run_stages(
        model,
        semantic,
        lengths,
        prompt,
        prompt_lengths,
        plan_spans(model.config.layout, steps, span),
        method="spans",
        temperature=temperature,
        choice_temperature=choice_temperature,
        guidance=guidance,
        seed=seed,
        callback=callback,
        keep_trace=keep_trace,
    )


DECODERS: dict[str, Callable[..., DecodeResult]] = {
    "soundstorm": decode_soundstorm,
    "group": decode_group,
    "spans": decode_spans,
}
