"""What the tests of the app's handlers share (tests/test_ui.py, tests/test_ui_inputs.py): a tiny acoustic
model in place of the shipped one, a voice clip, the page's per-slot inputs, and Generate run as the page
and the API run it."""

import gradio as gr
import pytest

from engine.codec import load_codec
from engine.pipeline import DialogueSynthesizer
from engine.ui import handlers, synthesis
from engine.ui.speakers import SLOTS
from tests.conftest import espeak_to_wav
from tests.test_pipeline import tiny_model

VOICE_WORDS = "A short voice for the app test, a few seconds long."
FOUR_TURNS = "[S1] Hello there.\n[S2] Hi, how are you?\n[S1] Fine, thanks.\n[S2] Good to hear."
N_SLOT = len(SLOTS)
STATUS = {"transcript": 0, **{slot: 1 + i for i, slot in enumerate(SLOTS)}, "run": 1 + N_SLOT}


@pytest.fixture(scope="module")
def voice(tmp_path_factory):
    path = tmp_path_factory.mktemp("v") / "v.wav"
    return str(espeak_to_wav(VOICE_WORDS, path))


@pytest.fixture(scope="module")
def codec():
    return load_codec()


@pytest.fixture(scope="module")
def module_synthesizer(codec):
    return DialogueSynthesizer(codec=codec, acoustic=tiny_model(codec), prompt_seconds=2.0)


@pytest.fixture
def tiny_synthesizer(monkeypatch, module_synthesizer, tmp_path):
    monkeypatch.setattr(synthesis, "_synthesizer", module_synthesizer)
    monkeypatch.setattr(synthesis, "OUTPUT_DIR", tmp_path / "out")
    return module_synthesizer


def speaker_values(uploads=(), demos=(), texts=(), rates=()):
    """The page's per-slot inputs: a clip, a built-in voice name, the clip's words and a rate per slot."""

    def every(values, default):
        return [*values, *[default] * (N_SLOT - len(values))]

    return [*every(uploads, None), *every(demos, None), *every(texts, ""), *every(rates, 1.0)]


class Progress:
    """Stands in for gr.Progress: records (fraction, description)."""

    def __init__(self):
        self.updates = []

    def __call__(self, fraction, desc=None):
        self.updates.append((fraction, desc))


SETTING_VALUES = {
    "method": "group",
    "iterations": 2,
    "temperature": 1.0,
    "guidance": 1.0,
    "seed": 0,
    "voice_match": 0.5,
    "pace_check": False,
}


def generate(transcript, voices, **kw):
    """Run the API's generate handler to the end: its final outputs and the progress it reported."""
    settings = {**SETTING_VALUES, **{k: kw.pop(k) for k in list(kw) if k in SETTING_VALUES}}
    progress = Progress()
    values = speaker_values(voices, **kw)
    *_, last = handlers.generate_dialogue(transcript, *settings.values(), *values, progress=progress)
    return last, progress


def page_generate_steps(transcript, voices, previous_report=None, kept=None, **kw):
    """Everything the page's Generate yields: a live chunk at a time, then the outputs."""
    settings = {**SETTING_VALUES, **{k: kw.pop(k) for k in list(kw) if k in SETTING_VALUES}}
    return list(
        handlers.page_generate(
            previous_report,
            kept,
            transcript,
            *settings.values(),
            *speaker_values(voices, **kw),
            progress=Progress(),
        )
    )


def page_generate(transcript, voices, previous_report=None, kept=None, **kw):
    """The page's Generate, to its end: (its outputs, the statuses part of them), without the live player."""
    out = page_generate_steps(transcript, voices, previous_report, kept, **kw)[-1]
    return out[:4], out[4:-1]


def is_skip(value):
    return isinstance(value, type(gr.skip()))
