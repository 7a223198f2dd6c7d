"""The app's handlers with a tiny acoustic model: the page as built, messages in place, audio before the
views, the comparison streamed, the decoding views, the reports, waiting for a turn. The inputs (transcript
reading, slots, clips, turn editor, voices): tests/test_ui_inputs.py."""

import logging
import re
import wave

import gradio as gr
import numpy as np
import pytest

from engine.acoustic.decoding import DEFAULT_GUIDANCE, DEFAULT_STEPS
from engine.demos import demo_voices, list_demos
from engine.pipeline import DialogueSynthesizer, planning
from engine.ui import blocks, handlers, synthesis
from engine.ui.speakers import SLOTS
from tests.test_pipeline import tiny_model
from tests.ui_helpers import (
    FOUR_TURNS,
    N_SLOT,
    SETTING_VALUES,
    STATUS,
    VOICE_WORDS,
    Progress,
    generate,
    is_skip,
    page_generate,
    speaker_values,
)

# The generation settings, in the order the /generate endpoint takes them (page ids use hyphens).
SETTINGS = ["method", "iterations", "temperature", "guidance", "seed", "voice_match", "pace_check"]
PAGE_IDS = [
    "transcript",
    "transcript-status",
    "turns-tab",
    *[
        f"{kind}-{s}"
        for kind in ("voice", "demo-voice", "voice-text", "rate", "voice-status", "slot")
        for s in SLOTS
    ],
    *[name.replace("_", "-") for name in SETTINGS],
    "run-status",
    "check-btn",
    "generate-btn",
    "compare-btn",
    "dialogue-audio",
    "report",
    "view-window",
    "fill-in",
    "decoder-step",
    "confidence-heatmap",
    "steps-chart",
    "spectrogram",
    "downloads",
    "compare-tab",
    "compare-status",
    "compare-results",
    "demo-select",
]

pytestmark = pytest.mark.usefixtures("one_thread")


# The page as built ----------------------------------------------------------------------------------------


def test_page_builds_with_the_ids_and_endpoints_the_browser_test_uses():
    app = blocks.build_app()
    assert isinstance(app, gr.Blocks)
    ids = {getattr(block, "elem_id", None) for block in app.blocks.values()}
    assert set(PAGE_IDS) <= ids
    api = app.get_api_info()["named_endpoints"]
    assert set(api) == {"/check", "/generate", "/stream", "/compare", "/stop"}
    names = [p["parameter_name"] for p in api["/generate"]["parameters"]]
    assert names == ["transcript", *SETTINGS] + [name for name, _ in handlers.SPEAKER_PARAMETERS]
    assert [p["parameter_name"] for p in api["/stream"]["parameters"]] == names
    assert api["/stop"]["parameters"] == []
    assert [r["label"] for r in api["/generate"]["returns"]][:2] == ["Dialogue", "Report"]
    demo_select = next(b for b in app.blocks.values() if getattr(b, "elem_id", None) == "demo-select")
    assert {value for _, value in demo_select.choices} == {demo.name for demo in list_demos()}


def test_every_api_input_but_the_transcript_may_be_left_out():
    """Issue 23, point 8: the README's example left voice_text_s2 out and was refused."""
    api = blocks.build_app().get_api_info()["named_endpoints"]
    for endpoint in ("/check", "/generate", "/stream", "/compare"):
        required = [
            p["parameter_name"] for p in api[endpoint]["parameters"] if not p["parameter_has_default"]
        ]
        assert required == [], (endpoint, required)
        defaults = {p["parameter_name"]: p["parameter_default"] for p in api[endpoint]["parameters"]}
        # An API call that names no voice must not get one from the page's opening voices.
        assert all(defaults[f"voice_{s.lower()}"] is None for s in SLOTS)
        assert all(defaults[f"demo_voice_{s.lower()}"] is None for s in SLOTS)


