"""Training masks that mirror each decoder: SoundStorm level masking, Group-MLM, MAGNeT span masking.

Every function takes the valid-frame mask [B, T] of a padded batch and returns a `TrainingMask`: which
positions the model sees as masked, which ones carry the loss, and which examples lose their condition
(semantic tokens and prompt) for classifier-free guidance. Padded frames are always masked and never in
the loss.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from engine.acoustic.layout import TokenLayout
from engine.acoustic.modules import cosine_mask_fraction
from engine.errors import UserInputError

SCHEMES = ("soundstorm", "group", "spans")


@dataclass
class TrainingMask:
    """Attributes:
    masked: [B, Q, T] True where the input holds the mask token.
    loss: [B, Q, T] True where the prediction is scored (a subset of `masked`, never a padded frame).
    drop_condition: [B] True where the semantic tokens and the prompt are replaced by the null condition.
    """

    masked: Tensor
    loss: Tensor
    drop_condition: Tensor


def apply_mask(tokens: Tensor, masked: Tensor, mask_ids: tuple[int, ...]) -> Tensor:
    """Replace masked positions of tokens [B, Q, T] by each level's mask id."""
    ids = torch.tensor(mask_ids, dtype=tokens.dtype)[None, :, None].expand_as(tokens)
    return torch.where(masked, ids, tokens)


def random_subset(valid: Tensor, count: Tensor, generator: torch.Generator) -> Tensor:
    """Pick `count[b]` random True entries of each row of valid [B, N] (all of them if fewer)."""
    scores = torch.rand(valid.shape, generator=generator)
    scores = scores.masked_fill(~valid, 2.0)
    rank = scores.argsort(dim=1).argsort(dim=1)
    return (rank < count[:, None]) & valid


def cosine_positions(frame_mask: Tensor, generator: torch.Generator) -> Tensor:
    """Per example, a random subset of valid frames whose size follows the cosine schedule (at least one)."""
    lengths = frame_mask.sum(dim=1)
    frac = cosine_mask_fraction(torch.rand(frame_mask.shape[0], generator=generator))
    count = torch.ceil(frac * lengths).long().clamp(min=1)
    return random_subset(frame_mask, count, generator)


def span_positions(frame_mask: Tensor, span: int, generator: torch.Generator) -> Tensor:
    """Per example, the union of random spans of `span` frames covering about a cosine-drawn mask rate.

    The span count n solves 1 - (1 - span/L)^n = rate, the expected coverage of n uniformly placed spans
    (MAGNeT draws its span count the same way).
    """
    b, t = frame_mask.shape
    lengths = frame_mask.sum(dim=1)
    rate = cosine_mask_fraction(torch.rand(b, generator=generator)).clamp(max=0.999)
    out = torch.zeros(b, t, dtype=torch.bool)
    for i in range(b):
        length = int(lengths[i])
        if length <= span:
            out[i, :length] = True
            continue
        p = span / length
        n = max(1, math.ceil(math.log(1 - float(rate[i])) / math.log(1 - p)))
        starts_valid = torch.zeros(1, t, dtype=torch.bool)
        starts_valid[0, : length - span + 1] = True
        starts = random_subset(starts_valid, torch.tensor([n]), generator)[0]
        # Dilate each start over the next `span - 1` frames.
        spans = torch.zeros(t + span, dtype=torch.bool)
        for k in range(span):
            spans[k : k + t] |= starts
        out[i] = spans[:t]
    return out & frame_mask


def _drop(b: int, prob: float, generator: torch.Generator) -> Tensor:
    if prob <= 0:
        return torch.zeros(b, dtype=torch.bool)
    return torch.rand(b, generator=generator) < prob


def _level_stage_mask(
    frame_mask: Tensor,
    layout: TokenLayout,
    positions: Tensor,
    generator: torch.Generator,
    level_weights: Sequence[float] | None = None,
) -> tuple[Tensor, Tensor]:
    """Pick one level per example (decoding order; `level_weights` per rank in that order, None: uniform);
    mask `positions` at it, mask every later level fully."""
    b, t = frame_mask.shape
    order = layout.level_order
    if level_weights is None:
        pick = torch.randint(0, layout.n_q, (b,), generator=generator)
    else:
        if len(level_weights) != layout.n_q or min(level_weights) < 0 or sum(level_weights) <= 0:
            raise UserInputError(
                f"Level weights {tuple(level_weights)} must be {layout.n_q} non-negative numbers, not all 0."
            )
        weights = torch.tensor(level_weights, dtype=torch.float)
        pick = torch.multinomial(weights, b, replacement=True, generator=generator)
    masked = torch.zeros(b, layout.n_q, t, dtype=torch.bool)
    loss = torch.zeros_like(masked)
    for rank, level in enumerate(order):
        later = (rank > pick)[:, None]
        here = (rank == pick)[:, None]
        masked[:, level] = (later & torch.ones(b, t, dtype=torch.bool)) | (here & positions)
        loss[:, level] = here & positions & frame_mask
    return masked | ~frame_mask[:, None, :], loss


