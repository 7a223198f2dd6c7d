"""The app's handlers with a tiny acoustic model: what reaches the page, and readable errors (gr.Error)."""

import logging
import re
import wave

import gradio as gr
import numpy as np
import pytest

from engine.acoustic.decoding import DEFAULT_GUIDANCE, DEFAULT_STEPS
from engine.codec import load_codec
from engine.demos import demo_voice_words, demo_voices, list_demos
from engine.errors import UserInputError
from engine.pipeline import DialogueSynthesizer
from engine.ui import blocks, handlers
from engine.ui.plots import TraceView
from tests.conftest import espeak_to_wav
from tests.test_pipeline import tiny_model

VOICE_WORDS = "A short voice for the app test, a few seconds long."
FOUR_TURNS = "[S1] Hello there.\n[S2] Hi, how are you?\n[S1] Fine, thanks.\n[S2] Good to hear."
# The generation settings, in the order the /generate endpoint takes them (page ids use hyphens).
SETTINGS = ["method", "iterations", "temperature", "guidance", "seed", "voice_match"]
PAGE_IDS = [
    "transcript",
    *[f"{kind}-{s}" for kind in ("voice", "demo-voice", "voice-text", "rate") for s in handlers.SPEAKERS],
    *[name.replace("_", "-") for name in SETTINGS],
    "check-btn",
    "generate-btn",
    "compare-btn",
    "dialogue-audio",
    "report",
    "fill-in",
    "fill-in-iteration",
    "confidence-heatmap",
    "spectrogram",
    "downloads",
    "compare-results",
    "demo-select",
]


pytestmark = pytest.mark.usefixtures("one_thread")


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
    monkeypatch.setattr(handlers, "_synthesizer", module_synthesizer)
    monkeypatch.setattr(handlers, "OUTPUT_DIR", tmp_path / "out")
    return module_synthesizer


def speaker_values(uploads=(), demos=(), texts=(), rates=()):
    """The page's 16 per-speaker inputs: 4 clips, 4 built-in voice names, 4 texts of the clips, 4 rates."""

    def four(values, default):
        return [*values, *[default] * (4 - len(values))]

    return [*four(uploads, None), *four(demos, None), *four(texts, ""), *four(rates, 1.0)]


class Progress:
    """Stands in for gr.Progress: records (fraction, description)."""

    def __init__(self):
        self.updates = []

    def __call__(self, fraction, desc=None):
        self.updates.append((fraction, desc))


def generate(
    transcript,
    voices,
    method="group",
    iterations=2,
    temperature=1.0,
    guidance=1.0,
    seed=0,
    voice_match=0.5,
    **kw,
):
    """Run the generate handler to the end: its final outputs and the progress it reported."""
    progress = Progress()
    values = speaker_values(voices, **kw)
    *_, last = handlers.generate_dialogue(
        transcript, method, iterations, temperature, guidance, seed, voice_match, *values, progress=progress
    )
    return last, progress


def test_page_builds_with_the_ids_and_endpoints_the_browser_test_uses():
    app = blocks.build_app()
    assert isinstance(app, gr.Blocks)
    ids = {getattr(block, "elem_id", None) for block in app.blocks.values()}
    assert set(PAGE_IDS) <= ids
    api = app.get_api_info()["named_endpoints"]
    assert set(api) == {"/check", "/generate", "/compare"}
    names = [p["parameter_name"] for p in api["/generate"]["parameters"]]
    assert names == ["transcript", *SETTINGS] + [name for name, _ in handlers.SPEAKER_PARAMETERS]
    assert [r["label"] for r in api["/generate"]["returns"]][:2] == ["Dialogue", "Report"]
    demo_select = next(b for b in app.blocks.values() if getattr(b, "elem_id", None) == "demo-select")
    assert {value for _, value in demo_select.choices} == {demo.name for demo in list_demos()}


