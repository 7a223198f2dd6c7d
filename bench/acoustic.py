"""Quality of the acoustic generator on the reserved evaluation voices: WER and speaker similarity of
generated speech by decoder and first-level iterations, real-time factor, and the targets they are held to.

Each held-out sentence is generated from its text (pipeline: text-to-semantic + acoustic + codec) in the voice
of another utterance of the same reserved voice; a third utterance of that voice is the reference for speaker
similarity. `run(out_dir)` returns report sections; the command line prints them:

    python -m bench.acoustic [--per-voice N] [--methods group,soundstorm,spans] [--iterations 1,2,4,8,16]
        [--iterations spans:1,4,16] [--acoustic PATH] [--with-speed] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bench.report import Figure, Section, Table, save_figure, section_markdown
from engine.acoustic.decoding import DECODERS, DEFAULT_STEPS
from engine.audio import VoicePrompt, load_voice_prompt
from engine.errors import UserInputError
from engine.pipeline import DialogueSynthesizer

DEFAULT_CORPUS = os.environ.get("CORPUS_DIR", "/work/corpus")
ITERATIONS = (1, 2, 4, 8, 16)
# Voice matching strengths the default decoder is also generated at (0 = the acoustic model as it is).
VOICE_MATCH_STRENGTHS = (0.0, 0.3, 0.5, 0.7)
METHODS = ("group", "soundstorm", "spans")
# Targets of the issue: generated WER at most this times the codec resynthesis WER of the same sentences...
WER_RATIO_TARGET = 1.5
# ...speaker similarity to another recording of the prompt's voice at least this...
SIMILARITY_TARGET = 0.80
# ...and group decoding at 4 iterations within 10% of the WER of SoundStorm at 16.
GROUP_VS_SOUNDSTORM = (("group", 4), ("soundstorm", 16), 1.10)
# Target sentences last 2-8 s: shorter ones have too few words for a WER, longer ones pad the batch.
TARGET_SECONDS = (2.0, 8.0)
PROMPT_MIN_SECONDS = 0.3  # short eval clips are still valid references; prompts are picked among the longest
CODEC_REFERENCE = "codec resynthesis"


@dataclass(frozen=True)
class EvalItem:
    """One sentence to generate and the recordings it is judged by.

    Attributes:
        voice: name of the voice (for per-voice figures).
        text: the sentence to generate.
        prompt: a recording of the voice (not of `text`) given to the pipeline as the voice clip.
        other: a third recording of the voice, the reference for speaker similarity.
        reference: the voice's own recording of `text` (original and codec-resynthesis reference rows).
    """

    voice: str
    text: str
    prompt: Path
    other: Path
    reference: Path


def eval_items(corpus: str, per_voice: int = 4) -> list[EvalItem]:
    """Items from the corpus's eval split (reserved voices): per voice, `per_voice` target sentences, each
    with a prompt and an "other" recording taken from the voice's longest remaining utterances.

    Args:
        corpus: corpus directory with manifest.jsonl holding an eval split.
        per_voice: target sentences per voice.

    Returns:
        Items grouped by voice, in a fixed order (utterances sorted by id).

    Raises:
        UserInputError: no eval split, or a voice has too few utterances for `per_voice`.
    """
    from engine.data.manifest import load_manifest

    if per_voice < 1:
        raise UserInputError(f"--per-voice {per_voice} must be at least 1.")
    utterances = load_manifest(corpus, "eval")
    if not utterances:
        raise UserInputError(
            f"The corpus at {corpus} has no eval utterances; build it with its eval split or set CORPUS_DIR."
        )
    by_voice: dict[str, list] = defaultdict(list)
    for u in sorted(utterances, key=lambda u: u.id):
        by_voice[f"{u.engine}/{u.voice}"].append(u)
    items = []
    for voice, utts in sorted(by_voice.items()):
        lo, hi = TARGET_SECONDS
        targets = [u for u in utts if lo <= u.duration <= hi][:per_voice]
        rest = sorted((u for u in utts if u not in targets), key=lambda u: (-u.duration, u.id))
        if len(targets) < per_voice or len(rest) < 2 * per_voice:
            raise UserInputError(
                f"Voice {voice} has {len(utts)} eval utterances, too few for {per_voice} targets with a "
                "prompt and another recording each; use a smaller --per-voice."
            )
        for i, target in enumerate(targets):
            prompt, other = rest[2 * i], rest[2 * i + 1]
            items.append(
                EvalItem(
                    voice, target.text, Path(prompt.wav_path), Path(other.wav_path), Path(target.wav_path)
                )
            )
    return items


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


def _codec_wer(figures: dict[str, Any]) -> float:
    return next(r["wer"] for r in figures["references"] if r["name"] == CODEC_REFERENCE)


def _row(figures: dict[str, Any], method: str, iterations: int) -> dict[str, Any] | None:
    return next(
        (r for r in figures["sweep"] if r["method"] == method and r["iterations"] == iterations), None
    )


def _at_default(figures: dict[str, Any], method: str) -> dict[str, Any]:
    """The method's row at its default iterations, or the swept count nearest to it."""
    rows = [r for r in figures["sweep"] if r["method"] == method]
    return min(rows, key=lambda r: (abs(np.log2(r["iterations"] / DEFAULT_STEPS[method])), -r["iterations"]))


