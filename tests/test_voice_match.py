"""Voice matching: generated WORLD features pulled toward the prompt's voice before synthesis."""

import numpy as np
import pytest

from engine.codec import load_codec
from engine.codec.voice_match import match_voice, voice_profile


@pytest.fixture(scope="module")
def codec():
    return load_codec()


def _clip(codec, seed: int, f0_hz: float, tilt: float) -> np.ndarray:
    """Raw features of a made-up clip: voiced and unvoiced stretches, loud and pause frames."""
    rng = np.random.default_rng(seed)
    s, n = codec.layout.slices, 200
    raw = np.zeros((n, codec.layout.dim), np.float32)
    raw[:, s["voiced"]] = (np.arange(n) % 10 < 7)[:, None]
    raw[:, s["log_f0"]] = np.log(f0_hz) + rng.normal(0, 0.08, (n, 1))
    raw[:, s["energy"]] = rng.normal(-2.0, 1.0, (n, 1))
    width = s["envelope"].stop - s["envelope"].start
    raw[:, s["envelope"]] = rng.normal(0, 0.3, (n, width)) + tilt / (1 + np.arange(width))
    raw[:, s["aperiodicity"]] = -20.0
    return raw


def _voiced(codec, raw):
    return raw[:, codec.layout.slices["voiced"]][:, 0] > 0.5


def test_strength_zero_keeps_the_features(codec):
    raw = _clip(codec, 0, 120.0, 1.0)
    profile = voice_profile(_clip(codec, 1, 200.0, -1.0), codec.layout)
    np.testing.assert_array_equal(match_voice(raw, profile, codec.layout, 0.0), raw)


def test_f0_level_and_mean_envelope_move_to_the_prompts(codec):
    s = codec.layout.slices
    raw, prompt = _clip(codec, 0, 120.0, 1.0), _clip(codec, 1, 200.0, -1.0)
    profile = voice_profile(prompt, codec.layout)
    out = match_voice(raw, profile, codec.layout, 1e-9)
    assert np.exp(np.median(out[_voiced(codec, out), s["log_f0"]])) == pytest.approx(200.0, rel=0.02)
    c0 = out[:, s["energy"]][:, 0]
    speech = c0 > np.percentile(c0, 30)
    np.testing.assert_allclose(out[speech, s["envelope"]].mean(0), profile.envelope_mean, atol=1e-4)
    # Loudness, voicing and aperiodicity are the generated ones.
    for name in ("energy", "voiced", "aperiodicity"):
        np.testing.assert_array_equal(out[:, s[name]], raw[:, s[name]])
    assert not np.shares_memory(out, raw)


def test_full_strength_uses_the_prompts_own_frames(codec):
    s = codec.layout.slices
    raw, prompt = _clip(codec, 0, 120.0, 1.0), _clip(codec, 1, 200.0, -1.0)
    profile = voice_profile(prompt, codec.layout)
    out = match_voice(raw, profile, codec.layout, 1.0, neighbours=1)
    voiced = _voiced(codec, out)
    pool = {tuple(np.round(r, 4)) for r in profile.voiced}
    assert all(tuple(np.round(r, 4)) in pool for r in out[voiced, s["envelope"]])
    # A clip matched to its own profile keeps its speech frames: each is its own nearest neighbour.
    own = match_voice(prompt, profile, codec.layout, 1.0, neighbours=1)
    c0 = prompt[:, s["energy"]][:, 0]
    speech = c0 > np.percentile(c0, 30)
    np.testing.assert_allclose(own[speech], prompt[speech], atol=1e-4)


def test_a_clip_without_voiced_speech_has_no_profile(codec):
    raw = _clip(codec, 0, 120.0, 1.0)
    raw[:, codec.layout.slices["voiced"]] = 0.0
    assert voice_profile(raw, codec.layout) is None
    assert voice_profile(raw[:0], codec.layout) is None
    with pytest.raises(ValueError, match="between 0 and 1"):
        match_voice(raw, voice_profile(_clip(codec, 1, 200.0, -1.0), codec.layout), codec.layout, 1.5)
