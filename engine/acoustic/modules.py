"""Building blocks shared by the parallel model and the autoregressive baselines: rotary attention, Conformer."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def rotary_tables(positions: Tensor, head_dim: int, base: float = 10000.0) -> tuple[Tensor, Tensor]:
    """cos/sin tables [S, head_dim] for rotary position embeddings at integer `positions` [S]."""
    inv = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    ang = positions.to(torch.float32)[:, None] * inv[None, :]
    ang = torch.cat([ang, ang], dim=-1)
    return ang.cos(), ang.sin()


def apply_rotary(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """Rotate x [B, H, S, D] by the tables [S, D] (rotate-half convention)."""
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rotated * sin


def key_padding_bias(key_mask: Tensor | None) -> Tensor | None:
    """Boolean attention mask [B, 1, 1, S] (True = attend) from a key mask [B, S]; None when nothing is padded."""
    if key_mask is None or bool(key_mask.all()):
        return None
    return key_mask[:, None, None, :]


def local_attention(
    q: Tensor, k: Tensor, v: Tensor, window: int, key_valid: Tensor | None, dropout_p: float = 0.0
) -> Tensor:
    """Block-local attention: the frames of each block of `window` attend to their own and both neighbouring
    blocks (at least `window` frames of context each side), at O(S * 3 * window) instead of O(S^2).

    Args:
        q, k, v: [B, H, S, D].
        window: block length in frames.
        key_valid: [B, S] True on real frames (None: all real).
        dropout_p: attention dropout (training only).

    Returns:
        [B, H, S, D].
    """
    b, h, s, d = q.shape
    n = math.ceil(s / window)
    pad = n * window - s
    qb = F.pad(q, (0, 0, 0, pad)).view(b, h, n, window, d)
    kb = F.pad(k, (0, 0, window, pad + window)).unfold(2, 3 * window, window).transpose(-1, -2)
    vb = F.pad(v, (0, 0, window, pad + window)).unfold(2, 3 * window, window).transpose(-1, -2)
    valid = torch.ones(b, s, dtype=torch.bool) if key_valid is None else key_valid
    valid = F.pad(valid, (window, pad + window), value=False).unfold(1, 3 * window, window)  # [B, n, 3w]
    # Every frame may attend to itself, so a block of padding never sees only masked keys (NaN).
    own = torch.zeros(window, 3 * window, dtype=torch.bool)
    own[torch.arange(window), window + torch.arange(window)] = True
    y = F.scaled_dot_product_attention(
        qb, kb, vb, attn_mask=valid[:, None, :, None, :] | own, dropout_p=dropout_p
    )
    return y.reshape(b, h, n * window, d)[:, :, :s]


class KVCache:
    """Preallocated keys/values of one attention layer for step-by-step causal decoding."""

    def __init__(self, batch: int, heads: int, max_len: int, head_dim: int) -> None:
        self.k = torch.zeros(batch, heads, max_len, head_dim)
        self.v = torch.zeros(batch, heads, max_len, head_dim)
        self.length = 0

    def append(self, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        s = k.shape[2]
        self.k[:, :, self.length : self.length + s] = k
        self.v[:, :, self.length : self.length + s] = v
        self.length += s
        return self.k[:, :, : self.length], self.v[:, :, : self.length]


class SelfAttention(nn.Module):
    """Multi-head self-attention with rotary positions, key padding, optional causality and KV cache."""

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0, window: int = 0) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model {d_model} is not divisible by n_heads {n_heads}")
        self.n_heads, self.head_dim = n_heads, d_model // n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.dropout = dropout
        self.window = window

    def forward(
        self,
        x: Tensor,
        rope: tuple[Tensor, Tensor],
        attn_mask: Tensor | None = None,
        causal: bool = False,
        cache: KVCache | None = None,
    ) -> Tensor:
        b, s, d = x.shape
        q, k, v = self.qkv(x).view(b, s, 3, self.n_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k = apply_rotary(q, *rope), apply_rotary(k, *rope)
        if cache is not None:
            k, v = cache.append(k, v)
            # A single new query attends to everything cached; a multi-token prefill still needs causality.
            causal = causal and s > 1
        drop = self.dropout if self.training else 0.0
        if self.window and not causal and cache is None and s > 3 * self.window:
            key_valid = None if attn_mask is None else attn_mask[:, 0, 0, :]
            y = local_attention(q, k, v, self.window, key_valid, drop)
        else:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=drop, is_causal=causal)
        return self.out(y.transpose(1, 2).reshape(b, s, d))


class CrossAttention(nn.Module):
    """Attention from frames to a memory whose keys/values are projected once and reused (see `project`)."""

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.n_heads, self.head_dim = n_heads, d_model // n_heads
        self.q = nn.Linear(d_model, d_model)
        self.kv = nn.Linear(d_model, 2 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.dropout = dropout

    def project(self, memory: Tensor) -> tuple[Tensor, Tensor]:
        """Keys and values [B, H, M, D] of a memory [B, M, d_model]; computed once per generation."""
        b, m, _ = memory.shape
        k, v = self.kv(memory).view(b, m, 2, self.n_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        return k, v

    def forward(self, x: Tensor, kv: tuple[Tensor, Tensor], attn_mask: Tensor | None) -> Tensor:
        b, s, d = x.shape
        q = self.q(x).view(b, s, self.n_heads, self.head_dim).transpose(1, 2)
        drop = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, kv[0], kv[1], attn_mask=attn_mask, dropout_p=drop)
        return self.out(y.transpose(1, 2).reshape(b, s, d))


class FeedForward(nn.Module):
    def __init__(self, d_model: int, mult: int, dropout: float) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.LayerNorm(d_model),
            nn.Linear(d_model, mult * d_model),
            nn.SiLU(),
            nn.Dropout(dropout),
            nn.Linear(mult * d_model, d_model),
            nn.Dropout(dropout),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class ConvModule(nn.Module):
    """Conformer convolution: pointwise GLU, depthwise conv over time, norm, pointwise; padding kept at zero."""

    def __init__(self, d_model: int, kernel_size: int, dropout: float) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.pw_in = nn.Linear(d_model, 2 * d_model)
        self.dw = nn.Conv1d(d_model, d_model, kernel_size, padding=kernel_size // 2, groups=d_model)
        # LayerNorm, not BatchNorm: batch statistics would mix padded frames of other turns into each turn.
        self.dw_norm = nn.LayerNorm(d_model)
        self.pw_out = nn.Linear(d_model, d_model)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor, frame_mask: Tensor | None) -> Tensor:
        y = F.glu(self.pw_in(self.norm(x)), dim=-1)
        if frame_mask is not None:
            # Padded frames must not leak into their valid neighbours through the kernel.
            y = y * frame_mask[..., None]
        y = self.dw(y.transpose(1, 2)).transpose(1, 2)
        y = self.pw_out(F.silu(self.dw_norm(y)))
        return self.drop(y)


class ConformerBlock(nn.Module):
    """Half FFN, rotary self-attention, cross-attention to the prompt, convolution, half FFN (Conformer order)."""

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        ff_mult: int,
        kernel_size: int,
        dropout: float,
        cross: bool,
        window: int = 0,
    ) -> None:
        super().__init__()
        self.ff1 = FeedForward(d_model, ff_mult, dropout)
        self.attn_norm = nn.LayerNorm(d_model)
        self.attn = SelfAttention(d_model, n_heads, dropout, window)
        self.cross_norm = nn.LayerNorm(d_model) if cross else None
        self.cross = CrossAttention(d_model, n_heads, dropout) if cross else None
        self.conv = ConvModule(d_model, kernel_size, dropout) if kernel_size > 0 else None
        self.ff2 = FeedForward(d_model, ff_mult, dropout)
        self.out_norm = nn.LayerNorm(d_model)
        self.drop = nn.Dropout(dropout)

    def forward(
        self,
        x: Tensor,
        rope: tuple[Tensor, Tensor],
        attn_mask: Tensor | None,
        frame_mask: Tensor | None,
        memory_kv: tuple[Tensor, Tensor] | None = None,
        memory_mask: Tensor | None = None,
    ) -> Tensor:
        x = x + 0.5 * self.ff1(x)
        x = x + self.drop(self.attn(self.attn_norm(x), rope, attn_mask))
        if self.cross is not None and memory_kv is not None:
            x = x + self.drop(self.cross(self.cross_norm(x), memory_kv, memory_mask))
        if self.conv is not None:
            x = x + self.conv(x, frame_mask)
        x = x + 0.5 * self.ff2(x)
        return self.out_norm(x)


class TransformerBlock(nn.Module):
    """Pre-norm Transformer block (self-attention, optional cross-attention, FFN) with an optional KV cache."""

    def __init__(self, d_model: int, n_heads: int, ff_mult: int, dropout: float, cross: bool) -> None:
        super().__init__()
        self.attn_norm = nn.LayerNorm(d_model)
        self.attn = SelfAttention(d_model, n_heads, dropout)
        self.cross_norm = nn.LayerNorm(d_model) if cross else None
        self.cross = CrossAttention(d_model, n_heads, dropout) if cross else None
        self.ff = FeedForward(d_model, ff_mult, dropout)
        self.drop = nn.Dropout(dropout)

    def forward(
        self,
        x: Tensor,
        rope: tuple[Tensor, Tensor],
        attn_mask: Tensor | None = None,
        causal: bool = False,
        cache: KVCache | None = None,
        memory_kv: tuple[Tensor, Tensor] | None = None,
        memory_mask: Tensor | None = None,
    ) -> Tensor:
        x = x + self.drop(self.attn(self.attn_norm(x), rope, attn_mask, causal, cache))
        if self.cross is not None and memory_kv is not None:
            x = x + self.drop(self.cross(self.cross_norm(x), memory_kv, memory_mask))
        return x + self.ff(x)


def init_weights(module: nn.Module) -> None:
    """Small normal init for linear and embedding weights (std 0.02), as in GPT-style models."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
            if isinstance(m, nn.Linear) and m.bias is not None:
                nn.init.zeros_(m.bias)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def cosine_mask_fraction(u: Tensor) -> Tensor:
    """MaskGIT's cosine schedule: fraction of tokens masked at progress u in [0, 1] (1 at u=0, 0 at u=1)."""
    return torch.cos(u * math.pi / 2)