def check_targets(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of the issue, per method at its default iterations: the figure, the bound and whether met.

    Returns:
        Dicts with "target", "setting", "value", "bound" and "met" (None when the settings were not swept).
    """
    codec_wer = _codec_wer(figures)
    checks = []
    for method in dict.fromkeys(r["method"] for r in figures["sweep"]):
        row = _at_default(figures, method)
        setting = f"{method}@{row['iterations']}"
        checks.append(
            {
                "target": f"WER <= {WER_RATIO_TARGET} x codec resynthesis WER ({codec_wer:.3f})",
                "setting": setting,
                "value": row["wer"],
                "bound": WER_RATIO_TARGET * codec_wer,
                "met": bool(row["wer"] <= WER_RATIO_TARGET * codec_wer),
            }
        )
        checks.append(
            {
                "target": f"similarity to another recording of the voice >= {SIMILARITY_TARGET}",
                "setting": setting,
                "value": row["similarity"],
                "bound": SIMILARITY_TARGET,
                "met": bool(row["similarity"] >= SIMILARITY_TARGET),
            }
        )
    (fast_method, fast_n), (slow_method, slow_n), ratio = GROUP_VS_SOUNDSTORM
    fast, slow = _row(figures, fast_method, fast_n), _row(figures, slow_method, slow_n)
    checks.append(
        {
            "target": f"{fast_method}@{fast_n} WER within {ratio - 1:.0%} of {slow_method}@{slow_n}",
            "setting": f"{fast_method}@{fast_n} vs {slow_method}@{slow_n}",
            "value": fast["wer"] if fast else None,
            "bound": ratio * slow["wer"] if slow else None,
            "met": bool(fast["wer"] <= ratio * slow["wer"]) if fast and slow else None,
        }
    )
    return checks


def plot(figures: dict[str, Any], out_dir: Path) -> Figure:
    """WER and similarity against iterations, one line per method, reference lines for original and codec."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, key, label in ((axes[0], "wer", "WER"), (axes[1], "similarity", "speaker similarity")):
        for method in dict.fromkeys(r["method"] for r in figures["sweep"]):
            rows = sorted(
                (r for r in figures["sweep"] if r["method"] == method), key=lambda r: r["iterations"]
            )
            ax.plot([r["iterations"] for r in rows], [r[key] for r in rows], marker="o", label=method)
        for ref, style in zip(figures["references"], ("--", ":"), strict=True):
            ax.axhline(ref[key], color="grey", linestyle=style, label=ref["name"])
        codec_wer = _codec_wer(figures)
        bound, name = (
            (SIMILARITY_TARGET, f"target >= {SIMILARITY_TARGET}")
            if key == "similarity"
            else (WER_RATIO_TARGET * codec_wer, f"target <= {WER_RATIO_TARGET} x codec")
        )
        ax.axhline(bound, color="red", linewidth=0.8, label=name)
        ax.legend(fontsize=8)
        ax.set_xscale("log", base=2)
        ax.set_xticks(sorted({r["iterations"] for r in figures["sweep"]}))
        ax.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.set_xlabel("first-level iterations")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    fig.suptitle(
        f"Generated speech, {len(figures['items'])} held-out sentences of {len(figures['voices'])} voices"
    )
    return save_figure(
        fig,
        out_dir,
        "acoustic_quality_by_iterations",
        "WER and speaker similarity against first-level iterations",
    )


def _speed_table(rows: list[dict]) -> Table:
    cols = ("method", "audio_s", "passes_or_steps", "median_s", "rtf", "x_vs_flattened", "x_vs_delay")
    return Table(cols, tuple(tuple(r[c] for c in cols) for r in rows), caption="Parallel vs autoregressive")


def sections(figures: dict[str, Any], figure: Figure | None = None) -> list[Section]:
    """The figures as report sections: the sweep table, the references, the targets and the plot."""
    columns = (
        "setting",
        "passes",
        "WER",
        "WER / codec",
        "WER base",
        "P.808",
        "similarity",
        "acoustic s",
        "RTF acoustic",
        "RTF pipeline",
    )
    codec_wer = _codec_wer(figures)
    rows: list[tuple] = [
        (
            r["name"],
            None,
            r["wer"],
            r["wer"] / codec_wer if codec_wer else None,
            r.get("wer_base"),
            r.get("p808"),
            r["similarity"],
            None,
            None,
            None,
        )
        for r in figures["references"]
    ]
    rows += [
        (
            r["name"],
            r["passes"],
            r["wer"],
            r["wer"] / codec_wer if codec_wer else None,
            r.get("wer_base"),
            r.get("p808"),
            r["similarity"],
            r["acoustic_s"],
            r["rtf_acoustic"],
            r["rtf_pipeline"],
        )
        for r in figures["sweep"]
    ]
    target_rows = tuple(
        (
            t["target"],
            t["setting"],
            t["value"],
            t["bound"],
            {True: "met", False: "NOT met", None: "not measured"}[t["met"]],
        )
        for t in figures["targets"]
    )
    audio_s = figures["sweep"][0]["audio_s"] if figures["sweep"] else 0.0
    text = (
        f"{len(figures['items'])} held-out sentences ({audio_s:.0f} s generated per setting) of the reserved "
        f"voices {', '.join(figures['voices'])}, each generated from its text in the voice of another "
        "utterance of the same voice (pipeline: duration model + acoustic model + codec; one batch per "
        f"voice; seed {figures['seed']}; torch threads {figures['threads']}). WER: Whisper tiny.en against "
        "the text (the judge of the earlier runs and of the targets); WER base: Whisper base, the main judge "
        "of the real-voice benchmark (tiny.en moves 0.63-1.1 between runs on the built-in voices, base "
        "0.27-0.30); P.808: DNSMOS P.808 naturalness, mean over clips; similarity: resemblyzer cosine to a third recording of the voice. Reference rows: the "
        "voice's own recording of the sentence, and its codec resynthesis. Passes: acoustic model forward "
        "passes per batch. RTF = seconds per second of generated audio, of the acoustic decode and of the "
        "whole pipeline call (text-to-semantic, acoustic, codec decode, assembly; voice prompts are encoded "
        "once per clip and cached, so they are left out). Parallel/autoregressive speed ratios at 10 s and "
        "30 s: "
        + (
            "the last table (random-weight models of this model's width and depth, same run)."
            if figures.get("speed")
            else "see 'Acoustic generator: parallel decoding vs autoregressive baselines' "
            "(bench/acoustic_speed.py), or run `python -m bench.acoustic --with-speed` to measure them here."
        )
    )
    items: list[Table | Figure] = [
        Table(columns, tuple(rows), caption="By decoder and first-level iterations"),
        Table(("target", "setting", "value", "bound", "status"), target_rows, caption="Targets"),
    ]
    if figures.get("voice_match"):
        items.append(
            Table(
                ("voice matching strength", "WER", "WER / codec", "WER base", "P.808", "similarity"),
                tuple(
                    (
                        r["strength"],
                        r["wer"],
                        r["wer"] / codec_wer if codec_wer else None,
                        r.get("wer_base"),
                        r.get("p808"),
                        r["similarity"],
                    )
                    for r in figures["voice_match"]
                ),
                caption=f"group@{DEFAULT_STEPS['group']} by voice matching strength (0 = the acoustic model's "
                f"output as it is; the rows above use the pipeline's default, "
                f"{figures.get('voice_match_default', 0):g})",
            )
        )
    if figure is not None:
        items.append(figure)
    if figures.get("speed"):
        items.append(_speed_table(figures["speed"]))
    return [Section("Acoustic generator: quality by decoder and iterations", text, tuple(items))]


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


def run(
    out_dir: Path,
    corpus: str | None = None,
    acoustic: str | Path | Any = None,
    per_voice: int = 4,
    methods: Sequence[str] = METHODS,
    iterations: Sequence[int] | Mapping[str, Sequence[int]] = ITERATIONS,
    items: Sequence[EvalItem] | None = None,
    synth: DialogueSynthesizer | None = None,
    with_speed: bool = False,
    log: Callable[[str], None] = print,
) -> list[Section]:
    """Measure the acoustic generator and return report sections; figures also go to
    `out_dir/acoustic_figures.json` and the plot to `out_dir/acoustic_quality_by_iterations.png`.

    Args:
        out_dir: results directory.
        corpus: corpus with the eval split (default $CORPUS_DIR or /work/corpus); unused when `items` given.
        acoustic: checkpoint path or AcousticModel (default the shipped assets/acoustic/acoustic.pt).
        per_voice: target sentences per reserved voice.
        methods: decoders to sweep.
        iterations: first-level iteration counts to sweep, for every method or per method.
        items: what to generate, instead of the corpus's eval split.
        synth: a pipeline to use (its models); built from `acoustic` when None.
        with_speed: also time 10 s / 30 s against the autoregressive baselines (minutes).
        log: progress sink.
    """
    check_sweep(methods, iterations)
    synth = synth or DialogueSynthesizer(acoustic=acoustic)
    synth.load()
    items = list(items) if items is not None else eval_items(corpus or DEFAULT_CORPUS, per_voice)
    figures = measure(synth, items, methods, iterations, log=log)
    if with_speed:
        figures["speed"] = measure_speed(synth, log=log)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "acoustic_figures.json").write_text(json.dumps(figures, indent=2) + "\n")
    return sections(figures, plot(figures, out))


