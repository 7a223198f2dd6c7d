"""The decode trace laid out for the page's figures (`TraceView`, `fill_state`) from a small hand-made trace,
and the spectrogram; the figures on the dialogue's time axis: tests/test_ui_timeline_plots.py."""

import numpy as np
import pytest
import torch

from engine.acoustic.trace import UNKNOWN, DecodeTrace, TraceStep
from engine.ui import plots
from engine.ui.plots import (
    FIXED_NOW,
    TraceView,
    figure_to_image,
    fill_state,
    spectrogram_figure,
)
from engine.ui.timeline_plots import Timeline, confidence_timeline_figure, fill_order_figure, steps_figure

LENGTHS = (6, 4)  # two turns; the second is padded to 6 frames in the batch
Q = 3


def make_trace(lengths=LENGTHS, q=Q, seed=0) -> DecodeTrace:
    """Level by level, two iterations per level, fixing random halves of each level's real frames."""
    gen = torch.Generator().manual_seed(seed)
    b, t = len(lengths), max(lengths)
    real = torch.arange(t)[None, :] < torch.tensor(lengths)[:, None]
    tokens = torch.full((b, q, t), UNKNOWN, dtype=torch.int32)
    conf = torch.zeros(b, q, t)
    trace = DecodeTrace(method="test", lengths=torch.tensor(lengths))
    for level in range(q):
        first_half = real & (torch.rand(b, t, generator=gen) < 0.5)
        for i, chosen in enumerate((first_half, real & ~first_half)):
            fixed = torch.zeros(b, q, t, dtype=torch.bool)
            fixed[:, level] = chosen
            tokens[fixed] = torch.randint(0, 10, (int(fixed.sum()),), generator=gen, dtype=torch.int32)
            conf[fixed] = torch.rand(int(fixed.sum()), generator=gen)
            trace.steps.append(
                TraceStep(f"level {level}", (level,), i, fixed, tokens.clone(), conf.clone(), 1.0, 0.01)
            )
    return trace


@pytest.fixture
def trace():
    return make_trace()


@pytest.fixture
def view(trace):
    return TraceView.from_trace(trace, ["S1", "S2"], frame_rate=50.0)


def test_view_joins_the_turns_and_drops_padding(view, trace):
    assert view.fill_order.shape == (Q, sum(LENGTHS))
    assert view.confidence.shape == (len(trace), Q, sum(LENGTHS))
    assert view.boundaries == (LENGTHS[0],)
    assert view.iterations == len(trace) == 2 * Q
    assert (view.fill_order >= 0).all()  # every real position was fixed; no padding left in the view
    assert view.stages[0] == "level 0, step 1/2" and view.stages[-1] == "level 2, step 2/2"


def test_fill_state_follows_the_trace_positions(view, trace):
    state = fill_state(view, 1)
    fixed_first_turn = trace.steps[0].fixed[0, :, : LENGTHS[0]].numpy()
    fixed_second_turn = trace.steps[0].fixed[1, :, : LENGTHS[1]].numpy()
    np.testing.assert_array_equal(state[:, : LENGTHS[0]] == FIXED_NOW, fixed_first_turn)
    np.testing.assert_array_equal(state[:, LENGTHS[0] :] == FIXED_NOW, fixed_second_turn)


def test_iterations_out_of_range_are_clamped(view):
    assert view.clamp(0) == 1 and view.clamp(99) == view.iterations and view.clamp(None) == view.iterations


def test_images_are_rgb():
    image = figure_to_image(spectrogram_figure(np.sin(np.arange(16000) / 5).astype(np.float32), 16000, []))
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert image.shape[1] == int(plots.WIDTH_IN * plots.DPI)
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 3  # something was drawn


def test_empty_trace_draws_without_steps():
    view = TraceView.from_trace(DecodeTrace(method="test", lengths=torch.tensor([5])), ["S1"], 50.0)
    assert view.iterations == 0
    timeline = Timeline(((0.0, 0.1),), 0.1)
    for fig in (
        fill_order_figure(view, None, timeline),
        confidence_timeline_figure(view, None, timeline),
        steps_figure(view),
    ):
        assert "no decoding steps" in fig.axes[0].get_title()
        figure_to_image(fig)


def test_spectrogram_marks_each_turn():
    rate = 16000
    t = np.arange(2 * rate) / rate
    audio = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    turns = [("S1", 0.1, 0.8), ("S2", 1.0, 1.5), ("S1", 1.6, 1.9)]
    fig = spectrogram_figure(audio, rate, turns)
    ax = fig.axes[0]
    assert [line.get_xdata()[0] for line in ax.lines] == [1.0, 1.6]  # starts of turns 2 and 3
    assert [text.get_text() for text in ax.texts] == ["S1", "S2", "S1"]
    spec = np.asarray(ax.images[0].get_array())
    peak_khz = spec.mean(axis=1).argmax() / spec.shape[0] * rate / 2000
    assert abs(peak_khz - 0.44) < 0.05  # the tone is where it should be
