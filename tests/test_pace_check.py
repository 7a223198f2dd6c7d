"""The pace check (issue 21): a decoded turn heard off its clip's pace is planned and decoded once more. The
pace as heard, the correction, the decode splice, and the synthesizer's remake with a tiny random model (its
heard pace set by the test: a random model's sound has none)."""

import re

import numpy as np
import pytest
import soundfile as sf
import torch

from engine import pipeline
from engine.acoustic.decoding import decode_group
from engine.acoustic.trace import replace_turns
from engine.cli import main
from engine.pipeline import DialogueSynthesizer, planning
from engine.pipeline.pace_check import HEARD_TOLERANCE, MAX_FACTOR, correction, heard_ratio
from engine.semantic.t2s import SemanticPlan
from engine.text.phonemize import phonemize
from tests.conftest import espeak_to_wav
from tests.test_pipeline import DIALOGUE, _args, checkpoint, codec, tiny_model, voices  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("one_thread")


def test_correction_acts_only_beyond_the_tolerance_and_is_capped():
    edge = 1.0 + HEARD_TOLERANCE
    assert correction(None) is None
    assert (
        correction(1.0) is None and correction(edge * 0.999) is None and correction(1 / edge * 1.001) is None
    )
    assert correction(1.3) == pytest.approx(1.3)  # too fast: durations x1.3
    assert correction(0.7) == pytest.approx(0.7)  # too slow: shorter
    assert correction(3.0) == MAX_FACTOR and correction(0.2) == pytest.approx(1 / MAX_FACTOR)


def _plan(phones):
    return SemanticPlan("", (), tuple(phones), (), torch.zeros(0, dtype=torch.long), 4.0, 1.0)


def test_heard_pace_follows_the_speaking_rate(tmp_path):
    text = "The bridge opens on Monday, after four long years of work."
    plan = _plan(phonemize(text.lower()))
    ratios = []
    for speed in (120, 220):
        samples, rate = sf.read(espeak_to_wav(text, tmp_path / f"s{speed}.wav", speed=speed), dtype="float32")
        ratios.append(heard_ratio(samples, rate, plan, clip=4.0))
    assert ratios[1] / ratios[0] == pytest.approx(220 / 120, rel=0.25)  # faster speech is heard faster
    assert heard_ratio(samples, rate, _plan(phonemize("hello")), 4.0) is None  # 2 syllables: too few
    assert heard_ratio(np.zeros(rate, dtype=np.float32), rate, plan, 4.0) is None  # no speech


def test_replaced_turns_keep_the_others_and_their_own_iterations(codec):  # noqa: F811
    model = tiny_model(codec)
    first = decode_group(model, torch.randint(1, 30, (3, 20)), torch.tensor([20, 12, 16]), seed=0)
    again = decode_group(model, torch.randint(1, 30, (1, 25)), torch.tensor([25]), seed=1)
    out = replace_turns(first, [1], again)
    assert out.tokens.shape == (3, codec.n_q, 25) and out.lengths.tolist() == [20, 25, 16]
    assert torch.equal(out.tokens[1], again.tokens[0])
    assert torch.equal(out.tokens[0, :, :20], first.tokens[0, :, :20]) and (out.tokens[0, :, 20:] == -1).all()
    assert torch.equal(out.trace.fixed_counts().sum(0), out.lengths * codec.n_q)  # each token fixed once
    assert out.trace.forward_passes == first.trace.forward_passes + again.trace.forward_passes
    shorter = decode_group(model, torch.randint(1, 30, (1, 8)), torch.tensor([8]), seed=2)
    assert replace_turns(first, [0], shorter).tokens.shape[-1] == 16  # as long as the longest turn left
    with pytest.raises(ValueError, match="2 rows"):
        replace_turns(first, [0, 1], again)


@pytest.fixture(scope="module")
def synth(codec):  # noqa: F811
    return DialogueSynthesizer(codec=codec, acoustic=tiny_model(codec), prompt_seconds=2.0, pace_check=True)


