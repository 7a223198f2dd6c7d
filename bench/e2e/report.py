"""The end-to-end benchmark's tables: summary, per-stage speed, per-turn scores, per-speaker means."""

from __future__ import annotations

from collections.abc import Mapping

from bench.e2e.case import STAGES, DialogueCase
from bench.e2e.measure import E2EFigures, mean
from bench.report import Section, Table


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
                mean([t.similarity_own for t in figures.turns]),
            ),
            (
                "speaker similarity to the other voice, mean",
                mean([t.similarity_other for t in figures.turns]),
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
                mean([t.wer for t in mine]),
                mean([t.wer_base for t in mine]),
                mean([t.p808 for t in mine]),
                mean([t.reference_wer for t in mine]),
                mean([t.similarity_own for t in mine]),
                mean([t.similarity_other for t in mine]),
                mean([t.reference_similarity for t in mine]),
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
