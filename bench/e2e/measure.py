"""Measuring one dialogue end to end: the warm-up and timed generation, stage timings, memory, and each turn's
Whisper WER (tiny.en and base), DNSMOS P.808 and speaker similarity."""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.e2e.case import STAGES, warmup_transcript
from engine.audio import VoicePrompt, load_voice_prompt
from engine.errors import UserInputError
from engine.eval.timing import peak_memory_mb, reset_peak_memory
from engine.pipeline import DialogueResult, DialogueSynthesizer
from engine.text.transcript import parse_transcript


@dataclass(frozen=True)
class TurnFigures:
    """Scores of one generated turn.

    Attributes:
        speaker, text: who speaks and the sentence given.
        seconds: length of the turn's audio.
        heard: what Whisper transcribed.
        wer: word error rate of `heard` against `text`.
        similarity_own: cosine of the turn to another recording of its speaker (None: too little speech).
        similarity_other: highest cosine of the turn to another speaker's recording.
        reference_wer: WER of the real recording of the same sentence by the same voice (None: not given).
        reference_similarity: cosine of that real recording to the other recording of its speaker.
        heard_base, wer_base: what Whisper base (the main judge) heard, and its WER.
        p808: DNSMOS P.808 of the turn (None: too little sound to judge).
    """

    speaker: str
    text: str
    seconds: float
    heard: str
    wer: float
    similarity_own: float | None
    similarity_other: float | None
    reference_wer: float | None = None
    reference_similarity: float | None = None
    heard_base: str = ""
    wer_base: float | None = None
    p808: float | None = None


@dataclass(frozen=True)
class E2EFigures:
    """Everything this benchmark measures on one dialogue.

    Attributes:
        method, iterations, seed, forward_passes: how the acoustic stage decoded.
        audio_seconds: length of the generated dialogue.
        warmup_seconds: per stage, the untimed first call (a short dialogue; loads the models).
        seconds: per stage (STAGES, "other" = total minus their sum, "total"), the timed call.
        rtf: `seconds` divided by `audio_seconds`.
        rss_before_mb: resident memory right before the timed call (models loaded).
        peak_mb: resident-memory high-water mark during the timed call.
        warmup_peak_mb: high-water mark during the warm-up (model loading included).
        wer: Whisper tiny.en WER pooled over all turns (all errors / all reference words).
        reference_wer: the same over the real recordings (None: not given).
        turns: per-turn scores.
        scoring_seconds: time Whisper, DNSMOS and the speaker encoder took (not part of the RTF).
        wer_base: Whisper base WER pooled over all turns; reference_wer_base: over the real recordings.
        p808: DNSMOS P.808, mean over turns.
    """

    method: str
    iterations: int
    seed: int
    forward_passes: int
    audio_seconds: float
    warmup_seconds: dict[str, float]
    seconds: dict[str, float]
    rtf: dict[str, float]
    rss_before_mb: float
    peak_mb: float
    warmup_peak_mb: float
    wer: float
    reference_wer: float | None
    turns: tuple[TurnFigures, ...]
    scoring_seconds: float
    wer_base: float | None = None
    reference_wer_base: float | None = None
    p808: float | None = None


def mean(values: Sequence[float | None]) -> float | None:
    """The mean of the values given (None: none given)."""
    present = [v for v in values if v is not None]
    return statistics.mean(present) if present else None


def _stage_seconds(result: DialogueResult) -> dict[str, float]:
    seconds = {stage: result.timings.get(stage, 0.0) for stage in STAGES}
    seconds["other"] = max(0.0, result.timings["total"] - sum(seconds.values()))
    seconds["total"] = result.timings["total"]
    return seconds


def _similarity(encoder, audio: np.ndarray, rate: int, reference: VoicePrompt) -> float | None:
    try:
        return encoder.similarity(audio, rate, reference.samples, reference.sample_rate)
    except UserInputError:  # too little speech in the turn to embed
        return None