def test_picking_a_decoder_sets_its_default_iterations_and_guidance():
    app = blocks.build_app()
    by_id = {getattr(b, "elem_id", None): b for b in app.blocks.values()}
    assert by_id["iterations"].value == DEFAULT_STEPS["group"]
    for method in ("soundstorm", "spans", "group"):
        iterations, guidance = blocks._defaults_for(method)
        assert iterations.value == DEFAULT_STEPS[method] and guidance.value == DEFAULT_GUIDANCE[method]


def test_warm_up_loads_the_models_and_survives_a_missing_one(monkeypatch, codec, tmp_path, caplog):
    synth = DialogueSynthesizer(codec=codec, acoustic=tiny_model(codec))
    monkeypatch.setattr(handlers, "_synthesizer", synth)
    handlers.warm_up()
    assert synth.loaded
    monkeypatch.setattr(handlers, "_synthesizer", DialogueSynthesizer(acoustic=tmp_path / "missing.pt"))
    with caplog.at_level(logging.ERROR):
        handlers.warm_up()  # logged, not raised: the first Generate shows the message in the page
    assert any("missing.pt" in str(record.exc_info[1]) for record in caplog.records if record.exc_info)


def test_check_reports_the_dialogue(voice):
    report = handlers.check_dialogue(blocks.EXAMPLE, *speaker_values([voice, voice]))
    assert "2 turns, 2 speakers (S1, S2)" in report
    assert "forty-two dollars and fifty cents" in report


@pytest.mark.parametrize(
    ("transcript", "expected"), [("", "empty"), ("<S1> hi", r"\[S1\]"), ("[S1] привет", "Cyrillic")]
)
def test_bad_transcripts_are_page_errors(transcript, expected, voice):
    with pytest.raises(gr.Error, match=expected) as err:
        handlers.check_dialogue(transcript, *speaker_values([voice]))
    assert "Traceback" not in err.value.message


def test_error_messages_show_as_text_not_html(voice):
    with pytest.raises(gr.Error) as err:
        handlers.check_dialogue("<S1> hi", *speaker_values([voice]))
    assert "&lt;S1&gt; hi" in err.value.message and "<S1>" not in err.value.message


def test_check_without_voices_checks_the_text():
    report = handlers.check_dialogue("Alice: Hello.\nBob: Hi.", *speaker_values())
    assert "2 turns, 2 speakers (Alice, Bob)" in report


def test_generate_fills_every_output(tiny_synthesizer, voice):
    (audio, report, fill_in, slider, confidence, spectrogram, files, view), progress = generate(
        FOUR_TURNS, [voice, voice], rates=[1.0, 1.5]
    )
    rate, samples = audio
    assert rate == 16000 and samples.dtype == np.int16 and len(samples) > rate
    assert "4 turns" in report and "real-time factor" in report and "S2 x1.5" in report
    assert isinstance(view, TraceView) and view.speakers == ("S1", "S2", "S1", "S2")
    assert view.iterations == 5  # group, 2 iterations: pitch group 2 steps, spectrum group 2 + 1 fine pass
    assert slider.maximum == view.iterations and slider.value == view.iterations
    for image in (fill_in, confidence, spectrogram):
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[1] >= 1000
    assert [f.rsplit(".", 1)[1] for f in files] == ["wav", "mp3"]
    with wave.open(files[0]) as wav:
        assert wav.getframerate() == rate and wav.getnframes() == len(samples)
    fractions = [f for f, _ in progress.updates]
    assert fractions[0] == 0.0 and fractions == sorted(fractions)
    assert any("acoustic: iteration 2/" in (d or "") for _, d in progress.updates)


def test_audio_comes_before_the_figures(tiny_synthesizer, voice):
    steps = handlers.generate_dialogue(
        FOUR_TURNS, "group", 2, 1.0, 1.0, 0, 0.5, *speaker_values([voice, voice]), progress=Progress()
    )
    first = next(steps)
    (rate, samples), report = first[:2]
    assert len(samples) > rate and "4 turns" in report
    assert all(isinstance(update, type(gr.skip())) for update in first[2:])
    final = next(steps)
    assert np.array_equal(final[0][1], samples) and isinstance(final[-1], TraceView)
    assert next(steps, None) is None


