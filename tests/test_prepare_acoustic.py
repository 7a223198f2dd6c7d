"""Acoustic training data preparation: which corpus utterances a size-limited run takes."""

from __future__ import annotations

from collections import Counter

import numpy as np

from engine.data.manifest import Utterance
from engine.train.prepare_acoustic import select


def _utterances(speaker: str, n: int, seconds: float) -> list[Utterance]:
    return [
        Utterance(
            f"{speaker}-{i}", speaker, "espeak", "v", "train", "t", f"{speaker}/{i}.wav", 16000, seconds, ()
        )
        for i in range(n)
    ]


def test_select_gives_every_speaker_the_same_share_and_prefers_cached(tmp_path):
    # An "old" speaker with many cached utterances and a "new" one with none: a plain random draw with
    # cached utterances first would spend the whole budget on the old one.
    old, new = _utterances("old", 200, 2.0), _utterances("new", 50, 2.0)
    for u in old[:150]:
        np.save(tmp_path / f"{u.id}.npy", np.zeros(1))
    chosen = select(old + new, tmp_path, max_hours=120 / 3600)  # 120 s: 60 s, 30 utterances, per speaker
    counts = Counter(u.speaker for u in chosen)
    assert counts == {"old": 30, "new": 30}
    assert all((tmp_path / f"{u.id}.npy").exists() for u in chosen if u.speaker == "old")
    assert [u.id for u in chosen] == [u.id for u in select(old + new, tmp_path, max_hours=120 / 3600)]
    assert select(old + new, tmp_path, max_hours=None) == old + new
