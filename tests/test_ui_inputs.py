"""The app's inputs with a tiny acoustic model: `Name:` lines and how each line was read, a voice slot per
speaker, clips checked on upload, the turn editor, built-in voices, demos and the clip words."""

import re

import gradio as gr
import numpy as np
import pytest

from engine.demos import demo_voice_words, demo_voices, list_demos
from engine.errors import UserInputError
from engine.ui import handlers, reports
from engine.ui.inputs import read_page
from engine.ui.speakers import SLOTS, plan_speakers, visible_slots
from tests.audio_fixtures import write_wav
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

pytestmark = pytest.mark.usefixtures("one_thread")


# 4. Name: lines, and how each line was read -------------------------------------------------------------


def test_a_name_line_that_is_not_a_speaker_stays_text_and_the_reports_say_so(
    tiny_synthesizer, voice, monkeypatch
):
    text = "[S1] Listen to the plan.\nRemember: bring the tickets.\n[S2] Fine.\nNote: it starts at eight."
    calls = []
    stream = tiny_synthesizer.stream

    def spy(*args, **kwargs):
        calls.append(args[0])
        return stream(*args, **kwargs)

    monkeypatch.setattr(tiny_synthesizer, "stream", spy)
    (_, _, report, _), statuses = page_generate(text, [voice, voice])
    assert "2 turns" in report and "Listen to the plan. Remember: bring the tickets." in report
    assert "Line 2 ('Remember: ...') is read as text of turn 1 (S1)" in report
    assert "Kept as text, not speakers: line 2 ('Remember:'), line 4 ('Note:')" in statuses[0]
    assert calls[0].splitlines()[1] == "  Remember: bring the tickets."  # the pipeline reads it the same
    check, *_ = handlers.page_check(text, *speaker_values([voice, voice]))
    assert "Line 4 ('Note: ...') is read as text of turn 2 (S2)" in check


def test_a_name_with_a_voice_or_two_lines_is_a_speaker():
    text = "[S1] Hi.\nAlice: Hello.\n[S1] Bye.\nBob: See you.\nBob: Soon."
    plan = plan_speakers(text, filled={"S1"})  # Alice's slot (S2) has no voice: her line is text
    assert plan.speakers == ["S1", "Bob"] and plan.slots == {"S1": "S1", "Bob": "S2"}
    plan = plan_speakers(text, filled={"S1", "S2", "S3"})
    assert plan.slots == {"S1": "S1", "Alice": "S2", "Bob": "S3"}


# 5. A slot per speaker --------------------------------------------------------------------------------


def test_every_s_tag_has_its_own_slot_and_more_are_refused(tiny_synthesizer, voice):
    plan = plan_speakers("[S1] a\n[S7] b\nAlice: c", filled={"S1", "S7", "S2"})
    assert plan.slots == {"S1": "S1", "S7": "S7", "Alice": "S2"}
    assert visible_slots(plan, {"S1", "S7", "S2"}) == [True, True, True, False, False, False, True, False]
    page = read_page("[S1] a\n[S7] b", speaker_values([voice, voice]), require_voices=False)
    assert page.voices == {"S1": voice}  # S7 does not take S2's voice
    _, statuses = page_generate("[S1] a\n[S7] b", [voice, voice])
    assert statuses[STATUS["S7"]].startswith("✗ S7 speaks in turn 2")
    _, statuses = page_generate("[S1] a\n[S9] b", [voice] * 8)
    assert "S9 (turn 2, line 2) has no voice slot: the page has slots S1-S8" in statuses[0]
    nine = "\n".join(f"[P{k}] line {k}." for k in range(1, 10))
    _, statuses = page_generate(nine, [voice] * 8)
    assert "P9 (turn 9, line 9) would be speaker number 9" in statuses[0]


def test_eight_speakers_generate(tiny_synthesizer, voice):
    text = "\n".join(f"[S{k}] Line {k}." for k in range(1, 9))
    (_, _, report, decoded), _ = page_generate(text, [voice] * 8)
    assert "8 turns" in report and decoded.view.speakers == tuple(SLOTS)


def test_slot_headings_say_who_speaks_with_each():
    _, *rest = handlers.show_speakers("[S2] Hi.\nAlice: Hello.\nAlice: Again.", *[None] * 16)
    headings, shown = rest[:N_SLOT], rest[N_SLOT:]
    assert headings[0] == "**S1** · Alice, turns 2, 3" and headings[1] == "**S2** · turn 1"
    assert [g.visible for g in shown] == [True, True, True, False, False, False, False, False]


