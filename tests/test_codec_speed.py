"""The codec's fast paths give what the slow ones they replaced gave: nearest-code search, envelope decoding,
aperiodicity bins, and unvoiced noise at a lower pulse rate."""

import warnings

import numpy as np
import torch

from engine.codec import WorldConfig
from engine.codec.rvq import ResidualKMeansVQ, nearest
from engine.codec.world_features import (
    UNVOICED_PULSE_HZ,
    WorldFrames,
    _band_aperiodicity_to_bins,
    _decode_envelope,
    _interpolation_matrix,
    _upsample,
    synthesize,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import pyworld

CFG = WorldConfig()


def test_nearest_matches_brute_force_distances():
    gen = torch.Generator().manual_seed(0)
    codebook, x = torch.randn(300, 12, generator=gen), torch.randn(1000, 12, generator=gen)
    expected = torch.cdist(x.double(), codebook.double()).argmin(1)
    assert torch.equal(nearest(x, codebook), expected)
    vq = ResidualKMeansVQ([codebook, torch.randn(50, 12, generator=gen)])
    codes = vq.encode(x)
    assert torch.equal(codes[0], expected)
    residual = x - codebook[expected]
    assert torch.equal(codes[1], torch.cdist(residual.double(), vq.codebooks[1].double()).argmin(1))


def test_envelope_decoding_matches_pyworld():
    rng = np.random.default_rng(0)
    coded = rng.normal(0, 1, (200, CFG.n_envelope))
    coded[:, 0] -= 10  # a speech-like level
    reference = pyworld.decode_spectral_envelope(coded, CFG.sample_rate, CFG.fft_size)
    np.testing.assert_allclose(_decode_envelope(coded, CFG), reference, rtol=1e-4)


def test_aperiodicity_bins_match_the_decibel_formula():
    bands = np.random.default_rng(1).uniform(-80, 5, (50, CFG.n_aperiodicity))
    expected = np.clip(10 ** ((bands @ _interpolation_matrix(CFG)) / 20), 1e-3, 1.0)
    np.testing.assert_allclose(_band_aperiodicity_to_bins(bands, CFG), expected, rtol=1e-5)


def test_upsample_interpolates_between_frame_centres_and_holds_the_ends():
    x = np.array([0.0, 4.0, 8.0])
    np.testing.assert_allclose(_upsample(x, 4, 12), np.interp(np.arange(12), np.arange(3) * 4 + 2, x))
    both = _upsample(np.stack([x, -x], 1), 4, 12)
    np.testing.assert_allclose(both[:, 1], -both[:, 0])


def test_unvoiced_noise_keeps_its_power_at_the_lower_pulse_rate():
    """WORLD's own unvoiced excitation (F0 = 0, 500 Hz bursts) and ours give noise of the same level."""
    n_frames = 100
    coded = np.zeros((n_frames, CFG.n_envelope))
    coded[:, 0] = -8.0
    coded[:, 1] = 1.0  # a sloped spectrum, like a fricative
    frames = WorldFrames(
        log_f0=np.full(n_frames, np.log(120.0), dtype=np.float32),
        voiced=np.zeros(n_frames, dtype=bool),
        envelope=coded.astype(np.float32),
        aperiodicity=np.zeros((n_frames, CFG.n_aperiodicity), dtype=np.float32),
    )
    ours = synthesize(frames, CFG)
    n_out = n_frames * CFG.hop
    sp = pyworld.decode_spectral_envelope(np.ascontiguousarray(_upsample(coded, CFG.hop, n_out)), 16000, 1024)
    world = pyworld.synthesize(np.zeros(n_out), sp, np.ones_like(sp), CFG.sample_rate, CFG.analysis_period_ms)
    middle = slice(len(ours) // 5, 4 * len(ours) // 5)
    ratio = np.sqrt(np.mean(ours[middle] ** 2) / np.mean(world[: len(ours)][middle] ** 2))
    assert 0.85 < ratio < 1.15, ratio
    assert UNVOICED_PULSE_HZ < 500


def test_bench_speed_reports_median_real_time_factors(speech_wav):
    import soundfile
    from scipy.signal import resample_poly

    from engine.codec import load_codec
    from engine.eval.codec_quality import speed

    codec = load_codec()
    audio, rate = soundfile.read(speech_wav, dtype="float32")
    audio = resample_poly(audio, codec.sample_rate, rate).astype(np.float32)  # espeak-ng writes 22.05 kHz
    figures = speed(codec, [audio[: 2 * codec.sample_rate]], repeats=2)
    assert figures["seconds"] == 2.0 and figures["repeats"] == 2
    for name in ("encode", "decode", "cpu_encode", "cpu_decode"):
        assert 0 < figures[name] < 5, (name, figures[name])
    assert abs(figures["total"] - figures["encode"] - figures["decode"]) < 0.5 * figures["total"]