def _iteration_list(text: str) -> tuple[str | None, tuple[int, ...]]:
    """Iteration counts for every method ("1,2,4") or for one ("spans:1,4,16")."""
    method, _, counts = text.rpartition(":")
    try:
        return method.strip() or None, tuple(int(v) for v in counts.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of whole numbers, optionally after 'method:'"
        ) from None


def main(argv: list[str] | None = None) -> int:
    """Command line: measure and print the tables."""
    p = argparse.ArgumentParser(prog="python -m bench.acoustic", description=__doc__.split("\n")[0])
    p.add_argument("--corpus", default=DEFAULT_CORPUS, help="corpus with the eval split")
    p.add_argument(
        "--acoustic", default=None, help="acoustic checkpoint (default assets/acoustic/acoustic.pt)"
    )
    p.add_argument("--per-voice", type=int, default=4, help="target sentences per reserved voice")
    p.add_argument(
        "--iterations",
        type=_iteration_list,
        action="append",
        default=[],
        help="e.g. 1,2,4,8,16 (every method; the default) or spans:1,4,16 (one method); may be repeated",
    )
    p.add_argument("--methods", default=",".join(METHODS), help=f"comma-separated, of {', '.join(DECODERS)}")
    p.add_argument("--with-speed", action="store_true", help="also the 10/30 s AR ratios (about 6+ minutes)")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--out", type=Path, default=Path("bench/results"), help="where the PNG and JSON go")
    p.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    methods = tuple(m.strip() for m in args.methods.split(",") if m.strip())
    default = next((c for m, c in reversed(args.iterations) if m is None), ITERATIONS)
    iterations = {m: default for m in methods} | {m: c for m, c in args.iterations if m is not None}
    start = time.perf_counter()
    try:
        result = run(
            args.out,
            args.corpus,
            args.acoustic,
            args.per_voice,
            methods,
            iterations,
            with_speed=args.with_speed,
            log=lambda m: print(m, file=sys.stderr, flush=True),
        )
    except UserInputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for section in result:
        print(section_markdown(section, args.out))
    if args.json:
        args.json.write_text((args.out / "acoustic_figures.json").read_text())
    print(f"\n({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
