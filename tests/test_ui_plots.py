"""The page's figures, drawn from a small hand-made decode trace: what is drawn matches the trace."""

import numpy as np
import pytest
import torch

from engine.acoustic.trace import UNKNOWN, DecodeTrace, TraceStep
from engine.ui import plots
from engine.ui.plots import (
    FIXED_BEFORE,
    FIXED_NOW,
    MASKED,
    TraceView,
    confidence_figure,
    figure_to_image,
    fill_in_figure,
    fill_state,
    spectrogram_figure,
)

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


@pytest.mark.parametrize("iteration", range(1, 2 * Q + 1))
def test_drawn_grid_counts_match_the_trace(view, trace, iteration):
    fig = fill_in_figure(view, iteration)
    drawn = np.asarray(fig.axes[0].images[0].get_array())
    assert drawn.shape == (Q, sum(LENGTHS))
    now = sum(int(trace.steps[iteration - 1].fixed[i, :, :n].sum()) for i, n in enumerate(LENGTHS))
    done = sum(int(s.fixed.sum()) for s in trace.steps[:iteration])
    assert (drawn == FIXED_NOW).sum() == now > 0
    assert (drawn == FIXED_BEFORE).sum() == done - now
    assert (drawn == MASKED).sum() == drawn.size - done
    assert f"{done} of {drawn.size} tokens fixed" in fig.axes[0].get_title()


def test_fill_state_follows_the_trace_positions(view, trace):
    state = fill_state(view, 1)
    fixed_first_turn = trace.steps[0].fixed[0, :, : LENGTHS[0]].numpy()
    fixed_second_turn = trace.steps[0].fixed[1, :, : LENGTHS[1]].numpy()
    np.testing.assert_array_equal(state[:, : LENGTHS[0]] == FIXED_NOW, fixed_first_turn)
    np.testing.assert_array_equal(state[:, LENGTHS[0] :] == FIXED_NOW, fixed_second_turn)


def test_turn_boundaries_and_speakers_are_drawn(view):
    for fig in (fill_in_figure(view, 2), confidence_figure(view, 2)):
        ax = fig.axes[0]
        lines = [line.get_xdata()[0] for line in ax.lines]
        assert lines == [LENGTHS[0] - 0.5]  # between the last frame of turn 1 and the first of turn 2
        assert {"S1", "S2"} <= {text.get_text() for text in ax.texts}


def test_confidence_heatmap_shows_the_trace_confidence(view, trace):
    fig = confidence_figure(view, 3)
    drawn = np.asarray(fig.axes[0].images[0].get_array())
    expected = torch.cat([trace.steps[2].confidence[i, :, :n] for i, n in enumerate(LENGTHS)], dim=-1).numpy()
    np.testing.assert_allclose(drawn, np.clip(expected, plots.MIN_CONFIDENCE, 1.0), atol=1e-3)
    masked_overlay = np.asarray(fig.axes[0].images[1].get_array())
    assert np.isfinite(masked_overlay).sum() == (fill_state(view, 3) == MASKED).sum()


def test_iterations_out_of_range_are_clamped(view):
    assert view.clamp(0) == 1 and view.clamp(99) == view.iterations and view.clamp(None) == view.iterations


def test_long_dialogues_are_sampled_down(monkeypatch):
    monkeypatch.setattr(plots, "MAX_COLUMNS", 8)
    view = TraceView.from_trace(make_trace(lengths=(20, 13)), ["S1", "S2"], 50.0)
    fig = fill_in_figure(view, 3)
    assert np.asarray(fig.axes[0].images[0].get_array()).shape == (Q, 8)
    boundary = fig.axes[0].lines[0].get_xdata()[0] + 0.5
    assert 3 <= boundary <= 6  # turn 2 starts at frame 20 of 33: about 5 of 8 columns in


def test_images_are_rgb(view):
    image = figure_to_image(fill_in_figure(view, 1))
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert image.shape[1] == int(plots.WIDTH_IN * plots.DPI)
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 3  # something was drawn


def test_empty_trace_draws_without_steps():
    view = TraceView.from_trace(DecodeTrace(method="test", lengths=torch.tensor([5])), ["S1"], 50.0)
    assert view.iterations == 0
    assert "no decoding steps" in fill_in_figure(view).axes[0].get_title()
    figure_to_image(confidence_figure(view))


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
