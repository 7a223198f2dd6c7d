"""End-to-end figures: a ~30 s two-speaker dialogue in two reserved evaluation voices, made by the whole
pipeline; real-time factor of each stage and in total, peak memory, and per turn Whisper WER and speaker
similarity.

    python -m bench.e2e [--method group] [--iterations N] [--seed 0] [--acoustic PATH] [--corpus DIR]

prints the tables; `run(out_dir)` returns them as report sections (for `python -m bench`). The corpus is
`$CORPUS_DIR` (default /work/corpus); the model is assets/acoustic/acoustic.pt unless `--acoustic` says otherwise.
"""

from __future__ import annotations

import os

# Spinning OpenMP threads make torch many times slower when other processes share the 2 cores (see
# engine/cli.py); the setting only takes effect before torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from bench.report import Section, Table, section_markdown
from engine.audio import VoicePrompt, load_voice_prompt, write_audio
from engine.data.manifest import Utterance, load_manifest
from engine.errors import UserInputError
from engine.eval.timing import peak_memory_mb, reset_peak_memory
from engine.pipeline import DEFAULT_ACOUSTIC_CHECKPOINT, DialogueResult, DialogueSynthesizer
from engine.text.transcript import parse_transcript

DEFAULT_CORPUS = os.environ.get("CORPUS_DIR", "/work/corpus")
# mbrola us3 and flite awb: two reserved voices of different engines and sexes.
DEFAULT_VOICES = ("us3", "awb")
TARGET_SECONDS = 30.0
# The prompt is the utterance nearest PROMPT_SECONDS (the acoustic model keeps its last few seconds); the
# similarity reference is nearest OTHER_SECONDS, about a turn's length, since resemblyzer scores rise with length.
PROMPT_SECONDS, OTHER_SECONDS = 6.0, 4.0
TURN_SECONDS = (2.5, 6.5)  # sentences of this length (in their real recording) make the turns
PAUSE_ESTIMATE_S = 0.45  # a speaker change's pause in AssemblyConfig, to plan the dialogue's length
STAGES = ("parse", "load", "prompts", "t2s", "acoustic", "codec_decode", "assemble")


@dataclass(frozen=True)
class DialogueCase:
    """A dialogue to generate and what to score it against.

    Attributes:
        transcript: one "[S1] text" line per turn.
        voices: speaker -> voice prompt file.
        other_recordings: speaker -> another recording of the same voice (speaker-similarity reference).
        labels: speaker -> the voice's name, e.g. "mbrola us3".
        reference_recordings: per turn, the real recording of its sentence by its voice (None if there is none).
    """

    transcript: str
    voices: dict[str, str]
    other_recordings: dict[str, str]
    labels: dict[str, str]
    reference_recordings: tuple[str | None, ...]


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


# The dialogue ------------------------------------------------------------------------------------------------


def _usable(utterance: Utterance) -> bool:
    """A sentence that reads as one clean turn: no stage-direction parentheses or tag-like brackets."""
    return (
        not any(c in utterance.text for c in "()[]")
        and TURN_SECONDS[0] <= utterance.duration <= TURN_SECONDS[1]
    )


def corpus_dialogue(
    corpus: str = DEFAULT_CORPUS, voices: Sequence[str] = DEFAULT_VOICES, seconds: float = TARGET_SECONDS
) -> DialogueCase:
    """A dialogue of held-out sentences in reserved voices, from the corpus's evaluation split.

    Per voice: the utterance nearest PROMPT_SECONDS is the prompt, the one nearest OTHER_SECONDS the similarity
    reference; the voices then take turns speaking their other sentences (never trained on, as the voices)
    until their real recordings and the pauses between them add up to about `seconds`.

    Args:
        corpus: corpus folder (engine.data.build_corpus).
        voices: eval-split voice names (Utterance.voice), one per speaker S1, S2, ...
        seconds: the dialogue's planned length.

    Returns:
        The dialogue, its voices and the recordings to score it against.

    Raises:
        UserInputError: the corpus has no eval split, or a voice is not in it or has too few sentences.
    """
    utterances = load_manifest(corpus, "eval")
    if not utterances:
        raise UserInputError(
            f"{corpus!r} has no eval utterances; build the corpus first (engine.data.build_corpus)."
        )
    present = sorted({u.voice for u in utterances})
    names = [f"S{i + 1}" for i in range(len(voices))]
    prompts, others, labels, pools = {}, {}, {}, []
    for name, voice in zip(names, voices):
        mine = sorted((u for u in utterances if u.voice == voice), key=lambda u: u.id)
        if len(mine) < 4:
            raise UserInputError(
                f"Voice {voice!r} has {len(mine)} eval utterances, too few for a dialogue; choose from "
                f"{', '.join(present)}."
            )
        prompt = min(mine, key=lambda u: abs(u.duration - PROMPT_SECONDS))
        other = min((u for u in mine if u is not prompt), key=lambda u: abs(u.duration - OTHER_SECONDS))
        prompts[name], others[name] = prompt.wav_path, other.wav_path
        labels[name] = f"{prompt.engine} {voice}"
        pools.append([u for u in mine if u is not prompt and u is not other and _usable(u)])
    # Turns alternate between the voices; a voice whose sentences run out leaves the rest to the others.
    order = [
        (name, pool[i])
        for i in range(max(map(len, pools)))
        for name, pool in zip(names, pools)
        if i < len(pool)
    ]
    lines, references, planned = [], [], 0.0
    for name, utterance in order:
        if planned + utterance.duration / 2 > seconds:  # this turn would overshoot by more than its half
            break
        lines.append(f"[{name}] {utterance.text}")
        references.append(utterance.wav_path)
        planned += utterance.duration + PAUSE_ESTIMATE_S
    return DialogueCase("\n".join(lines), prompts, others, labels, tuple(references))