def hear(monkeypatch, first_ratios):
    """Each turn (by its text) is heard at `first_ratios[text]` (default 1.0) the first time, 1.0 after."""
    heard = set()

    def fake(wave, sample_rate, plan, clip):
        ratio = 1.0 if plan.text in heard else first_ratios.get(plan.text, 1.0)
        heard.add(plan.text)
        return ratio

    monkeypatch.setattr(planning, "heard_ratio", fake)


def test_a_turn_heard_too_fast_is_made_again_slower(synth, voices, monkeypatch):  # noqa: F811
    hear(monkeypatch, {})
    plain = synth.synthesize(DIALOGUE, voices, seed=2)
    assert not any(t.remade for t in plain.turns) and plain.settings.pace_check
    hear(monkeypatch, {"Hi, how are you?": 1.4})
    out = synth.synthesize(DIALOGUE, voices, seed=2)
    assert [t.remade for t in out.turns] == [False, True, False]
    assert out.turns[1].n_frames == pytest.approx(1.4 * plain.turns[1].n_frames, abs=2)
    for k in (0, 2):  # the other turns are as first decoded
        np.testing.assert_array_equal(out.turns[k].audio, plain.turns[k].audio)
    assert out.tokens.shape[-1] == max(t.n_frames for t in out.turns)
    assert [int(n) for n in out.trace.lengths] == [t.n_frames for t in out.turns]
    assert out.trace.forward_passes == 2 * plain.trace.forward_passes
    assert any(
        "turn(s) 2 came out more than 20 % off the clip's pace as heard (x1.40 -> x1.00)" in n
        for n in out.notes
    )
    off = synth.synthesize(DIALOGUE, voices, seed=2, pace_check=False)
    assert not any(t.remade for t in off.turns) and not off.settings.pace_check
    np.testing.assert_array_equal(off.audio, plain.audio)


def test_no_remake_without_guards_or_beyond_the_longest_turn(synth, voices, monkeypatch):  # noqa: F811
    hear(monkeypatch, {"Hi, how are you?": 1.4})
    synth.t2s.guards = False
    try:
        assert not any(t.remade for t in synth.synthesize(DIALOGUE, voices).turns)
    finally:
        synth.t2s.guards = True
    plain = synth.synthesize(DIALOGUE, voices, pace_check=False)
    hear(monkeypatch, {"Hi, how are you?": 1.4})
    monkeypatch.setattr(planning, "MAX_TURN_SECONDS", plain.turns[1].n_frames / 50 * 1.2)
    assert not any(t.remade for t in synth.synthesize(DIALOGUE, voices).turns)


def test_remakes_larger_than_the_chunk_are_decoded_one_by_one(synth, voices, monkeypatch):  # noqa: F811
    calls = []
    real = pipeline.DECODERS["group"]

    def counting(model, semantic, lengths, prompt, prompt_lengths, **kwargs):
        calls.append(lengths.tolist())
        return real(model, semantic, lengths, prompt, prompt_lengths, **kwargs)

    monkeypatch.setitem(pipeline.DECODERS, "group", counting)
    hear(monkeypatch, {"Hello there.": 1.45, "Hi, how are you?": 1.45, "Fine, thanks.": 1.45})
    out = synth.synthesize(DIALOGUE, voices)
    assert all(t.remade for t in out.turns) and len(calls) == 4  # the chunk, then each turn alone
    budget = len(calls[0]) * max(calls[0])
    assert all(len(c) == 1 for c in calls[1:]) and 3 * max(max(c) for c in calls[1:]) > budget
    calls.clear()
    hear(monkeypatch, {"Hello there.": 1.25})
    synth.synthesize(DIALOGUE, voices)
    assert len(calls) == 2 and len(calls[1]) == 1


def test_the_command_line_turns_the_check_on(tmp_path, voices, checkpoint, capsys):  # noqa: F811
    assert (
        main(_args(tmp_path, voices, checkpoint, tmp_path / "out.wav", "--iterations", "1", "--pace-check"))
        == 0
    )
    assert re.search(r"voice matching [\d.]+, pace check on\n", capsys.readouterr().out)
