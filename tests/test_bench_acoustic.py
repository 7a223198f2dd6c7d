"""bench.acoustic (bench/acoustic/) end to end on espeak-ng clips (no corpus needed) with a tiny random acoustic model: the
tables, the target checks and the plot."""

import json

import pytest

from bench import acoustic as bench_acoustic
from bench.report import Figure, Table
from engine.codec import load_codec
from engine.errors import UserInputError
from engine.pipeline import DialogueSynthesizer
from tests.conftest import espeak_to_wav
from tests.test_pipeline import tiny_model

VOICES = {"low": ("en-us", 40)}
SENTENCES = (
    "I will meet you at the station at seven in the morning.",
    "We bought three apples and a loaf of bread at the market.",
    "Could you please close the window, it is getting cold in here.",
)


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def items(tmp_path_factory):
    folder = tmp_path_factory.mktemp("voices")
    out = []
    # One voice keeps Whisper's work (about 1 s per clip here) small; the corpus run has five.
    for name, (voice, pitch) in VOICES.items():
        wavs = [
            espeak_to_wav(s, folder / f"{name}{i}.wav", voice=voice, pitch=pitch)
            for i, s in enumerate(SENTENCES)
        ]
        out.append(
            bench_acoustic.EvalItem(name, SENTENCES[0], prompt=wavs[1], other=wavs[2], reference=wavs[0])
        )
    return out


@pytest.fixture(scope="module")
def run_result(items, tmp_path_factory):
    pytest.importorskip("faster_whisper", reason="eval tools not installed: bash install.sh --dev")
    pytest.importorskip("resemblyzer", reason="eval tools not installed: bash install.sh --dev")
    codec = load_codec()
    synth = DialogueSynthesizer(codec=codec, acoustic=tiny_model(codec), prompt_seconds=2.0)
    out = tmp_path_factory.mktemp("results")
    sections = bench_acoustic.run(
        out, items=items, synth=synth, methods=("group", "soundstorm"), iterations=(1, 2), log=lambda m: None
    )
    return sections, out


def test_run_gives_a_row_per_setting_and_reference(run_result):
    sections, _ = run_result
    (section,) = sections
    sweep, targets, matched = [i for i in section.items if isinstance(i, Table)]
    assert [row[0] for row in matched.rows] == list(bench_acoustic.VOICE_MATCH_STRENGTHS)
    assert all(-1.0 <= row[-1] <= 1.0 and row[1] >= 0 for row in matched.rows)
    names = [row[0] for row in sweep.rows]
    assert names == ["original", "codec resynthesis", "group@1", "group@2", "soundstorm@1", "soundstorm@2"]
    col = {c: i for i, c in enumerate(sweep.columns)}
    # The pipeline's default strength is the sweep's group@2 row, not generated again.
    default = next(row for row in matched.rows if row[0] == DialogueSynthesizer().voice_match)
    assert (default[1], default[-1]) == (sweep.rows[3][col["WER"]], sweep.rows[3][col["similarity"]])
    for row in sweep.rows:
        assert row[col["WER"]] >= 0 and row[col["WER base"]] >= 0
        assert 1.0 <= row[col["P.808"]] <= 5.0
        assert -1.0 <= row[col["similarity"]] <= 1.0
    for row in sweep.rows[2:]:
        assert row[col["passes"]] > 0 and row[col["acoustic s"]] > 0 and row[col["RTF pipeline"]] > 0
    # group@1: the pitch group's only level, then the spectrum group's coarse level
    # and its finer levels together.
    assert sweep.rows[2][col["passes"]] == 1 + 1 + 1
    assert sweep.rows[4][col["passes"]] == 1 + 7  # soundstorm@1: one pass per level of 8
    statuses = [row[-1] for row in targets.rows]
    assert len(statuses) == 5 and all(s in ("met", "NOT met") for s in statuses[:4])
    assert statuses[4] == "not measured"  # group@4 and soundstorm@16 were not swept


