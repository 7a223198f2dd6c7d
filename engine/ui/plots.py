"""Figures of a generated dialogue for the page: token fill-in per iteration, confidence, spectrogram."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import ListedColormap, LogNorm, Normalize
from matplotlib.figure import Figure

from engine.acoustic.trace import UNKNOWN, DecodeTrace

# Cells of the fill-in grid.
MASKED, FIXED_BEFORE, FIXED_NOW = 0, 1, 2
FILL_COLORS = ListedColormap(["#d9d9d9", "#3b6ea8", "#f28e2b"])
MAX_COLUMNS = 1200  # frames drawn per figure; longer dialogues are sampled down to this many columns
WIDTH_IN, DPI = 12.0, 100
GRID_HEIGHT_IN = 2.8
GRID_BOX, BAR_BOX = (0.055, 0.2, 0.83, 0.62), (0.895, 0.2, 0.012, 0.62)  # left, bottom, width, height
TITLE_PAD = 22  # points between a title and the plot: room for the speaker names above each turn
MIN_CONFIDENCE = 1e-3  # bottom of the confidence colour scale


@dataclass(frozen=True, eq=False)
class TraceView:
    """A decode trace laid out for drawing: the turns side by side along time, their padding dropped.

    Attributes:
        fill_order: [Q, T] int16, the iteration (0-based) that fixed each position; -1 if never fixed.
        confidence: [N, Q, T] float16, the confidence grid after each of the N iterations.
        boundaries: frame index where each turn after the first starts.
        speakers: the speaker of each turn.
        stages: per iteration, what it decoded ("level 0", "group 1 coarse", ...).
        method: the decoder's name.
        frame_rate: codec frames per second.
    """

    fill_order: np.ndarray
    confidence: np.ndarray
    boundaries: tuple[int, ...]
    speakers: tuple[str, ...]
    stages: tuple[str, ...]
    method: str
    frame_rate: float

    @classmethod
    def from_trace(cls, trace: DecodeTrace, speakers: Sequence[str], frame_rate: float) -> TraceView:
        """Lay out a trace of a batch of turns (one batch row per turn, in dialogue order).

        Args:
            trace: the decode trace, recorded with keep_trace=True.
            speakers: who speaks each turn (one per batch row).
            frame_rate: codec frames per second.

        Returns:
            The view; empty (zero iterations) when the trace holds no steps.
        """
        lengths = [int(n) for n in trace.lengths]
        if len(speakers) != len(lengths):
            raise ValueError(f"{len(speakers)} speakers for a trace of {len(lengths)} turns")
        starts = np.cumsum([0, *lengths])
        if trace.steps:
            order = trace.fill_order().numpy()
            conf = np.stack([s.confidence.numpy() for s in trace.steps])
            fill = np.concatenate([order[i, :, :n] for i, n in enumerate(lengths)], axis=-1)
            confidence = np.concatenate([conf[:, i, :, :n] for i, n in enumerate(lengths)], axis=-1)
        else:
            fill = np.zeros((0, int(starts[-1])))
            confidence = np.zeros((0, 0, int(starts[-1])))
        per_stage = Counter(s.stage for s in trace.steps)
        stages = tuple(
            f"{s.stage}, step {s.iteration + 1}/{per_stage[s.stage]}" if per_stage[s.stage] > 1 else s.stage
            for s in trace.steps
        )
        return cls(
            fill_order=np.where(fill == UNKNOWN, -1, fill).astype(np.int16),
            confidence=confidence.astype(np.float16),
            boundaries=tuple(int(x) for x in starts[1:-1]),
            speakers=tuple(speakers),
            stages=stages,
            method=trace.method,
            frame_rate=float(frame_rate),
        )

    @property
    def iterations(self) -> int:
        """Number of decoding iterations recorded."""
        return len(self.stages)

    def clamp(self, iteration: float | None) -> int:
        """An iteration number (1-based) within 1..iterations; None or out of range: the nearest end."""
        if iteration is None:
            return self.iterations
        return int(min(max(int(iteration), 1), self.iterations))


def fill_state(view: TraceView, iteration: int) -> np.ndarray:
    """The [Q, T] grid after `iteration` (1-based): MASKED, FIXED_BEFORE or FIXED_NOW per position."""
    done = view.fill_order >= 0
    state = np.full(view.fill_order.shape, MASKED, dtype=np.int8)
    state[done & (view.fill_order < iteration - 1)] = FIXED_BEFORE
    state[done & (view.fill_order == iteration - 1)] = FIXED_NOW
    return state


def _columns(n_frames: int) -> np.ndarray:
    """Which frames to draw: all of them, or MAX_COLUMNS evenly spread ones for a long dialogue."""
    if n_frames <= MAX_COLUMNS:
        return np.arange(n_frames)
    return np.linspace(0, n_frames - 1, MAX_COLUMNS).round().astype(int)


def figure_to_image(fig: Figure) -> np.ndarray:
    """Render a figure (Agg, no pyplot state, so handlers may draw in parallel) as an [H, W, 3] uint8 image."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def _mark_turns(ax, boundaries: Sequence[int], speakers: Sequence[str], n_columns: int) -> None:
    """Dashed lines between turns (at column edges) and each turn's speaker above the plot."""
    edges = [0, *boundaries, n_columns]
    for x in boundaries:
        ax.axvline(x - 0.5, color="black", linewidth=1.2, linestyle="--")
    for i, speaker in enumerate(speakers):
        ax.text(
            (edges[i] + edges[i + 1]) / 2 - 0.5,
            1.02,
            speaker,
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize=9,
        )


