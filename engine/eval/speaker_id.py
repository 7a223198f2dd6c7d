"""Speaker identification and verification figures over speaker embeddings: the equal error rate of an
encoder on same- against different-speaker pairs, and which speaker a clip's nearest reference belongs to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def equal_error_rate(same_scores: Sequence[float], different_scores: Sequence[float]) -> float:
    """The error rate at the threshold where false rejections (same-speaker pairs below it) equal false
    acceptances (different-speaker pairs at or above it), interpolated between the two nearest thresholds.

    Returns:
        0 for perfectly separated scores, about 0.5 when the two sets are alike.
    """
    same, diff = np.sort(np.asarray(same_scores, float)), np.sort(np.asarray(different_scores, float))
    if not len(same) or not len(diff):
        raise ValueError("equal_error_rate needs at least one same-speaker and one different-speaker score")
    thresholds = np.unique(np.concatenate([same, diff, [np.inf]]))
    frr = np.searchsorted(same, thresholds, side="left") / len(same)
    far = 1.0 - np.searchsorted(diff, thresholds, side="left") / len(diff)
    gap = frr - far  # rises from <= 0 to >= 0 with the threshold
    k = int(np.argmax(gap >= 0))
    if k == 0 or gap[k] == 0:
        return float((frr[k] + far[k]) / 2)
    w = gap[k] / (gap[k] - gap[k - 1])  # where the gap crosses zero between thresholds k-1 and k
    return float(w * (frr[k - 1] + far[k - 1]) / 2 + (1 - w) * (frr[k] + far[k]) / 2)


def identify(embedding: np.ndarray, references: Mapping[str, Sequence[np.ndarray]]) -> str:
    """The speaker whose nearest reference embedding has the highest cosine with `embedding`."""
    best = max(
        ((float(np.dot(embedding, ref)), speaker) for speaker, refs in references.items() for ref in refs),
        default=None,
    )
    if best is None:
        raise ValueError("identify needs at least one reference embedding")
    return best[1]
