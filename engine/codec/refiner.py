"""A small learned decoder that refines dequantized WORLD frames from their neighbours' codes.

A k-means code alone decodes to the mean of its cell; the frames around it say where in the cell the true
vector lies. Trained with random per-group truncation (quantizer dropout), so every depth is served.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from engine.codec.group_codec import GroupRVQCodec


@dataclass(frozen=True)
class RefinerConfig:
    """Width and temporal reach of the refiner, and how it is trained."""

    hidden: int = 256
    kernel: int = 5  # first layer sees t-2..t+2
    layers: int = 3
    steps: int = 3000
    batch: int = 32
    crop: int = 96
    lr: float = 2e-3
    seed: int = 0


class ContextRefiner(nn.Module):
    """Residual 1-D conv net over frames: input the dequantized vectors plus each group's depth in use."""

    def __init__(self, dim: int, n_groups: int, cfg: RefinerConfig):
        super().__init__()
        self.cfg, self.dim, self.n_groups = cfg, dim, n_groups
        layers: list[nn.Module] = [nn.Conv1d(dim + n_groups, cfg.hidden, cfg.kernel, padding=cfg.kernel // 2)]
        for _ in range(cfg.layers - 2):
            layers += [nn.GELU(), nn.Conv1d(cfg.hidden, cfg.hidden, 3, padding=1)]
        layers += [nn.GELU(), nn.Conv1d(cfg.hidden, dim, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
        """Refined vectors [B, T, dim] from dequantized z [B, T, dim] and depth fractions [B, n_groups]."""
        cond = depth[:, :, None].expand(-1, -1, z.shape[1])
        x = torch.cat([z.transpose(1, 2), cond], dim=1)
        return z + self.net(x).transpose(1, 2)


def train_refiner(
    codec: GroupRVQCodec,
    target: torch.Tensor,
    codes: torch.Tensor,
    cfg: RefinerConfig,
    log: Callable[[str], None] | None = None,
) -> ContextRefiner:
    """Fit a refiner for `codec` on normalized training frames.

    Args:
        codec: the fitted codec whose dequantized vectors are refined.
        target: [N, dim] normalized true vectors, utterances concatenated.
        codes: [n_q, N] codes of target.
        cfg: refiner settings.
        log: optional progress sink.

    Returns:
        The trained refiner (eval mode).
    """
    depths = [len(g) for g in codec.groups]
    gen = torch.Generator().manual_seed(cfg.seed)
    model = ContextRefiner(target.shape[1], len(depths), cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=cfg.steps, pct_start=0.05)
    n = target.shape[0] - cfg.crop
    running = None
    for step in range(cfg.steps):
        starts = torch.randint(0, n, (cfg.batch,), generator=gen)
        idx = (starts[:, None] + torch.arange(cfg.crop)[None]).reshape(-1)
        # Quantizer dropout: each batch decodes every group at a random depth, the first level most often.
        levels = [_draw_depth(d, gen) for d in depths]
        z = codec.dequantize_normalized(codes[:, idx], levels).reshape(cfg.batch, cfg.crop, -1)
        depth = torch.tensor([lv / d for lv, d in zip(levels, depths)]).expand(cfg.batch, -1)
        pred = model(z, depth)
        loss = (pred - target[idx].reshape(cfg.batch, cfg.crop, -1)).pow(2).sum(-1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        if log is not None and (step % 250 == 0 or step == cfg.steps - 1):
            log(f"  refiner step {step + 1}/{cfg.steps}: loss {running:.4f} (levels {levels})")
    return model.eval()


def _draw_depth(depth: int, gen: torch.Generator) -> int:
    if depth == 1:
        return 1
    if torch.rand(1, generator=gen).item() < 0.4:
        return 1
    return int(torch.randint(1, depth + 1, (1,), generator=gen))
