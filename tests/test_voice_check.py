"""engine.voice_check: a clip that loads cleanly but is a tone, beeps or a steady noise is not a voice."""

import numpy as np
import pytest

from engine.audio import VoicePrompt, load_voice_prompt
from engine.demos import demo_voices
from engine.voice_check import speech_problem
from tests.audio_fixtures import speech

RATE = 16000
T = np.arange(5 * RATE) / RATE


def prompt(samples: np.ndarray) -> VoicePrompt:
    return VoicePrompt(samples.astype(np.float32), RATE, "clip", 0.0, ())


@pytest.mark.parametrize("name", sorted(demo_voices()))
def test_every_built_in_voice_passes(name):
    assert speech_problem(load_voice_prompt(demo_voices()[name])) is None


def test_speech_passes(tmp_path):
    samples, rate = speech(tmp_path)
    assert speech_problem(VoicePrompt(samples, rate, "espeak", 0.0, ())) is None


@pytest.mark.parametrize(
    ("samples", "expected"),
    [
        (0.3 * np.sin(2 * np.pi * 440 * T), "steady tone at 44"),
        (0.3 * np.sin(2 * np.pi * 1000 * T) * ((T % 0.5) < 0.25), "steady tone at 1000 Hz"),  # beeps
        (0.1 * np.random.default_rng(0).standard_normal(len(T)), "hum or noise"),
    ],
    ids=["tone", "beeps", "noise"],
)
def test_a_tone_beeps_or_a_steady_noise_is_named(samples, expected):
    problem = speech_problem(prompt(samples))
    assert problem is not None and expected in problem and "Use a recording of the speaker talking" in problem
