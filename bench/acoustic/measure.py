"""Generating every evaluation item at every setting and judging it: WER (Whisper tiny.en and base), DNSMOS
P.808 and speaker similarity, with the decode's forward passes and real-time factors."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bench.acoustic.items import (
    CODEC_REFERENCE,
    ITERATIONS,
    METHODS,
    PROMPT_MIN_SECONDS,
    VOICE_MATCH_STRENGTHS,
    EvalItem,
)
from bench.acoustic.report import check_targets
from engine.acoustic.decoding import DEFAULT_STEPS
from engine.audio import VoicePrompt, load_voice_prompt
from engine.errors import UserInputError
from engine.pipeline import DialogueSynthesizer


@dataclass(frozen=True, eq=False)
class _Loaded:
    """An item's recordings read once: the prompt cleaned up as the app would, the other recording as its
    speaker embedding."""

    item: EvalItem
    prompt: VoicePrompt
    other_embedding: np.ndarray  # embedded once, compared with every setting's output
    reference: np.ndarray


def _load(item: EvalItem, sample_rate: int, encoder: Any) -> _Loaded:
    def read(path: Path) -> VoicePrompt:
        return load_voice_prompt(path, sample_rate=sample_rate, min_seconds=PROMPT_MIN_SECONDS)

    other = encoder.embed(read(item.other).samples, sample_rate)
    return _Loaded(item, read(item.prompt), other, read(item.reference).samples)


def _similarity(encoder: Any, generated: Sequence[np.ndarray], loaded: Sequence[_Loaded], sr: int) -> float:
    """Mean cosine between each clip's speaker embedding and its item's other recording."""
    return float(
        np.mean(
            [np.dot(encoder.embed(g, sr), o.other_embedding) for g, o in zip(generated, loaded, strict=True)]
        )
    )


def _score(
    name: str,
    audio: Sequence[np.ndarray],
    loaded: Sequence[_Loaded],
    sample_rate: int,
    transcriber: Any,
    encoder: Any,
    base: Any,
) -> dict[str, Any]:
    """WER (tiny.en and Whisper base) against the texts, DNSMOS P.808 and mean similarity to the other
    recordings, overall and per voice."""
    from engine.eval.naturalness import p808_scores
    from engine.eval.wer import speech_wer

    texts = [x.item.text for x in loaded]
    result = speech_wer(list(audio), sample_rate, texts, transcriber)
    heard_by_base = speech_wer(list(audio), sample_rate, texts, base)
    p808 = [v for v in p808_scores(audio, sample_rate) if v is not None]
    voices = [x.item.voice for x in loaded]
    by_voice = {}
    for v in sorted(set(voices)):
        idx = [i for i, vv in enumerate(voices) if vv == v]
        words = [len(texts[i].split()) for i in idx]
        by_voice[v] = float(np.average([result.per_utterance[i] for i in idx], weights=words))
    return {
        "name": name,
        "wer": result.wer,
        "wer_by_voice": by_voice,
        "wer_base": heard_by_base.wer,
        "p808": float(np.mean(p808)) if p808 else None,
        "similarity": _similarity(encoder, audio, loaded, sample_rate),
        "transcripts": list(result.hypotheses),
        "transcripts_base": list(heard_by_base.hypotheses),
    }


def _figures_line(row: dict[str, Any]) -> str:
    p808 = "-" if row["p808"] is None else f"{row['p808']:.2f}"
    return (
        f"WER {row['wer']:.3f} (base {row['wer_base']:.3f}), DNSMOS P.808 {p808}, "
        f"similarity {row['similarity']:.3f}"
    )


def _generate(
    synth: DialogueSynthesizer,
    batch: Sequence[_Loaded],
    method: str,
    iterations: int,
    seed: int,
    voice_match: float | None = None,
) -> tuple[list[np.ndarray], dict[str, float]]:
    """One batch of turns (one per item, each in its own prompt's voice) through the pipeline."""
    transcript = "\n".join(f"[S{i + 1}] {x.item.text}" for i, x in enumerate(batch))
    voices = {f"S{i + 1}": x.prompt for i, x in enumerate(batch)}
    result = synth.synthesize(
        transcript,
        voices,
        method=method,
        iterations=iterations,
        seed=seed,
        keep_trace=False,
        voice_match=voice_match,
    )
    frames = sum(t.n_frames for t in result.turns)
    stats = dict(result.timings)
    stats["audio_s"] = frames / synth.codec.frame_rate
    stats["passes"] = result.trace.forward_passes
    return [t.audio for t in result.turns], stats


def _counts_for(iterations: Sequence[int] | Mapping[str, Sequence[int]], method: str) -> Sequence[int]:
    return iterations.get(method, ITERATIONS) if isinstance(iterations, Mapping) else iterations


def check_sweep(
    methods: Sequence[str], iterations: Sequence[int] | Mapping[str, Sequence[int]]
) -> dict[str, tuple[int, ...]]:
    """The iteration counts of each method, checked before anything runs.

    Raises:
        UserInputError: an unknown method, a count out of range, or counts for a method not swept.
    """
    from engine.pipeline import resolve_iterations

    if isinstance(iterations, Mapping) and set(iterations) - set(methods):
        raise UserInputError(
            f"Iterations were given for {', '.join(sorted(set(iterations) - set(methods)))}, which is not "
            f"among the methods swept ({', '.join(methods)}); add it to --methods or drop its --iterations."
        )
    counts = {m: tuple(_counts_for(iterations, m)) for m in methods}
    for method, values in counts.items():
        if not values:
            raise UserInputError(
                f"No iteration counts for {method}; give some, e.g. --iterations {method}:1,4."
            )
        for n in values:
            resolve_iterations(method, n)
    return counts


def measure(
    synth: DialogueSynthesizer,
    items: Sequence[EvalItem],
    methods: Sequence[str] = METHODS,
    iterations: Sequence[int] | Mapping[str, Sequence[int]] = ITERATIONS,
    seed: int = 0,
    transcriber: Any = None,
    encoder: Any = None,
    log: Callable[[str], None] = print,
    voice_match: Sequence[float] = VOICE_MATCH_STRENGTHS,
    base_transcriber: Any = None,
) -> dict[str, Any]:
    """Generate every item with every (method, iterations) and score it; also score the reference recordings
    and their codec resynthesis, and the default decoder at each voice matching strength.

    Items of one voice are generated as one batch (as the turns of a dialogue are); every setting uses the
    same seed.

    Args:
        synth: the pipeline (its acoustic model is the one measured).
        items: what to generate (see `eval_items`).
        methods: decoders to sweep ("group", "soundstorm", "spans").
        iterations: first-level iteration counts (each group's coarse level for "group"), for every method
            or per method ({"spans": (1, 4, 16)}; methods not named get ITERATIONS).
        seed: sampling seed of every generation.
        transcriber: a loaded engine.eval.wer.Transcriber of tiny.en (loaded here when None), the judge of
            the earlier runs, kept beside Whisper base for continuity.
        base_transcriber: a loaded Transcriber of Whisper base, the main judge (loaded here when None).
        encoder: a loaded engine.eval.similarity.SpeakerEncoder (loaded here when None).
        log: progress sink.
        voice_match: strengths (0 = off) at which group at its default iterations is also generated.

    Returns:
        JSON-ready figures: "references" (original, codec) and "sweep" rows with WER, similarity, forward
        passes per batch, acoustic and pipeline seconds, audio seconds and real-time factors (with the
        pipeline's default voice matching); "voice_match" rows (strength, WER, similarity); "targets"
        with each check.

    Raises:
        UserInputError: no items, an unknown method or an iteration count out of range.
    """
    from engine.eval.similarity import SpeakerEncoder
    from engine.eval.wer import Transcriber

    if not items:
        raise UserInputError("No items to generate; give at least one sentence with its prompt.")
    counts = check_sweep(methods, iterations)
    # Whisper's OpenMP runtime may change the thread count torch sees: restored before every generation.
    threads = torch.get_num_threads()
    transcriber = transcriber or Transcriber(cpu_threads=threads)
    base = base_transcriber or Transcriber(model="base", cpu_threads=threads)
    encoder = encoder or SpeakerEncoder()
    sr = synth.codec.sample_rate
    loaded = [_load(item, sr, encoder) for item in items]
    batches: dict[str, list[_Loaded]] = defaultdict(list)
    for x in loaded:
        batches[x.item.voice].append(x)
    order = [x for batch in batches.values() for x in batch]

    references = [_score("original", [x.reference for x in order], order, sr, transcriber, encoder, base)]
    resynthesized = [synth.codec.decode(synth.codec.encode(x.reference)) for x in order]
    references.append(_score(CODEC_REFERENCE, resynthesized, order, sr, transcriber, encoder, base))
    for ref in references:
        log(f"bench.acoustic: {ref['name']}: {_figures_line(ref)}")

    sweep = []
    for method in methods:
        for n in counts[method]:
            audio, totals, passes = [], defaultdict(float), set()
            for batch in batches.values():
                torch.set_num_threads(threads)
                waves, stats = _generate(synth, batch, method, n, seed)
                audio += waves
                passes.add(int(stats.pop("passes")))
                for key, value in stats.items():
                    totals[key] += value
            # Voice prompts are encoded once per clip and then cached, so only the first setting would pay it.
            pipeline_s = totals["total"] - totals["prompts"] - totals["load"]
            row = _score(f"{method}@{n}", audio, order, sr, transcriber, encoder, base)
            row.update(
                method=method,
                iterations=n,
                passes=max(passes),  # per batch; the same for every batch
                acoustic_s=totals["acoustic"],
                pipeline_s=pipeline_s,
                audio_s=totals["audio_s"],
                rtf_acoustic=totals["acoustic"] / totals["audio_s"],
                rtf_pipeline=pipeline_s / totals["audio_s"],
            )
            sweep.append(row)
            log(
                f"bench.acoustic: {method}@{n}: {_figures_line(row)}, "
                f"{row['passes']} passes, acoustic {row['acoustic_s']:.1f} s (RTF {row['rtf_acoustic']:.3f})"
            )
    matched = []
    default_group = next(
        (r for r in sweep if r["method"] == "group" and r["iterations"] == DEFAULT_STEPS["group"]), None
    )
    for strength in voice_match:
        name = f"group@{DEFAULT_STEPS['group']} voice match {strength:g}"
        if default_group is not None and strength == synth.voice_match:
            # The sweep already generated this setting (same seed: the same audio).
            keys = (
                "wer",
                "wer_by_voice",
                "wer_base",
                "p808",
                "similarity",
                "transcripts",
                "transcripts_base",
            )
            row = {"name": name, **{k: default_group[k] for k in keys}}
        else:
            audio = []
            for batch in batches.values():
                torch.set_num_threads(threads)
                audio += _generate(synth, batch, "group", DEFAULT_STEPS["group"], seed, strength)[0]
            row = _score(name, audio, order, sr, transcriber, encoder, base)
        row["strength"] = strength
        matched.append(row)
        log(f"bench.acoustic: {row['name']}: {_figures_line(row)}")
    figures = {
        "items": [{k: str(v) for k, v in asdict(x.item).items()} for x in order],
        "voice_match_default": synth.voice_match,
        "voice_match": matched,
        "voices": sorted(batches),
        "seed": seed,
        "threads": threads,
        "references": references,
        "sweep": sweep,
    }
    figures["targets"] = check_targets(figures)
    return figures


def measure_speed(
    synth: DialogueSynthesizer,
    frames: tuple[int, ...] = (500, 1500),
    repeats: int = 1,
    log: Callable[[str], None] = print,
) -> list[dict]:
    """The pipeline's acoustic model against delay-pattern and flattened autoregressive baselines of its width
    and depth (random weights: their speed does not depend on them), timed in one run (bench/acoustic_speed.py).

    Args:
        synth: the pipeline whose acoustic model sets the size and token layout.
        frames: lengths to time (500 and 1500 frames are 10 s and 30 s at 50 frames/s; the flattened
            baseline takes minutes at 30 s).
        repeats: runs per method (median taken); the flattened baseline runs once.
        log: progress sink.

    Returns:
        One row per (method, length): passes or steps, median seconds, RTF and both speed ratios.
    """
    from bench.acoustic_speed import measure as speed

    rows, _ = speed(frames=frames, repeats=repeats, flattened_repeats=1, log=log, parallel=synth.acoustic)
    return rows
