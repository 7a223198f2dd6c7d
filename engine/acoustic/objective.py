"""Masked-token prediction loss of the acoustic model, with per-level counts for logging."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from engine.acoustic.masking import TrainingMask, apply_mask
from engine.acoustic.model import AcousticModel


@dataclass
class LossOutput:
    """Attributes:
    loss: mean cross-entropy over all scored tokens of the batch.
    level_loss_sum, level_correct, level_count: [Q] per-level sums (for loss/accuracy per level).
    """

    loss: Tensor
    level_loss_sum: Tensor
    level_correct: Tensor
    level_count: Tensor


def masked_prediction_loss(
    model: AcousticModel,
    tokens: Tensor,
    semantic: Tensor,
    frame_mask: Tensor,
    prompt: Tensor | None,
    prompt_mask: Tensor | None,
    mask: TrainingMask,
) -> LossOutput:
    """Cross-entropy of the model on the scored positions of `mask`.

    Args:
        model: the acoustic model.
        tokens: [B, Q, T] true codec tokens.
        semantic: [B, T] or [B, T, F] semantic ids.
        frame_mask: [B, T] True on real frames.
        prompt, prompt_mask: prompt tokens [B, Q, P] and valid prompt frames [B, P].
        mask: from one of the masking schemes.

    Returns:
        The loss and per-level statistics.
    """
    q_levels = tokens.shape[1]
    inputs = apply_mask(tokens, mask.masked, model.mask_ids)
    memory = model.encode_prompt(prompt, prompt_mask, drop=mask.drop_condition, batch_size=tokens.shape[0])
    scored = [q for q in range(q_levels) if bool(mask.loss[:, q].any())]
    hidden = model.hidden(inputs, semantic, memory, frame_mask, drop_condition=mask.drop_condition)
    loss_sum = torch.zeros(q_levels)
    correct = torch.zeros(q_levels)
    count = torch.zeros(q_levels)
    total = tokens.new_zeros((), dtype=torch.float32)
    for q in scored:
        sel = mask.loss[:, q]
        # Heads run only on the scored positions: a 4096-way head over every frame costs more than the trunk.
        lg = model.level_logits(hidden[sel], q)
        target = tokens[:, q][sel]
        ce = F.cross_entropy(lg, target, reduction="sum")
        total = total + ce
        loss_sum[q] = ce.detach()
        correct[q] = (lg.argmax(-1) == target).sum()
        count[q] = sel.sum()
    loss = total / count.sum().clamp(min=1)
    return LossOutput(loss, loss_sum, correct, count)
