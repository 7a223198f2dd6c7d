"""Autoregressive baselines of the same width and depth, used only to measure what parallel decoding saves.

- flattened: one token per step over the T*Q grid, frame by frame, levels inside a frame (AudioLM's
  acoustic stages); T*Q steps.
- delay: MusicGen's delay pattern; level j is shifted by j frames so one step predicts every level;
  T + Q - 1 steps (MAGNeT's baseline).
Both are causal Transformers with a KV cache, conditioned like the parallel model: semantic tokens summed into
the input and the voice prompt encoded once and cross-attended.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from engine.acoustic.layout import TokenLayout
from engine.acoustic.modules import (
    KVCache,
    TransformerBlock,
    count_parameters,
    init_weights,
    key_padding_bias,
    rotary_tables,
)
from engine.acoustic.trace import UNKNOWN
from engine.errors import UserInputError

PATTERNS = ("flattened", "delay")


@dataclass(frozen=True)
class ARConfig:
    """Size and pattern of an autoregressive baseline (ff_mult 4 gives about the parameters of a Conformer
    block with ff_mult 2 at the same width)."""

    codebook_sizes: tuple[int, ...]
    groups: tuple[tuple[int, ...], ...]
    semantic_vocab: tuple[int, ...]
    pattern: str = "delay"
    d_model: int = 256
    n_layers: int = 6
    n_heads: int = 4
    ff_mult: int = 4
    dropout: float = 0.1
    prompt_layers: int = 2
    max_prompt_frames: int = 500

    def __post_init__(self) -> None:
        object.__setattr__(self, "codebook_sizes", tuple(self.codebook_sizes))
        object.__setattr__(self, "groups", tuple(tuple(g) for g in self.groups))
        object.__setattr__(self, "semantic_vocab", tuple(self.semantic_vocab))
        if self.pattern not in PATTERNS:
            raise UserInputError(f"pattern {self.pattern!r} is unknown; use one of {PATTERNS}.")

    @property
    def layout(self) -> TokenLayout:
        return TokenLayout(self.codebook_sizes, self.groups)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ARResult:
    """Attributes: tokens [B, Q, T] (UNKNOWN on padding), steps (model calls), seconds, seconds per step."""

    tokens: Tensor
    steps: int
    seconds: float

    @property
    def seconds_per_step(self) -> float:
        return self.seconds / max(self.steps, 1)


class ARBaseline(nn.Module):
    """Causal Transformer over a flattened or delayed token sequence."""

    def __init__(self, config: ARConfig) -> None:
        super().__init__()
        self.config = config
        d = config.d_model
        self.order = config.layout.level_order
        # Extra row per level: the start / delay-padding token.
        self.level_emb = nn.ModuleList(nn.Embedding(k + 1, d) for k in config.codebook_sizes)
        self.semantic_emb = nn.ModuleList(nn.Embedding(v + 1, d) for v in config.semantic_vocab)
        self.next_level_emb = nn.Embedding(len(config.codebook_sizes), d)
        self.prompt_blocks = nn.ModuleList(
            TransformerBlock(d, config.n_heads, config.ff_mult, config.dropout, cross=False)
            for _ in range(config.prompt_layers)
        )
        self.prompt_norm = nn.LayerNorm(d)
        self.null_memory = nn.Parameter(torch.zeros(1, 1, d))
        self.blocks = nn.ModuleList(
            TransformerBlock(d, config.n_heads, config.ff_mult, config.dropout, cross=True)
            for _ in range(config.n_layers)
        )
        self.out_norm = nn.LayerNorm(d)
        self.heads = nn.ModuleList(nn.Linear(d, k) for k in config.codebook_sizes)
        init_weights(self)

    def num_parameters(self) -> int:
        return count_parameters(self)

    def _semantic(self, semantic: Tensor) -> Tensor:
        if semantic.dim() == 2:
            semantic = semantic[..., None]
        return sum(emb(semantic[..., f]) for f, emb in enumerate(self.semantic_emb))

    def encode_prompt(self, prompt: Tensor | None, prompt_mask: Tensor | None, batch: int):
        """Cross-attention keys/values of every block and the memory mask; computed once per generation."""
        d = self.config.d_model
        if prompt is None:
            prompt = torch.zeros(batch, len(self.level_emb), 0, dtype=torch.long)
        prompt = prompt[..., : self.config.max_prompt_frames]
        p = prompt.shape[2]
        valid = torch.ones(batch, p, dtype=torch.bool) if prompt_mask is None else prompt_mask[:, :p].bool()
        x = sum(emb(prompt[:, q]) for q, emb in enumerate(self.level_emb)) if p else torch.zeros(batch, 0, d)
        if p:
            rope = rotary_tables(torch.arange(p), d // self.config.n_heads)
            for blk in self.prompt_blocks:
                x = blk(x, rope, key_padding_bias(valid))
            x = self.prompt_norm(x)
        memory = torch.cat([self.null_memory.expand(batch, 1, -1), x], dim=1)
        mask = key_padding_bias(torch.cat([torch.ones(batch, 1, dtype=torch.bool), valid], dim=1))
        return [blk.cross.project(memory) for blk in self.blocks], mask

    # ---- sequence construction -------------------------------------------------------------------------
    def _inputs(self, tokens: Tensor, semantic: Tensor) -> Tensor:
        """Input embeddings of the whole (teacher-forced) sequence [B, S, d]."""
        b, n_q, t = tokens.shape
        sem = self._semantic(semantic)  # [B, T, d]
        if self.config.pattern == "flattened":
            seq = tokens[:, list(self.order)].transpose(1, 2).reshape(b, t * n_q)  # frame-major
            level_of = torch.tensor(self.order).repeat(t)
            prev_level = torch.roll(level_of, 1)
            prev = torch.roll(seq, 1, dims=1)
            x = torch.zeros(b, t * n_q, self.config.d_model)
            for q, emb in enumerate(self.level_emb):
                sel = prev_level == q
                ids = prev[:, sel].clone()
                if q == prev_level[0] and bool(sel[0]):
                    ids[:, 0] = self.config.codebook_sizes[q]  # start token
                x[:, sel] = emb(ids)
            x = x + sem.repeat_interleave(n_q, dim=1) + self.next_level_emb(level_of)[None]
            return x
        s = t + n_q - 1
        x = sem[:, torch.arange(s).clamp(max=t - 1)]
        for j, q in enumerate(self.order):
            # Step s reads level q's token of frame s-1-j (the previous step's output of that level).
            frames = torch.arange(s) - 1 - j
            ok = (frames >= 0) & (frames < t)
            ids = torch.full((b, s), self.config.codebook_sizes[q], dtype=torch.long)
            ids[:, ok] = tokens[:, q, frames[ok]]
            x = x + self.level_emb[q](ids)
        return x

    def forward(
        self,
        tokens: Tensor,
        semantic: Tensor,
        prompt: Tensor | None = None,
        prompt_mask: Tensor | None = None,
    ) -> list[Tensor]:
        """Teacher-forced logits per level [B, T, K_q] (no cache), for training and for checking the cache."""
        b, n_q, t = tokens.shape
        kv, mmask = self.encode_prompt(prompt, prompt_mask, b)
        x = self._inputs(tokens, semantic)
        rope = rotary_tables(torch.arange(x.shape[1]), self.config.d_model // self.config.n_heads)
        for i, blk in enumerate(self.blocks):
            x = blk(x, rope, None, True, None, kv[i], mmask)
        h = self.out_norm(x)
        out: list[Tensor] = [None] * n_q  # type: ignore[list-item]
        if self.config.pattern == "flattened":
            h = h.view(b, t, n_q, -1)
            for j, q in enumerate(self.order):
                out[q] = self.heads[q](h[:, :, j])
        else:
            for j, q in enumerate(self.order):
                out[q] = self.heads[q](h[:, j : j + t])
        return out

    def loss(
        self,
        tokens: Tensor,
        semantic: Tensor,
        frame_mask: Tensor,
        prompt: Tensor | None,
        prompt_mask: Tensor | None,
    ) -> Tensor:
        """Mean next-token cross-entropy over real frames."""
        logits = self.forward(tokens, semantic, prompt, prompt_mask)
        total, count = 0.0, frame_mask.sum() * len(logits)
        for q, lg in enumerate(logits):
            total = total + F.cross_entropy(lg[frame_mask], tokens[:, q][frame_mask], reduction="sum")
        return total / count

    # ---- cached generation -----------------------------------------------------------------------------
    def _step(self, x: Tensor, pos: int, caches: list[KVCache], kv, mmask) -> Tensor:
        rope = rotary_tables(torch.tensor([pos]), self.config.d_model // self.config.n_heads)
        for i, blk in enumerate(self.blocks):
            x = blk(x, rope, None, True, caches[i], kv[i], mmask)
        return self.out_norm(x)

    @staticmethod
    def _sample(logits: Tensor, temperature: float, gen: torch.Generator) -> Tensor:
        if temperature <= 0:
            return logits.argmax(-1)
        u = torch.rand(logits.shape, generator=gen).clamp_(1e-20, 1.0)
        return (logits / temperature - torch.log(-torch.log(u))).argmax(-1)

    def generate(
        self,
        semantic: Tensor,
        lengths: Tensor | None = None,
        prompt: Tensor | None = None,
        prompt_lengths: Tensor | None = None,
        *,
        temperature: float = 1.0,
        seed: int = 0,
        callback: Callable[[int, int], None] | None = None,
    ) -> ARResult:
        """Generate tokens step by step with a KV cache.

        Args:
            semantic: [B, T] (or [B, T, F]) semantic ids; lengths [B] real frames (None: all T).
            prompt, prompt_lengths: prompt tokens [B, Q, P] and their valid frames.
            temperature: sampling temperature (0 = greedy).
            seed: random seed.
            callback: called as callback(step, total).

        Returns:
            Tokens, the number of steps and the wall time.
        """
        cfg = self.config
        b, t = semantic.shape[:2]
        n_q = len(cfg.codebook_sizes)
        d, h = cfg.d_model, cfg.n_heads
        gen = torch.Generator().manual_seed(int(seed))
        pmask = None
        if prompt is not None and prompt_lengths is not None:
            pmask = torch.arange(prompt.shape[2])[None] < torch.as_tensor(prompt_lengths)[:, None]
        tokens = torch.full((b, n_q, t), UNKNOWN, dtype=torch.long)
        was_training = self.training
        self.eval()
        t0 = time.perf_counter()
        with torch.inference_mode():
            kv, mmask = self.encode_prompt(prompt, pmask, b)
            sem = self._semantic(semantic)
            total = t * n_q if cfg.pattern == "flattened" else t + n_q - 1
            caches = [KVCache(b, h, total, d // h) for _ in self.blocks]
            if cfg.pattern == "flattened":
                prev_q, prev_tok = self.order[-1], torch.full((b,), cfg.codebook_sizes[self.order[-1]])
                for p in range(total):
                    f, j = divmod(p, n_q)
                    q = self.order[j]
                    x = self.level_emb[prev_q](prev_tok) + sem[:, f] + self.next_level_emb.weight[q]
                    hid = self._step(x[:, None], p, caches, kv, mmask)[:, 0]
                    tok = self._sample(self.heads[q](hid), temperature, gen)
                    tokens[:, q, f] = tok
                    prev_q, prev_tok = q, tok
                    if callback is not None:
                        callback(p + 1, total)
            else:
                for s in range(total):
                    x = sem[:, min(s, t - 1)].clone()
                    for j, q in enumerate(self.order):
                        f = s - 1 - j
                        ids = tokens[:, q, f] if 0 <= f < t else torch.full((b,), cfg.codebook_sizes[q])
                        x = x + self.level_emb[q](ids)
                    hid = self._step(x[:, None], s, caches, kv, mmask)[:, 0]
                    for j, q in enumerate(self.order):
                        f = s - j
                        if 0 <= f < t:
                            tokens[:, q, f] = self._sample(self.heads[q](hid), temperature, gen)
                    if callback is not None:
                        callback(s + 1, total)
        seconds = time.perf_counter() - t0
        self.train(was_training)
        if lengths is not None:
            pad = torch.arange(t)[None] >= torch.as_tensor(lengths)[:, None]
            tokens[pad[:, None, :].expand_as(tokens)] = UNKNOWN
        return ARResult(tokens=tokens, steps=total, seconds=seconds)


def _pattern_generator(pattern: str, summary: str):
    """A generation function for models of one `pattern` only (see `ARBaseline.generate`)."""

    def generate(
        model: ARBaseline,
        semantic: Tensor,
        lengths: Tensor | None = None,
        prompt: Tensor | None = None,
        prompt_lengths: Tensor | None = None,
        **kw,
    ) -> ARResult:
        if model.config.pattern != pattern:
            raise ValueError(f"generate_{pattern} needs a model with pattern={pattern!r}")
        return model.generate(semantic, lengths, prompt, prompt_lengths, **kw)

    generate.__name__ = generate.__qualname__ = f"generate_{pattern}"
    generate.__doc__ = summary + " (see `ARBaseline.generate`)."
    return generate


generate_flattened = _pattern_generator(
    "flattened", "Flattened autoregressive generation: one token per step"
)
generate_delay = _pattern_generator(
    "delay", "Delay-pattern autoregressive generation: all levels per step, one step per frame (+ Q - 1)"
)
