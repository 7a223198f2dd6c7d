"""How well the speaking-rate estimator agrees with the true phone rates of the aligned corpus."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from engine.data.manifest import Utterance
from engine.semantic.prompt_features import PromptFeatures
from engine.text.phone_inventory import LONG_PAUSE, SHORT_PAUSE


def _true_rate(utterance: Utterance) -> float | None:
    """Sounding phones per second of sounding time (articulation rate) from the alignment."""
    sounding = [e - s for p, s, e in utterance.phones if p not in (SHORT_PAUSE, LONG_PAUSE)]
    return len(sounding) / sum(sounding) if sounding and sum(sounding) > 0 else None


def rate_correlation(utterances: Sequence[Utterance], features: dict[str, PromptFeatures]) -> dict[str, float]:
    """Pearson correlation of log measured rate with log true phone rate, per utterance and per speaker."""
    pairs = [(features[u.id].rate.per_second, _true_rate(u), u.speaker) for u in utterances if u.id in features]
    pairs = [(m, t, s) for m, t, s in pairs if t]
    measured, true = np.log([m for m, _, _ in pairs]), np.log([t for _, t, _ in pairs])
    by_speaker: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for m, t, s in pairs:
        by_speaker[s].append((m, t))
    speakers = [v for v in by_speaker.values() if len(v) >= 3]
    speaker_measured = np.log([np.mean([m for m, _ in v]) for v in speakers])
    speaker_true = np.log([np.mean([t for _, t in v]) for v in speakers])
    return {
        "utterances": len(pairs),
        "r_utterance": float(np.corrcoef(measured, true)[0, 1]),
        "speakers": len(speakers),
        "r_speaker": float(np.corrcoef(speaker_measured, speaker_true)[0, 1]) if len(speakers) > 2 else float("nan"),
    }