def test_slider_redraws_from_the_kept_trace(tiny_synthesizer, voice, monkeypatch):
    (*_, view), _ = generate(FOUR_TURNS, [voice, voice])
    monkeypatch.setattr(handlers, "_synthesizer", None)  # redrawing must not synthesize again
    first, first_conf = handlers.redraw_trace(view, 1)
    last, _ = handlers.redraw_trace(view, view.iterations)
    assert first.shape == last.shape and not np.array_equal(first, last)
    assert first_conf.dtype == np.uint8
    assert handlers.redraw_trace(None, 3) == (None, None)


def test_built_in_voices_and_named_speakers(tiny_synthesizer):
    names = list(demo_voices())
    (_, report, *_), _ = generate("Alice: Hello there.\nBob: Hi!", [], demos=names[:2])
    assert "2 turns" in report
    voices, rates = handlers.resolve_voices(
        "[S2] Hi.\nAlice: Hello.", ["/a.wav", "/b.wav", None, None], [None] * 4, [0.8, 1.2, 1.0, 1.0]
    )
    assert voices == {"S2": "/b.wav", "Alice": "/a.wav"} and rates == {"S2": 1.2, "Alice": 0.8}


def test_an_upload_wins_over_a_built_in_voice(voice):
    voices, _ = handlers.resolve_voices(
        "[S1] Hi.", [voice, None, None, None], [next(iter(demo_voices()))] + [None] * 3, [1.0] * 4
    )
    assert voices == {"S1": voice}


def test_missing_voice_and_bad_settings_are_page_errors(tiny_synthesizer, voice):
    with pytest.raises(
        gr.Error,
        match="S2 speaks in turn 2 .line 2. but has no voice: upload or record a clip "
        "under 'Voice of S2', or pick a built-in voice for S2",
    ):
        generate(FOUR_TURNS, [voice])
    with pytest.raises(gr.Error, match="Eve .turn 5, line 5. is a fifth speaker"):
        generate("A: 1\nB: 2\nC: 3\nD: 4\nEve: 5", [voice] * 4)
    with pytest.raises(gr.Error, match="not a built-in voice"):
        generate(FOUR_TURNS, [voice], demos=[None, "no-such-voice"])
    with pytest.raises(gr.Error, match="Temperature 9.0 is out of range"):
        generate(FOUR_TURNS, [voice, voice], temperature=9.0)
    with pytest.raises(gr.Error, match="Seed must be a whole number"):
        generate(FOUR_TURNS, [voice, voice], seed=1.5)


