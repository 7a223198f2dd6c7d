"""The long-form benchmark's figures against issue 24's targets, as report sections: met or not met per target,
then the tables they come from."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from bench.long_form.lengths import RESEEDS, LengthFigures
from bench.long_form.line import Stop, Wait
from bench.report import Section, Table
from engine.ui.waiting import SLICE_S

FIRST_AUDIO_TARGET_S = 1.0
RTF_TARGET = 0.1
PEAK_TARGET_MB = 2e9 / 2**20  # 2 GB, in MiB as the memory figures are
STOP_TARGET_S = 1.0
SIMILARITY_DRIFT_TARGET = 0.02
POOLED_PASSES = 3  # passes pooled at each end for the steadier reading of the drift (`pooled_drifts`)
LOUDNESS_SPREAD_TARGET_DB = 1.0
# A long dialogue's first chunks grow (the first turn alone, then about 4x); from this one on they are full.
FIRST_FULL_CHUNK = 2
# Cores other processes kept busy, on average over the run, beyond which the figures were measured under load.
BUSY_CORES = 0.3


@dataclass(frozen=True)
class LongFormFigures:
    """Everything one run of the benchmark measured.

    Attributes:
        first_audio: dialogue name -> seconds to the first chunk, per repeat (in the app's process).
        lengths: dialogue name -> the whole dialogue generated in a fresh process; the last is the longest.
        waits: the short jobs submitted behind the longest dialogue.
        stops: the stops of the longest dialogue.
        other_cores: cores other processes kept busy, on average over the run (bench/long_form/machine.py).
        threads: torch threads.
    """

    first_audio: dict[str, list[float]]
    lengths: dict[str, LengthFigures]
    waits: list[Wait]
    stops: list[Stop]
    other_cores: float
    threads: int


def verdict(met: bool) -> str:
    return "met" if met else "**not met**"


def full_chunk_s(run: LengthFigures) -> float:
    """The median time of the run's full chunks (the growing first ones left out)."""
    return statistics.median(run.chunk_s[FIRST_FULL_CHUNK:] or run.chunk_s)


def drifts(run: LengthFigures) -> dict[str, float]:
    """Speaker -> similarity to their clip in the last pass minus that in the first (scored speakers only)."""
    return {
        speaker: last - first
        for speaker, (first, last, _) in run.similarity.items()
        if first is not None and last is not None
    }


def seed_spreads(run: LengthFigures) -> dict[str, float]:
    """Speaker -> the largest change of their first pass's similarity when that pass is generated again at
    other seeds: what sampling alone moves it by, against which a drift is to be read."""
    spreads = {}
    for speaker, (first, _, again) in run.similarity.items():
        changes = [a - first for a in again if a is not None and first is not None]
        if changes:
            spreads[speaker] = max(changes, key=abs)
    return spreads


def pooled_drifts(run: LengthFigures, passes: int = POOLED_PASSES) -> dict[str, float]:
    """Speaker -> mean similarity over the last `passes` passes minus that over the first `passes`: the same
    comparison as `drifts` on three times the turns (minutes 1-3 against the last three), so that less of it
    is sampling. Only for dialogues of at least twice as many passes."""
    out = {}
    for speaker, scores in run.pass_similarity.items():
        if len(scores) < 2 * passes:
            continue
        first = [v for v in scores[:passes] if v is not None]
        last = [v for v in scores[-passes:] if v is not None]
        if first and last:
            out[speaker] = statistics.mean(last) - statistics.mean(first)
    return out


def _scores(values: tuple[float | None, ...]) -> str:
    return ", ".join("-" if v is None else f"{v:.3f}" for v in values)


def _targets(f: LongFormFigures) -> str:
    name, longest = list(f.lengths.items())[-1]
    firsts = [s for times in f.first_audio.values() for s in times]
    firsts += [r.first_audio_s for r in f.lengths.values()]
    chunk = full_chunk_s(longest)
    waited = max(w.waited_s for w in f.waits)
    free = max(s.line_free_s for s in f.stops)
    drift = drifts(longest)
    worst = max(drift.values(), key=abs) if drift else None
    spread = max(longest.levels_db) - min(longest.levels_db)
    peaks = ", ".join(f"{n} {r.peak_mb:.0f}" for n, r in f.lengths.items())
    audio = f"{longest.audio_s / 60:.1f} min of audio in {longest.wall_s:.0f} s"
    fair = f"Another user's short job behind the {name} one starts within one chunk's time ({chunk:.2f} s)"
    same = f"Each speaker's similarity to their clip in the last pass within {SIMILARITY_DRIFT_TARGET} of the first"
    lines = [
        (
            f"Time to first audio <= {FIRST_AUDIO_TARGET_S:.1f} s for any length",
            f"slowest of {len(firsts)} {max(firsts):.2f} s",
            max(firsts) <= FIRST_AUDIO_TARGET_S,
        ),
        (
            f"The {name} dialogue at RTF <= {RTF_TARGET}",
            f"{longest.rtf:.3f} ({audio})",
            longest.rtf <= RTF_TARGET,
        ),
        (
            f"Its peak resident memory <= 2 GB ({PEAK_TARGET_MB:.0f} MiB)",
            f"{longest.peak_mb:.0f} MiB (by length: {peaks} MiB)",
            longest.peak_mb <= PEAK_TARGET_MB,
        ),
        (
            f"A stop frees the line within {STOP_TARGET_S:.0f} s",
            f"slowest of {len(f.stops)} {free:.2f} s",
            free <= STOP_TARGET_S,
        ),
        (fair, f"longest wait of {len(f.waits)} {waited:.2f} s", waited <= chunk),
    ]
    if worst is not None:
        reseeded = seed_spreads(longest)
        pooled = pooled_drifts(longest)
        context = []
        if reseeded:
            context.append(
                f"the first pass again at other seeds: up to {max(reseeded.values(), key=abs):+.3f}"
            )
        if pooled:
            largest = max(pooled.values(), key=abs)
            context.append(
                f"the first {POOLED_PASSES} passes against the last {POOLED_PASSES}: {largest:+.3f}"
            )
        noise = f" ({'; '.join(context)})" if context else ""
        lines.append((same, f"largest change {worst:+.3f}{noise}", abs(worst) <= SIMILARITY_DRIFT_TARGET))
    lines.append(
        (
            f"Turn loudness within {LOUDNESS_SPREAD_TARGET_DB:.0f} dB",
            f"the {longest.turns} turns span {spread:.2f} dB",
            spread <= LOUDNESS_SPREAD_TARGET_DB,
        )
    )
    return "\n".join(f"- {target}: {figure}; {verdict(met)}." for target, figure, met in lines)


def _how(f: LongFormFigures) -> str:
    longest = list(f.lengths.values())[-1]
    load = f"Other processes kept {f.other_cores:.1f} cores busy on average during the run."
    if f.other_cores > BUSY_CORES:
        load += (
            " **Measured under load**: another job shared the machine's cores, so the times are slower than "
            "on a quiet machine."
        )
    return (
        f"Shipped models, built-in voices (S1 rms-male, S2 slt-female, S3 en1-male), default settings "
        f"(group decoder, {f.threads} torch threads). The long dialogues are the three demo transcripts "
        f"said over and over: one pass is {longest.pass_turns} turns, a minute of speech. Each whole "
        "dialogue was generated in a fresh process (models loaded, clips encoded, a 2-turn warm-up) as "
        "`generate --stream` does it, nothing of the dialogue kept in memory (each turn written to a "
        "temporary folder as it came, as `--stream` writes its file); memory is the resident high-water mark "
        "(VmHWM) reset just before the dialogue, so the loaded models count. Time to first audio is also "
        "timed in the app's process (each length in turn). The line's figures come from the app's own "
        "handlers on threads (/stream for the long dialogue, /generate for the short one, /stop's handler "
        "for a stop), without the HTTP layer. Similarity: resemblyzer, each speaker's turns in the first "
        "pass and the same sentences in the last (and in every pass between), against their clip, and the "
        f"first pass generated again at seeds {', '.join(map(str, RESEEDS))} (what sampling alone changes); loudness: each turn's speech-gated "
        "level (the joiner levels every turn to -20 dBFS; this checks that it held to the end). A long job "
        f"keeps the line at least {SLICE_S:g} s once it has it (engine/ui/waiting.py's SLICE_S), then gives "
        f"way after its chunk or its voice clip's encoding. {load}"
    )


def _length_row(name: str, first_audio: list[float], run: LengthFigures | None) -> tuple:
    timed = (name, f"{statistics.median(first_audio):.2f} / {max(first_audio):.2f}")
    if run is None:  # only its first audio was timed
        return timed + (None,) * 8
    return timed + (
        run.turns,
        run.audio_s / 60,
        run.first_audio_s,
        len(run.chunk_s),
        run.wall_s,
        run.rtf,
        run.rss_before_mb,
        run.peak_mb,
    )


def sections(f: LongFormFigures) -> list[Section]:
    """The report: the targets met or not, then per length, the line, and each speaker's consistency."""
    name, longest = list(f.lengths.items())[-1]
    by_length = Table(
        (
            "dialogue",
            "first audio, median / max (s)",
            "turns",
            "audio (min)",
            "first audio, full run (s)",
            "chunks",
            "wall (s)",
            "RTF",
            "RSS at start (MiB)",
            "peak (MiB)",
        ),
        tuple(_length_row(n, times, f.lengths.get(n)) for n, times in f.first_audio.items()),
        caption=(
            f"Time to first audio over {len(next(iter(f.first_audio.values())))} repeats per length in the "
            "app's process; the rest from the whole dialogue in a fresh one"
        ),
        float_format=".3g",
    )
    line = Table(
        ("job", "the long one was at", "waited / line free (s)", "short job done / handler returned (s)"),
        tuple(("short job", w.long_was, w.waited_s, w.total_s) for w in f.waits)
        + tuple(("stop", s.long_was, s.line_free_s, s.handler_done_s) for s in f.stops),
        caption=f"Behind the {name} dialogue: another user's short job, then stops",
        float_format=".2f",
    )
    levels = longest.levels_db
    consistency = Table(
        (
            "speaker",
            "similarity, first pass",
            "similarity, last pass",
            "change",
            f"first pass, seeds {', '.join(map(str, RESEEDS))}",
            "largest change",
        ),
        tuple(
            (s, a, b, drifts(longest).get(s), _scores(c), seed_spreads(longest).get(s))
            for s, (a, b, c) in longest.similarity.items()
        ),
        caption=(
            f"The {name} dialogue: turn levels {min(levels):.2f} to {max(levels):.2f} dBFS "
            f"(median {statistics.median(levels):.2f})"
        ),
        float_format=".3f",
    )
    by_pass = longest.pass_similarity
    passes = max((len(v) for v in by_pass.values()), default=0)
    per_pass = Table(
        ("speaker", *(str(k + 1) for k in range(passes)), f"last {POOLED_PASSES} − first {POOLED_PASSES}"),
        tuple(
            (s, *v, *(None,) * (passes - len(v)), pooled_drifts(longest).get(s)) for s, v in by_pass.items()
        ),
        caption=f"The {name} dialogue: each speaker's similarity to their clip in every pass (a minute each)",
        float_format=".3f",
    )
    return [
        Section(
            "Long dialogues (issue 24): first audio, speed, memory, stop, fair turns, consistency",
            _how(f) + "\n\n" + _targets(f),
            (by_length, line, consistency, *([per_pass] if by_pass else [])),
        )
    ]
