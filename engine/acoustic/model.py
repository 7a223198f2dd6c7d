"""The parallel acoustic generator: a bidirectional Conformer that fills in masked codec tokens.

Per frame the embeddings of the Q codec levels are summed with the semantic embedding; one head per level.
The voice prompt is encoded once per generation (`encode_prompt`) and attended by cross-attention in every
block; its keys/values are projected once and reused by every decoding iteration. Prefix prompting (the
prompt's tokens placed before the target frames) is the alternative `prompt_mode="prefix"`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from engine.acoustic.layout import TokenLayout
from engine.acoustic.modules import (
    ConformerBlock,
    TransformerBlock,
    count_parameters,
    init_weights,
    key_padding_bias,
    rotary_tables,
)
from engine.errors import UserInputError

PROMPT_MODES = ("cross", "prefix")


@dataclass(frozen=True)
class AcousticConfig:
    """Everything needed to rebuild the model; saved inside every checkpoint.

    Attributes:
        codebook_sizes, groups: the codec's token layout (see TokenLayout).
        semantic_vocab: vocabulary size of each semantic feature per frame (phone id, then e.g. position in phone).
        d_model, n_layers, n_heads, ff_mult, conv_kernel, dropout: Conformer size (conv_kernel 0 = Transformer).
        prompt_mode: "cross" (prompt encoded once, cross-attended) or "prefix" (prompt frames before targets).
        prompt_layers: Transformer layers of the prompt encoder (cross mode).
        max_prompt_frames: longer prompts are cut to this many frames.
        attention_window: 0 = full self-attention; w > 0 = block-local attention (blocks of w frames see
            their neighbours) once a sequence is longer than 3 w frames, so long turns cost O(T w), not O(T^2).
        codebook_dims: per level, the dimension of the codec's codebook vectors when the model is tied to
            them (see `AcousticModel.set_codebooks`); () = plain embedding tables and linear heads.
    """

    codebook_sizes: tuple[int, ...]
    groups: tuple[tuple[int, ...], ...]
    semantic_vocab: tuple[int, ...]
    d_model: int = 256
    n_layers: int = 6
    n_heads: int = 4
    ff_mult: int = 2
    conv_kernel: int = 15
    dropout: float = 0.1
    prompt_mode: str = "cross"
    prompt_layers: int = 2
    max_prompt_frames: int = 500
    attention_window: int = 128
    codebook_dims: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "codebook_sizes", tuple(self.codebook_sizes))
        object.__setattr__(self, "codebook_dims", tuple(self.codebook_dims))
        if self.codebook_dims and len(self.codebook_dims) != len(self.codebook_sizes):
            raise UserInputError(
                f"codebook_dims {self.codebook_dims} must give one dimension per level "
                f"({len(self.codebook_sizes)} levels), or be empty."
            )
        object.__setattr__(self, "groups", tuple(tuple(g) for g in self.groups))
        object.__setattr__(self, "semantic_vocab", tuple(self.semantic_vocab))
        TokenLayout(self.codebook_sizes, self.groups)  # validates
        if self.prompt_mode not in PROMPT_MODES:
            raise UserInputError(f"prompt_mode {self.prompt_mode!r} is unknown; use one of {PROMPT_MODES}.")

    @property
    def layout(self) -> TokenLayout:
        return TokenLayout(self.codebook_sizes, self.groups)

    @property
    def n_q(self) -> int:
        return len(self.codebook_sizes)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["groups"] = [list(g) for g in self.groups]
        d["codebook_dims"] = list(self.codebook_dims)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AcousticConfig:
        return cls(**d)


@dataclass
class PromptMemory:
    """The encoded voice prompt, computed once per generation.

    Attributes:
        kv: per block, the cross-attention keys/values [B, H, M, D] (cross mode), else None.
        mask: attention mask [B, 1, 1, M] for the memory (None: all valid).
        prefix: embedded prompt frames [B, P, d] placed before the targets (prefix mode), else None.
        prefix_mask: valid prefix frames [B, P].
    """

    kv: list[tuple[Tensor, Tensor]] | None
    mask: Tensor | None
    prefix: Tensor | None = None
    prefix_mask: Tensor | None = None


class AcousticModel(nn.Module):
    """Bidirectional masked token model over [Q, T] codec grids conditioned on semantic tokens and a prompt."""

    def __init__(self, config: AcousticConfig) -> None:
        super().__init__()
        self.config = config
        d = config.d_model
        # Each level's table has one extra row: the mask token (id = codebook size).
        self.level_emb = nn.ModuleList(nn.Embedding(k + 1, d) for k in config.codebook_sizes)
        # Each semantic feature's table has one extra row: the null condition (dropped for guidance, prefix).
        self.semantic_emb = nn.ModuleList(nn.Embedding(v + 1, d) for v in config.semantic_vocab)
        self.blocks = nn.ModuleList(
            ConformerBlock(
                d,
                config.n_heads,
                config.ff_mult,
                config.conv_kernel,
                config.dropout,
                cross=config.prompt_mode == "cross",
                window=config.attention_window,
            )
            for _ in range(config.n_layers)
        )
        self.heads = nn.ModuleList(nn.Linear(d, k) for k in config.codebook_sizes)
        if config.codebook_dims:
            # Tied to the codec's codebooks: a token enters as a projection of its codebook vector, and the head
            # predicts a point u in codebook space, scoring code k by -|u - c_k|^2 / 2 (plus a free per-code
            # term). Codes that are close in feature space share what is learned about them, which a table of
            # 4096 independent rows learns only slowly.
            for q, (k, dim) in enumerate(zip(config.codebook_sizes, config.codebook_dims)):
                self.register_buffer(f"codebook_{q}", torch.zeros(k, dim))
            self.code_in = nn.ModuleList(nn.Linear(dim, d, bias=False) for dim in config.codebook_dims)
            self.code_out = nn.ModuleList(nn.Linear(d, dim) for dim in config.codebook_dims)
        if config.prompt_mode == "cross":
            self.prompt_blocks = nn.ModuleList(
                TransformerBlock(d, config.n_heads, config.ff_mult, config.dropout, cross=False)
                for _ in range(config.prompt_layers)
            )
            self.prompt_norm = nn.LayerNorm(d)
            # Always-present memory slot: a dropped or absent prompt leaves cross-attention something to attend.
            self.null_memory = nn.Parameter(torch.zeros(1, 1, d))
        init_weights(self)

    @property
    def mask_ids(self) -> tuple[int, ...]:
        return self.config.codebook_sizes

    def codebook(self, q: int) -> Tensor:
        return getattr(self, f"codebook_{q}")

    def set_codebooks(self, codebooks: Sequence[Tensor]) -> None:
        """Copy the codec's codebook of every level ([K_q, D_q] each, in token order) into a tied model.

        Each level is scaled to unit RMS norm so that every level's distances start on the same scale.
        """
        if not self.config.codebook_dims:
            raise UserInputError("This model was built without codebook_dims; it has no codebooks to set.")
        for q, cb in enumerate(codebooks):
            want = (self.config.codebook_sizes[q], self.config.codebook_dims[q])
            if tuple(cb.shape) != want:
                raise UserInputError(
                    f"Codebook of level {q} is {tuple(cb.shape)}; this model expects {want}."
                )
            cb = cb.float()
            self.codebook(q).copy_(cb / cb.pow(2).sum(1).mean().sqrt().clamp(min=1e-8))

    def num_parameters(self) -> int:
        return count_parameters(self)

    def embed_tokens(self, tokens: Tensor) -> Tensor:
        """Sum of level embeddings of tokens [B, Q, T] (mask id allowed) -> [B, T, d]."""
        out = sum(emb(tokens[:, q]) for q, emb in enumerate(self.level_emb))
        if self.config.codebook_dims:
            for q, proj in enumerate(self.code_in):
                ids = tokens[:, q]
                known = ids < self.config.codebook_sizes[q]
                vec = self.codebook(q)[ids.clamp(max=self.config.codebook_sizes[q] - 1)]
                out = out + proj(vec * known[..., None])
        return out

    def embed_semantic(self, semantic: Tensor, drop: Tensor | None = None) -> Tensor:
        """Semantic embedding of ids [B, T] or [B, T, F] -> [B, T, d]; `drop` [B] replaces them by null."""
        if semantic.dim() == 2:
            semantic = semantic[..., None]
        if semantic.shape[-1] != len(self.semantic_emb):
            raise UserInputError(
                f"Semantic tokens have {semantic.shape[-1]} features per frame but the model expects "
                f"{len(self.semantic_emb)}; use semantic tokens made for this checkpoint."
            )
        out = 0
        for f, emb in enumerate(self.semantic_emb):
            ids = semantic[..., f]
            if drop is not None:
                ids = torch.where(drop[:, None], torch.full_like(ids, self.config.semantic_vocab[f]), ids)
            out = out + emb(ids)
        return out

    def encode_prompt(
        self,
        prompt: Tensor | None,
        prompt_mask: Tensor | None = None,
        drop: Tensor | None = None,
        batch_size: int | None = None,
    ) -> PromptMemory:
        """Encode the voice prompt once per generation.

        Args:
            prompt: prompt codec tokens [B, Q, P] (no mask ids), or None for no prompt.
            prompt_mask: valid prompt frames [B, P] (None: all valid).
            drop: [B] bool, prompts to hide (condition dropout / the unconditional pass of guidance).
            batch_size: batch size when `prompt` is None.

        Returns:
            The memory every decoding iteration attends to.
        """
        cfg = self.config
        if prompt is None:
            b = batch_size if batch_size is not None else 1
            prompt = torch.zeros(b, cfg.n_q, 0, dtype=torch.long)
        prompt = prompt[..., : cfg.max_prompt_frames]
        b, _, p = prompt.shape
        frames = torch.ones(b, p, dtype=torch.bool) if prompt_mask is None else prompt_mask[:, :p].bool()
        valid = frames if drop is None else frames & ~drop[:, None]
        x = self.embed_tokens(prompt) if p else torch.zeros(b, 0, cfg.d_model)
        if cfg.prompt_mode == "prefix":
            if p:
                x = x + self.embed_semantic(self._null_semantic(b, p))
            return PromptMemory(kv=None, mask=None, prefix=x, prefix_mask=valid)
        if p:
            rope = rotary_tables(torch.arange(p), cfg.d_model // cfg.n_heads)
            # A prompt without any frame attends to everything rather than to nothing (NaN); its memory is
            # masked out below anyway. Dropped prompts are encoded like the others, then hidden.
            bias = key_padding_bias(frames | ~frames.any(dim=1, keepdim=True))
            for blk in self.prompt_blocks:
                x = blk(x, rope, bias)
            x = self.prompt_norm(x)
        memory = torch.cat([self.null_memory.expand(b, 1, -1), x], dim=1)
        mem_valid = torch.cat([torch.ones(b, 1, dtype=torch.bool), valid], dim=1)
        kv = [blk.cross.project(memory) for blk in self.blocks]
        return PromptMemory(kv=kv, mask=key_padding_bias(mem_valid))

    def _null_semantic(self, b: int, t: int) -> Tensor:
        null = torch.tensor(self.config.semantic_vocab, dtype=torch.long)
        return null.expand(b, t, -1).clone()

    def forward(
        self,
        tokens: Tensor,
        semantic: Tensor,
        memory: PromptMemory,
        frame_mask: Tensor | None = None,
        levels: Sequence[int] | None = None,
        drop_condition: Tensor | None = None,
    ) -> list[Tensor | None]:
        """Logits for every (or the requested) level.

        Args:
            tokens: [B, Q, T] codec tokens, masked positions holding the level's mask id.
            semantic: [B, T] or [B, T, F] semantic ids.
            memory: from `encode_prompt`.
            frame_mask: [B, T] True on real frames (None: all real).
            levels: levels whose logits to compute (None: all).
            drop_condition: [B] bool, replace the semantic tokens by the null condition.

        Returns:
            One entry per level: logits [B, T, K_q], or None for levels not requested.
        """
        x = self.hidden(tokens, semantic, memory, frame_mask, drop_condition)
        wanted = range(tokens.shape[1]) if levels is None else levels
        out: list[Tensor | None] = [None] * tokens.shape[1]
        for lv in wanted:
            out[lv] = self.level_logits(x, lv)
        return out

    def hidden(
        self,
        tokens: Tensor,
        semantic: Tensor,
        memory: PromptMemory,
        frame_mask: Tensor | None = None,
        drop_condition: Tensor | None = None,
    ) -> Tensor:
        """The Conformer's output [B, T, d] for the target frames (arguments as in `forward`)."""
        b, _, t = tokens.shape
        x = self.embed_tokens(tokens) + self.embed_semantic(semantic, drop_condition)
        valid = torch.ones(b, t, dtype=torch.bool) if frame_mask is None else frame_mask.bool()
        p = 0
        if memory.prefix is not None and memory.prefix.shape[1]:
            p = memory.prefix.shape[1]
            x = torch.cat([memory.prefix, x], dim=1)
            valid = torch.cat([memory.prefix_mask, valid], dim=1)
        rope = rotary_tables(torch.arange(p + t), self.config.d_model // self.config.n_heads)
        bias = key_padding_bias(valid)
        conv_mask = None if bias is None else valid.to(x.dtype)
        for i, blk in enumerate(self.blocks):
            kv = memory.kv[i] if memory.kv is not None else None
            x = blk(x, rope, bias, conv_mask, kv, memory.mask)
        return x[:, p:]

    def level_logits(self, x: Tensor, level: int) -> Tensor:
        """Logits [..., K_level] of hidden states x [..., d] (training scores only the positions it needs)."""
        out = self.heads[level](x)
        if self.config.codebook_dims:
            cb = self.codebook(level)
            out = out + self.code_out[level](x) @ cb.T - 0.5 * cb.pow(2).sum(1)
        return out


def save_checkpoint(
    path: str | Path,
    model: AcousticModel,
    metadata: dict[str, Any] | None = None,
    half: bool = False,
    **extra: Any,
) -> None:
    """Write config + weights + metadata (+ any training state in `extra`) to `path`, atomically.

    `half` stores float weights as float16 (half the file; `load_model` restores float32), for shipping.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    weights = model.state_dict()
    if half:
        weights = {k: v.half() if v.is_floating_point() else v for k, v in weights.items()}
    state = {
        "config": model.config.to_dict(),
        "model": weights,
        "metadata": metadata or {},
        **extra,
    }
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def load_model(path: str | Path) -> tuple[AcousticModel, dict[str, Any]]:
    """Rebuild a model from a checkpoint written by `save_checkpoint`.

    Returns:
        The model in eval mode and the checkpoint's metadata.
    """
    path = Path(path)
    if not path.is_file():
        raise UserInputError(
            f"Acoustic checkpoint {path} does not exist; train one with `python -m engine.train.train_acoustic` "
            "or pass the path of an existing checkpoint."
        )
    state = torch.load(path, map_location="cpu", weights_only=False)
    model = AcousticModel(AcousticConfig.from_dict(state["config"]))
    model.load_state_dict(state["model"])
    model.eval()
    return model, state.get("metadata", {})
