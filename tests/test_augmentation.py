"""Training-data augmentation for real voices: simulated recording channels, voice transforms, and the
degraded-channel prompts the acoustic trainer draws."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.acoustic.data import AcousticCorpus, Utterance, read_corpus, sample_batch, write_corpus
from engine.acoustic.layout import TokenLayout
from engine.codec.world_features import WorldConfig, WorldFrames, _decode_envelope, analyze
from engine.data import channel
from engine.data.voice_transform import VoiceTransform
from engine.errors import UserInputError

SR = 16000


def _voice(seconds: float = 1.5, f0: float = 120.0, seed: int = 0) -> np.ndarray:
    """A buzzy vowel-like tone: harmonics of f0 under two formant peaks, with a little noise."""
    t = np.arange(int(SR * seconds)) / SR
    x = sum(
        (np.exp(-(((k * f0 - 700) / 300) ** 2)) + 0.5 * np.exp(-(((k * f0 - 1800) / 400) ** 2)) + 0.02)
        * np.sin(2 * np.pi * k * f0 * t)
        for k in range(1, int(7000 / f0))
    )
    x += 0.01 * np.random.default_rng(seed).standard_normal(len(t))
    return (0.5 * x / np.max(np.abs(x))).astype(np.float32)


def _band_energy(x: np.ndarray, lo: float, hi: float) -> float:
    spectrum = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x), 1 / SR)
    return float(spectrum[(f >= lo) & (f < hi)].sum())


def test_a_simulated_channel_keeps_length_and_range_and_is_seeded():
    x = _voice()
    for seed in range(12):
        y, steps = channel.simulate_channel(x, SR, np.random.default_rng(seed))
        assert y.dtype == np.float32 and len(y) == len(x)
        assert np.all(np.abs(y) <= 1.0) and np.all(np.isfinite(y))
        again, steps_again = channel.simulate_channel(x, SR, np.random.default_rng(seed))
        assert steps == steps_again and np.array_equal(y, again)
    described = {
        s.split()[0]
        for seed in range(40)
        for s in channel.simulate_channel(x, SR, np.random.default_rng(seed))[1]
    }
    assert {"reverb", "mic", "peak"} <= described  # several different stages are drawn over 40 seeds


def test_the_telephone_band_removes_what_a_phone_line_cannot_carry():
    x = _voice().astype(np.float64)
    rng = np.random.default_rng(0)
    while True:  # draw until the telephone band comes up
        state = rng.bit_generator.state
        if rng.choice(channel.BANDS) == "telephone":
            rng.bit_generator.state = state
            break
    y, step = channel.limit_band(x, SR, rng)
    assert step.startswith("telephone")
    assert _band_energy(y, 4000, 8000) < 1e-3 * _band_energy(x, 4000, 8000)
    assert _band_energy(y, 500, 3000) > 0.5 * _band_energy(x, 500, 3000)


def test_noise_is_added_at_the_snr_it_reports():
    x = _voice().astype(np.float64)
    for seed in range(5):
        y, step = channel.add_noise(x, SR, np.random.default_rng(seed))
        snr = float(step.split(" at ")[1].split()[0])
        measured = 10 * np.log10(np.mean(x**2) / np.mean((y - x) ** 2))
        assert abs(measured - snr) < 0.6, (step, measured)


@pytest.mark.parametrize("codec", channel.CODECS)
def test_every_lossy_codec_round_trips_to_nearly_the_same_sound(codec, monkeypatch):
    x = _voice().astype(np.float64)
    monkeypatch.setattr(channel, "CODECS", (codec,))
    y, step = channel.code_lossily(x, SR, np.random.default_rng(0))
    y = np.pad(y, (0, max(0, len(x) - len(y))))[: len(x)]
    # Codec delay (mp3, opus) shifts the signal: compare spectra below 3 kHz rather than samples.
    assert _band_energy(y, 100, 3000) == pytest.approx(_band_energy(x, 100, 3000), rel=0.5), step


def test_reverberation_lengthens_the_sound():
    x = np.zeros(SR, dtype=np.float64)
    x[:800] = _voice(0.05)[:800]
    y, step = channel.reverberate(x, SR, np.random.default_rng(3))
    rt60 = float(step.split()[2])
    tail = slice(2000, int(2000 + SR * rt60 / 3))
    assert np.sum(y[tail] ** 2) > 1e-4 * np.sum(y**2)
    assert np.sum(x[tail] ** 2) == 0


def _frames() -> tuple[WorldFrames, WorldConfig]:
    cfg = WorldConfig()
    return analyze(_voice(1.0), cfg), cfg


def test_the_identity_transform_changes_nothing():
    frames, cfg = _frames()
    same = VoiceTransform().apply(frames, cfg)
    assert np.array_equal(same.log_f0, frames.log_f0) and np.array_equal(same.envelope, frames.envelope)


def test_pitch_and_vocal_tract_transforms_move_f0_and_formants_by_their_ratios():
    frames, cfg = _frames()
    up = VoiceTransform(f0_scale=1.25).apply(frames, cfg)
    v = frames.voiced
    assert np.exp(np.mean(up.log_f0[v]) - np.mean(frames.log_f0[v])) == pytest.approx(1.25, rel=0.01)
    shorter = VoiceTransform(vtl=1.12).apply(frames, cfg)
    freqs = np.linspace(0, SR / 2, cfg.fft_size // 2 + 1)
    below = freqs < 1200

    def first_formant(coded):
        sp = _decode_envelope(coded, cfg).mean(0)
        return freqs[below][np.argmax(sp[below])]

    assert first_formant(shorter.envelope) / first_formant(frames.envelope) == pytest.approx(1.12, rel=0.06)


def test_drawn_voices_stay_within_human_ranges_and_differ():
    voices = [VoiceTransform.draw(np.random.default_rng(s)) for s in range(200)]
    assert all(0.66 <= v.f0_scale <= 1.5 and 0.86 <= v.vtl <= 1.17 and abs(v.tilt) <= 3 for v in voices)
    assert len({round(v.f0_scale, 3) for v in voices}) > 150
    # A larger speaker more often has both a lower pitch and longer tract.
    assert np.corrcoef([v.f0_scale for v in voices], [v.vtl for v in voices])[0, 1] > 0.5


LAYOUT = TokenLayout((16, 16), ((0,), (1,)))


def _corpus(with_prompts: bool) -> AcousticCorpus:
    g = torch.Generator().manual_seed(0)
    utts = []
    for i in range(6):
        codes = torch.randint(0, 15, (2, 40), generator=g)
        prompt = (codes + 1) % 16 if with_prompts else None
        utts.append(Utterance(codes, torch.zeros(40, dtype=torch.long), f"s{i % 2}", f"u{i}", prompt))
    return AcousticCorpus(LAYOUT, (4,), utts)


def test_channel_prompts_are_stored_and_drawn_as_often_as_asked(tmp_path):
    corpus = _corpus(with_prompts=True)
    write_corpus(tmp_path, LAYOUT, (4,), corpus.utterances)
    back = read_corpus(tmp_path)
    assert all(
        torch.equal(a.prompt_codes, b.prompt_codes) for a, b in zip(corpus.utterances, back.utterances)
    )

    def degraded_share(prob: float) -> float:
        b = sample_batch(back, list(range(6)), 400, 40, 40, torch.Generator().manual_seed(1), prob)
        clean = [u.codes for u in back.utterances]
        hits = [any(torch.equal(p, c[:, : p.shape[1]]) for c in clean) for p in b.prompt]
        return 1 - float(np.mean(hits))

    assert degraded_share(0.0) == 0.0
    assert degraded_share(1.0) == 1.0
    assert 0.4 < degraded_share(0.5) < 0.6


def test_prompt_codes_must_match_their_codes():
    bad = _corpus(with_prompts=True).utterances
    bad[0].prompt_codes = bad[0].prompt_codes[:, :10]
    with pytest.raises(UserInputError, match="prompt codes"):
        AcousticCorpus(LAYOUT, (4,), bad)


def test_a_lossy_codec_ffmpeg_refuses_falls_back_to_mu_law(monkeypatch):
    import subprocess

    def refuse(x, sr, args):
        raise subprocess.CalledProcessError(1, ["ffmpeg"])

    monkeypatch.setattr(channel, "_ffmpeg", refuse)
    x = 0.3 * np.sin(2 * np.pi * 200 * np.arange(16000) / 16000)
    steps = []
    for seed in range(8):
        y, step = channel.code_lossily(x, 16000, np.random.default_rng(seed))
        assert step.startswith("G.711 mu-law") and len(y) == len(x) and np.isfinite(y).all()
        steps.append(step)
    assert any("failed" in step for step in steps)  # some seeds drew an ffmpeg codec
