"""The acoustic benchmark's targets, plot and report section."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bench.acoustic.items import CODEC_REFERENCE, GROUP_VS_SOUNDSTORM, SIMILARITY_TARGET, WER_RATIO_TARGET
from bench.report import Figure, Section, Table, save_figure
from engine.acoustic.decoding import DEFAULT_STEPS


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