def soundstorm_mask(
    frame_mask: Tensor,
    layout: TokenLayout,
    generator: torch.Generator,
    drop_prob: float = 0.0,
    level_weights: Sequence[float] | None = None,
) -> TrainingMask:
    """SoundStorm: level q per example; cosine-masked tokens at q, levels after q masked, levels before given.

    Args:
        frame_mask: [B, T] True on real frames.
        layout: the codec's token layout (levels are taken in `layout.level_order`).
        generator: seeded random source.
        drop_prob: probability of dropping the condition of an example.
        level_weights: how often each level (rank in decoding order) is the one trained; None: uniform.

    Returns:
        The mask; loss only on the masked tokens of level q.
    """
    positions = cosine_positions(frame_mask, generator)
    masked, loss = _level_stage_mask(frame_mask, layout, positions, generator, level_weights)
    return TrainingMask(masked, loss, _drop(frame_mask.shape[0], drop_prob, generator))


def span_mask(
    frame_mask: Tensor,
    layout: TokenLayout,
    generator: torch.Generator,
    span: int = 3,
    drop_prob: float = 0.1,
    level_weights: Sequence[float] | None = None,
) -> TrainingMask:
    """MAGNeT: like SoundStorm but level q is masked in spans of `span` frames; condition dropout for CFG.

    Args:
        frame_mask: [B, T] True on real frames.
        layout: the codec's token layout.
        generator: seeded random source.
        span: span length in frames.
        drop_prob: probability of dropping semantic tokens and prompt (trains the unconditional model).
        level_weights: how often each level (rank in decoding order) is the one trained; None: uniform.

    Returns:
        The mask; loss only on the masked tokens of level q.
    """
    positions = span_positions(frame_mask, span, generator)
    masked, loss = _level_stage_mask(frame_mask, layout, positions, generator, level_weights)
    return TrainingMask(masked, loss, _drop(frame_mask.shape[0], drop_prob, generator))


def group_mask(
    frame_mask: Tensor,
    layout: TokenLayout,
    generator: torch.Generator,
    fine_prob: float = 0.5,
    drop_prob: float = 0.0,
) -> TrainingMask:
    """Group-MLM, mirroring G-IPD: pick a group g; earlier groups given, later groups masked.

    Inside g, either its coarse level is cosine-masked (its finer levels masked, loss on the masked coarse
    tokens), or (with `fine_prob`, when g has finer levels) its coarse level is given and all its finer
    levels are masked and scored together, as G-IPD predicts them in one pass.

    Args:
        frame_mask: [B, T] True on real frames.
        layout: the codec's token layout.
        generator: seeded random source.
        fine_prob: probability of the fine-levels stage for a group with more than one level.
        drop_prob: probability of dropping the condition of an example.

    Returns:
        The mask.
    """
    b, t = frame_mask.shape
    n_groups = len(layout.groups)
    pick = torch.randint(0, n_groups, (b,), generator=generator)
    fine = torch.rand(b, generator=generator) < fine_prob
    coarse_pos = cosine_positions(frame_mask, generator)
    masked = torch.zeros(b, layout.n_q, t, dtype=torch.bool)
    loss = torch.zeros_like(masked)
    all_frames = torch.ones(b, t, dtype=torch.bool)
    for gi, group in enumerate(layout.groups):
        later = (gi > pick)[:, None]
        here = (gi == pick)[:, None]
        here_fine = here & (fine[:, None] if len(group) > 1 else torch.zeros(b, 1, dtype=torch.bool))
        here_coarse = here & ~here_fine
        coarse, finer = group[0], group[1:]
        masked[:, coarse] = (later & all_frames) | (here_coarse & coarse_pos)
        loss[:, coarse] = here_coarse & coarse_pos & frame_mask
        for level in finer:
            masked[:, level] = (later | here) & all_frames
            loss[:, level] = here_fine & frame_mask
    masked |= ~frame_mask[:, None, :]
    return TrainingMask(masked, loss, _drop(b, drop_prob, generator))


def make_mask(
    scheme: str,
    frame_mask: Tensor,
    layout: TokenLayout,
    generator: torch.Generator,
    drop_prob: float = 0.1,
    span: int = 3,
    level_weights: Sequence[float] | None = None,
) -> TrainingMask:
    """Dispatch to one scheme by name ("soundstorm", "group", "spans"); `level_weights` apply to the level
    picked by the two level-by-level schemes."""
    if scheme == "soundstorm":
        return soundstorm_mask(frame_mask, layout, generator, drop_prob=0.0, level_weights=level_weights)
    if scheme == "group":
        return group_mask(frame_mask, layout, generator, drop_prob=0.0)
    if scheme == "spans":
        return span_mask(
            frame_mask, layout, generator, span=span, drop_prob=drop_prob, level_weights=level_weights
        )
    raise ValueError(f"unknown masking scheme {scheme!r}; use one of {SCHEMES}")