def _grid_axes(view: TraceView, title: str) -> tuple[Figure, object, object, np.ndarray]:
    """A figure with the grid's axes and a colour-bar axes, at the same place in every grid figure, so the
    fill-in and the confidence line up frame by frame when shown one above the other."""
    fig = Figure(figsize=(WIDTH_IN, GRID_HEIGHT_IN), dpi=DPI)
    ax = fig.add_axes(GRID_BOX)
    bar = fig.add_axes(BAR_BOX)
    q = view.fill_order.shape[0]
    ax.set_yticks(range(q), [f"L{level}" for level in range(q)], fontsize=8)
    ax.set_ylabel("codec level")
    ax.set_title(title, fontsize=10, pad=TITLE_PAD)
    return fig, ax, bar, _columns(view.fill_order.shape[1])


def _frame_ticks(ax, view: TraceView, cols: np.ndarray) -> None:
    """X axis in seconds of generated speech (turns joined without their pauses)."""
    n = view.fill_order.shape[1]
    seconds = n / view.frame_rate
    step = max(0.5, float(np.ceil(seconds / 12 * 2) / 2))
    marks = np.arange(0, seconds + 1e-9, step)
    ax.set_xticks(np.searchsorted(cols, marks * view.frame_rate), [f"{m:g}" for m in marks], fontsize=8)
    ax.set_xlabel("seconds of speech (turns joined, pauses left out)")


def _boundary_columns(view: TraceView, cols: np.ndarray) -> list[int]:
    return [int(np.searchsorted(cols, b)) for b in view.boundaries]


def fill_in_figure(view: TraceView, iteration: int | None = None) -> Figure:
    """Draw which tokens are fixed after an iteration: levels x frames, turn boundaries dashed.

    Args:
        view: the laid-out trace.
        iteration: 1..view.iterations (None: the last).

    Returns:
        The figure (render it with figure_to_image).
    """
    it = view.clamp(iteration)
    state = fill_state(view, it)
    fixed = int((state != MASKED).sum())
    title = (
        f"{view.method}: after iteration {it}/{view.iterations} ({view.stages[it - 1]}): "
        f"{fixed} of {state.size} tokens fixed"
        if view.iterations
        else "no decoding steps were recorded"
    )
    fig, ax, bar, cols = _grid_axes(view, title)
    # Centered on the cell values so that each colour's tick sits in its middle.
    norm = Normalize(-0.5, 2.5)
    if view.iterations:
        ax.imshow(state[:, cols], aspect="auto", cmap=FILL_COLORS, norm=norm, interpolation="nearest")
    legend = fig.colorbar(ScalarMappable(norm, FILL_COLORS), cax=bar, ticks=[MASKED, FIXED_BEFORE, FIXED_NOW])
    legend.ax.set_yticklabels(["still masked", "fixed before", "fixed now"], fontsize=8)
    _mark_turns(ax, _boundary_columns(view, cols), view.speakers, len(cols))
    _frame_ticks(ax, view, cols)
    return fig


