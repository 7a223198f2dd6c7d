"""Cutting a long recording at its pauses, for speakers whose only recording is one long clip."""

from __future__ import annotations

import numpy as np

from engine.audio import frame_levels_db


def pause_cuts(samples: np.ndarray, rate: int, min_pause_s: float = 0.2) -> list[int]:
    """Sample positions in the middle of the pauses of a recording (stretches at least `min_pause_s` long
    near its noise floor), first to last."""
    hop = max(1, round(rate * 0.01))
    levels = frame_levels_db(samples, hop)
    # Relative to the noise floor, not only to the loud frames: audiobook mp3s have pauses well above silence.
    floor, loud = np.percentile(levels, 5), np.percentile(levels, 95)
    quiet = levels < floor + max(6.0, 0.25 * (loud - floor))
    cuts, start = [], None
    for i, q in enumerate(np.append(quiet, False)):
        if q and start is None:
            start = i
        elif not q and start is not None:
            if (i - start) * 0.01 >= min_pause_s and start > 0 and i < len(quiet):
                cuts.append((start + i) // 2 * hop)
            start = None
    return cuts


def split_at_pauses(samples: np.ndarray, rate: int, max_seconds: float) -> list[np.ndarray]:
    """The recording cut at pauses into pieces of at most `max_seconds` where the pauses allow."""
    pieces, begin = [], 0
    cuts = pause_cuts(samples, rate) + [len(samples)]
    for k, cut in enumerate(cuts):
        following = cuts[k + 1] if k + 1 < len(cuts) else None
        if following is None or (following - begin) / rate > max_seconds:
            if cut > begin:
                pieces.append(samples[begin:cut])
            begin = cut
    return [p for p in pieces if len(p) > 0.5 * rate]
