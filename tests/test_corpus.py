"""Corpus builder: sentence selection, splits, reserved voices, phone mapping per engine, a tiny build, resume."""

from __future__ import annotations

import json
import os
import shutil
import wave

import pytest

from engine.data import espeak, festival, flite, mbrola
from engine.data.build_corpus import BuildConfig, build, main, parse_engines, plan_eval, plan_train
from engine.data.manifest import MANIFEST_NAME, load_manifest
from engine.data.phones import ARPABET, BRITISH_NAMES, arpabet_to_phones, espeak_to_phones, label_segments
from engine.data.sentences import (
    Sentence,
    acceptable,
    candidate_utterances,
    dedup_key,
    fortune_texts,
    group_sentences,
    split_of,
    split_sentences,
)
from engine.data.voices import EVAL_SPEAKERS, TRAIN_SPEAKERS, Speaker
from engine.errors import UserInputError
from engine.text.phone_inventory import PHONE_SET

TEXTS = (
    "Hello there, how are you doing today?",
    "I'm fine, thanks. And you?",
    "Beam me up, Scotty!",
    "Where are the boys going tomorrow morning?",
)


def _needs_espeak() -> None:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed: run `bash install.sh --dev`")


def test_sentence_splitting_keeps_abbreviations_and_filters_junk():
    assert split_sentences("Mr. Smith went home. He slept! Did he? Yes.") == [
        "Mr. Smith went home.",
        "He slept!",
        "Did he?",
        "Yes.",
    ]
    assert acceptable("A visit to a strange place will bring fresh work.")
    for bad in (
        "Too short.",
        "See http://example.com for the details of this offer.",
        "Use if (x == 1) { return y; } in your code here.",
        "Caf\u00e9 au lait is what she ordered this morning.",
        "THIS IS ALL SHOUTING AND NOBODY LIKES IT AT ALL.",
        " ".join(["word"] * 31) + ".",
        "and then it went on without a capital letter.",
    ):
        assert not acceptable(bad), bad
    assert group_sentences(["One two three.", "Four five six.", " ".join(["x"] * 17) + "."]) == [
        "One two three. Four five six.",
        " ".join(["x"] * 17) + ".",
    ]


def test_fortunes_are_read_per_cookie_without_attributions(tmp_path):
    (tmp_path / "wisdom").write_text(
        "A gift of a flower will soon be made to you.\n%\nThe early bird gets the worm,\nbut the second mouse"
        " gets the cheese.\n\t\t-- Steven Wright\n%\n"
    )
    (tmp_path / "wisdom.dat").write_bytes(b"\0binary")
    texts = list(fortune_texts(str(tmp_path)))
    assert texts == [
        ("fortune/wisdom", "A gift of a flower will soon be made to you."),
        ("fortune/wisdom", "The early bird gets the worm, but the second mouse gets the cheese."),
    ]
    assert [u for _, u in candidate_utterances(texts)] == [t for _, t in texts]


def test_split_is_by_sentence_deterministic_and_proportioned():
    texts = [f"Sentence number {i} is here, said the narrator." for i in range(4000)]
    splits = [split_of(t) for t in texts]
    assert splits == [split_of(t) for t in texts]
    # The same sentence written differently (case, punctuation) is one sentence, so it lands in one split.
    assert (
        split_of("Hello, World!") == split_of("hello world") and dedup_key("Hello, World!") == "hello world"
    )
    share = {s: splits.count(s) / len(splits) for s in ("train", "valid", "eval")}
    assert 0.01 < share["eval"] < 0.03 and 0.02 < share["valid"] < 0.05 and share["train"] > 0.9
    sentences = [Sentence(t, "test", s) for t, s in zip(texts, splits)]
    spoken = sum(s.split != "eval" for s in sentences)
    jobs = [job for job, _ in zip(plan_train(sentences, TRAIN_SPEAKERS, seed=0), range(3 * spoken))]
    assert all(job.split == split_of(job.text) != "eval" for job in jobs)
    assert len({job.id for job in jobs}) == len(jobs)
    by_text: dict[str, set[str]] = {}
    for job in jobs:
        by_text.setdefault(job.text, set()).add(job.speaker.id)
    assert all(len(speakers) == 3 for speakers in by_text.values())  # three passes, three different voices
    again = [job.id for job, _ in zip(plan_train(sentences, TRAIN_SPEAKERS, seed=0), range(500))]
    assert again == [job.id for job in jobs[:500]]


