"""The decoding views on the dialogue's time axis (issue 23, point 9), from a small hand-made trace: pauses
blank, each turn where it sits in the audio, a window showing one turn, the final step worth seeing."""

import numpy as np
import pytest

from engine.ui import timeline_plots
from engine.ui.plots import TraceView, figure_to_image
from engine.ui.timeline_plots import (
    Timeline,
    confidence_timeline_figure,
    fill_order_figure,
    parse_window,
    steps_figure,
    view_windows,
)
from tests.test_ui_plots import LENGTHS, Q, make_trace

FRAME_RATE = 10.0  # turns of 6 and 4 frames: 0.6 s and 0.4 s
# In the audio: 0.2 s of lead-in, turn 1, a 0.5 s pause, turn 2, 0.3 s of tail.
TIMELINE = Timeline(spans=((0.2, 0.8), (1.3, 1.7)), duration=2.0)


@pytest.fixture
def view():
    return TraceView.from_trace(make_trace(), ["S1", "S2"], frame_rate=FRAME_RATE)


def drawn(fig) -> np.ndarray:
    return np.asarray(fig.axes[0].images[0].get_array())


def test_the_grid_leaves_the_pauses_blank_and_puts_each_turn_where_it_is_heard(view):
    columns = timeline_plots._time_columns(view, TIMELINE, (0.0, 2.0))
    assert len(columns) == 20  # one column per frame of audio time
    seconds = (np.arange(20) + 0.5) / FRAME_RATE
    in_pause = (seconds < 0.2) | ((seconds > 0.8) & (seconds < 1.3)) | (seconds > 1.7)
    assert (columns[in_pause] == -1).all()
    assert list(columns[~in_pause]) == list(range(sum(LENGTHS)))  # turn 1's frames, then turn 2's
    rgba = drawn(fill_order_figure(view, None, TIMELINE))
    assert rgba.shape == (Q, 20, 4)
    assert np.allclose(rgba[:, in_pause], timeline_plots.PAUSE_RGBA)
    assert not np.allclose(rgba[:, ~in_pause], timeline_plots.PAUSE_RGBA, atol=0.05)


def test_the_axis_is_the_players_seconds(view):
    for fig in (fill_order_figure(view, 1, TIMELINE), confidence_timeline_figure(view, 1, TIMELINE)):
        assert fig.axes[0].get_xlim() == (0.0, 2.0)
        assert "seconds of the dialogue" in fig.axes[0].get_xlabel()


def test_a_window_shows_one_turn(view):
    fig = fill_order_figure(view, None, TIMELINE, (1.3, 1.7))
    assert fig.axes[0].get_xlim() == (1.3, 1.7)
    columns = timeline_plots._time_columns(view, TIMELINE, (1.3, 1.7))
    assert list(columns) == list(range(LENGTHS[0], sum(LENGTHS)))  # turn 2 alone, every frame of it
    assert [t.get_text() for t in fig.axes[0].texts] == ["S2"]


def test_steps_fill_in_and_the_last_step_shows_the_whole_order(view):
    n = view.iterations
    masked = timeline_plots.MASKED_RGBA
    first, last = drawn(fill_order_figure(view, 1, TIMELINE)), drawn(fill_order_figure(view, n, TIMELINE))
    speech = timeline_plots._time_columns(view, TIMELINE, (0.0, 2.0)) >= 0
    still_masked = np.isclose(first[:, speech], masked).all(axis=-1)
    assert still_masked.mean() > 0.5  # after step 1 of 6 most tokens wait
    assert not np.isclose(last[:, speech], masked).all(axis=-1).any()  # at the end every token has its step
    colors = {tuple(np.round(c, 3)) for c in last[:, speech].reshape(-1, 4)}
    assert len(colors) == n  # one colour per step: the order in which the grid was filled in
    fig = fill_order_figure(view, 2, TIMELINE)
    assert fig.axes[0].get_title().startswith(f"decoder step 2 of {n}: level 0, iteration 2 of 2")


def test_the_final_confidence_is_that_of_each_token_when_it_was_fixed(view):
    conf = drawn(confidence_timeline_figure(view, None, TIMELINE))
    speech = timeline_plots._time_columns(view, TIMELINE, (0.0, 2.0)) >= 0
    expected = view.confidence[-1].astype(np.float32)
    np.testing.assert_allclose(
        conf[:, speech], np.clip(expected, timeline_plots.MIN_CONFIDENCE, 1.0), atol=1e-3
    )
    assert np.isnan(np.asarray(conf[:, ~speech], dtype=float)).all()


def test_the_steps_chart_counts_what_each_step_fixed(view):
    fig = steps_figure(view, 3)
    heights = [int(rect.get_height()) for rect in fig.axes[0].patches]
    assert heights == [int((view.fill_order == k).sum()) for k in range(view.iterations)]
    assert sum(heights) == view.fill_order.size
    assert figure_to_image(fig).shape[1] == 1200


def test_the_windows_offered_and_their_values():
    windows = view_windows(TIMELINE, ["S1", "S2"])
    assert [label for label, _ in windows] == [
        "whole dialogue (0-2.0 s)",
        "turn 1 · S1 · 0.2-0.8 s",
        "turn 2 · S2 · 1.3-1.7 s",
    ]
    assert parse_window(windows[2][1]) == (1.3, 1.7) and parse_window(None) is None
    long = view_windows(Timeline(((0.0, 30.0), (31.0, 45.0)), 45.0), ["S1", "S2"])
    assert [label for label, _ in long[3:]] == [
        "seconds 0-10",
        "seconds 10-20",
        "seconds 20-30",
        "seconds 30-40",
        "seconds 40-45",
    ]
