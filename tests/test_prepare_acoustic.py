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


def test_a_stale_feature_cache_is_analysed_again(tmp_path):
    # The cache is keyed by utterance id; a rebuilt corpus may hold another recording under the same id.
    # Its channel prompt is made from the wav, so the two would disagree in length: the wav wins.
    import soundfile

    from engine.train import prepare_acoustic

    prepare_acoustic._init("assets/codec")
    world = prepare_acoustic._codec.cfg.world
    rng = np.random.default_rng(0)
    wav = tmp_path / "u.wav"
    soundfile.write(wav, (0.1 * rng.standard_normal(world.sample_rate)).astype(np.float32), world.sample_rate)
    cache = tmp_path / "u.npy"
    np.save(cache, np.zeros((7, 3), dtype=np.float32))  # another length, another layout
    utt = Utterance("u", "spk", "espeak", "v", "train", "a", str(wav), world.sample_rate, 1.0, ())
    clean, variant = prepare_acoustic._tokens((utt, str(cache), 4))
    frames = -(-world.sample_rate // world.samples_per_frame)
    assert clean.codes.shape[1] == clean.prompt_codes.shape[1] == frames
    assert variant.codes.shape[1] == variant.prompt_codes.shape[1] == frames
    assert np.load(cache).shape[0] == frames