def test_progress_shows_on_one_output_of_each_event():
    """Issue 23, point 10: the progress bar was repeated on every output of Generate (six boxes)."""
    app = blocks.build_app()
    config = app.get_config_file()
    by_id = {c["id"]: c["props"].get("elem_id") for c in config["components"]}
    for dependency in config["dependencies"]:
        if len(dependency["outputs"]) > 2 and dependency.get("show_progress") != "hidden":
            shown = dependency.get("show_progress_on") or dependency["outputs"]
            assert len(shown) == 1, (
                [by_id.get(i) for i in dependency["outputs"]],
                dependency.get("api_name"),
            )


def test_picking_a_decoder_sets_its_default_iterations_and_guidance():
    app = blocks.build_app()
    by_id = {getattr(b, "elem_id", None): b for b in app.blocks.values()}
    assert by_id["iterations"].value == DEFAULT_STEPS["group"]
    for method in ("soundstorm", "spans", "group"):
        iterations, guidance = blocks._defaults_for(method)
        assert iterations.value == DEFAULT_STEPS[method] and guidance.value == DEFAULT_GUIDANCE[method]


def test_warm_up_loads_the_models_and_survives_a_missing_one(monkeypatch, codec, tmp_path, caplog):
    synth = DialogueSynthesizer(codec=codec, acoustic=tiny_model(codec))
    monkeypatch.setattr(synthesis, "_synthesizer", synth)
    handlers.warm_up()
    assert synth.loaded
    monkeypatch.setattr(synthesis, "_synthesizer", DialogueSynthesizer(acoustic=tmp_path / "missing.pt"))
    with caplog.at_level(logging.ERROR):
        handlers.warm_up()  # logged, not raised: the first Generate shows the message in the page
    assert any("missing.pt" in str(record.exc_info[1]) for record in caplog.records if record.exc_info)


# 1. The page opens on a dialogue that generates -----------------------------------------------------------


def test_the_page_opens_with_built_in_voices_for_its_example(tiny_synthesizer):
    transcript, *rest = handlers.opening_voices()
    clips, names, texts, status = (rest[k * N_SLOT : (k + 1) * N_SLOT] for k in range(4))
    assert is_skip(transcript)  # the example stays as built
    assert (
        names[:2] == [handlers.OPENING_VOICES["S1"], handlers.OPENING_VOICES["S2"]]
        and names[2:] == [None] * 6
    )
    assert clips[0] == str(demo_voices()[names[0]]) and texts[0] and "built-in voice" in status[0]
    (audio, files, report, decoded), statuses = page_generate(blocks.EXAMPLE, clips[:2], texts=texts[:2])
    assert audio.value is not None and len(files) == 2 and "2 turns" in report
    assert isinstance(decoded, handlers.Decoded) and statuses[STATUS["run"]].startswith("✓")


# 2. Messages in place, previous outputs kept and marked -------------------------------------------------


def test_a_bad_transcript_is_shown_under_the_dialogue_and_the_old_outputs_stay_marked(
    tiny_synthesizer, voice
):
    (_, _, report, decoded), _ = page_generate(FOUR_TURNS, [voice, voice])
    (audio2, files2, report2, decoded2), statuses = page_generate(
        "[S1] Hello.\n<S2> Bad tag.", [voice, voice], previous_report=report, kept=decoded
    )
    assert statuses[STATUS["transcript"]].startswith("✗ Line 2") and "&lt;S2&gt;" in statuses[0]
    assert "under the dialogue" in statuses[STATUS["run"]]
    assert is_skip(files2) and decoded2 is None  # the downloads and the views stay as they were
    assert (
        audio2.value is None and "earlier Generate" in audio2.label
    )  # the player keeps its audio, relabelled
    assert report2.startswith("> ⚠ **Out of date:**") and report in report2


