"""What a synthesis returns: the dialogue's audio, its turns, the decode trace, timings and settings."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from engine.acoustic.trace import DecodeTrace
from engine.pipeline.settings import SynthesisSettings


@dataclass(frozen=True, eq=False)
class TurnAudio:
    """One generated turn.

    Attributes:
        speaker: who speaks.
        text: the normalized text that was spoken.
        audio: the turn's samples as placed in the dialogue (trimmed, leveled, faded).
        start_s, end_s: where the turn sits in the dialogue's audio.
        n_frames: codec frames generated for the turn (its length in the decode trace).
        notes: what text normalization read out or dropped.
        remade: the pace check heard it off its clip's pace and made it again (engine/pipeline/pace_check.py).
    """

    speaker: str
    text: str
    audio: np.ndarray
    start_s: float
    end_s: float
    n_frames: int
    notes: tuple[str, ...] = ()
    remade: bool = False


@dataclass(eq=False)
class DialogueResult:
    """A generated dialogue.

    Attributes:
        audio: float32 mono samples of the whole dialogue.
        sample_rate: samples per second.
        turns: per turn: speaker, text, audio, placement and frame count.
        trace: the acoustic decode of the whole batch; `trace.lengths[i]` is turn i's frame count.
        tokens: generated codec tokens [turns, Q, T] (UNKNOWN on each turn's padding).
        timings: seconds per stage: parse, load, prompts, t2s, acoustic, codec_decode, assemble (each summed
            over the chunks), first_audio (until the first chunk was ready) and total.
        settings: what the synthesis was run with.
        notes: warnings and remarks for the user (unused voices, prompt clean-up, normalization).
        chunks: how many acoustic batches the turns were decoded in (engine/pipeline/chunks.py).
    """

    audio: np.ndarray
    sample_rate: int
    turns: list[TurnAudio]
    trace: DecodeTrace
    tokens: torch.Tensor
    timings: dict[str, float]
    settings: SynthesisSettings
    notes: list[str] = field(default_factory=list)
    chunks: int = 1

    @property
    def duration_s(self) -> float:
        """Length of the dialogue's audio in seconds."""
        return len(self.audio) / self.sample_rate

    @property
    def real_time_factor(self) -> float:
        """Seconds of computing per second of audio (below 1 is faster than real time)."""
        return self.timings["total"] / max(self.duration_s, 1e-9)
