"""The app's handlers: what reaches the page on good input, and readable errors (gr.Error) on bad input."""

import gradio as gr
import numpy as np
import pytest

from engine.pipeline import DialogueSynthesizer
from engine.ui import blocks
from tests.conftest import espeak_to_wav
from tests.test_pipeline import tiny_model


@pytest.fixture(scope="module")
def voice(tmp_path_factory):
    return str(espeak_to_wav("A short voice for the app test, a few seconds long.", tmp_path_factory.mktemp("v") / "v.wav"))


@pytest.fixture
def tiny_synthesizer(monkeypatch):
    from engine.codec import load_codec

    codec = load_codec()
    synth = DialogueSynthesizer(codec=codec, acoustic=tiny_model(codec))
    monkeypatch.setattr(blocks, "_synthesizer", synth)
    return synth


def test_page_builds():
    assert isinstance(blocks.build_app(), gr.Blocks)


def test_check_reports_the_dialogue(voice):
    report = blocks.check_dialogue(blocks.EXAMPLE, voice, voice, None, None)
    assert "2 turns, 2 speakers (S1, S2)" in report
    assert "forty-two dollars and fifty cents" in report


@pytest.mark.parametrize(
    ("transcript", "expected"), [("", "empty"), ("<S1> hi", "[S1]"), ("[S1] привет", "Cyrillic")]
)
def test_bad_transcripts_are_page_errors(transcript, expected, voice):
    with pytest.raises(gr.Error, match=expected.replace("[", r"\[").replace("]", r"\]")):
        blocks.check_dialogue(transcript, voice, None, None, None)


def test_generate_returns_audio_and_timings(tiny_synthesizer, voice):
    stages = []

    def progress(fraction, desc=None):
        stages.append((fraction, desc))

    (rate, audio), summary = blocks.generate_dialogue(
        blocks.EXAMPLE, "group", 2, 0, voice, voice, None, None, progress=progress
    )
    assert rate == 16000 and audio.dtype == np.float32 and len(audio) > rate
    assert "2 turns" in summary and "real-time factor" in summary
    assert stages[0][0] == 0.0 and any("acoustic: iteration 2/" in (d or "") for _, d in stages)


def test_generate_without_a_voice_is_a_page_error(tiny_synthesizer, voice):
    with pytest.raises(gr.Error, match="S2"):
        blocks.generate_dialogue(blocks.EXAMPLE, "group", 2, 0, voice, None, None, None, progress=lambda *a, **k: None)
