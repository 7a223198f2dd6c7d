"""Turn assembly: trims each turn's edge silence, matches loudness, fades the edges and joins the turns with
natural pauses (longer when the speaker changes, with seeded jitter), all at once or a few turns at a time as a
long dialogue is generated (`DialogueJoiner`). Pure numpy."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.audio import loudness_normalize


@dataclass(frozen=True)
class AssemblyConfig:
    """How turns are joined.

    Attributes:
        same_speaker_pause_s: pause between two turns of the same speaker.
        speaker_change_pause_s: pause when the next turn has another speaker (a reply takes a little longer).
        jitter_s: each pause varies uniformly by up to this much either way, so the rhythm is not mechanical.
        min_pause_s: no pause is shorter than this after jitter.
        lead_s: silence before the first turn and after the last, so players do not clip the edges.
        fade_s: fade-in and fade-out at every turn edge; a cut mid-waveform otherwise clicks.
        target_dbfs: speech-gated level every turn is normalized to (see `engine.audio.speech_level_dbfs`).
        trim_below_db: edge frames this far below the turn's loudest 30 ms count as silence and are trimmed.
        trim_margin_s: silence kept before the first and after the last loud frame of a turn.
    """

    same_speaker_pause_s: float = 0.3
    speaker_change_pause_s: float = 0.45
    jitter_s: float = 0.06
    min_pause_s: float = 0.15
    lead_s: float = 0.15
    fade_s: float = 0.01
    target_dbfs: float = -20.0
    trim_below_db: float = 40.0
    trim_margin_s: float = 0.05


@dataclass(frozen=True)
class AssembledDialogue:
    """The joined dialogue.

    Attributes:
        audio: float32 mono samples.
        sample_rate: samples per second.
        spans: (first sample, end sample) of each turn's audio inside `audio`.
        turns: each turn's processed (trimmed, leveled, faded) samples, as placed.
    """

    audio: np.ndarray
    sample_rate: int
    spans: tuple[tuple[int, int], ...]
    turns: tuple[np.ndarray, ...]


def pause_lengths(
    speakers: Sequence[str], config: AssemblyConfig = AssemblyConfig(), seed: int = 0
) -> list[float]:
    """Seconds of silence before each turn after the first (len(speakers) - 1 values).

    Args:
        speakers: the speaker of each turn, in order.
        config: pause lengths and jitter.
        seed: the same seed gives the same pauses.

    Returns:
        One pause per gap between consecutive turns.
    """
    rng = np.random.default_rng(seed)
    pauses = []
    for before, after in itertools.pairwise(speakers):
        base = config.same_speaker_pause_s if before == after else config.speaker_change_pause_s
        pauses.append(max(config.min_pause_s, base + rng.uniform(-config.jitter_s, config.jitter_s)))
    return pauses


def trim_edge_silence(
    samples: np.ndarray, sample_rate: int, below_db: float = 40.0, margin_s: float = 0.05
) -> np.ndarray:
    """Cut leading and trailing stretches that are `below_db` quieter than the clip's loudest 30 ms.

    Args:
        samples: 1-D float samples.
        sample_rate: their sample rate.
        below_db: how far below the loudest stretch a 10 ms frame counts as silence.
        margin_s: silence kept on each side of the loud part.

    Returns:
        The trimmed samples (a view); digital silence and clips shorter than a frame come back unchanged.
    """
    frame = max(1, round(0.01 * sample_rate))
    n = len(samples) // frame
    if n == 0:
        return samples
    energy = (samples[: n * frame].astype(np.float64).reshape(n, frame) ** 2).mean(axis=1)
    if n >= 3:  # 30 ms smoothing: a single loud click should not decide where speech is
        energy = np.convolve(energy, np.ones(3) / 3, mode="same")
    loudest = energy.max()
    if loudest <= 0:
        return samples
    loud = np.flatnonzero(energy > loudest * 10 ** (-below_db / 10))
    margin = round(margin_s * sample_rate)
    start = max(0, loud[0] * frame - margin)
    end = min(len(samples), (loud[-1] + 1) * frame + margin)
    return samples[start:end]


def fade_edges(samples: np.ndarray, sample_rate: int, fade_s: float = 0.01) -> np.ndarray:
    """Raised-cosine fade-in and fade-out of `fade_s` (shorter for clips under twice that).

    Args:
        samples: 1-D float samples.
        sample_rate: their sample rate.
        fade_s: length of each fade.

    Returns:
        A faded float32 copy.
    """
    out = np.array(samples, dtype=np.float32)
    n = min(round(fade_s * sample_rate), len(out) // 2)
    if n > 0:
        ramp = (0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)).astype(np.float32)
        out[:n] *= ramp
        out[len(out) - n :] *= ramp[::-1]
    return out


def prepare_turn(wave: np.ndarray, sample_rate: int, config: AssemblyConfig = AssemblyConfig()) -> np.ndarray:
    """One turn as it is placed: trimmed of edge silence, normalized to `config.target_dbfs` (so a quiet
    speaker is as loud as a loud one, in every chunk of a long dialogue alike) and faded at its edges."""
    wave = np.asarray(wave, dtype=np.float32)
    if wave.ndim != 1:
        raise ValueError(f"expected mono samples of shape [n], got shape {wave.shape}")
    wave = trim_edge_silence(wave, sample_rate, config.trim_below_db, config.trim_margin_s)
    wave = loudness_normalize(wave, config.target_dbfs, sample_rate)
    return fade_edges(wave, sample_rate, config.fade_s)


@dataclass(frozen=True)
class JoinedPiece:
    """The next stretch of a dialogue joined turn by turn.

    Attributes:
        audio: float32 samples: the lead or pause before each turn, the turns, and the tail after the last.
        start: where `audio` starts in the dialogue, in samples.
        spans: (first sample, end sample) of each of its turns inside the whole dialogue.
        turns: each turn's processed samples, as placed.
    """

    audio: np.ndarray
    start: int
    spans: tuple[tuple[int, int], ...]
    turns: tuple[np.ndarray, ...]


class DialogueJoiner:
    """Joins a dialogue's turns a few at a time, as they are generated: the pauses are drawn for the whole
    dialogue at the start, so the pieces put end to end are exactly `assemble_turns` of all the turns."""

    def __init__(
        self,
        speakers: Sequence[str],
        sample_rate: int,
        config: AssemblyConfig = AssemblyConfig(),
        seed: int = 0,
    ) -> None:
        if not speakers:
            raise ValueError("no turns to assemble")
        self.n_turns = len(speakers)
        self.sample_rate = sample_rate
        self.config = config
        self.gaps = [round(p * sample_rate) for p in pause_lengths(speakers, config, seed)]
        self.lead = round(config.lead_s * sample_rate)
        self.done = 0  # turns joined so far
        self.cursor = 0  # samples of the dialogue delivered so far

    def add(self, waves: Sequence[np.ndarray]) -> JoinedPiece:
        """The next turns' raw waveforms -> the next stretch of the dialogue (the tail too after the last)."""
        if self.done + len(waves) > self.n_turns:
            raise ValueError(f"{self.done + len(waves)} turns joined, but the dialogue has {self.n_turns}")
        turns = [prepare_turn(wave, self.sample_rate, self.config) for wave in waves]
        parts, spans = [], []
        start = cursor = self.cursor
        for turn in turns:
            before = self.lead if self.done == 0 else self.gaps[self.done - 1]
            parts += [np.zeros(before, np.float32), turn]
            cursor += before
            spans.append((cursor, cursor + len(turn)))
            cursor += len(turn)
            self.done += 1
        if self.done == self.n_turns:
            parts.append(np.zeros(self.lead, np.float32))
            cursor += self.lead
        self.cursor = cursor
        audio = np.concatenate(parts) if parts else np.zeros(0, np.float32)
        return JoinedPiece(audio, start, tuple(spans), tuple(turns))


def assemble_turns(
    waves: Sequence[np.ndarray],
    speakers: Sequence[str],
    sample_rate: int,
    config: AssemblyConfig = AssemblyConfig(),
    seed: int = 0,
) -> AssembledDialogue:
    """Join turn waveforms into one dialogue.

    Each turn is trimmed of edge silence, normalized to `config.target_dbfs` (so a quiet speaker is as loud
    as a loud one) and faded at its edges (`prepare_turn`); the turns are then placed with `pause_lengths`
    between them.

    Args:
        waves: each turn's 1-D float samples.
        speakers: each turn's speaker (decides the pause length).
        sample_rate: the samples' rate.
        config: pauses, fades, level.
        seed: seeds the pause jitter.

    Returns:
        The dialogue, where each turn sits in it, and the processed turns.
    """
    if len(waves) != len(speakers):
        raise ValueError(f"{len(waves)} waveforms but {len(speakers)} speakers")
    if not waves:
        raise ValueError("no turns to assemble")
    piece = DialogueJoiner(speakers, sample_rate, config, seed).add(waves)
    return AssembledDialogue(piece.audio, sample_rate, piece.spans, piece.turns)
