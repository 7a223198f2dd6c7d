"""bench/long_form on a tiny random acoustic model (its timings and memory do not depend on the weights): the
dialogues it builds, a whole dialogue measured in a fresh process, short jobs and stops through the app's
handlers, and the report's verdicts on figures given."""

import json
import os

import pytest

from bench.long_form import dialogues, lengths, line, machine, report
from bench.long_form.lengths import LengthFigures
from engine.acoustic.model import save_checkpoint
from engine.text.transcript import parse_transcript, speakers
from tests.test_pipeline import tiny_model

pytestmark = pytest.mark.usefixtures("one_thread")

PASS = [
    "[S1] Good morning, and welcome back.",
    "[S2] Thanks, it is good to be here again.",
    "[S3] Shall we start with the news?",
]


@pytest.fixture(scope="module")
def demos_dir(tmp_path_factory):
    """One demo of three turns: a pass of the long dialogues."""
    folder = tmp_path_factory.mktemp("demos") / "news"
    folder.mkdir()
    voices = {"S1": "rms-male", "S2": "slt-female", "S3": "en1-male"}
    (folder / "demo.json").write_text(json.dumps({"title": "news", "voices": voices}))
    (folder / "transcript.txt").write_text("\n".join(PASS) + "\n")
    return folder.parent


def test_the_long_dialogues_repeat_one_pass_of_the_demos():
    one = dialogues.demo_lines()
    three = dialogues.long_dialogue(3).splitlines()
    assert len(one) >= 15 and three == one * 3
    assert speakers(parse_transcript("\n".join(three))) == ["S1", "S2", "S3"]
    assert dialogues.short_dialogue().splitlines() == one[: dialogues.SHORT_TURNS]
    clips = dialogues.voice_clips()
    assert set(clips) == {"S1", "S2", "S3"} and all(path.is_file() for path in clips.values())


def test_a_whole_dialogue_is_measured_in_a_fresh_process(tmp_path, codec, demos_dir):
    pytest.importorskip("resemblyzer", reason="eval tools not installed: bash install.sh --dev")
    assert lengths.in_fresh_process(os.getpid) != os.getpid()
    checkpoint = tmp_path / "acoustic.pt"
    save_checkpoint(checkpoint, tiny_model(codec))
    clips = {speaker: str(path) for speaker, path in dialogues.voice_clips().items()}
    transcript = dialogues.long_dialogue(2, demos_dir)
    run = lengths.in_fresh_process(lengths.generate, transcript, clips, len(PASS), checkpoint, threads=1)
    assert isinstance(run, LengthFigures) and run.turns == 6 and run.pass_turns == 3
    assert len(run.chunk_s) >= 2 and run.first_audio_s == run.chunk_s[0]
    assert run.wall_s == pytest.approx(sum(run.chunk_s)) and run.rtf == pytest.approx(
        run.wall_s / run.audio_s
    )
    assert run.audio_s > 3.0
    assert 100 < run.rss_before_mb <= run.peak_mb  # the models were resident before the dialogue began
    assert len(run.levels_db) == 6 and all(abs(level + 20.0) < 1.5 for level in run.levels_db)
    assert set(run.similarity) == {"S1", "S2", "S3"}
    for speaker, (first, last, again) in run.similarity.items():
        assert len(again) == len(lengths.RESEEDS)
        assert all(x is None or -1.0 <= x <= 1.0 for x in (first, last, *again))
        # Every pass is scored; its ends are the first and last pass's figures.
        assert len(run.pass_similarity[speaker]) == 2
        assert run.pass_similarity[speaker][0] == first and run.pass_similarity[speaker][-1] == last


def test_short_jobs_wait_behind_a_long_one_and_a_stop_frees_the_line(tiny_synthesizer):
    long = dialogues.long_dialogue(3)
    waits = line.fair_waits(long, dialogues.short_dialogue(), dialogues.VOICES, [(1, 0.0), (2, 0.0)])
    assert len(waits) == 2
    for wait in waits:
        assert wait.long_was.startswith("turn") and 0 <= wait.waited_s < wait.total_s
    (stop,) = line.stop_times(long, dialogues.VOICES, [(2, 0.0)])
    assert stop.message.startswith("Stopped") and stop.long_was.startswith("turn")
    assert 0 < stop.line_free_s < 2.0 and stop.handler_done_s >= 0


