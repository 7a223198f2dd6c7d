"""The real-voice benchmark's report: its tables, its plot and the section's text."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.real_voices.cases import BUILT_IN, RESERVED, SEEN, UNSEEN
from bench.real_voices.figures import KEYS
from bench.report import Section, Table, save_figure

_COLUMNS = (
    "WER base",
    "WER tiny.en",
    "sim resemblyzer",
    "sim d-vector",
    "speaker ID (R)",
    "speaker ID (d)",
    "DNSMOS P.808",
    "DNSMOS OVRL",
    "pace / clip",
    "turns within 25 %",
)


def tables(summary: dict, settings: Sequence[str]) -> list[Table]:
    default = summary["default"]
    rows = []
    for group, by_row in summary["groups"].items():
        for row in ["real clips", "codec resynthesis", *settings]:
            figures = by_row.get(row, {})
            if any(v is not None for v in figures.values()):
                rows.append((group, row, *(figures.get(k) for k in KEYS)))
    overview = Table(
        ("voices", "clips", *_COLUMNS),
        tuple(rows),
        caption="Means over the voices of each group (speaker ID over that group's speakers)",
    )
    per_speaker = []
    for vid, v in summary["per_voice"].items():
        gen = v["rows"].get(default, {})
        real = v["rows"]["real clips"]
        resyn = v["rows"]["codec resynthesis"]
        per_speaker.append(
            (
                vid,
                v["group"],
                v["channel"],
                gen.get("tempo"),
                real.get("wer_base"),
                resyn.get("wer_base"),
                gen.get("wer_base"),
                gen.get("wer_tiny"),
                gen.get("sim_resemblyzer"),
                gen.get("sim_dvector"),
                gen.get("id_resemblyzer"),
                gen.get("id_dvector"),
                real.get("p808"),
                gen.get("p808"),
                v["clip_pace"],
                gen.get("pace_ratio_median"),
                gen.get("pace_within_25"),
            )
        )
    speaker_table = Table(
        (
            "voice",
            "group",
            "channel",
            "tempo used",
            "WER real clips",
            "WER resynthesis",
            "WER",
            "WER tiny.en",
            "sim R",
            "sim d",
            "ID R",
            "ID d",
            "P.808 real",
            "P.808",
            "clip syll/s",
            "pace / clip",
            "within 25 %",
        ),
        tuple(per_speaker),
        caption=f"Per voice, generated at the defaults ({default})",
    )
    decoder = default.split(" seed ")[0]
    seeds = [
        s for s in settings if re.fullmatch(rf"{re.escape(decoder)} seed \d+", s)
    ]  # not "... without guards"
    seed_rows = []
    if len(seeds) >= 2 and UNSEEN in summary["groups"]:
        a, b = (summary["groups"][UNSEEN][s] for s in seeds[:2])
        for key, name in zip(KEYS, _COLUMNS):
            if a[key] is not None and b[key] is not None:
                seed_rows.append((name, a[key], b[key], abs(a[key] - b[key])))
    for group in (BUILT_IN, RESERVED):  # their WER moves between seeds as much: a comparison needs both
        rows = summary["groups"].get(group, {})
        if len(seeds) >= 2 and all(rows.get(s, {}).get("wer_base") is not None for s in seeds[:2]):
            a, b = (rows[s]["wer_base"] for s in seeds[:2])
            seed_rows.append((f"WER base, {group} voices", a, b, abs(a - b)))
    seed_table = Table(
        ("figure (mean over the voices)", seeds[0], seeds[1] if len(seeds) > 1 else "", "|difference|"),
        tuple(seed_rows),
        caption="How much a figure moves between two seeds",
    )
    eer = Table(
        ("speaker encoder", "equal error rate on the real clips", "same-speaker pairs", "different pairs"),
        tuple((k, v["eer"], v["same_pairs"], v["different_pairs"]) for k, v in summary["encoders"].items()),
    )
    return [overview, speaker_table, *([seed_table] if seed_rows else []), eer]


def plot(summary: dict, out_dir: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    default = summary["default"]
    voices = [(k, v) for k, v in summary["per_voice"].items() if v["group"] != BUILT_IN]
    x = np.arange(len(voices))
    fig, ax = plt.subplots(figsize=(max(8, len(voices) * 0.7), 4))
    for offset, (row, label) in zip(
        (-0.27, 0, 0.27),
        (
            ("real clips", "real clip"),
            ("codec resynthesis", "codec resynthesis"),
            (default, f"generated ({default})"),
        ),
    ):
        values = [v["rows"].get(row, {}).get("wer_base") for _, v in voices]
        ax.bar(x + offset, [np.nan if w is None else w for w in values], width=0.27, label=label)
    built_in = summary["groups"].get(BUILT_IN, {}).get(default, {}).get("wer_base")
    if built_in is not None:
        ax.axhline(built_in, color="k", ls="--", lw=1, label=f"built-in voices, generated ({built_in:.2f})")
    ax.set_xticks(x, [k for k, _ in voices], rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("WER (Whisper base)")
    ax.legend(fontsize=8)
    return save_figure(fig, out_dir, "real_voices_wer", "Whisper base WER per voice")


def sections(summary: dict, settings: Sequence[str], out_dir: Path) -> list[Section]:
    groups = summary["groups"]
    text = (
        f"{len(summary['sentences'])} held-out sentences per voice, one dialogue per voice and setting, at the "
        "app's defaults (voice matching, tempo from the clip) but for the decoder; "
        f"{sum(v['group'] == UNSEEN for v in summary['per_voice'].values())} real voices no model trained on "
        "(`engine/data/real_speech/`). WER pools all turns of a voice; similarity is the mean cosine of each "
        "turn to the speaker's other recordings (the ARCTIC speakers and built-in voices: to their prompt, "
        "marked by an empty ID); speaker ID: share of turns whose nearest reference among all speakers of the "
        "group is their own; pace: syllables (espeak-ng vowels) per second of speech, turn over clip "
        "(a clip without a transcript is timed on what Whisper base heard in it). "
        f"The codec's tokens decoded by {summary.get('vocoder', 'world')}."
    )
    heard = sorted(k for k, v in summary["per_voice"].items() if v["group"] == SEEN)
    if heard:
        text += (
            f" Other recordings of {', '.join(heard)} trained the models measured, so they are reported apart "
            f"('{SEEN}'), not among the unseen voices."
        )
    if UNSEEN in groups and BUILT_IN in groups:
        d = summary["default"]
        real, built = groups[UNSEEN][d]["wer_base"], groups[BUILT_IN][d]["wer_base"]
        if real is not None and built:
            text += f" At the defaults: unseen real voices WER {real:.3f}, built-in {built:.3f} ({real / built:.2f} x)."
    return [Section("Real voices", text, (*tables(summary, settings), plot(summary, out_dir)))]
