"""Parallel decoders of the acoustic model: SoundStorm MaskGIT, group-wise G-IPD and MAGNeT span decoding.

All three share one signature and one loop. A decode is a list of stages; each stage fills some levels over
a few iterations. In an iteration the model predicts every still-masked position of the stage, a candidate
token is drawn, and the most confident candidates (tokens, or spans of frames for MAGNeT) are fixed so that
the masked count follows the cosine schedule. Fixed tokens are never re-masked; padded frames are never
generated. Every iteration is recorded in the trace.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from engine.acoustic.layout import TokenLayout
from engine.acoustic.model import AcousticModel
from engine.acoustic.trace import UNKNOWN, DecodeResult, DecodeTrace, TraceStep
from engine.errors import UserInputError

Callback = Callable[[int, int], None]

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


def _check_inputs(
    model: AcousticModel,
    semantic: Tensor,
    lengths: Tensor | None,
    prompt: Tensor | None,
    prompt_lengths: Tensor | None,
) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
    cfg = model.config
    if semantic.dim() not in (2, 3) or semantic.shape[1] == 0:
        raise UserInputError(
            f"Semantic tokens have shape {tuple(semantic.shape)}; give [turns, frames] (or [turns, frames, "
            "features]) with at least one frame."
        )
    sem = semantic.long()
    b, t = sem.shape[:2]
    feats = sem if sem.dim() == 3 else sem[..., None]
    vocab = torch.tensor(cfg.semantic_vocab)
    if feats.shape[-1] != len(vocab) or bool((feats < 0).any()) or bool((feats >= vocab).any()):
        raise UserInputError(
            f"Semantic tokens must be ids below {cfg.semantic_vocab} ({len(vocab)} feature(s) per frame); "
            "make them with the same phone set as the checkpoint."
        )
    if lengths is None:
        lengths = torch.full((b,), t, dtype=torch.long)
    lengths = torch.as_tensor(lengths, dtype=torch.long)
    if lengths.shape != (b,) or bool((lengths < 1).any()) or bool((lengths > t).any()):
        raise UserInputError(f"Turn lengths {lengths.tolist()} must be {b} numbers between 1 and {t} frames.")
    prompt_mask = None
    if prompt is not None:
        if prompt.dim() == 2:
            prompt = prompt[None].expand(b, -1, -1)
        sizes = torch.tensor(cfg.codebook_sizes)[None, :, None]
        if (
            prompt.shape[0] != b
            or prompt.shape[1] != cfg.n_q
            or bool((prompt < 0).any())
            or bool((prompt >= sizes).any())
        ):
            raise UserInputError(
                f"The voice prompt's tokens have shape {tuple(prompt.shape)}; encode the prompt with the "
                f"codec this model was trained on ({cfg.n_q} levels, sizes {cfg.codebook_sizes})."
            )
        if prompt_lengths is not None:
            prompt_mask = torch.arange(prompt.shape[2])[None] < torch.as_tensor(prompt_lengths)[:, None]
    return sem, lengths, prompt, prompt_mask


def _guidance_at(guidance: float, done: int, total: int) -> float:
    """CFG weight annealed linearly from `guidance` at the first iteration to 1 at the last one."""
    if guidance <= 1.0 or total <= 1:
        return 1.0
    return 1.0 + (guidance - 1.0) * (1.0 - done / (total - 1))


def run_stages(
    model: AcousticModel,
    semantic: Tensor,
    lengths: Tensor | None,
    prompt: Tensor | None,
    prompt_lengths: Tensor | None,
    stages: list[Stage],
    *,
    method: str,
    temperature: float,
    choice_temperature: float,
    guidance: float,
    seed: int,
    callback: Callback | None,
    keep_trace: bool = True,
) -> DecodeResult:
    """The shared confidence-based iterative decoding loop (see the module docstring)."""
    semantic, lengths, prompt, prompt_mask = _check_inputs(model, semantic, lengths, prompt, prompt_lengths)
    cfg = model.config
    b, t = semantic.shape[:2]
    q_levels = cfg.n_q
    frame_mask = torch.arange(t)[None] < lengths[:, None]
    gen = torch.Generator().manual_seed(int(seed))
    mask_ids = torch.tensor(model.mask_ids)[None, :, None]
    total = sum(s.steps for s in stages)
    trace = DecodeTrace(method=method, lengths=lengths.clone())
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        memory = model.encode_prompt(prompt, prompt_mask, batch_size=b)
        uncond = None
        if guidance > 1.0:
            uncond = model.encode_prompt(None, batch_size=b)
            all_drop = torch.ones(b, dtype=torch.bool)
        tokens = torch.full((b, q_levels, t), UNKNOWN, dtype=torch.long)
        conf = torch.zeros(b, q_levels, t)
        done = 0
        for stage in stages:
            lv = list(stage.levels)
            n_l = len(lv)
            span = stage.span
            n_chunks = math.ceil(t / span)
            # Units (tokens or spans) of this stage that hold at least one real frame, per example.
            chunk_valid = F.pad(frame_mask, (0, n_chunks * span - t)).view(b, n_chunks, span).any(-1)
            unit_valid = chunk_valid[:, None, :].expand(b, n_l, n_chunks).reshape(b, -1)
            n_units = unit_valid.sum(1)
            for i in range(stage.steps):
                t0 = time.perf_counter()
                w = _guidance_at(guidance, done, total)
                inputs = torch.where(tokens < 0, mask_ids.expand(b, -1, t), tokens)
                logits = model(inputs, semantic, memory, frame_mask, levels=lv)
                trace.forward_passes += 1
                if w > 1.0 and uncond is not None:
                    logits_u = model(inputs, semantic, uncond, frame_mask, levels=lv, drop_condition=all_drop)
                    trace.forward_passes += 1
                cand = torch.empty(b, n_l, t, dtype=torch.long)
                cand_conf = torch.empty(b, n_l, t)
                greedy = stage.steps == 1 or temperature <= 0
                for j, q in enumerate(lv):
                    lg = logits[q].float()
                    if w > 1.0 and uncond is not None:
                        lp_c, lp_u = lg.log_softmax(-1), logits_u[q].float().log_softmax(-1)
                        lg = lp_u + w * (lp_c - lp_u)
                    probs = lg.softmax(-1)
                    if greedy:
                        pick = lg.argmax(-1)
                    else:
                        u = torch.rand(lg.shape, generator=gen).clamp_(1e-20, 1.0)
                        pick = (lg / temperature - torch.log(-torch.log(u))).argmax(-1)
                    cand[:, j] = pick
                    cand_conf[:, j] = probs.gather(-1, pick[..., None])[..., 0]
                stage_tokens = tokens[:, lv]
                open_pos = (stage_tokens < 0) & frame_mask[:, None, :]
                # Score every open position; a span is as confident as its least confident open token.
                score = cand_conf.clamp_min(1e-30).log()
                anneal = choice_temperature * (1.0 - (i + 1) / stage.steps)
                if anneal > 0:
                    u = torch.rand(score.shape, generator=gen).clamp_(1e-20, 1.0)
                    score = score - anneal * torch.log(-torch.log(u))
                score = score.masked_fill(~open_pos, float("inf"))
                score = F.pad(score, (0, n_chunks * span - t), value=float("inf"))
                unit_score = score.view(b, n_l, n_chunks, span).amin(-1).reshape(b, -1)
                unit_open = unit_score < float("inf")
                unit_score = unit_score.masked_fill(~unit_open, float("-inf"))
                n_open = unit_open.sum(1)
                if i + 1 == stage.steps:
                    remain = torch.zeros_like(n_open)
                else:
                    frac = math.cos(math.pi / 2 * (i + 1) / stage.steps)
                    remain = torch.floor(n_units.float() * frac).long()
                n_fix = (n_open - remain).clamp(min=1).minimum(n_open)
                order = unit_score.argsort(dim=1, descending=True, stable=True)
                rank = order.argsort(dim=1)
                unit_fix = (rank < n_fix[:, None]) & unit_open
                fix = unit_fix.view(b, n_l, n_chunks, 1).expand(b, n_l, n_chunks, span).reshape(b, n_l, -1)
                fix = fix[..., :t] & open_pos
                tokens[:, lv] = torch.where(fix, cand, stage_tokens)
                stage_conf = conf[:, lv]
                still_open = open_pos & ~fix
                conf[:, lv] = torch.where(fix | still_open, cand_conf, stage_conf)
                done += 1
                if keep_trace:
                    fixed = torch.zeros(b, q_levels, t, dtype=torch.bool)
                    fixed[:, lv] = fix
                    trace.steps.append(
                        TraceStep(
                            stage=stage.name,
                            levels=tuple(lv),
                            iteration=i,
                            fixed=fixed,
                            tokens=tokens.to(torch.int32),
                            confidence=conf.clone(),
                            guidance=w,
                            seconds=time.perf_counter() - t0,
                        )
                    )
                if callback is not None:
                    callback(done, total)
    model.train(was_training)
    return DecodeResult(tokens=tokens, lengths=lengths, trace=trace)


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