def _run(chunk_s, peak_mb, rtf, levels, similarity, pass_similarity=None):
    wall = sum(chunk_s)
    return LengthFigures(
        turns=len(levels),
        pass_turns=2,
        audio_s=wall / rtf,
        first_audio_s=chunk_s[0],
        chunk_s=tuple(chunk_s),
        wall_s=wall,
        rss_before_mb=500.0,
        peak_mb=peak_mb,
        levels_db=tuple(levels),
        similarity=similarity,
        pass_similarity=pass_similarity or {},
    )


def test_the_report_says_which_targets_are_met():
    short = _run([0.5, 1.0, 3.0, 3.0], 800.0, 0.08, [-20.0] * 4, {})
    longest = _run(
        [0.6, 1.2, 2.0, 3.0, 9.0],  # the full chunks' median is 3.0 s: the first two are left out
        2100.0,
        0.12,
        [-20.3, -20.0, -19.0, -20.0],
        {"S1": (0.80, 0.79, (0.76, 0.81)), "S2": (0.70, 0.73, (0.71, None)), "S3": (None, 0.7, (0.7, 0.7))},
        {
            "S1": (0.80, 0.76, 0.78, 0.77, 0.80, 0.79),  # last three 0.787, first three 0.780
            "S2": (0.70, 0.70, None, 0.72, 0.74, 0.73),  # 0.730 against 0.700
            "S3": (None, 0.7, 0.7, 0.7),  # too few passes to pool three at each end
        },
    )
    figures = report.LongFormFigures(
        first_audio={"4 turns": [0.4, 0.5], "3 min": [0.5, 0.6], "15 min": [0.6, 0.9]},
        lengths={"3 min": short, "15 min": longest},
        waits=[line.Wait("turn 1", 2.5, 4.0), line.Wait("turns 2-5", 3.5, 5.0)],
        stops=[line.Stop("turns 6-9", 0.4, 0.5, "Stopped")],
        other_cores=0.1,
        threads=2,
    )
    assert report.full_chunk_s(longest) == 3.0
    assert report.drifts(longest) == pytest.approx({"S1": -0.01, "S2": 0.03})
    assert report.seed_spreads(longest) == pytest.approx({"S1": -0.04, "S2": 0.01})
    (section,) = report.sections(figures)
    text = section.text
    assert "slowest of 8 0.90 s; met." in text
    assert "RTF <= 0.1: 0.120 (2.2 min of audio in 16 s); **not met**." in text
    assert "2100 MiB (by length: 3 min 800, 15 min 2100 MiB); **not met**." in text
    assert "slowest of 1 0.40 s; met." in text
    assert "one chunk's time (3.00 s): longest wait of 2 3.50 s; **not met**." in text
    assert report.pooled_drifts(longest) == pytest.approx({"S1": 0.02 / 3, "S2": 0.03})
    assert (
        "largest change +0.030 (the first pass again at other seeds: up to -0.040; the first 3 passes against "
        "the last 3: +0.030); **not met**." in text
    )
    assert "the 4 turns span 1.30 dB; **not met**." in text
    assert "under load" not in text
    by_length, queue, consistency, per_pass = section.items
    assert per_pass.columns[1:7] == ("1", "2", "3", "4", "5", "6") and per_pass.rows[2][-1] is None
    assert [row[0] for row in by_length.rows] == ["4 turns", "3 min", "15 min"]
    assert by_length.rows[0][1:3] == ("0.45 / 0.50", None) and by_length.rows[2][-1] == 2100.0
    assert len(queue.rows) == 3 and [row[0] for row in consistency.rows] == ["S1", "S2", "S3"]
    assert consistency.rows[1][4] == "0.710, -"
    busy = report.LongFormFigures(**{**figures.__dict__, "other_cores": 1.2})
    assert "**Measured under load**" in report.sections(busy)[0].text


def test_other_load_counts_the_cpu_time_not_our_own(monkeypatch):
    clock = {"wall": 100.0, "all": 50.0, "own": 10.0}
    monkeypatch.setattr(machine.time, "monotonic", lambda: clock["wall"])
    monkeypatch.setattr(machine, "_all_busy_s", lambda: clock["all"])
    monkeypatch.setattr(machine, "_own_s", lambda: clock["own"])
    load = machine.OtherLoad()
    clock.update(wall=104.0, all=57.0, own=13.0)  # 7 s of CPU in 4 s, 3 s of it ours
    assert load.cores() == pytest.approx(1.0)