def test_a_missing_voice_is_shown_under_its_slot(tiny_synthesizer, voice):
    _, statuses = page_generate(FOUR_TURNS, [voice])
    assert statuses[STATUS["S2"]].startswith("✗ S2 speaks in turn 2 (line 2) but has no voice")
    assert "under voice slot S2" in statuses[STATUS["run"]]
    _, statuses = page_generate(FOUR_TURNS, [voice, voice], temperature=9.0)  # a setting: above the buttons
    assert statuses[STATUS["run"]].startswith("✗ Temperature 9.0 is out of range")


def test_an_unexpected_failure_is_shown_and_logged(tiny_synthesizer, voice, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(tiny_synthesizer, "stream", broken)
    with caplog.at_level(logging.ERROR):
        _, statuses = page_generate(FOUR_TURNS, [voice, voice])
    assert "failed unexpectedly" in statuses[STATUS["run"]] and "disk on fire" in statuses[STATUS["run"]]
    with caplog.at_level(logging.ERROR), pytest.raises(gr.Error, match="failed unexpectedly") as err:
        generate(FOUR_TURNS, [voice, voice])  # the API raises
    assert "server log" in err.value.message
    assert any(record.exc_info and "disk on fire" in str(record.exc_info[1]) for record in caplog.records)


def test_api_errors_are_raised_with_readable_text(tiny_synthesizer, voice):
    with pytest.raises(gr.Error, match="S2 speaks in turn 2 .line 2. but has no voice"):
        generate(FOUR_TURNS, [voice])
    with pytest.raises(gr.Error, match="not a built-in voice"):
        generate(FOUR_TURNS, [voice], demos=[None, "no-such-voice"])
    with pytest.raises(gr.Error, match="Seed must be a whole number"):
        generate(FOUR_TURNS, [voice, voice], seed=1.5)
    with pytest.raises(gr.Error) as err:
        handlers.check_dialogue("<S1> hi", *speaker_values([voice]))
    assert "&lt;S1&gt; hi" in err.value.message and "<S1>" not in err.value.message


@pytest.mark.parametrize(
    ("transcript", "expected"), [("", "empty"), ("<S1> hi", r"\[S1\]"), ("[S1] привет", "Cyrillic")]
)
def test_bad_transcripts_are_shown_by_check(transcript, expected, voice):
    report, *statuses = handlers.page_check(transcript, *speaker_values([voice]))
    assert is_skip(report) and re.search(expected, statuses[STATUS["transcript"]])
    assert "Traceback" not in statuses[STATUS["transcript"]]


# 3. Audio and downloads first, the views after -------------------------------------------------------


def test_generate_delivers_audio_and_downloads_then_the_views(tiny_synthesizer, voice):
    (audio, files, report, decoded), statuses = page_generate(FOUR_TURNS, [voice, voice], rates=[1.0, 1.5])
    rate, samples = audio.value["path"], None
    with wave.open(rate) as wav:
        samples = wav.getnframes()
    assert samples > 16000 and "4 turns" in report and "S2 x1.5" in report
    assert [f.rsplit(".", 1)[1] for f in files] == ["wav", "mp3"]
    assert "audio and downloads after" in statuses[STATUS["run"]]
    fill_in, _, confidence, steps, spectrogram, _, kept, run = handlers.page_draw(
        decoded, statuses[STATUS["run"]]
    )
    assert kept is decoded and "Decoding views drawn in" in run
    for image in (fill_in, confidence, steps, spectrogram):
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[1] >= 1000
    assert all(is_skip(x) for x in handlers.page_draw(None, ""))  # nothing to draw after a failure


def test_the_api_yields_the_audio_before_the_figures(tiny_synthesizer, voice):
    steps = handlers.generate_dialogue(FOUR_TURNS, *SETTING_VALUES.values(), *speaker_values([voice, voice]))
    first = next(steps)
    (rate, samples), report = first[:2]
    assert len(samples) > rate and "4 turns" in report
    assert all(is_skip(update) for update in first[2:])
    final = next(steps)
    assert np.array_equal(final[0][1], samples) and len(final) == 7
    assert [f.rsplit(".", 1)[1] for f in final[-1]] == ["wav", "mp3"]
    assert next(steps, None) is None


def test_the_pace_check_box_reaches_the_pipeline(tiny_synthesizer, voice, monkeypatch):
    heard = set()

    def fake(wave, sample_rate, plan, clip):  # "Hi, how are you?" heard 1.4 x too fast the first time
        ratio = 1.4 if plan.text == "Hi, how are you?" and plan.text not in heard else 1.0
        heard.add(plan.text)
        return ratio

    monkeypatch.setattr(planning, "heard_ratio", fake)
    (_, _, report, _), _ = page_generate(FOUR_TURNS, [voice, voice], pace_check=True)
    assert "pace check on" in report and "turn(s) 2 came out more than 20 % off the clip's pace" in report
    heard.clear()
    (_, _, report, _), _ = page_generate(FOUR_TURNS, [voice, voice], pace_check=False)
    assert "pace check off" in report and "off the clip's pace" not in report


# 6. Compare streams each run --------------------------------------------------------------------------


def test_compare_streams_each_player_as_its_run_finishes(tiny_synthesizer, voice):
    updates = list(
        handlers.page_compare(
            "[S1] Hello there.\n[S2] Hi!",
            "group",
            1.0,
            1.0,
            3,
            0.5,
            False,
            *speaker_values([voice, voice]),
            progress=Progress(),
        )
    )
    n = len(handlers.COMPARE_ITERATIONS)
    assert len(updates) == 1 + n
    tabs, *first = updates[0]
    assert tabs.selected == "compare-tab" and all(p.value is None for p in first[:n])
    clips = []
    for k, update in enumerate(updates[1:]):
        players = update[1 : 1 + n]
        ready = [p for p in players if not is_skip(p)]
        assert len(ready) == 1 and players.index(ready[0]) == k  # exactly this run's player, as it finishes
        iterations = handlers.COMPARE_ITERATIONS[k]
        assert re.fullmatch(rf"{iterations} iterations?, made in \d+\.\d s", ready[0].label)
        with wave.open(ready[0].value["path"]) as wav:
            clips.append(wav.readframes(wav.getnframes()))
        assert f"{k + 1} of {n} runs ready" in update[2 + n]
    assert len(set(clips)) == n and min(len(c) for c in clips) > 2 * 16000
    assert all(f"\n| {it} | " in updates[-1][1 + n] for it in handlers.COMPARE_ITERATIONS)


def test_compare_api_returns_every_iteration_count(tiny_synthesizer, voice):
    progress = Progress()
    *players, table = handlers.compare_iterations(
        "[S1] Hello there.\n[S2] Hi!",
        "group",
        1.0,
        1.0,
        3,
        0.5,
        False,
        *speaker_values([voice, voice]),
        progress=progress,
    )
    assert len(players) == 5 and all(f"\n| {n} | " in table for n in handlers.COMPARE_ITERATIONS)
    fractions = [f for f, _ in progress.updates]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert any("run 5/5, 16 iterations: turns 1-2 of 2: acoustic iteration 33/33" in (d or "") for _, d in progress.updates)


# 9. Decoding views ------------------------------------------------------------------------------------


def test_the_step_slider_counts_the_decoders_own_steps(tiny_synthesizer, voice):
    (_, _, _, decoded), _ = page_generate(FOUR_TURNS, [voice, voice], iterations=2)
    slider = handlers.step_slider(decoded.view)
    assert decoded.view.iterations == 5  # group, 2 iterations: pitch 2 steps, spectrum 2 + 1 fine pass
    assert slider.maximum == slider.value == 5 and "made 5" in slider.label
    assert slider.info.startswith(
        "1-2: group 0 coarse (level 0); 3-4: group 1 coarse (level 1); 5: group 1 fine"
    )
    first = handlers.redraw_step(decoded, 1, None)
    last = handlers.redraw_step(decoded, 5, None)
    assert first[0].shape == last[0].shape and not np.array_equal(first[0], last[0])
    assert handlers.redraw_step(None, 3, None) == (gr.skip(),) * 3


def test_a_turn_can_be_picked_and_the_views_share_the_audios_seconds(tiny_synthesizer, voice):
    (_, _, _, decoded), _ = page_generate(FOUR_TURNS, [voice, voice])
    *_, window, _, _ = handlers.page_draw(decoded, "")
    labels = [label for label, _ in window.choices]
    assert labels[0].startswith("whole dialogue") and labels[3].startswith("turn 3 · S1 ·")
    whole = handlers.redraw_window(decoded, 5, window.choices[0][1])
    turn_3 = handlers.redraw_window(decoded, 5, window.choices[3][1])
    assert not np.array_equal(whole[2], turn_3[2])  # the spectrogram shows the turn alone


def test_words_of_the_report_emoji_and_stage_directions(tiny_synthesizer, voice):
    """Issue 23, point 10: emoji dropped and (laughs) left unspoken without a word in the Generate report."""
    (_, _, report, _), _ = page_generate("[S1] Great news 🎉 today.\n[S2] (laughs) Really?", [voice, voice])
    assert "Turn 1: removed 1 symbol that cannot be spoken: '🎉'" in report
    assert "Turn 2: (laughs) is a stage direction and not spoken" in report


def test_check_reads_as_a_table_not_a_phone_dump(voice):
    report, *_ = handlers.page_check(blocks.EXAMPLE, *speaker_values([voice, voice], texts=[VOICE_WORDS]))
    assert report.startswith("**Check: 2 turns, 2 speakers (S1, S2).**")
    assert "| 2 | 2 | S2 | I did, and they cost forty-two dollars and fifty cents! |" in report
    assert "(laughs)" in report and "<details><summary>Phones of each turn</summary>" in report
    assert report.index("<details>") > report.index("Notes:")  # the phones are folded away, last
    assert "the words given: " in report and "the sounds heard in the clip" in report
    report, *statuses = handlers.page_check(blocks.EXAMPLE, *speaker_values([voice, voice], texts=["привет"]))
    assert is_skip(report) and "The text given for S1's voice clip" in statuses[STATUS["S1"]]


def test_check_without_voices_checks_the_text():
    report, *_ = handlers.page_check("Alice: Hello.\nBob: Hi.\nBob: Again.", *speaker_values())
    assert "**Check: 3 turns, 2 speakers (Alice, Bob).**" in report


def test_download_names_say_the_settings(tiny_synthesizer, voice):
    (_, files, _, _), _ = page_generate(FOUR_TURNS, [voice, voice], seed=3)
    assert [f.rsplit("/", 1)[1] for f in files] == [
        "dialogue-group-2it-seed3.wav",
        "dialogue-group-2it-seed3.mp3",
    ]


# Waiting for a turn ------------------------------------------------------------------------------------


def test_a_waiting_synthesis_is_told_how_long_from_the_runs_measured():
    import threading
    import time

    from engine.ui.waiting import SynthesisLine

    line = SynthesisLine()
    started, messages, order = threading.Event(), [], []

    def first():
        with line.turn("generate", 100):
            started.set()
            order.append("first")
            time.sleep(1.5)

    thread = threading.Thread(target=first)
    thread.start()
    started.wait()
    with line.turn("generate", 100, messages.append):
        order.append("second")
        measured = line.seconds_per_word("generate") * 100  # the first run's: 1.5 s for 100 words
    thread.join()
    assert order == ["first", "second"]
    assert messages and messages[0].startswith("waiting for 1 synthesis ahead of yours: about ")
    assert 1.4 < measured < 3.0