def warmup_transcript(transcript: str) -> str:
    """The first line of each speaker's first turn: a short dialogue that loads every model and speaker."""
    lines = transcript.splitlines()
    firsts: dict[str, int] = {}
    for turn in parse_transcript(transcript):
        firsts.setdefault(turn.speaker, turn.line)
    return "\n".join(lines[line - 1] for line in sorted(firsts.values()))


# Measuring ---------------------------------------------------------------------------------------------------


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
        "p808": _mean(p808),
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


# Report ------------------------------------------------------------------------------------------------------


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.mean(present) if present else None


def _short(text: str, width: int = 48) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def tables(figures: E2EFigures, labels: Mapping[str, str] | None = None) -> tuple[Table, Table, Table, Table]:
    """Summary, per-stage speed, per-turn scores and per-speaker means, as report tables."""
    labels = labels or {}
    summary = Table(
        columns=("figure", "value"),
        rows=(
            ("dialogue length (s)", round(figures.audio_seconds, 2)),
            ("turns", len(figures.turns)),
            ("decoding", f"{figures.method}, {figures.iterations} iterations, seed {figures.seed}"),
            ("acoustic forward passes", figures.forward_passes),
            ("real-time factor, end to end", figures.rtf["total"]),
            ("peak resident memory during the run (MiB)", round(figures.peak_mb)),
            ("resident memory before the run, models loaded (MiB)", round(figures.rss_before_mb)),
            ("peak during the warm-up, model loading included (MiB)", round(figures.warmup_peak_mb)),
            ("WER over all turns (Whisper base, the main judge)", figures.wer_base),
            ("WER of the real recordings of the same sentences (Whisper base)", figures.reference_wer_base),
            ("WER over all turns (Whisper tiny.en, as in earlier runs)", figures.wer),
            ("WER of the real recordings (Whisper tiny.en)", figures.reference_wer),
            ("DNSMOS P.808, mean over turns", figures.p808),
            (
                "speaker similarity to own voice, mean over turns",
                _mean([t.similarity_own for t in figures.turns]),
            ),
            (
                "speaker similarity to the other voice, mean",
                _mean([t.similarity_other for t in figures.turns]),
            ),
        ),
    )
    order = (*STAGES, "other", "total")
    speed = Table(
        columns=("stage", "warm-up (s)", "timed run (s)", "RTF"),
        rows=tuple(
            (stage, figures.warmup_seconds[stage], figures.seconds[stage], figures.rtf[stage])
            for stage in order
        ),
        caption=f"Seconds per stage and real-time factor (stage seconds / {figures.audio_seconds:.1f} s of audio)",
        float_format=".3f",
    )
    per_turn = Table(
        columns=(
            "turn",
            "speaker",
            "s",
            "WER",
            "WER base",
            "P.808",
            "real rec. WER",
            "sim own",
            "sim other",
            "real rec. sim",
            "text",
            "Whisper heard",
        ),
        rows=tuple(
            (
                i + 1,
                labels.get(t.speaker, t.speaker),
                round(t.seconds, 2),
                t.wer,
                t.wer_base,
                t.p808,
                t.reference_wer,
                t.similarity_own,
                t.similarity_other,
                t.reference_similarity,
                _short(t.text),
                _short(t.heard),
            )
            for i, t in enumerate(figures.turns)
        ),
        caption=(
            "Per turn: WER against its text (Whisper tiny.en and base); DNSMOS P.808; cosine (resemblyzer) to another recording of its own voice and of "
            "the other voice; the same for the real recording of the sentence by the same voice"
        ),
        float_format=".2f",
    )
    speakers = sorted(
        {t.speaker for t in figures.turns}, key=lambda s: [t.speaker for t in figures.turns].index(s)
    )
    per_speaker = Table(
        columns=(
            "speaker",
            "turns",
            "s",
            "mean WER",
            "mean WER base",
            "mean P.808",
            "real rec. mean WER",
            "mean sim own",
            "mean sim other",
            "real rec. mean sim",
        ),
        rows=tuple(
            (
                labels.get(s, s),
                len(mine := [t for t in figures.turns if t.speaker == s]),
                round(sum(t.seconds for t in mine), 1),
                _mean([t.wer for t in mine]),
                _mean([t.wer_base for t in mine]),
                _mean([t.p808 for t in mine]),
                _mean([t.reference_wer for t in mine]),
                _mean([t.similarity_own for t in mine]),
                _mean([t.similarity_other for t in mine]),
                _mean([t.reference_similarity for t in mine]),
            )
            for s in speakers
        ),
        caption="Means per speaker",
        float_format=".2f",
    )
    return summary, speed, per_turn, per_speaker


