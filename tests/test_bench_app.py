"""bench/app.py on a tiny acoustic model: every press is timed, the first progress comes before the audio and
the audio before the rest, and the report states the targets."""

import pytest

from bench import app as bench_app
from bench.report import Table
from engine.codec import load_codec
from engine.pipeline import DialogueSynthesizer
from engine.ui import synthesis
from tests.test_pipeline import tiny_model

pytestmark = pytest.mark.usefixtures("one_thread")


def test_app_bench_times_each_press(monkeypatch, tmp_path):
    codec = load_codec()
    synth = DialogueSynthesizer(codec=codec, acoustic=tiny_model(codec), prompt_seconds=2.0)
    monkeypatch.setattr(synthesis, "_synthesizer", synth)
    monkeypatch.setattr(synthesis, "OUTPUT_DIR", tmp_path)
    figures = bench_app.measure(runs=2)
    assert figures["turns"] == 4 and len(figures["rows"]) == 2
    for row in figures["rows"]:
        assert 0 < row["first_progress_s"] <= row["audio_s"] <= row["all_outputs_s"]
        assert row["dialogue_s"] > 2 and row["stages"] >= 4
    (section,) = bench_app.sections(figures)
    assert "whole dialogue < 10 s" in section.text and "first progress < 1 s" in section.text
    table = section.items[0]
    assert isinstance(table, Table) and len(table.rows) == 2