def confidence_figure(view: TraceView, iteration: int | None = None) -> Figure:
    """Draw the model's confidence over the [Q, T] grid after an iteration; still-masked tokens greyed.

    Args:
        view: the laid-out trace.
        iteration: 1..view.iterations (None: the last, i.e. the confidence of every final token).

    Returns:
        The figure (render it with figure_to_image).
    """
    it = view.clamp(iteration)
    fig, ax, bar, cols = _grid_axes(view, "")
    if view.iterations:
        conf = view.confidence[it - 1][:, cols].astype(np.float32)
        masked = fill_state(view, it)[:, cols] == MASKED
        fixed_conf = conf[~masked]
        mean = float(fixed_conf.mean()) if fixed_conf.size else 0.0
        ax.set_title(
            f"confidence (probability of the chosen token) after iteration {it}/{view.iterations}; "
            f"mean over fixed tokens {mean:.2f}",
            fontsize=10,
            pad=TITLE_PAD,
        )
        # Log scale: an undertrained model's probabilities sit far below 0.1 and a linear scale shows none.
        image = ax.imshow(
            np.clip(conf, MIN_CONFIDENCE, 1.0),
            aspect="auto",
            cmap="viridis",
            norm=LogNorm(MIN_CONFIDENCE, 1.0),
            interpolation="nearest",
        )
        ax.imshow(
            np.where(masked, 1.0, np.nan),
            aspect="auto",
            cmap=ListedColormap(["white"]),
            alpha=0.55,
            interpolation="nearest",
        )
        fig.colorbar(image, cax=bar, label="p")
    _mark_turns(ax, _boundary_columns(view, cols), view.speakers, len(cols))
    _frame_ticks(ax, view, cols)
    return fig


def spectrogram_figure(
    audio: np.ndarray, sample_rate: int, turns: Sequence[tuple[str, float, float]]
) -> Figure:
    """Draw the dialogue's spectrogram (dB, up to half the sample rate) with each turn's span marked.

    Args:
        audio: mono samples.
        sample_rate: their rate.
        turns: (speaker, start_s, end_s) of each turn in the audio.

    Returns:
        The figure (render it with figure_to_image).
    """
    n_fft = 512 if sample_rate <= 24000 else 1024
    hop = max(n_fft // 4, int(np.ceil(len(audio) / MAX_COLUMNS)))
    padded = np.pad(np.asarray(audio, dtype=np.float32), (0, max(0, n_fft - len(audio))))
    n_frames = 1 + (len(padded) - n_fft) // hop
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop][:n_frames]
    power = np.abs(np.fft.rfft(frames * np.hanning(n_fft), axis=-1)) ** 2
    db = 10 * np.log10(power.T + 1e-10)
    top = float(db.max()) if db.size else 0.0
    duration = len(audio) / sample_rate
    fig = Figure(figsize=(WIDTH_IN, 3.0), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(
        db,
        origin="lower",
        aspect="auto",
        cmap="magma",
        vmin=top - 80,
        vmax=top,
        extent=(0, duration, 0, sample_rate / 2000),
        interpolation="nearest",
    )
    colors = {speaker: f"C{k % 10}" for k, speaker in enumerate(dict.fromkeys(t[0] for t in turns))}
    for k, (speaker, start, end) in enumerate(turns):
        ax.axvspan(start, end, ymin=0.97, ymax=1.0, color=colors[speaker])
        if k:
            ax.axvline(start, color="white", linewidth=1.0, linestyle="--")
        ax.text((start + end) / 2, 1.02, speaker, transform=ax.get_xaxis_transform(), ha="center", fontsize=9)
    ax.set_xlim(0, max(duration, 1e-3))
    ax.set_xlabel("seconds")
    ax.set_ylabel("kHz")
    ax.set_title(
        "spectrogram of the dialogue (a bar per turn, coloured by speaker; turn starts dashed)",
        fontsize=10,
        pad=TITLE_PAD,
    )
    return fig
