"""The page's decoding views on the dialogue's own time axis (`Timeline`: each turn where it sits in the
audio, the pauses between them blank), so the fill-in grid, the confidence and the spectrogram line up with
each other and with the player; a window shows one turn or a stretch of a long dialogue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import BoundaryNorm, ListedColormap, LogNorm, to_rgba
from matplotlib.figure import Figure

from engine.ui.plots import (
    BAR_BOX,
    DPI,
    GRID_BOX,
    GRID_HEIGHT_IN,
    MASKED,
    MAX_COLUMNS,
    MIN_CONFIDENCE,
    TITLE_PAD,
    WIDTH_IN,
    TraceView,
    fill_state,
)

STEPS_HEIGHT_IN = 2.2
MASKED_RGBA = to_rgba("#d9d9d9")
PAUSE_RGBA = (1.0, 1.0, 1.0, 1.0)
EARLIER_ALPHA = 0.45  # tokens fixed by earlier steps are drawn paler than those the shown step fixed


@dataclass(frozen=True)
class Timeline:
    """Where each turn of a decode trace sits in the dialogue's audio.

    Attributes:
        spans: (start_s, end_s) of each turn in the audio, in turn order (the pauses lie between them).
        duration: length of the audio in seconds.
    """

    spans: tuple[tuple[float, float], ...]
    duration: float

    def window(self, window: tuple[float, float] | None) -> tuple[float, float]:
        """A window clipped to the audio; None or an empty one: the whole dialogue."""
        if window is None:
            return 0.0, self.duration
        w0, w1 = max(0.0, float(window[0])), min(self.duration, float(window[1]))
        return (w0, w1) if w1 > w0 else (0.0, self.duration)


def view_windows(timeline: Timeline, speakers: Sequence[str], every_s: float = 10.0) -> list[tuple[str, str]]:
    """The windows the page offers: the whole dialogue, each turn, and stretches of `every_s` seconds for
    dialogues longer than twice that; (label, value "start-end" in seconds)."""

    def value(w0: float, w1: float) -> str:
        return f"{w0:.2f}-{w1:.2f}"

    windows = [(f"whole dialogue (0-{timeline.duration:.1f} s)", value(0.0, timeline.duration))]
    for k, ((start, end), speaker) in enumerate(zip(timeline.spans, speakers, strict=True), 1):
        windows.append((f"turn {k} · {speaker} · {start:.1f}-{end:.1f} s", value(start, end)))
    if timeline.duration > 2 * every_s:
        for w0 in np.arange(0.0, timeline.duration, every_s):
            w1 = min(float(w0) + every_s, timeline.duration)
            windows.append((f"seconds {w0:.0f}-{w1:.0f}", value(float(w0), w1)))
    return windows


def parse_window(value: str | None) -> tuple[float, float] | None:
    """A window from its dropdown value ("start-end"); None for no or a malformed value."""
    try:
        w0, w1 = (float(x) for x in str(value).split("-"))
    except ValueError:
        return None
    return w0, w1


def _time_columns(view: TraceView, timeline: Timeline, window: tuple[float, float]) -> np.ndarray:
    """For each drawn column of the window, the frame of the joined trace it shows (-1 in a pause)."""
    w0, w1 = window
    n = int(np.clip(round((w1 - w0) * view.frame_rate), 1, MAX_COLUMNS))
    centers = w0 + (np.arange(n) + 0.5) * (w1 - w0) / n
    frames = np.full(n, -1, dtype=np.int64)
    start_frame = 0
    for (start, end), length in zip(timeline.spans, view.turn_lengths, strict=True):
        inside = (centers >= start) & (centers < end)
        # A turn's frames are spread over its span in the audio (trimming makes them differ a little).
        offset = np.floor((centers[inside] - start) / max(end - start, 1e-9) * length).astype(np.int64)
        frames[inside] = start_frame + np.clip(offset, 0, max(length - 1, 0))
        start_frame += length
    return frames


def _timeline_axes(
    view: TraceView,
    timeline: Timeline,
    window: tuple[float, float],
    title: str,
    height: float = GRID_HEIGHT_IN,
) -> tuple[Figure, object, object]:
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    ax = fig.add_axes(GRID_BOX)
    bar = fig.add_axes(BAR_BOX)
    q = view.fill_order.shape[0]
    ax.set_yticks(range(q), [f"L{level}" for level in range(q)], fontsize=8)
    ax.set_ylabel("codec level")
    ax.set_title(title, fontsize=10, pad=TITLE_PAD)
    ax.set_xlim(*window)
    ax.set_xlabel("seconds of the dialogue (as in the player; pauses between turns left blank)")
    for k, ((start, end), speaker) in enumerate(zip(timeline.spans, view.speakers, strict=True)):
        if end <= window[0] or start >= window[1]:
            continue
        if k and start >= window[0]:
            ax.axvline(start, color="black", linewidth=1.0, linestyle="--")
        middle = (max(start, window[0]) + min(end, window[1])) / 2
        ax.text(
            middle, 1.02, speaker, transform=ax.get_xaxis_transform(), ha="center", va="bottom", fontsize=9
        )
    return fig, ax, bar


def _step_colors(n: int) -> np.ndarray:
    """One colour per decoder step, early steps dark, late ones light."""
    return colormaps["viridis"](np.linspace(0.0, 0.9, max(n, 1)))


def fill_order_figure(
    view: TraceView, step: int | None, timeline: Timeline, window: tuple[float, float] | None = None
) -> Figure:
    """Which decoder step fixed each token, up to `step`: a colour per step (the shown step's tokens
    strong, earlier ones pale), tokens still masked grey, pauses blank; the dialogue's time axis.

    At the last step every token has its colour: the whole order in which the grid was filled in.

    Args:
        view: the laid-out trace.
        step: 1..view.iterations (None: the last).
        timeline: where the turns sit in the audio.
        window: the seconds to draw (None: all).

    Returns:
        The figure (render it with figure_to_image).
    """
    it = view.clamp(step)
    span = timeline.window(window)
    n_steps = view.iterations
    if not n_steps:
        fig, _, _ = _timeline_axes(view, timeline, span, "no decoding steps were recorded")
        return fig
    frames = _time_columns(view, timeline, span)
    order = view.fill_order[:, np.clip(frames, 0, None)]
    colors = _step_colors(n_steps)
    rgba = np.empty((*order.shape, 4))
    rgba[:] = MASKED_RGBA
    done = (order >= 0) & (order < it)
    rgba[done] = colors[order[done]]
    rgba[done & (order < it - 1), 3] = EARLIER_ALPHA
    rgba[:, frames < 0] = PAUSE_RGBA
    fixed_now = int((view.fill_order == it - 1).sum())
    fixed = int(((view.fill_order >= 0) & (view.fill_order < it)).sum())
    fig, ax, bar = _timeline_axes(
        view,
        timeline,
        span,
        f"decoder step {it} of {n_steps}: {view.step_name(it)}; it fixed {fixed_now} tokens, "
        f"{fixed} of {view.fill_order.size} fixed so far",
    )
    ax.imshow(rgba, aspect="auto", interpolation="nearest", extent=(*span, order.shape[0] - 0.5, -0.5))
    cmap = ListedColormap(colors)
    norm = BoundaryNorm(np.arange(n_steps + 1) + 0.5, n_steps)
    legend = fig.colorbar(ScalarMappable(norm, cmap), cax=bar, ticks=np.arange(1, n_steps + 1))
    legend.ax.tick_params(labelsize=7)
    legend.set_label("fixed at step (grey: still masked)", fontsize=8)
    return fig


def confidence_timeline_figure(
    view: TraceView, step: int | None, timeline: Timeline, window: tuple[float, float] | None = None
) -> Figure:
    """The model's confidence over the grid after a decoder step, on the dialogue's time axis: for each
    fixed token the probability it had when it was chosen (greyed where still masked; pauses blank).

    Args:
        view: the laid-out trace.
        step: 1..view.iterations (None: the last: the confidence of every final token when it was fixed).
        timeline: where the turns sit in the audio.
        window: the seconds to draw (None: all).

    Returns:
        The figure (render it with figure_to_image).
    """
    it = view.clamp(step)
    span = timeline.window(window)
    if not view.iterations:
        fig, _, _ = _timeline_axes(view, timeline, span, "no decoding steps were recorded")
        return fig
    frames = _time_columns(view, timeline, span)
    cols = np.clip(frames, 0, None)
    conf = view.confidence[it - 1][:, cols].astype(np.float32)
    masked = fill_state(view, it)[:, cols] == MASKED
    pause = np.repeat((frames < 0)[None, :], conf.shape[0], axis=0)
    shown = ~masked & ~pause
    mean = float(conf[shown].mean()) if shown.any() else 0.0
    fig, ax, bar = _timeline_axes(
        view,
        timeline,
        span,
        f"confidence after step {it} of {view.iterations} (probability of each token when it was fixed); "
        f"mean here {mean:.2f}",
    )
    extent = (*span, conf.shape[0] - 0.5, -0.5)
    image = ax.imshow(
        np.where(pause, np.nan, np.clip(conf, MIN_CONFIDENCE, 1.0)),
        aspect="auto",
        cmap="viridis",
        norm=LogNorm(MIN_CONFIDENCE, 1.0),
        interpolation="nearest",
        extent=extent,
    )
    ax.imshow(
        np.where(masked & ~pause, 1.0, np.nan),
        aspect="auto",
        cmap=ListedColormap(["white"]),
        alpha=0.55,
        interpolation="nearest",
        extent=extent,
    )
    fig.colorbar(image, cax=bar, label="p")
    return fig


def steps_figure(view: TraceView, step: int | None = None) -> Figure:
    """What each decoder step fixed and how sure the model was of it: a bar per step (tokens fixed), with
    the mean probability of those tokens when they were chosen; the shown step outlined.

    Args:
        view: the laid-out trace.
        step: the step to outline (None: the last).

    Returns:
        The figure (render it with figure_to_image).
    """
    it = view.clamp(step)
    n_steps = view.iterations
    fig = Figure(figsize=(WIDTH_IN, STEPS_HEIGHT_IN), dpi=DPI)
    ax = fig.add_axes((GRID_BOX[0], 0.3, GRID_BOX[2], 0.5))
    if not n_steps:
        ax.set_title("no decoding steps were recorded", fontsize=10)
        return fig
    counts, means = [], []
    for k in range(n_steps):
        at = view.fill_order == k
        counts.append(int(at.sum()))
        means.append(float(view.confidence[k][at].astype(np.float32).mean()) if at.any() else 0.0)
    x = np.arange(1, n_steps + 1)
    colors = _step_colors(n_steps)
    bars = ax.bar(x, counts, color=colors, edgecolor=["black" if k == it else "none" for k in x], linewidth=2)
    for rect, mean in zip(bars, means, strict=True):
        ax.text(
            rect.get_x() + rect.get_width() / 2,
            rect.get_height(),
            f"p {mean:.2f}",
            ha="center",
            va="bottom",
            fontsize=7,
        )
    ax.set_xticks(x, [str(k) for k in x], fontsize=8)
    ax.set_xlim(0.4, n_steps + 0.6)
    ax.set_ylim(0, max(counts) * 1.25 + 1)
    ax.set_xlabel("decoder step")
    ax.set_ylabel("tokens fixed", fontsize=8)
    ax.set_title(
        "what each step fixed, and the mean probability of those tokens when the model chose them",
        fontsize=10,
    )
    return fig
