"""Residual vector quantizer fitted by k-means, level by level, on the residual of the levels before it.

Greedy k-means RVQ needs no gradient training, is deterministic for a seed, and lets each level have its
own codebook size (a large first level, smaller residual levels).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

_CHUNK = 8192  # rows per distance computation: bounds memory at chunk x codebook floats


def search_terms(codebook: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """What `nearest` needs of a codebook [K, D]: squared norms [K] and the scaled transpose -2 C^T [D, K]."""
    return (codebook * codebook).sum(1), (-2 * codebook).T.contiguous()


def nearest(
    x: torch.Tensor, codebook: torch.Tensor, terms: tuple[torch.Tensor, torch.Tensor] | None = None
) -> torch.Tensor:
    """Index of the nearest codebook row (Euclidean) for every row of x.

    Args:
        x: [N, D] float.
        codebook: [K, D] float.
        terms: `search_terms(codebook)` when the caller keeps them (a fixed codebook searched many times).

    Returns:
        [N] long.
    """
    c_sq, minus_two_t = search_terms(codebook) if terms is None else terms
    out = torch.empty(len(x), dtype=torch.long)
    for i in range(0, len(x), _CHUNK):
        # argmin |x - c|^2 = argmin (|c|^2 - 2 x.c): |x|^2 is the same for every code. One fused addmm is
        # 2.5x faster than the matmul, scale and add apart; -2 is exact in floating point.
        out[i : i + _CHUNK] = torch.addmm(c_sq, x[i : i + _CHUNK], minus_two_t).argmin(1)
    return out


def kmeans(
    x: torch.Tensor,
    k: int,
    iters: int = 20,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
    max_points: int | None = None,
) -> torch.Tensor:
    """Lloyd's k-means with k-means++-style seeding on a subsample; empty clusters are re-seeded.

    Args:
        x: [N, D] float data.
        k: number of centroids (capped at the number of distinct rows available).
        iters: Lloyd iterations.
        seed: random seed.
        log: optional progress sink.
        max_points: iterate on a random subset of this many rows (assignment dominates the cost).

    Returns:
        [k, D] centroids.
    """
    gen = torch.Generator().manual_seed(seed)
    if max_points is not None and len(x) > max_points:
        x = x[torch.randperm(len(x), generator=gen)[:max_points]]
    n = len(x)
    if n == 0:
        raise ValueError("k-means needs at least one row of data")
    k_eff = min(k, n)
    cent = _seed_plus_plus(x, k_eff, gen)
    for it in range(iters):
        assign = nearest(x, cent)
        counts = torch.bincount(assign, minlength=k_eff).to(x.dtype)
        sums = torch.zeros_like(cent).index_add_(0, assign, x)
        empty = counts == 0
        cent = torch.where(empty[:, None], cent, sums / counts.clamp(min=1)[:, None])
        if empty.any():
            # Re-seed empty clusters on the rows worst served by the current codebook.
            err = ((x - cent[assign]) ** 2).sum(1)
            worst = err.topk(int(empty.sum())).indices
            cent[empty] = x[worst]
        if log is not None and (it % 5 == 4 or it == iters - 1):
            # Error of the assignment just made (before this update): free, and a fair progress sign.
            mse = ((x - cent[assign]) ** 2).sum(1).mean().item()
            log(f"  k-means k={k_eff} iter {it + 1}/{iters}: mse {mse:.4f}, empty {int(empty.sum())}")
    if k_eff < k:
        # Too little data for k codes: pad with copies so every index stays decodable.
        cent = torch.cat([cent, cent[torch.arange(k - k_eff) % k_eff]])
    return cent


def _seed_plus_plus(x: torch.Tensor, k: int, gen: torch.Generator, sample: int = 20000) -> torch.Tensor:
    """Greedy k-means++ seeding on a random subsample (D^2 sampling), in blocks of new centres."""
    sub = x[torch.randperm(len(x), generator=gen)[: max(sample, k)]]
    first = sub[torch.randint(len(sub), (1,), generator=gen)]
    cent = [first]
    d2 = ((sub - first) ** 2).sum(1)
    block = max(1, k // 64)  # add several centres per pass: exact k-means++ is too slow at k=4096
    while sum(len(c) for c in cent) < k:
        m = min(block, k - sum(len(c) for c in cent))
        idx = torch.multinomial(d2 + 1e-12, m, replacement=False, generator=gen)
        new = sub[idx]
        cent.append(new)
        d2 = torch.minimum(d2, torch.cdist(sub, new).pow(2).min(1).values)
    return torch.cat(cent)[:k].clone()


class ResidualKMeansVQ:
    """Residual VQ: level l quantizes what levels < l left over. Codebooks may differ in size."""

    def __init__(self, codebooks: list[torch.Tensor]):
        self.codebooks = codebooks
        self._terms = [search_terms(cb) for cb in codebooks]

    @property
    def n_levels(self) -> int:
        return len(self.codebooks)

    @property
    def codebook_sizes(self) -> tuple[int, ...]:
        return tuple(len(c) for c in self.codebooks)

    @classmethod
    def fit(
        cls,
        x: torch.Tensor,
        sizes: tuple[int, ...],
        iters: int = 20,
        seed: int = 0,
        log: Callable[[str], None] | None = None,
        max_points: int | None = None,
    ) -> ResidualKMeansVQ:
        """Fit one k-means codebook per level on the running residual.

        Args:
            x: [N, D] training vectors (already normalized/weighted).
            sizes: codebook size per level, coarse to fine.
            iters: Lloyd iterations per level.
            seed: random seed.
            log: optional progress sink.
            max_points: k-means iterates on at most this many rows per level.
        """
        residual = x.clone()
        books = []
        for level, k in enumerate(sizes):
            if log is not None:
                log(f" level {level}: {k} codes on {len(x)} vectors of {x.shape[1]} dims")
            cb = kmeans(residual, k, iters=iters, seed=seed + level, log=log, max_points=max_points)
            residual -= cb[nearest(residual, cb)]
            books.append(cb)
        return cls(books)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Codes [n_levels, N] of x [N, D]."""
        residual = x.clone()
        codes = []
        for cb, terms in zip(self.codebooks, self._terms):
            idx = nearest(residual, cb, terms)
            residual -= cb[idx]
            codes.append(idx)
        return torch.stack(codes) if codes else torch.zeros(0, len(x), dtype=torch.long)

    def decode(self, codes: torch.Tensor, n_levels: int | None = None) -> torch.Tensor:
        """Sum of the first n_levels levels' code vectors: [N, D] from codes [>= n_levels, N]."""
        n = self.n_levels if n_levels is None else n_levels
        out = torch.zeros(codes.shape[1], self.codebooks[0].shape[1])
        for level in range(n):
            out += self.codebooks[level][codes[level]]
        return out