def test_reserved_voices_never_in_train_or_valid():
    assert len({s.id for s in TRAIN_SPEAKERS}) == len(TRAIN_SPEAKERS) >= 40
    assert not any(s.reserved for s in TRAIN_SPEAKERS)
    assert all(s.reserved for s in EVAL_SPEAKERS)
    assert {(s.engine, s.voice) for s in EVAL_SPEAKERS} == {
        ("mbrola", "us3"),
        ("mbrola", "de6"),
        ("mbrola", "fr4"),
        ("flite", "awb"),
        ("festival", "ked_diphone"),
        ("kokoro", "jf_tebukuro"),
        ("rhvoice", "clb"),
    }
    sentences = [
        Sentence(f"Text {i} goes here today.", "t", s) for i, s in enumerate(["train", "valid", "eval"] * 4)
    ]
    with pytest.raises(ValueError, match="reserved"):
        next(plan_train(sentences, [TRAIN_SPEAKERS[0], EVAL_SPEAKERS[0]], seed=0))
    eval_jobs = plan_eval(sentences, EVAL_SPEAKERS, per_voice=3)
    assert len(eval_jobs) == 3 * len(EVAL_SPEAKERS) and all(job.split == "eval" for job in eval_jobs)
    assert len({job.id for job in eval_jobs}) == 3 * len(EVAL_SPEAKERS)
    # only 4 eval sentences per voice
    assert len(plan_eval(sentences, EVAL_SPEAKERS, per_voice=6)) == 4 * len(EVAL_SPEAKERS)


def test_label_segments_pause_convention():
    segments = [
        ("_", 0.0, 0.1),
        ("h", 0.1, 0.2),
        ("_:", 0.2, 0.3),
        ("aU@", 0.3, 0.5),
        ("_!", 0.5, 0.52),
        ("_:", 0.52, 0.6),
        ("_", 0.6, 0.7),
    ]
    labelled = label_segments(segments, espeak_to_phones)
    assert [p for p, _, _ in labelled] == ["_", "h", "_", "aU", "3", "_."]
    assert labelled[3] == ("aU", 0.3, 0.4) and labelled[-1] == ("_.", 0.5, 0.7)
    assert [
        p for p, _, _ in label_segments([("pau", 0, 1), ("hh", 1, 2), ("pau", 2, 3)], arpabet_to_phones)
    ] == ["_", "h", "_."]


def test_phone_tables_land_in_the_inventory():
    for table in (ARPABET, BRITISH_NAMES):
        for phones in table.values():
            assert set(phones) <= set(PHONE_SET)
    with pytest.raises(KeyError):
        espeak_to_phones("not-a-phoneme")


def test_align_events_to_pho_handles_drift_and_split_phonemes():
    # "A@" is rendered as two mbrola phones; the library's pause event is 40 ms longer than the .pho pause.
    events = (("h", 1000), ("A@", 2120), ("_:", 2600), ("s", 5640), ("_", 7000))
    pho = [("h", 70.0), ("A", 13.0), ("r", 17.0), ("_", 150.0), ("s", 85.0), ("_", 5.0)]
    aligned = mbrola.align_events_to_pho(events, 16000, pho)
    assert [name for name, _, _ in aligned] == ["h", "A@", "_:", "s", "_"]
    assert aligned[1][1:] == pytest.approx((0.07, 0.1)) and aligned[3][1:] == pytest.approx((0.25, 0.335))


def _engine_outputs(text: str) -> list[tuple[str, list, object]]:
    outputs = []
    for voice in ("en-us", "en+m3", "en-us+klatt"):
        out = espeak.synthesize(text, voice)
        outputs.append((voice, [(name, 0, 1) for name, _ in out.events], espeak_to_phones))
    for database, driver in (("us1", "mb-us1"), ("de4", "mb-de4-en"), ("fr1", "mb-fr1-en")):
        if mbrola.mbrola_available(database):
            _, _, segments = mbrola.synthesize(text, driver, database, 175, 50, 50)
            outputs.append((driver, segments, espeak_to_phones))
    if flite.flite_available("slt"):
        outputs.append(("flite slt", flite.synthesize(text, "slt")[2], arpabet_to_phones))
    return outputs