def sections(figures: E2EFigures, case: DialogueCase, acoustic: str) -> list[Section]:
    """The report section for `figures` measured on `case` with the acoustic model `acoustic`."""
    voices = ", ".join(f"{s} = {label}" for s, label in case.labels.items())
    text = (
        f"A {figures.audio_seconds:.1f} s dialogue of {len(figures.turns)} turns ({voices}): reserved evaluation "
        "voices and held-out sentences of the corpus's eval split, never trained on. Each voice's prompt is one "
        "of its eval recordings; speaker similarity is measured against another. The whole pipeline ran once "
        "untimed on a short dialogue (warm-up: model loading) and then once timed on this dialogue, as a first "
        "generation with these clips (prompts encoded, no cached state). Acoustic model: "
        f"`{acoustic}`. WER (Whisper base, and tiny.en as in earlier runs), DNSMOS P.808 and similarity are "
        f"scored afterwards ({figures.scoring_seconds:.1f} s, not in the RTF)."
    )
    return [Section(title="End to end", text=text, items=tables(figures, case.labels))]


def _save(out_dir: Path, figures: E2EFigures, result: DialogueResult, case: DialogueCase) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "e2e.json").write_text(
        json.dumps({"case": asdict(case), "figures": asdict(figures)}, indent=1)
    )
    write_audio(out_dir / "e2e_dialogue.wav", result.audio, result.sample_rate)


def run(
    out_dir: Path,
    corpus: str = DEFAULT_CORPUS,
    acoustic: str | None = None,
    method: str = "group",
    iterations: int | None = None,
    seed: int = 0,
) -> list[Section]:
    """Measure and return the report sections; the raw figures and the dialogue's audio go to out_dir.

    Args:
        out_dir: results folder (e2e.json, e2e_dialogue.wav).
        corpus: corpus folder holding the eval split.
        acoustic: acoustic checkpoint (None: assets/acoustic/acoustic.pt).
        method, iterations, seed: the acoustic decoding.
    """
    case = corpus_dialogue(corpus)
    synth = DialogueSynthesizer(acoustic=acoustic)
    figures, result = measure(
        synth,
        case.transcript,
        case.voices,
        case.other_recordings,
        method,
        iterations,
        seed,
        case.reference_recordings,
    )
    _save(Path(out_dir), figures, result, case)
    return sections(figures, case, str(acoustic or DEFAULT_ACOUSTIC_CHECKPOINT))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=DEFAULT_CORPUS)
    parser.add_argument("--acoustic", help="acoustic checkpoint (default assets/acoustic/acoustic.pt)")
    parser.add_argument("--method", default="group", help="group, soundstorm or spans")
    parser.add_argument("--iterations", type=int, help="the method's main step count (default: its own)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (the machine has 2 cores)")
    parser.add_argument("--out", type=Path, help="also write e2e.json and e2e_dialogue.wav here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        try:
            result = run(out, args.corpus, args.acoustic, args.method, args.iterations, args.seed)
        except UserInputError as error:
            sys.exit(str(error))
        for section in result:
            print(section_markdown(section, out))


if __name__ == "__main__":
    main()
