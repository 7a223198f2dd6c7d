"""Speaker identification and verification figures over speaker embeddings: the equal error rate of an
encoder on same- against different-speaker pairs, and which speaker a clip's nearest reference belongs to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def _scores(values: Sequence[float], what: str) -> np.ndarray:
    scores = np.sort(np.asarray(values, dtype=float).ravel())
    if scores.size == 0:
        raise ValueError(f"equal_error_rate needs at least one {what} score")
    if not np.isfinite(scores).all():
        raise ValueError(f"equal_error_rate got a NaN or infinite {what} score")
    return scores


def equal_error_rate(same_scores: Sequence[float], different_scores: Sequence[float]) -> float:
    """The error rate at the threshold where false rejections (same-speaker pairs below it) equal false
    acceptances (different-speaker pairs at or above it), interpolated linearly between the two thresholds
    (among the observed scores) where their difference changes sign.

    Args:
        same_scores: similarities of pairs of clips of one speaker.
        different_scores: similarities of pairs of clips of two speakers.

    Returns:
        0 when every same-speaker pair scores above every different-speaker pair, 0.5 when the two sets are
        alike, up to 1 when they are separated the wrong way round.
    """
    same, diff = _scores(same_scores, "same-speaker"), _scores(different_scores, "different-speaker")
    thresholds = np.unique(np.concatenate([same, diff, [np.inf]]))
    frr = np.searchsorted(same, thresholds, side="left") / len(same)
    far = 1.0 - np.searchsorted(diff, thresholds, side="left") / len(diff)
    # Rises with the threshold from -1 (the lowest score: nothing rejected, every impostor accepted) to 1.
    gap = frr - far
    k = int(np.argmax(gap >= 0))
    if gap[k] == 0:
        return float(frr[k])
    w = gap[k] / (gap[k] - gap[k - 1])  # weight of threshold k-1 where the gap crosses zero
    return float(w * (frr[k - 1] + far[k - 1]) / 2 + (1 - w) * (frr[k] + far[k]) / 2)


def identify(embedding: np.ndarray, references: Mapping[str, Sequence[np.ndarray]]) -> str:
    """The speaker whose nearest reference embedding has the highest cosine with `embedding`.

    Args:
        embedding: the clip's speaker embedding (any norm).
        references: for each speaker, embeddings of their reference clips (same encoder).

    Returns:
        The best speaker's name; on an exact tie, the first such speaker in `references`' order.
    """
    query = np.asarray(embedding, dtype=float).ravel()
    best_name, best_cosine = None, -np.inf
    for name, refs in references.items():
        for ref in refs:
            ref = np.asarray(ref, dtype=float).ravel()
            if ref.shape != query.shape:
                raise ValueError(f"reference of {name!r} has shape {ref.shape}, the clip's {query.shape}")
            cosine = float(ref @ query) / max(float(np.linalg.norm(ref) * np.linalg.norm(query)), 1e-12)
            if cosine > best_cosine:
                best_name, best_cosine = name, cosine
    if best_name is None:
        raise ValueError("identify needs at least one reference embedding")
    return best_name
