"""Turn assembly: pauses, loudness matching, edge fades and trimming, placement of each turn."""

import numpy as np
import pytest

from engine.assemble import AssemblyConfig, assemble_turns, fade_edges, pause_lengths, trim_edge_silence
from engine.audio import speech_level_dbfs

RATE = 16000


def tone(seconds, dbfs, freq=220.0, silence=0.0):
    """A sine at a given RMS level, with `silence` seconds of digital silence on both sides."""
    t = np.arange(round(seconds * RATE)) / RATE
    wave = np.sqrt(2) * 10 ** (dbfs / 20) * np.sin(2 * np.pi * freq * t)
    pad = np.zeros(round(silence * RATE))
    return np.concatenate([pad, wave, pad]).astype(np.float32)


def test_pauses_are_longer_on_speaker_change_and_seeded():
    config = AssemblyConfig()
    speakers = ["A", "B"] * 20 + ["A"] * 20
    pauses = pause_lengths(speakers, config, seed=1)
    assert len(pauses) == len(speakers) - 1
    change = np.array(pauses[:39])
    same = np.array(pauses[40:])
    assert abs(change - config.speaker_change_pause_s).max() <= config.jitter_s
    assert abs(same - config.same_speaker_pause_s).max() <= config.jitter_s
    assert change.min() > same.max()  # 0.45 +- 0.06 against 0.3 +- 0.06
    assert change.std() > 0.01  # jitter is there
    assert pause_lengths(speakers, config, seed=1) == pauses
    assert pause_lengths(speakers, config, seed=2) != pauses
    assert min(pause_lengths(["A", "A"] * 10, AssemblyConfig(same_speaker_pause_s=0.0))) >= config.min_pause_s


def test_turns_are_matched_in_loudness():
    quiet, loud = tone(1.0, -38.0), tone(1.0, -8.0, freq=330.0)
    out = assemble_turns([quiet, loud, quiet], ["A", "B", "A"], RATE)
    for start, end in out.spans:
        assert speech_level_dbfs(out.audio[start:end], RATE) == pytest.approx(-20.0, abs=0.3)
    assert np.abs(out.audio).max() <= 10 ** (-1 / 20) + 1e-6


def test_placement_and_silence_between_turns():
    config = AssemblyConfig(jitter_s=0.0, lead_s=0.2)
    waves = [tone(0.5, -20.0), tone(0.7, -20.0), tone(0.4, -20.0)]
    out = assemble_turns(waves, ["A", "A", "B"], RATE, config)
    (s0, e0), (s1, e1), (s2, e2) = out.spans
    assert s0 == round(0.2 * RATE)
    assert (s1 - e0, s2 - e1) == (round(0.3 * RATE), round(0.45 * RATE))
    assert len(out.audio) == e2 + round(0.2 * RATE)
    for (start, end), turn in zip(out.spans, out.turns, strict=True):
        np.testing.assert_array_equal(out.audio[start:end], turn)
    gaps = np.concatenate([out.audio[:s0], out.audio[e0:s1], out.audio[e1:s2], out.audio[e2:]])
    assert not gaps.any()
    assert out.audio.dtype == np.float32


def test_edges_are_faded_so_turns_do_not_click():
    # A constant offset jumps from and to silence at its edges: the worst click without a fade.
    wave = np.full(RATE, 0.5, dtype=np.float32)
    faded = fade_edges(wave, RATE, 0.01)
    n = round(0.01 * RATE)
    assert abs(faded[0]) < 0.01 and abs(faded[-1]) < 0.01
    assert np.all(np.diff(faded[:n]) > 0) and np.abs(np.diff(faded)).max() < 0.01  # rises smoothly
    np.testing.assert_array_equal(faded[n:-n], wave[n:-n])  # the middle is untouched
    assert len(fade_edges(wave[:10], RATE, 0.01)) == 10  # clips shorter than two fades still work
    out = assemble_turns([wave, wave], ["A", "B"], RATE)
    for start, end in out.spans:
        assert abs(out.audio[start]) < 0.01 and abs(out.audio[end - 1]) < 0.01


def test_edge_silence_is_trimmed_with_a_margin():
    wave = tone(1.0, -20.0, silence=0.5)
    trimmed = trim_edge_silence(wave, RATE, below_db=40.0, margin_s=0.05)
    assert len(trimmed) == pytest.approx(RATE * 1.1, abs=0.02 * RATE)
    # A quiet noise floor is silence too, relative to the turn's loudest stretch.
    noisy = wave + np.random.default_rng(0).normal(0, 10 ** (-70 / 20), len(wave)).astype(np.float32)
    assert len(trim_edge_silence(noisy, RATE)) == pytest.approx(RATE * 1.1, abs=0.02 * RATE)
    silent = np.zeros(RATE, dtype=np.float32)
    assert len(trim_edge_silence(silent, RATE)) == RATE
    out = assemble_turns([silent, wave], ["A", "B"], RATE)  # a silent turn does not break the join
    assert np.isfinite(out.audio).all() and not out.turns[0].any()


def test_bad_arguments():
    with pytest.raises(ValueError, match="2 waveforms but 1 speakers"):
        assemble_turns([tone(0.1, -20), tone(0.1, -20)], ["A"], RATE)
    with pytest.raises(ValueError, match="mono"):
        assemble_turns([np.zeros((2, 100), dtype=np.float32)], ["A"], RATE)
