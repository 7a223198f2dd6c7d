"""Voice variants (training-data augmentation): F0 scale and formant warp on WORLD features, and the
acoustic data preparation that adds them as new speakers."""

import numpy as np
import pytest

from engine.codec import WorldConfig, load_codec
from engine.codec.group_codec import FeatureLayout
from engine.codec.world_features import code_log_spectrum, envelope_basis
from engine.data.manifest import Utterance
from engine.train import prepare_acoustic
from engine.train.voice_variants import (
    F0_SCALE_RANGE,
    WARP_RANGE,
    VoiceVariant,
    speaker_variants,
    variant_speaker,
    warp_matrix,
)


@pytest.fixture(scope="module")
def codec():
    return load_codec("assets/codec")


def _formant_frame(codec, peak_hz: float) -> np.ndarray:
    """One raw feature vector whose envelope has a single resonance at `peak_hz`."""
    world: WorldConfig = codec.cfg.world
    freqs = np.linspace(0, world.sample_rate / 2, world.fft_size // 2 + 1)
    log_sp = -6.0 + 3.0 * np.exp(-0.5 * ((freqs - peak_hz) / 150.0) ** 2)
    env = code_log_spectrum(log_sp[None], world, world.n_envelope)[0]
    frames = codec.layout.unflatten(np.zeros((1, codec.layout.dim), np.float32))
    raw = FeatureLayout.flatten(
        type(frames)(
            np.log([120.0]).astype(np.float32),
            np.array([True]),
            env[None].astype(np.float32),
            np.full((1, world.n_aperiodicity), -20.0, np.float32),
        )
    )
    return raw


def _peak_hz(codec, raw: np.ndarray) -> float:
    world = codec.cfg.world
    env = codec.layout.unflatten(raw).envelope
    log_sp = env @ envelope_basis(world, world.n_envelope)
    freqs = np.linspace(0, world.sample_rate / 2, world.fft_size // 2 + 1)
    return float(freqs[int(np.argmax(log_sp[0]))])


def test_identity_variant_keeps_features(codec):
    raw = _formant_frame(codec, 1000.0)
    np.testing.assert_allclose(VoiceVariant(1.0, 1.0).apply(raw, codec.cfg), raw, atol=1e-4)
    np.testing.assert_allclose(
        warp_matrix(1.0, codec.cfg.world), np.eye(codec.cfg.world.n_envelope), atol=1e-6
    )


@pytest.mark.parametrize("warp", [1.2, 1 / 1.2])
def test_warp_moves_the_formant_by_its_factor_and_f0_scales(codec, warp):
    raw = _formant_frame(codec, 1000.0)
    before = _peak_hz(codec, raw)
    out = VoiceVariant(1.5, warp).apply(raw, codec.cfg)
    assert _peak_hz(codec, out) == pytest.approx(before * warp, rel=0.04)
    s = codec.layout.slices
    assert np.exp(out[0, s["log_f0"]][0]) == pytest.approx(180.0, rel=1e-4)
    np.testing.assert_array_equal(out[:, s["voiced"]], raw[:, s["voiced"]])
    np.testing.assert_array_equal(out[:, s["aperiodicity"]], raw[:, s["aperiodicity"]])


def test_speaker_variants_are_stable_per_speaker_and_in_range():
    a = speaker_variants("espeak-en-m3", 4)
    assert a == speaker_variants("espeak-en-m3", 4)
    assert a != speaker_variants("espeak-en-f2", 4)
    for v in a:
        assert F0_SCALE_RANGE[0] <= v.f0_scale <= F0_SCALE_RANGE[1]
        assert WARP_RANGE[0] <= v.warp <= WARP_RANGE[1]
    assert len({(v.f0_scale, v.warp) for v in a}) == 4


def test_prepare_adds_each_variant_as_a_speaker_with_the_same_phones(codec, tmp_path):
    rng = np.random.default_rng(0)
    world = codec.cfg.world
    raw = np.concatenate([_formant_frame(codec, f) for f in rng.uniform(500, 2500, 40)])
    raw[:, codec.layout.slices["log_f0"]] += rng.normal(0, 0.1, (40, 1)).astype(np.float32)
    cache = tmp_path / "u1.npy"
    np.save(cache, raw)
    seconds = 40 / world.frame_rate
    utt = Utterance(
        "u1",
        "spk",
        "espeak",
        "en",
        "train",
        "a b",
        "u1.wav",
        16000,
        seconds,
        (("a", 0.0, seconds / 2), ("b", seconds / 2, seconds)),
    )
    prepare_acoustic._init("assets/codec")
    out = prepare_acoustic._tokens((utt, str(cache), speaker_variants("spk", 2)))
    assert [(speaker, utt_id) for _, _, speaker, utt_id in out] == [
        ("spk", "u1"),
        (variant_speaker("spk", 0), "u1+v0"),
        (variant_speaker("spk", 1), "u1+v1"),
    ]
    codes, semantic = out[0][:2]
    for variant_codes, variant_semantic, _, _ in out[1:]:
        assert variant_codes.shape == codes.shape
        np.testing.assert_array_equal(variant_semantic, semantic)
        assert (variant_codes[:2] != codes[:2]).mean() > 0.5  # another voice: the first levels change