def test_run_writes_the_plot_and_the_figures(run_result):
    sections, out = run_result
    (figure,) = [i for i in sections[0].items if isinstance(i, Figure)]
    assert figure.path.parent == out and figure.path.stat().st_size > 10_000
    assert figure.path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    figures = json.loads((out / "acoustic_figures.json").read_text())
    assert figures["voices"] == ["low"] and len(figures["items"]) == 1
    assert [r["name"] for r in figures["references"]] == ["original", "codec resynthesis"]
    # The reference recordings are clear espeak-ng speech: both Whispers hear them well, and DNSMOS
    # scores the original above the tiny random model's output.
    original = figures["references"][0]
    assert original["wer"] < 0.3 and original["wer_base"] < 0.3
    assert original["transcripts_base"][0]
    assert original["p808"] > figures["sweep"][0]["p808"]


def _figures(codec_wer, group4, soundstorm16, similarity=0.85):
    sweep = [
        {"method": "group", "iterations": 2, "wer": group4, "similarity": similarity},
        {"method": "group", "iterations": 4, "wer": group4, "similarity": similarity},
        {"method": "soundstorm", "iterations": 16, "wer": soundstorm16, "similarity": similarity - 0.1},
    ]
    return {"references": [{"name": "codec resynthesis", "wer": codec_wer}], "sweep": sweep}


def test_targets_compare_against_the_codec_and_soundstorm():
    checks = bench_acoustic.check_targets(_figures(codec_wer=0.10, group4=0.14, soundstorm16=0.13))
    by = {(c["target"].split()[0], c["setting"]): c["met"] for c in checks}
    assert by[("WER", "group@2")] is True  # 0.14 <= 1.5 x 0.10
    assert by[("similarity", "group@2")] is True and by[("similarity", "soundstorm@16")] is False
    assert checks[-1]["met"] is True  # 0.14 <= 1.1 x 0.13
    checks = bench_acoustic.check_targets(_figures(codec_wer=0.05, group4=0.16, soundstorm16=0.10))
    assert checks[0]["met"] is False and checks[-1]["met"] is False


def test_bad_settings_are_refused_before_any_work(items):
    synth = DialogueSynthesizer(acoustic="/nonexistent.pt")
    with pytest.raises(UserInputError, match="out of range"):
        bench_acoustic.measure(synth, items, methods=("group",), iterations=(0,), transcriber=object())
    with pytest.raises(UserInputError, match="unknown"):
        bench_acoustic.measure(synth, items, methods=("maskgit",), iterations=(1,), transcriber=object())


def test_speed_ratios_against_both_baselines_in_one_run(run_result):
    codec = load_codec()
    synth = DialogueSynthesizer(codec=codec, acoustic=tiny_model(codec))
    rows = bench_acoustic.measure_speed(synth, frames=(20,), log=lambda m: None)
    methods = {r["method"] for r in rows}
    assert {"AR delay pattern", "AR flattened"} <= methods and len(methods) >= 5
    flat = next(r for r in rows if r["method"] == "AR flattened")
    assert flat["passes_or_steps"] == 20 * codec.n_q  # one step per token
    for r in rows:
        assert r["median_s"] > 0 and r["x_vs_flattened"] == pytest.approx(flat["median_s"] / r["median_s"])
    figures = json.loads((run_result[1] / "acoustic_figures.json").read_text())
    figures["speed"] = rows
    (section,) = bench_acoustic.sections(figures)
    speed = section.items[-1]
    assert isinstance(speed, Table) and len(speed.rows) == len(rows) and "x_vs_delay" in speed.columns
    assert "the last table" in section.text


def test_command_line_refuses_bad_sweeps_before_loading_models(capsys):
    assert (
        bench_acoustic.main(["--methods", "group", "--iterations", "spans:1,4", "--acoustic", "/missing.pt"])
        == 2
    )
    assert "not among the methods" in capsys.readouterr().err
    assert (
        bench_acoustic.main(["--methods", "group,spans", "--iterations", "1,99", "--acoustic", "/missing.pt"])
        == 2
    )
    assert "out of range" in capsys.readouterr().err


def test_iterations_per_method():
    counts = bench_acoustic.check_sweep(("group", "spans"), {"spans": (1, 4)})
    assert counts == {"group": bench_acoustic.ITERATIONS, "spans": (1, 4)}
