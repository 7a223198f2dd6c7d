"""Progress of a synthesis: the reporter that keeps the bar moving on, and how the time left is written."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, float], None]


class ProgressReporter:
    """Forwards progress to the user's callback with fractions clipped to 0..1 and never going back."""

    def __init__(self, callback: Progress | None) -> None:
        self.callback = callback
        self.fraction = 0.0

    def __call__(self, stage: str, fraction: float) -> None:
        self.fraction = max(self.fraction, min(1.0, float(fraction)))
        if self.callback is not None:
            self.callback(stage, self.fraction)


def format_seconds(seconds: float) -> str:
    """A time left as people say it: "4 s", "1 min 05 s"."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    return f"{seconds // 60} min {seconds % 60:02d} s"