# 7. Clips checked on upload ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bad_clips(tmp_path_factory, voice):
    folder = tmp_path_factory.mktemp("clips")
    rate = 16000
    t = np.arange(5 * rate) / rate
    speech, speech_rate = __import__("soundfile").read(voice, dtype="float32")
    return {
        "silent": write_wav(folder / "silent.wav", np.zeros(3 * rate, np.float32), rate),
        "long": write_wav(
            folder / "long.wav", np.tile(speech, int(np.ceil(120 * speech_rate / len(speech)))), speech_rate
        ),
        "text": (folder / "notes.wav").write_text("these are my notes, not audio") and folder / "notes.wav",
        "tone": write_wav(folder / "tone.wav", (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate),
        "speech": write_wav(folder / "speech.wav", np.pad(speech, (speech_rate, speech_rate)), speech_rate),
    }


@pytest.mark.parametrize(
    ("clip", "expected"),
    [
        ("silent", "is silent"),
        ("long", r"is 12\d s long; voice prompts need at most 30 s"),
        ("text", "could not be read as audio"),
        ("tone", "steady tone at 44\\d Hz, not a voice"),
        ("speech", r"✓ speech.wav: [\d.]+ s of speech at 16 kHz \(resampled 22050 -&gt; 16000 Hz; trimmed"),
    ],
)
def test_clips_are_checked_on_upload(bad_clips, clip, expected):
    message = handlers.check_upload(str(bad_clips[clip]))
    assert re.search(expected, message), message
    assert message.startswith("✓" if clip == "speech" else "✗")


def test_a_tone_is_refused_at_generate_under_its_slot(tiny_synthesizer, voice, bad_clips):
    _, statuses = page_generate(FOUR_TURNS, [voice, str(bad_clips["tone"])])
    assert "steady tone" in statuses[STATUS["S2"]] and "under voice slot S2" in statuses[STATUS["run"]]


# The turn editor -------------------------------------------------------------------------------------


def test_turn_editor_moves_adds_for_the_next_speaker_and_deletes():
    turns = handlers.editor_turns(
        "[S1] One (laughs).\ncontinued\n[S2] Two.\nAlice: Three.\nAlice: Four.", ["S1", "S2"]
    )
    assert turns == [
        ("S1", "One (laughs). continued"),
        ("S2", "Two."),
        ("Alice", "Three."),
        ("Alice", "Four."),
    ]
    moved = handlers.edit_turns(turns, "up", 1)
    assert [s for s, _ in moved] == ["S2", "S1", "Alice", "Alice"]
    added = handlers.edit_turns(turns[:2], "add", 1)
    assert added[2] == ("S1", "")  # after S1, S2: S1 goes on
    assert handlers.edit_turns(turns[:1], "add", 0)[1] == ("S2", "")
    assert handlers.edit_turns(turns, "delete", 0)[0] == ("S2", "Two.")
    text = handlers.write_turns(handlers.edit_turns(turns, "speaker", 1, "Bob"))
    assert text.splitlines()[1] == "[Bob] Two." and len(plan_speakers(text).turns) == 4
    turns_back, text_back, version = handlers.editor_edit("down", 0)(turns, 3)
    assert turns_back[1][0] == "S1" and text_back.startswith("[S2] Two.") and version == 4
    assert is_skip(handlers.editor_edit("text", 0)(turns, 3, "New words")[2])  # typing does not redraw


def test_sync_editor_reads_the_text_or_says_it_cannot():
    turns, version = handlers.sync_editor("[S1] Hi.\n[S2] Ho.", 2, *[None] * 16)
    assert turns == [("S1", "Hi."), ("S2", "Ho.")] and version == 3
    assert handlers.sync_editor("<S1> hi", 3, *[None] * 16)[0] is None


# Voices, demos, clip words ---------------------------------------------------------------------------


def test_built_in_voices_and_named_speakers(tiny_synthesizer, voice):
    names = list(demo_voices())
    (_, report, *_), _ = generate("Alice: Hello there.\nBob: Hi!", [], demos=names[:2])
    assert "2 turns" in report
    page = read_page(
        "[S2] Hi.\nAlice: Hello.", speaker_values([voice], demos=[None, names[0]], rates=[0.8, 1.2])
    )
    assert page.voices == {"S2": str(demo_voices()[names[0]]), "Alice": voice}  # Alice takes the free S1
    assert page.rates == {"S2": 1.2, "Alice": 0.8}


def test_an_upload_wins_over_a_built_in_voice(voice):
    page = read_page("[S1] Hi.", speaker_values([voice], demos=[next(iter(demo_voices()))]))
    assert page.voices == {"S1": voice}


def test_the_first_four_slots_alone_are_accepted(tiny_synthesizer, voice):
    """bench/app.py passes the values of handlers.SPEAKERS (the first four slots) only."""
    values = [voice, voice, None, None] + [None] * 4 + [""] * 4 + [1.0] * 4
    *_, last = handlers.generate_dialogue(FOUR_TURNS, *SETTING_VALUES.values(), *values, progress=Progress())
    assert "4 turns" in last[1]


def test_demos_load_into_the_page():
    demo = list_demos()[0]
    transcript, *rest = handlers.load_demo(demo.name)
    clips, names, texts, status = (rest[k * N_SLOT : (k + 1) * N_SLOT] for k in range(4))
    assert transcript == demo.transcript
    assert clips[0] == str(demo.voices["S1"]) and names[0] in demo_voices()
    words = demo_voice_words()[demo.voices["S1"].resolve()]
    assert texts[0] == words and len(words.split()) > 5  # the clip's words, from voices.json
    assert [bool(t) for t in texts] == [clip is not None for clip in clips]
    assert status[0].startswith(f"✓ built-in voice {names[0]}: ")
    assert handlers.pick_demo_voice(names[0])[:2] == (str(demo_voices()[names[0]]), words)
    assert handlers.pick_demo_voice(None)[0] is None
    assert all(is_skip(x) for x in handlers.load_demo("nope"))


def test_clip_words_reach_the_pipeline_by_speaker_name_and_the_report_shows_the_tempo(
    tiny_synthesizer, voice, monkeypatch
):
    calls, results = [], []
    stream = tiny_synthesizer.stream

    def spy(*args, **kwargs):
        calls.append(kwargs)
        results.append(stream(*args, **kwargs))
        return results[-1]

    monkeypatch.setattr(tiny_synthesizer, "stream", spy)
    # Bob is named second, so he takes slot S2 and the words typed under S2.
    (_, report, *_), _ = generate(
        "Alice: Hello there.\nBob: Hi, how are you?", [voice, voice], texts=["", VOICE_WORDS]
    )
    assert calls[0]["voice_texts"] == {"Bob": VOICE_WORDS}
    ((name, tempo),) = results[0].result().settings.tempos
    assert name == "Bob" and 2 / 3 <= tempo <= 3 / 2
    assert f"tempo from the clip's words: Bob x{tempo:.2f}" in report
    ((name, heard),) = results[0].settings.heard_tempos  # Alice's clip has no words: its phones are heard
    assert name == "Alice" and f"tempo from the phones heard in the clip: Alice x{heard:.2f}" in report


def test_words_that_cannot_be_the_clip_are_shown_under_the_slot(tiny_synthesizer, voice):
    _, statuses = page_generate(FOUR_TURNS, [voice, voice], texts=["Hi."])
    message = statuses[STATUS["S1"]]
    assert (
        "The text given for S1's voice clip would take about" in message and "leave its text empty" in message
    )


def test_typed_words_win_over_a_built_in_voice_and_reach_compare(tiny_synthesizer, voice, monkeypatch):
    calls = []

    def spy(*args, **kwargs):
        calls.append(kwargs)
        raise UserInputError("stopped by the test")

    monkeypatch.setattr(tiny_synthesizer, "synthesize", spy)
    built_in = next(iter(demo_voices()))
    with pytest.raises(gr.Error, match="stopped by the test"):
        handlers.compare_iterations(
            FOUR_TURNS,
            "group",
            1.0,
            1.0,
            0,
            0.5,
            False,
            *speaker_values([voice], demos=[None, built_in], texts=["  ", " My own words. "]),
            progress=Progress(),
        )
    assert calls[0]["voice_texts"] == {"S2": "My own words."}  # blank S1 left out, S2's typed words kept


def test_clip_words_map_to_speakers_like_the_clips(voice):
    page = read_page(
        "[S2] Hi.\nAlice: Hello.\nBob: Hey.",
        speaker_values([voice] * 3, texts=["alice words", "s2 words", ""]),
    )
    assert page.texts == {"S2": "s2 words", "Alice": "alice words"}  # Bob takes S3, whose box is empty


def test_messages_show_as_text():
    assert reports.md("<S1> a_b *c*") == "&lt;S1&gt; a\\_b \\*c\\*"
