"""The real-voice benchmark's figures: per voice and setting (WER, speaker similarity and identification,
DNSMOS, pace against the clip), the means per group, and each speaker encoder's equal error rate."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

import numpy as np

from bench.real_voices.cases import BUILT_IN, REAL, RESERVED, SEEN, UNSEEN, CaseFigures
from engine.eval.panel import ENCODERS, ClipScores, cosine, pooled_wer
from engine.eval.speaker_id import equal_error_rate

PACE_TOLERANCE = 0.25  # a turn's pace within 25 % of its speaker's clip (issue 21's target)

# The figures of a row, in the report's column order (`tables._COLUMNS`).
KEYS = (
    "wer_base",
    "wer_tiny",
    "sim_resemblyzer",
    "sim_dvector",
    "id_resemblyzer",
    "id_dvector",
    "p808",
    "ovrl",
    "pace_ratio_median",
    "pace_within_25",
)


def mean_of(values) -> float | None:
    values = [v for v in values if v is not None]
    return float(statistics.fmean(values)) if values else None


def similarity(turns: Sequence[ClipScores], references: Sequence[ClipScores], encoder: str) -> float | None:
    """Mean over turns of the mean cosine to the speaker's references."""
    refs = [r.embeddings[encoder] for r in references]
    return mean_of(mean_of(cosine(t.embeddings[encoder], r) for r in refs) for t in turns)


def identification(
    turns: Sequence[ClipScores], person: str, pool: Sequence[tuple[str, ClipScores]], encoder: str
) -> float | None:
    """Share of turns whose nearest reference over all speakers of the pool is `person`'s."""
    hits = []
    for turn in turns:
        scored = [(cosine(turn.embeddings[encoder], r.embeddings[encoder]), who) for who, r in pool]
        scored = [(c, who) for c, who in scored if c is not None]
        if turn.embeddings[encoder] is not None and scored:
            hits.append(max(scored)[1] == person)
    return float(np.mean(hits)) if hits else None


def pace_ratios(turns: Sequence[ClipScores], clip: ClipScores | None) -> list[float]:
    """Each turn's pace over the pace measured on the speaker's clip."""
    if clip is None or not clip.pace:
        return []
    return [t.pace / clip.pace for t in turns if t.pace]


def row_figures(fig: CaseFigures, turns: Sequence[ClipScores], pool) -> dict:
    """The figures of one voice for one set of clips (generated turns, or its recordings)."""
    case = fig.case
    ratios = pace_ratios(turns, fig.prompt)
    own_refs = fig.references if case.group != BUILT_IN else [fig.prompt]
    out = {
        "wer_base": pooled_wer(turns, "base"),
        "wer_tiny": pooled_wer(turns, "tiny.en"),
        "p808": mean_of(t.p808 for t in turns),
        "ovrl": mean_of(t.ovrl for t in turns),
        "pace_ratio_median": float(np.median(ratios)) if ratios else None,
        "pace_within_25": float(np.mean([abs(r - 1) <= PACE_TOLERANCE for r in ratios])) if ratios else None,
    }
    for enc in ENCODERS:
        out[f"sim_{enc}"] = similarity(turns, own_refs, enc)
        usable = pool.get(pool_of(case.group)) and not case.reference_is_prompt
        out[f"id_{enc}"] = (
            identification(turns, case.person, pool[pool_of(case.group)], enc) if usable else None
        )
    return out


def pool_of(group: str) -> str:
    """The identification's candidates: real voices, seen by the decoder or not, are told apart together."""
    return UNSEEN if group in REAL else group


def reference_pools(figs: Sequence[CaseFigures]) -> dict[str, list[tuple[str, ClipScores]]]:
    """Per pool (`pool_of`), every speaker's references labelled by person (the identification's candidates)."""
    pools: dict[str, list] = {}
    for fig in figs:
        if fig.case.group != BUILT_IN:
            pools.setdefault(pool_of(fig.case.group), []).extend((fig.case.person, r) for r in fig.references)
    return pools


def encoder_eer(figs: Sequence[CaseFigures], encoder: str) -> tuple[float, int, int]:
    """Equal error rate of an encoder on the real clips: same-person pairs against different-person pairs."""
    clips = []
    for fig in figs:
        if fig.case.group in REAL and fig.case.person == fig.case.id:  # one channel per person
            mine = [fig.prompt] + ([] if fig.case.reference_is_prompt else fig.references)
            clips += [
                (fig.case.person, c.embeddings[encoder]) for c in mine if c.embeddings[encoder] is not None
            ]
    same, different = [], []
    for i in range(len(clips)):
        for j in range(i + 1, len(clips)):
            (a, ea), (b, eb) = clips[i], clips[j]
            (same if a == b else different).append(float(np.dot(ea, eb)))
    return equal_error_rate(same, different), len(same), len(different)


def summarize(figs: Sequence[CaseFigures], settings: Sequence[str], default: str) -> dict:
    """All figures: per voice and setting, and per group the means over voices."""
    pools = reference_pools(figs)
    per_voice = {}
    for fig in figs:
        rows = {
            s: row_figures(fig, fig.generated[s], pools)
            | {
                "tempo": fig.tempo.get(s),
                "remade": fig.remade.get(s),
                "acoustic_rtf": fig.acoustic_rtf.get(s),
            }
            for s in settings
            if s in fig.generated  # the synthetic voices run the default setting only
        }
        rows["real clips"] = row_figures(fig, fig.references, {}) if fig.case.group != BUILT_IN else {}
        rows["codec resynthesis"] = row_figures(fig, fig.resynthesis, {}) if fig.resynthesis else {}
        if rows["real clips"]:
            rows["real clips"]["sim_resemblyzer"] = (
                mean_of(
                    cosine(fig.prompt.embeddings["resemblyzer"], r.embeddings["resemblyzer"])
                    for r in fig.references
                )
                if not fig.case.reference_is_prompt
                else None
            )
            rows["real clips"]["sim_dvector"] = (
                mean_of(
                    cosine(fig.prompt.embeddings["dvector"], r.embeddings["dvector"]) for r in fig.references
                )
                if not fig.case.reference_is_prompt
                else None
            )
        per_voice[fig.case.id] = {
            "group": fig.case.group,
            "person": fig.case.person,
            "channel": fig.case.channel,
            "reference_is_prompt": fig.case.reference_is_prompt,
            "clip_pace": fig.prompt.pace if fig.prompt else None,
            "clip_text_known": bool(fig.case.prompt_text),
            "rows": rows,
        }
    groups = {}
    for group in (UNSEEN, SEEN, BUILT_IN, RESERVED):
        members = [v for v in per_voice.values() if v["group"] == group]
        if not members:
            continue
        groups[group] = {
            row: {key: mean_of(m["rows"].get(row, {}).get(key) for m in members) for key in KEYS}
            for row in [*settings, "real clips", "codec resynthesis"]
        }
    eer = {
        enc: dict(zip(("eer", "same_pairs", "different_pairs"), encoder_eer(figs, enc))) for enc in ENCODERS
    }
    return {"per_voice": per_voice, "groups": groups, "encoders": eer, "default": default}
