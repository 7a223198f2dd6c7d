"""The decode trace laid out for drawing (`TraceView`, `fill_state`), the figures' shared layout, and the
dialogue's spectrogram; the fill-in and confidence figures on the dialogue's own time axis are in
engine/ui/timeline_plots.py."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from engine.acoustic.trace import UNKNOWN, DecodeTrace

# Cells of the fill-in grid.
MASKED, FIXED_BEFORE, FIXED_NOW = 0, 1, 2
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
        steps: per iteration, (its stage as the decoder names it, its index in that stage, the stage's
            number of iterations).
    """

    fill_order: np.ndarray
    confidence: np.ndarray
    boundaries: tuple[int, ...]
    speakers: tuple[str, ...]
    stages: tuple[str, ...]
    method: str
    frame_rate: float
    steps: tuple[tuple[str, int, int], ...] = ()

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
            steps=tuple((s.stage, s.iteration, per_stage[s.stage]) for s in trace.steps),
        )

    @property
    def iterations(self) -> int:
        """Number of decoding iterations recorded."""
        return len(self.stages)

    @property
    def turn_lengths(self) -> tuple[int, ...]:
        """Frames of each turn."""
        edges = [0, *self.boundaries, self.fill_order.shape[1]]
        return tuple(b - a for a, b in pairwise(edges))

    def step_name(self, step: int) -> str:
        """What a decoder step (1-based) did, in words: "group 1 coarse (level 1), its iteration 1 of 2"."""
        if not self.steps:
            return self.stages[step - 1]
        stage, index, count = self.steps[step - 1]
        return f"{stage}, iteration {index + 1} of {count}" if count > 1 else stage

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


def figure_to_image(fig: Figure) -> np.ndarray:
    """Render a figure (Agg, no pyplot state, so handlers may draw in parallel) as an [H, W, 3] uint8 image."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def spectrogram_figure(
    audio: np.ndarray,
    sample_rate: int,
    turns: Sequence[tuple[str, float, float]],
    window: tuple[float, float] | None = None,
) -> Figure:
    """Draw the dialogue's spectrogram (dB, up to half the sample rate) with each turn's span marked.

    Its plot sits where the page's grid figures put theirs, so a window of them lines up second by second.

    Args:
        audio: mono samples.
        sample_rate: their rate.
        turns: (speaker, start_s, end_s) of each turn in the audio.
        window: (start_s, end_s) of the audio to draw; None: all of it.

    Returns:
        The figure (render it with figure_to_image).
    """
    duration = len(audio) / sample_rate
    w0, w1 = (0.0, duration) if window is None else (max(0.0, window[0]), min(duration, window[1]))
    if w1 <= w0:
        w0, w1 = 0.0, duration
    first, last = int(w0 * sample_rate), int(np.ceil(w1 * sample_rate))
    part = np.asarray(audio[first:last], dtype=np.float32)
    n_fft = 512 if sample_rate <= 24000 else 1024
    hop = max(n_fft // 4, int(np.ceil(len(part) / MAX_COLUMNS)))
    padded = np.pad(part, (0, max(0, n_fft - len(part))))
    n_frames = 1 + (len(padded) - n_fft) // hop
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop][:n_frames]
    power = np.abs(np.fft.rfft(frames * np.hanning(n_fft), axis=-1)) ** 2
    db = 10 * np.log10(power.T + 1e-10)
    top = float(db.max()) if db.size else 0.0
    fig = Figure(figsize=(WIDTH_IN, GRID_HEIGHT_IN), dpi=DPI)
    ax = fig.add_axes(GRID_BOX)
    bar = fig.add_axes(BAR_BOX)
    image = ax.imshow(
        db,
        origin="lower",
        aspect="auto",
        cmap="magma",
        vmin=top - 80,
        vmax=top,
        extent=(w0, max(w1, w0 + 1e-3), 0, sample_rate / 2000),
        interpolation="nearest",
    )
    fig.colorbar(image, cax=bar, label="dB")
    colors = {speaker: f"C{k % 10}" for k, speaker in enumerate(dict.fromkeys(t[0] for t in turns))}
    for k, (speaker, start, end) in enumerate(turns):
        if end <= w0 or start >= w1:
            continue
        ax.axvspan(max(start, w0), min(end, w1), ymin=0.97, ymax=1.0, color=colors[speaker])
        if k and start >= w0:
            ax.axvline(start, color="white", linewidth=1.0, linestyle="--")
        middle = (max(start, w0) + min(end, w1)) / 2
        ax.text(middle, 1.02, speaker, transform=ax.get_xaxis_transform(), ha="center", fontsize=9)
    ax.set_xlim(w0, max(w1, w0 + 1e-3))
    ax.set_xlabel("seconds of the dialogue (as in the player)")
    ax.set_ylabel("kHz")
    ax.set_title(
        "spectrogram of the dialogue (a bar per turn, coloured by speaker; turn starts dashed)",
        fontsize=10,
        pad=TITLE_PAD,
    )
    return fig