@pytest.mark.parametrize(
    "text",
    [
        "The quick brown fox jumps over the lazy dog, and runs away.",
        "Yes, I would like a cup of tea with milk, please.",
        "Where are the boys and girls going tomorrow morning?",
    ],
)
def test_every_engine_phone_maps_into_the_inventory(text):
    _needs_espeak()
    for voice, segments, mapper in _engine_outputs(text):
        assert segments, voice
        for name, _, _ in segments:
            phones = mapper(name)  # raises KeyError on an unmapped name
            assert isinstance(phones, str) or set(phones) <= set(PHONE_SET), (voice, name)


@pytest.mark.parametrize("voice", sorted({s.voice for s in TRAIN_SPEAKERS if s.engine == "festival"} | {"ked_diphone"}))
def test_festival_voices_map_and_take_a_rate(voice):
    if not festival.festival_available(voice):
        pytest.skip(f"festival with voice_{voice} is not installed (install.sh --corpus installs it)")
    text = "Where are the boys going tomorrow morning?"
    _, rate, segments = festival.synthesize(text, voice)
    assert [name for name, _, _ in segments].count("pau") >= 2, segments  # lead-in and end pauses
    assert all(isinstance(arpabet_to_phones(name), str) or arpabet_to_phones(name) for name, _, _ in segments)
    if voice.endswith("_hts"):
        with pytest.raises(ValueError, match="rate 1.0"):
            festival.synthesize(text, voice, rate=0.8)
        return
    audio, _, slower = festival.synthesize(text, voice, rate=0.8)
    assert len(slower) == len(segments)
    speech = [(a[2] - a[1], b[2] - b[1]) for a, b in zip(segments, slower) if a[0] != "pau"]
    assert sum(b for _, b in speech) / sum(a for a, _ in speech) == pytest.approx(1 / 0.8, rel=0.03)
    assert len(audio) / rate == pytest.approx(slower[-1][2], abs=0.05)


def _check_corpus(directory: str, expected: int) -> list:
    utterances = load_manifest(directory)
    assert len(utterances) == expected
    for u in utterances:
        with wave.open(u.wav_path) as handle:
            assert (handle.getframerate(), handle.getnchannels(), handle.getsampwidth()) == (16000, 1, 2)
            assert handle.getnframes() / 16000 == pytest.approx(u.duration, abs=1e-4)
        assert u.phones[0][1] == 0.0 and u.phones[-1][2] == pytest.approx(u.duration, abs=1e-3)
        assert all(
            p[2] == pytest.approx(q[1], abs=1e-6) and p[2] > p[1] for p, q in zip(u.phones, u.phones[1:])
        )
        assert all(p[0] in PHONE_SET for p in u.phones) and u.phones[-1][0] == "_."
        assert u.wav == f"wavs/{u.speaker}/{u.id}.wav" and u.sample_rate == 16000
    return utterances


def test_tiny_build_writes_a_valid_manifest_and_resumes(tmp_path):
    _needs_espeak()
    speakers = [Speaker("espeak", "en-us+f3", 1.1, 0.9)]
    if mbrola.mbrola_available("us1"):
        speakers.append(Speaker("mbrola", "us1", driver="mb-us1"))
    else:
        print("mbrola us1 not installed: tiny build without mbrola")
    if flite.flite_available("slt"):
        speakers.append(Speaker("flite", "slt", 0.9, 1.1))
    evaluators = [Speaker("mbrola", "us3", driver="mb-us3")] if mbrola.mbrola_available("us3") else []
    sentences = [Sentence(t, "test", s) for t, s in zip(TEXTS, ["train", "valid", "eval", "eval"])]
    config = BuildConfig(str(tmp_path), hours=0.0001, jobs=1, eval_per_voice=2, window=1)
    build(config, sentences, speakers, evaluators, log=lambda line: None)
    utterances = _check_corpus(str(tmp_path), expected=len(evaluators) * 2 + 1)
    assert {u.split for u in utterances} == ({"train", "eval"} if evaluators else {"train"}) or {
        u.split for u in utterances
    } == ({"valid", "eval"} if evaluators else {"valid"})
    summary = json.loads((tmp_path / "corpus.json").read_text())
    assert sum(summary["utterances"].values()) == len(utterances)

    # A larger target resumes: finished utterances are kept (same files), new ones appended.
    mtimes = {u.id: os.path.getmtime(u.wav_path) for u in utterances}
    build(
        BuildConfig(str(tmp_path), hours=1.0, jobs=1, eval_per_voice=2, window=1),
        sentences,
        speakers,
        evaluators,
        log=lambda line: None,
    )
    grown = _check_corpus(str(tmp_path), expected=len(evaluators) * 2 + 2 * len(speakers))
    assert all(os.path.getmtime(u.wav_path) == mtimes[u.id] for u in grown if u.id in mtimes)

    # An interrupted run: a torn last line is ignored and its utterance is made again.
    manifest = tmp_path / MANIFEST_NAME
    lines = manifest.read_text().splitlines(keepends=True)
    manifest.write_text("".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])
    assert len(load_manifest(str(tmp_path))) == len(grown) - 1
    build(
        BuildConfig(str(tmp_path), hours=1.0, jobs=1, eval_per_voice=2, window=1),
        sentences,
        speakers,
        evaluators,
        log=lambda line: None,
    )
    assert len(load_manifest(str(tmp_path))) == len(grown)
    assert [u.id for u in load_manifest(str(tmp_path), split="eval")] == [
        u.id for u in grown if u.split == "eval"
    ]


