"""Progress of a synthesis: where each stage lies on the 0..1 bar, and the reporter that keeps it moving on."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, float], None]

# Where each stage's progress lies on the 0..1 bar; the acoustic decode dominates the time.
BAR = {"prompts": (0.02, 0.12), "t2s": (0.12, 0.17), "acoustic": (0.17, 0.85), "codec": (0.85, 0.97)}


class ProgressReporter:
    """Forwards progress to the user's callback with fractions clipped to 0..1 and never going back."""

    def __init__(self, callback: Progress | None) -> None:
        self.callback = callback
        self.fraction = 0.0

    def __call__(self, stage: str, fraction: float) -> None:
        self.fraction = max(self.fraction, min(1.0, float(fraction)))
        if self.callback is not None:
            self.callback(stage, self.fraction)
