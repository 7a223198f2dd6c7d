"""Compare iterations: the same dialogue, method and seed at 1, 2, 4, 8 and 16 iterations, each player
delivered with its time as soon as its run is done (the page), or all at once (the API)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import gradio as gr

from engine.ui import reports
from engine.ui.inputs import PageInput, named_speaker_inputs, plan_or_none, read_page
from engine.ui.messages import PLACE_NAMES, RUN, failure, page_errors, statuses
from engine.ui.stopping import session_of
from engine.ui.synthesis import LINE, pcm16, progress_reporter, synthesize_page

if TYPE_CHECKING:
    from engine.pipeline import DialogueResult

COMPARE_ITERATIONS = (1, 2, 4, 8, 16)


def _compare_runs(
    transcript, settings, speaker_values, progress, request
) -> Iterator[tuple[PageInput, int, DialogueResult]]:
    """Each run of the comparison in turn; `settings` are (method, temperature, guidance, seed, voice_match,
    pace_check)."""
    method, temperature, guidance, seed, voice_match, pace_check = settings
    page = read_page(transcript, speaker_values)
    n_runs = len(COMPARE_ITERATIONS)
    session = session_of(request)
    with LINE.turn("compare", page.words, lambda message: progress(0.0, desc=message), session) as job:
        for k, iterations in enumerate(COMPARE_ITERATIONS):
            report = progress_reporter(
                progress, k, n_runs, f"run {k + 1}/{n_runs}, {iterations} iterations: "
            )
            chosen = (method, iterations, temperature, guidance, seed, voice_match, pace_check)
            result = synthesize_page(page, chosen, report, job, keep_trace=False)
            yield page, iterations, result
            LINE.give_way(job, lambda message, k=k: progress((k + 1) / n_runs, desc=message))


def _player_label(iterations: int, result: DialogueResult | None) -> str:
    runs = f"{iterations} iteration{'s' * (iterations > 1)}"
    return f"{runs}, made in {result.timings['total']:.1f} s" if result is not None else f"{runs}: waiting"


def _compare_table(method: str, seed: float, rows: list[str]) -> str:
    return (
        f"{method}, seed {int(seed)}, the same for every run.\n\n| iterations | total | acoustic decode | "
        "real-time factor |\n|---|---|---|---|\n" + "\n".join(rows)
    )


def _compare_row(iterations: int, result: DialogueResult) -> str:
    return (
        f"| {iterations} | {result.timings['total']:.2f} s | {result.timings['acoustic']:.2f} s | "
        f"{result.real_time_factor:.2f} |"
    )


@named_speaker_inputs
def compare_iterations(
    transcript: str,
    method: str,
    temperature: float,
    guidance: float,
    seed: int,
    voice_match: float,
    pace_check: bool,
    *speaker_values: Any,
    progress: gr.Progress = gr.Progress(),  # noqa: B008
    request: gr.Request = None,
) -> tuple:
    """API: the same dialogue, method and seed at 1, 2, 4, 8 and 16 iterations.

    Returns:
        One gr.Audio update per iteration count (labeled with the count and the generation time), then a
        markdown table of the times.
    """
    players, rows = [], []
    with page_errors("Comparing iterations"):
        for _, iterations, result in _compare_runs(
            transcript,
            (method, temperature, guidance, seed, voice_match, pace_check),
            speaker_values,
            progress,
            request,
        ):
            players.append(
                gr.Audio(
                    value=(result.sample_rate, pcm16(result.audio)), label=_player_label(iterations, result)
                )
            )
            rows.append(_compare_row(iterations, result))
    return (*players, _compare_table(method, seed, rows))


def page_compare(
    transcript: str,
    method: str,
    temperature: float,
    guidance: float,
    seed: int,
    voice_match: float,
    pace_check: bool,
    *speaker_values: Any,
    progress: gr.Progress = gr.Progress(),  # noqa: B008
    request: gr.Request = None,
) -> Iterator[tuple]:
    """Page: the comparison, each player delivered as soon as its run is done, with its time.

    Yields:
        (the output tabs (the comparison's selected), *players, table, comparison status, *statuses).
    """
    n = len(COMPARE_ITERATIONS)
    rows: list[str] = []
    waiting = [gr.Audio(value=None, label=_player_label(it, None)) for it in COMPARE_ITERATIONS]
    yield (gr.Tabs(selected="compare-tab"), *waiting, gr.skip(), f"Run 1 of {n} ...", *statuses())
    done = 0
    try:
        for page, iterations, result in _compare_runs(
            transcript,
            (method, temperature, guidance, seed, voice_match, pace_check),
            speaker_values,
            progress,
            request,
        ):
            done += 1
            rows.append(_compare_row(iterations, result))
            players = [gr.skip()] * n
            players[COMPARE_ITERATIONS.index(iterations)] = gr.Audio(
                value=(result.sample_rate, pcm16(result.audio)), label=_player_label(iterations, result)
            )
            more = f"run {done + 1} of {n} ..." if done < n else "all runs done."
            yield (
                gr.skip(),
                *players,
                _compare_table(method, seed, rows),
                f"{done} of {n} runs ready; {more}",
                *statuses(
                    page.plan, page.clips, run=f"✓ Compare: {done} of {n} runs ready." if done == n else None
                ),
            )
    except Exception as error:  # noqa: BLE001  (every failure is shown in the page)
        plan = plan_or_none(transcript, speaker_values)
        place, message = failure(error, plan, "Compare")
        yield (
            gr.skip(),
            *[gr.skip()] * n,
            gr.skip(),
            reports.problem(message)
            if place == RUN
            else f"✗ Stopped: what is wrong is shown {PLACE_NAMES[place]}.",
            *statuses(plan, error=(place, message), action="Compare"),
        )