def score_turns(
    result: DialogueResult,
    texts: Sequence[str],
    other_recordings: Mapping[str, str | Path],
    reference_recordings: Sequence[str | Path | None],
    transcriber,
    encoder,
    base,
) -> tuple[tuple[TurnFigures, ...], dict[str, float | None]]:
    """Whisper WER (tiny.en and base), DNSMOS P.808 and speaker similarity of every generated turn, and the
    WERs of the real recordings given.

    Returns:
        Per-turn figures, and the pooled figures: "wer", "wer_base" over the turns, "reference_wer",
        "reference_wer_base" over the real recordings (None: none given), "p808" the turns' mean.
    """
    from engine.eval.naturalness import p808_scores
    from engine.eval.wer import speech_wer

    rate = result.sample_rate
    audio = [t.audio for t in result.turns]
    scored = speech_wer(audio, rate, texts, transcriber)
    scored_base = speech_wer(audio, rate, texts, base)
    p808 = p808_scores(audio, rate)
    others = {s: load_voice_prompt(p, name=f"{s}'s other recording") for s, p in other_recordings.items()}
    real = [load_voice_prompt(p) if p is not None else None for p in reference_recordings]
    kept = [i for i, r in enumerate(real) if r is not None]
    real_scored = real_scored_base = None
    if kept:
        real_audio, real_texts = [real[i].samples for i in kept], [texts[i] for i in kept]
        real_scored = speech_wer(real_audio, real[kept[0]].sample_rate, real_texts, transcriber)
        real_scored_base = speech_wer(real_audio, real[kept[0]].sample_rate, real_texts, base)
    real_wer = dict(zip(kept, real_scored.per_utterance)) if real_scored else {}
    turns = []
    for i, turn in enumerate(result.turns):
        own = others[turn.speaker]
        rivals = [_similarity(encoder, turn.audio, rate, p) for s, p in others.items() if s != turn.speaker]
        rivals = [r for r in rivals if r is not None]
        reference = real[i]
        turns.append(
            TurnFigures(
                speaker=turn.speaker,
                text=texts[i],
                seconds=len(turn.audio) / rate,
                heard=scored.hypotheses[i],
                wer=scored.per_utterance[i],
                similarity_own=_similarity(encoder, turn.audio, rate, own),
                similarity_other=max(rivals) if rivals else None,
                reference_wer=real_wer.get(i),
                reference_similarity=(
                    _similarity(encoder, reference.samples, reference.sample_rate, own) if reference else None
                ),
                heard_base=scored_base.hypotheses[i],
                wer_base=scored_base.per_utterance[i],
                p808=p808[i],
            )
        )
    pooled = {
        "wer": scored.wer,
        "wer_base": scored_base.wer,
        "reference_wer": real_scored.wer if real_scored else None,
        "reference_wer_base": real_scored_base.wer if real_scored_base else None,
        "p808": mean(p808),
    }
    return tuple(turns), pooled


def measure(
    synth: DialogueSynthesizer,
    transcript: str,
    voices: Mapping[str, str | Path],
    other_recordings: Mapping[str, str | Path],
    method: str = "group",
    iterations: int | None = None,
    seed: int = 0,
    reference_recordings: Sequence[str | Path | None] | None = None,
    transcriber=None,
    encoder=None,
    base_transcriber=None,
) -> tuple[E2EFigures, DialogueResult]:
    """Generate the dialogue once untimed (warm-up) and once timed, then score every turn.

    The warm-up speaks one short turn per speaker with the `other_recordings` as voices, so it loads the models
    but leaves the timed call to encode its prompts as a first generation with new clips would. Whisper and
    the speaker encoder are loaded after the timed call, so the memory figures are the pipeline's own.

    Args:
        synth: the pipeline (its models loaded on first use).
        transcript: the dialogue, one turn per line.
        voices: speaker -> voice prompt file.
        other_recordings: speaker -> another recording of that voice, for speaker similarity.
        method, iterations, seed: the acoustic decoding (None iterations: the method's default).
        reference_recordings: per turn, a real recording of its text by its voice (or None), scored alike.
        transcriber: an engine.eval.wer.Transcriber of tiny.en to reuse (loaded here when None).
        base_transcriber: a Transcriber of Whisper base, the main judge (loaded here when None).
        encoder: an engine.eval.similarity.SpeakerEncoder to reuse (loaded here when None).

    Returns:
        Timings, RTF, memory and per-turn scores; and the timed call's result.

    Raises:
        UserInputError: a bad transcript, voice or setting, or reference recordings not one per turn.
    """
    from engine.eval.similarity import SpeakerEncoder
    from engine.eval.wer import Transcriber

    texts = [turn.text for turn in parse_transcript(transcript)]
    references = list(reference_recordings) if reference_recordings is not None else [None] * len(texts)
    if len(references) != len(texts):
        raise UserInputError(
            f"Got {len(references)} reference recordings for {len(texts)} turns; give one per turn (None: none)."
        )
    reset_peak_memory()
    warm = synth.synthesize(
        warmup_transcript(transcript), other_recordings, method=method, iterations=iterations, seed=seed,
        keep_trace=False,
    )  # fmt: skip
    warmup_peak = peak_memory_mb()
    reset_peak_memory()
    rss_before = peak_memory_mb()  # right after a reset the high-water mark is the current RSS
    result = synth.synthesize(
        transcript, voices, method=method, iterations=iterations, seed=seed, keep_trace=False
    )
    peak = peak_memory_mb()

    start = time.perf_counter()
    turns, pooled = score_turns(
        result,
        texts,
        other_recordings,
        references,
        transcriber or Transcriber(),
        encoder or SpeakerEncoder(),
        base_transcriber or Transcriber(model="base"),
    )
    seconds = _stage_seconds(result)
    figures = E2EFigures(
        method=result.settings.method,
        iterations=result.settings.iterations,
        seed=result.settings.seed,
        forward_passes=int(result.trace.forward_passes),
        audio_seconds=result.duration_s,
        warmup_seconds=_stage_seconds(warm),
        seconds=seconds,
        rtf={stage: s / result.duration_s for stage, s in seconds.items()},
        rss_before_mb=rss_before,
        peak_mb=peak,
        warmup_peak_mb=warmup_peak,
        wer=pooled["wer"],
        reference_wer=pooled["reference_wer"],
        turns=turns,
        scoring_seconds=time.perf_counter() - start,
        wer_base=pooled["wer_base"],
        reference_wer_base=pooled["reference_wer_base"],
        p808=pooled["p808"],
    )
    return figures, result
