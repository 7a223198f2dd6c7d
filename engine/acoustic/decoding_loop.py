"""The iterative decoding loop the parallel decoders share.

A decode is a list of stages; each stage fills some levels over a few iterations. In an iteration the model
predicts every still-masked position of the stage, a candidate token is drawn, and the most confident
candidates (tokens, or spans of frames for MAGNeT) are fixed so that the masked count follows the cosine
schedule. Fixed tokens are never re-masked; padded frames are never generated. Every iteration is recorded in
the trace.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from engine.acoustic.decoding_stages import Stage
from engine.acoustic.model import AcousticModel
from engine.acoustic.trace import UNKNOWN, DecodeResult, DecodeTrace, TraceStep
from engine.errors import UserInputError

Callback = Callable[[int, int], None]


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