def test_bad_arguments_and_missing_manifest_are_user_errors(tmp_path, capsys):
    assert main(["--hours", "0", "--out", str(tmp_path)]) == 2
    assert "--hours 0.0 is not positive" in capsys.readouterr().err
    assert main(["--hours", "1", "--out", str(tmp_path), "--engines", "espeak,mbrolla"]) == 2
    assert "unknown mbrolla; choose from espeak,mbrola," in capsys.readouterr().err
    assert main(["--hours", "1", "--out", str(tmp_path), "--kokoro-mixes", "-5"]) == 2
    assert "--kokoro-mixes -5 is negative" in capsys.readouterr().err
    assert parse_engines(" espeak, flite ,") == ["espeak", "flite"]
    with pytest.raises(UserInputError, match="no engine named"):
        parse_engines(",")
    with pytest.raises(UserInputError, match="build_corpus"):
        load_manifest(str(tmp_path / "nothing"))
    with pytest.raises(UserInputError, match="split"):
        load_manifest(str(tmp_path), split="test")


def test_parallel_build_uses_worker_processes(tmp_path):
    if not flite.flite_available("kal16"):
        pytest.skip("flite is not installed (apt-get install flite)")
    speakers = [Speaker("flite", "kal16"), Speaker("flite", "kal16", 1.1, 1.2)]
    sentences = [Sentence(t, "test", "train") for t in TEXTS]
    build(
        BuildConfig(str(tmp_path), hours=1.0, jobs=2, window=2),
        sentences,
        speakers,
        [],
        log=lambda line: None,
    )
    utterances = _check_corpus(str(tmp_path), expected=2 * len(TEXTS))
    assert {u.speaker for u in utterances} == {s.id for s in speakers}
    assert (tmp_path / "engine_stderr.log").exists()  # written by the workers, not by this process


@pytest.mark.parametrize(
    "database,driver", [("sw2", "mb-sw2-en"), ("us3", "mb-us3"), ("us1", "mb-us1"), ("de2", "mb-de2-en")]
)
def test_mbrola_voices_have_every_diphone_they_are_given(database, driver):
    _needs_espeak()
    if not mbrola.mbrola_available(database):
        pytest.skip(f"mbrola voice {database} is not installed (apt-get install mbrola-{database})")
    text = "Lee reads three trees near the sea, and she is sleepy. I want a long song on the lawn. We have to give them five."
    pho = espeak.mbrola_pho(text, driver)
    fixed = mbrola.substitute_phones(pho, database)
    assert [d for _, d in mbrola.parse_pho(fixed)] == [d for _, d in mbrola.parse_pho(pho)]
    assert mbrola.render(fixed, database)[2] == []
    if database in mbrola.PHONE_SUBSTITUTIONS or database in mbrola.DEVOICE_FINAL_V:
        assert mbrola.render(pho, database)[2]  # without the substitution mbrola drops diphones


def test_final_v_is_devoiced_only_before_a_consonant_or_pause():
    pho = "_\t50\nv\t60\na\t80\nv\t60\nt\t70\nv\t60\n"
    fixed = mbrola.substitute_phones(pho, "de1")
    assert [name for name, _ in mbrola.parse_pho(fixed)] == ["_", "v", "a", "f", "t", "f"]
    assert mbrola.substitute_phones(pho, "de4") == pho
