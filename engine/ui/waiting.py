"""One synthesis at a time, first come first served, with the wait estimated from this machine's own runs.

Gradio's queue estimate averages every past run of an endpoint, whatever its length, the cold first one
included, so it said 49 s where a user waited 82 s. Here each waiting synthesis is told how many are ahead
and how long they should take: seconds per word of the last runs of each kind, times their words.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

# Seconds per word before any run was measured (group@2 on this 2-core machine: a 4-turn dialogue of 52
# words in 1.4 s; a comparison runs 1+2+4+8+16 iterations).
DEFAULT_SECONDS_PER_WORD = {"generate": 0.04, "compare": 0.3}
HISTORY = 8  # runs of each kind the estimate is taken over
POLL_S = 1.0


@dataclass(eq=False)
class _Job:
    kind: str
    words: int
    expected_s: float
    started: float | None = None
    ready: threading.Event = field(default_factory=threading.Event)


class SynthesisLine:
    """A first-come-first-served line of syntheses, one running at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: deque[_Job] = deque()
        self._history: dict[str, deque[float]] = {}

    def seconds_per_word(self, kind: str) -> float:
        """The median of the last runs of this kind (a default before the first)."""
        with self._lock:
            runs = list(self._history.get(kind, ()))
        return statistics.median(runs) if runs else DEFAULT_SECONDS_PER_WORD.get(kind, 0.1)

    def estimate(self, kind: str, words: int) -> float:
        """Expected seconds of a synthesis of `words` words."""
        return self.seconds_per_word(kind) * max(words, 1)

    def ahead(self, job: _Job) -> tuple[int, float]:
        """(syntheses ahead of `job`, seconds until it should start)."""
        with self._lock:
            jobs = list(self._jobs)
        if job not in jobs:
            return 0, 0.0
        before = jobs[: jobs.index(job)]
        now = time.monotonic()
        seconds = 0.0
        for other in before:
            elapsed = now - other.started if other.started is not None else 0.0
            seconds += max(other.expected_s - elapsed, 1.0)
        return len(before), seconds

    @contextmanager
    def turn(self, kind: str, words: int, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
        """Wait for the syntheses ahead, then run the block; `on_wait` is told about the wait every second.

        Args:
            kind: "generate" or "compare" (each keeps its own record of speed).
            words: the dialogue's words (the estimate scales with them).
            on_wait: called with a sentence for the user while waiting.
        """
        job = _Job(kind, words, self.estimate(kind, words))
        with self._lock:
            self._jobs.append(job)
            if self._jobs[0] is job:
                job.ready.set()
        try:
            while not job.ready.is_set():
                if on_wait is not None:
                    n, seconds = self.ahead(job)
                    on_wait(
                        f"waiting for {n} synthesis{'es' * (n > 1)} ahead of yours: about {seconds:.0f} s "
                        f"(then about {job.expected_s:.0f} s for yours; estimated from this machine's last runs)"
                    )
                job.ready.wait(POLL_S)
            job.started = time.monotonic()
            yield
            with self._lock:
                runs = self._history.setdefault(kind, deque(maxlen=HISTORY))
                runs.append((time.monotonic() - job.started) / max(words, 1))
        finally:
            with self._lock:
                self._jobs.remove(job)
                if self._jobs:
                    self._jobs[0].ready.set()