def test_an_unexpected_failure_is_a_page_error_and_logged(tiny_synthesizer, voice, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(tiny_synthesizer, "synthesize", broken)
    with caplog.at_level(logging.ERROR), pytest.raises(gr.Error, match="failed unexpectedly") as err:
        generate(FOUR_TURNS, [voice, voice])
    assert "disk on fire" in err.value.message and "server log" in err.value.message
    assert any(record.exc_info and "disk on fire" in str(record.exc_info[1]) for record in caplog.records)


def test_compare_renders_every_iteration_count(tiny_synthesizer, voice):
    progress = Progress()
    *players, table = handlers.compare_iterations(
        "[S1] Hello there.\n[S2] Hi!",
        "group",
        1.0,
        1.0,
        3,
        0.5,
        *speaker_values([voice, voice]),
        progress=progress,
    )
    assert len(players) == len(handlers.COMPARE_ITERATIONS) == 5
    for n, player in zip(handlers.COMPARE_ITERATIONS, players, strict=True):
        assert re.fullmatch(rf"{n} iterations?, made in \d+\.\d s", player.label)
    clips = []
    for player in players:
        with wave.open(player.value["path"]) as wav:
            clips.append(wav.readframes(wav.getnframes()))
    assert min(len(clip) for clip in clips) > 2 * 16000  # over a second of 16-bit audio each
    assert len(set(clips)) == 5  # each iteration count decoded other tokens
    assert all(f"\n| {n} | " in table for n in handlers.COMPARE_ITERATIONS)
    fractions = [f for f, _ in progress.updates]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert any("run 5/5, 16 iterations: acoustic: iteration 33/33" in (d or "") for _, d in progress.updates)


def test_demos_load_into_the_page():
    demo = list_demos()[0]
    transcript, *rest = handlers.load_demo(demo.name)
    clips, names, texts = rest[:4], rest[4:8], rest[8:]
    assert transcript == demo.transcript
    assert clips[0] == str(demo.voices["S1"]) and names[0] in demo_voices()
    words = demo_voice_words()[demo.voices["S1"].resolve()]
    assert texts[0] == words and len(words.split()) > 5  # the clip's words, from voices.json
    assert [bool(t) for t in texts] == [clip is not None for clip in clips]
    assert handlers.pick_demo_voice(names[0]) == (str(demo_voices()[names[0]]), words)
    assert handlers.pick_demo_voice(None)[0] is None
    with pytest.raises(gr.Error, match="no demo called"):
        handlers.load_demo("nope")


def test_clip_words_reach_the_pipeline_by_speaker_name_and_the_report_shows_the_tempo(
    tiny_synthesizer, voice, monkeypatch
):
    calls, results = [], []
    synthesize = tiny_synthesizer.synthesize

    def spy(*args, **kwargs):
        calls.append(kwargs)
        results.append(synthesize(*args, **kwargs))
        return results[-1]

    monkeypatch.setattr(tiny_synthesizer, "synthesize", spy)
    # Bob is named second, so he takes slot S2 and the words typed under S2.
    (_, report, *_), _ = generate(
        "Alice: Hello there.\nBob: Hi, how are you?", [voice, voice], texts=["", VOICE_WORDS]
    )
    assert calls[0]["voice_texts"] == {"Bob": VOICE_WORDS}
    ((name, tempo),) = results[0].settings.tempos
    assert name == "Bob" and 2 / 3 <= tempo <= 3 / 2
    assert f"tempo from the clip's words: Bob x{tempo:.2f}" in report
    ((name, heard),) = results[0].settings.heard_tempos  # Alice's clip has no words: its phones are heard
    assert name == "Alice" and f"tempo from the phones heard in the clip: Alice x{heard:.2f}" in report


def test_words_that_cannot_be_the_clip_are_a_page_error(tiny_synthesizer, voice):
    with pytest.raises(gr.Error, match="The text given for S1's voice clip would take about") as err:
        generate(FOUR_TURNS, [voice, voice], texts=["Hi."])
    assert "leave its text empty" in err.value.message and "Traceback" not in err.value.message


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
            *speaker_values([voice], demos=[None, built_in], texts=["  ", " My own words. "]),
            progress=Progress(),
        )
    assert calls[0]["voice_texts"] == {"S2": "My own words."}  # blank S1 left out, S2's typed words kept


def test_resolve_voice_texts_maps_slots_like_the_clips():
    texts = handlers.resolve_voice_texts(
        "[S2] Hi.\nAlice: Hello.\nBob: Hey.", ["alice words", "s2 words", "", None]
    )
    assert texts == {"S2": "s2 words", "Alice": "alice words"}  # Bob takes S3, whose box is empty
    assert handlers.resolve_voice_texts("<S1> hi", ["words", None, None, None]) == {"S1": "words"}


def test_check_reports_the_clip_words_and_refuses_unreadable_ones(voice):
    report = handlers.check_dialogue(blocks.EXAMPLE, *speaker_values([voice, voice], texts=[VOICE_WORDS]))
    assert f"words of S1's clip: {VOICE_WORDS!r}" in report and "words of S2" not in report
    with pytest.raises(gr.Error, match="The text given for S1's voice clip: .*Cyrillic"):
        handlers.check_dialogue(blocks.EXAMPLE, *speaker_values([voice, voice], texts=["привет"]))
