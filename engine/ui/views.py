"""The decoding views of a generation: which decoder step fixed each token, the model's confidence, what
each step fixed and the spectrogram, on the dialogue's own seconds; drawn after the audio is delivered, and
again for another step or window of the dialogue."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import gradio as gr
import numpy as np

from engine.ui.plots import TraceView, figure_to_image, spectrogram_figure
from engine.ui.timeline_plots import (
    Timeline,
    confidence_timeline_figure,
    fill_order_figure,
    parse_window,
    steps_figure,
    view_windows,
)

if TYPE_CHECKING:
    from engine.pipeline import DialogueResult

log = logging.getLogger(__name__)

DRAWING = " Drawing how it was decoded ..."  # the end of the run status while the views are drawn


@dataclass(frozen=True, eq=False)
class Decoded:
    """What the page keeps of a generation to draw its decoding views again (for the step slider and the
    window): the laid-out trace, where the turns sit in the audio, and the audio."""

    view: TraceView
    timeline: Timeline
    audio: np.ndarray
    sample_rate: int
    turns: tuple[tuple[str, float, float], ...]

    @classmethod
    def from_result(cls, result: DialogueResult, frame_rate: float) -> Decoded:
        view = TraceView.from_trace(result.trace, [t.speaker for t in result.turns], frame_rate)
        turns = tuple((t.speaker, t.start_s, t.end_s) for t in result.turns)
        timeline = Timeline(tuple((start, end) for _, start, end in turns), result.duration_s)
        return cls(view, timeline, np.asarray(result.audio, dtype=np.float32), result.sample_rate, turns)


def draw(decoded: Decoded, step: int | None = None, window: tuple[float, float] | None = None) -> tuple:
    """The decoding views as images: (fill-in, confidence, what each step fixed, spectrogram)."""
    view, timeline = decoded.view, decoded.timeline
    span = timeline.window(window)
    return (
        figure_to_image(fill_order_figure(view, step, timeline, span)),
        figure_to_image(confidence_timeline_figure(view, step, timeline, span)),
        figure_to_image(steps_figure(view, step)),
        figure_to_image(spectrogram_figure(decoded.audio, decoded.sample_rate, decoded.turns, span)),
    )


def step_slider(view: TraceView) -> gr.Slider:
    """The slider over the decoder's own steps, saying what each step does."""
    n = max(view.iterations, 1)
    groups: dict[str, list[int]] = {}
    for k, (stage, _, _) in enumerate(view.steps, 1):
        groups.setdefault(stage, []).append(k)
    parts = [f"{k[0]}-{k[-1]}: {stage}" if len(k) > 1 else f"{k[0]}: {stage}" for stage, k in groups.items()]
    return gr.Slider(
        minimum=1,
        maximum=n,
        value=n,
        step=1,
        interactive=n > 1,
        label=f"Decoder step (the decoder made {view.iterations})",
        info="; ".join(parts),
    )


def page_draw(fresh: Decoded | None, run_status: str | None) -> tuple:
    """Page: the decoding views of a new generation (nothing when it failed).

    Returns:
        (fill-in, step slider, confidence, steps, spectrogram, window choice, the Decoded kept, run status).
    """
    if fresh is None:
        return (gr.skip(),) * 8
    start = time.perf_counter()
    fill_in, confidence, steps, spectrogram = draw(fresh)
    windows = view_windows(fresh.timeline, fresh.view.speakers)
    status = (run_status or "").removesuffix(DRAWING)
    status += f" Decoding views drawn in {time.perf_counter() - start:.1f} s more."
    return (
        fill_in,
        step_slider(fresh.view),
        confidence,
        steps,
        spectrogram,
        gr.Dropdown(choices=windows, value=windows[0][1], interactive=True),
        fresh,
        status,
    )


def redraw_step(kept: Decoded | None, step: float, window: str | None) -> tuple:
    """Page: the fill-in, confidence and steps views at another decoder step."""
    if kept is None:
        return (gr.skip(),) * 3
    images = draw_views(kept, int(step), parse_window(window))
    return images[0], images[1], images[2]


def redraw_window(kept: Decoded | None, step: float, window: str | None) -> tuple:
    """Page: the fill-in, confidence and spectrogram over another turn or stretch of the dialogue."""
    if kept is None:
        return (gr.skip(),) * 3
    images = draw_views(kept, int(step), parse_window(window))
    return images[0], images[1], images[3]


def draw_views(kept: Decoded, step: int, window: tuple[float, float] | None) -> tuple:
    try:
        return draw(kept, step, window)
    except Exception:
        log.exception("drawing the decoding views failed")
        return (gr.skip(),) * 4
