"""How codec tokens are laid out: codebook size per level and the level groups, without importing a codec."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.errors import UserInputError


@dataclass(frozen=True)
class TokenLayout:
    """Shape of a codec's token grid [Q, T].

    Attributes:
        codebook_sizes: number of codes of each level; levels may differ (e.g. 256 for F0, 4096 for envelope).
        groups: level indices of each group, coarse -> fine within a group; groups in decoding order.
            A plain RVQ has one group holding all levels.
    """

    codebook_sizes: tuple[int, ...]
    groups: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "codebook_sizes", tuple(int(k) for k in self.codebook_sizes))
        object.__setattr__(self, "groups", tuple(tuple(int(q) for q in g) for g in self.groups))
        if not self.codebook_sizes or min(self.codebook_sizes) < 2:
            raise UserInputError(
                f"Codebook sizes {self.codebook_sizes} are not valid; give at least one level with >= 2 codes."
            )
        flat = sorted(q for g in self.groups for q in g)
        if flat != list(range(self.n_q)) or any(len(g) == 0 for g in self.groups):
            raise UserInputError(
                f"Groups {self.groups} must hold every level 0..{self.n_q - 1} exactly once, in non-empty "
                "groups; a plain RVQ is one group: ((0, 1, ..., Q-1),)."
            )

    @property
    def n_q(self) -> int:
        return len(self.codebook_sizes)

    @property
    def level_order(self) -> tuple[int, ...]:
        """Levels in decoding order: group by group, coarse to fine inside each group."""
        return tuple(q for g in self.groups for q in g)

    @classmethod
    def plain(cls, n_q: int, codebook_size: int) -> TokenLayout:
        """A plain RVQ: `n_q` levels of `codebook_size` codes in one group."""
        return cls((codebook_size,) * n_q, (tuple(range(n_q)),))

    @classmethod
    def from_codec(cls, codec: Any) -> TokenLayout:
        """Read the layout off a codec object exposing `codebook_sizes` (or `codebook_size`), `n_q`, `groups`."""
        sizes = getattr(codec, "codebook_sizes", None)
        if sizes is None:
            sizes = (int(codec.codebook_size),) * int(codec.n_q)
        groups = getattr(codec, "groups", None) or (tuple(range(len(sizes))),)
        return cls(tuple(sizes), tuple(tuple(g) for g in groups))

    def to_dict(self) -> dict[str, Any]:
        return {"codebook_sizes": list(self.codebook_sizes), "groups": [list(g) for g in self.groups]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TokenLayout:
        return cls(tuple(d["codebook_sizes"]), tuple(tuple(g) for g in d["groups"]))
