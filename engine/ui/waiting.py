"""One synthesis at a time, taking turns chunk by chunk, with the wait estimated from this machine's own runs.

Gradio's queue estimate averages every past run of an endpoint, whatever its length, the cold first one
included, so it said 49 s where a user waited 82 s. Here each waiting synthesis is told how many are ahead
and how long they should take: seconds per word of the last runs of each kind, times their words.

A long dialogue is generated in chunks (engine/pipeline/chunks.py); between two chunks its job gives way
(`give_way`) to any that waits, so a short one behind a 15-minute one starts after at most one chunk, and
the wait it is told counts one chunk of each job ahead, not the whole of them. A job can be stopped
(`cancel`, by its session): it stops within one decoder iteration, or leaves the line if it was waiting.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from engine.errors import SynthesisCancelled

# Seconds per word before any run was measured (group@2 on this 2-core machine: a 4-turn dialogue of 52
# words in 1.4 s; a comparison runs 1+2+4+8+16 iterations).
DEFAULT_SECONDS_PER_WORD = {"generate": 0.04, "compare": 0.3}
# Seconds of one full chunk before one was measured (30 s of padded audio at about 0.1 s per second).
DEFAULT_CHUNK_SECONDS = 3.0
# A job keeps the line until it has run this long since it got it, then gives way at the next point it may
# (between chunks, after encoding a voice clip) to any that waits. 2 s made a short job wait for the rest of
# that slice and then a whole chunk (2.54 s behind a 15-minute dialogue, bench/long_form, 2026-12-04); at
# 0.5 s the wait is at most the step under way, while a first turn alone still does not make a job give way.
SLICE_S = 0.5
HISTORY = 8  # runs (and chunks) of each kind the estimates are taken over
POLL_S = 1.0
CANCEL_POLL_S = 0.1


@dataclass(eq=False)
class Job:
    """A synthesis in the line.

    Attributes:
        kind: "generate" or "compare".
        words: the dialogue's words (the estimate scales with them).
        expected_s: seconds of work it should take.
        session: who asked (a page's or client's session), for `SynthesisLine.cancel`.
        cancelled: set when it is to stop; the synthesis polls `stopped`.
        worked_s: seconds it has run, not counting its waits for others.
    """

    kind: str
    words: int
    expected_s: float
    session: str | None = None
    cancelled: threading.Event = field(default_factory=threading.Event)
    worked_s: float = 0.0
    running_since: float | None = None
    ready: threading.Event = field(default_factory=threading.Event)

    def stopped(self) -> bool:
        """Whether the job was cancelled (the pipeline's `cancel` callback)."""
        return self.cancelled.is_set()

    def remaining_s(self, now: float) -> float:
        """Seconds of work left by the estimate (at least a second while it is unfinished)."""
        running = now - self.running_since if self.running_since is not None else 0.0
        return max(self.expected_s - self.worked_s - running, 1.0)


class SynthesisLine:
    """A line of syntheses, one running at a time, first come first served, long ones giving way between
    their chunks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: deque[Job] = deque()
        self._history: dict[str, deque[float]] = {}
        self._chunks: deque[float] = deque(maxlen=HISTORY)

    def seconds_per_word(self, kind: str) -> float:
        """The median of the last runs of this kind (a default before the first)."""
        with self._lock:
            runs = list(self._history.get(kind, ()))
        return statistics.median(runs) if runs else DEFAULT_SECONDS_PER_WORD.get(kind, 0.1)

    def chunk_seconds(self) -> float:
        """The median time of the last chunks after which a job gave way (a default before the first)."""
        with self._lock:
            chunks = list(self._chunks)
        return statistics.median(chunks) if chunks else DEFAULT_CHUNK_SECONDS

    def estimate(self, kind: str, words: int) -> float:
        """Expected seconds of a synthesis of `words` words."""
        return self.seconds_per_word(kind) * max(words, 1)

    def ahead(self, job: Job) -> tuple[int, float]:
        """(syntheses ahead of `job`, seconds until it should start): each one ahead runs at most one more
        chunk before it gives way, or to its end if that is sooner."""
        with self._lock:
            jobs = list(self._jobs)
        if job not in jobs:
            return 0, 0.0
        before = jobs[: jobs.index(job)]
        now = time.monotonic()
        chunk = self.chunk_seconds()
        return len(before), sum(min(other.remaining_s(now), chunk) for other in before)

    def cancel(self, session: str | None) -> int:
        """Stop every synthesis of this session (running or waiting); how many there were."""
        if not session:
            return 0
        with self._lock:
            jobs = [job for job in self._jobs if job.session == session]
        for job in jobs:
            job.cancelled.set()
            job.ready.set()  # a waiting one wakes up to leave
        return len(jobs)

    def _wait_for_turn(self, job: Job, on_wait: Callable[[str], None] | None) -> None:
        while not job.ready.is_set():
            if on_wait is not None:
                n, seconds = self.ahead(job)
                on_wait(
                    f"waiting for {n} synthesis{'es' * (n > 1)} ahead of yours: about {seconds:.0f} s "
                    f"(then about {job.remaining_s(time.monotonic()):.0f} s for yours; estimated from this "
                    "machine's last runs)"
                )
            job.ready.wait(POLL_S)
        if job.stopped():
            raise SynthesisCancelled("stopped while waiting")
        job.running_since = time.monotonic()

    def _pass_on(self, job: Job) -> None:
        """Take `job` off the head of the line (the caller holds the lock) and wake the next."""
        if job.running_since is not None:
            job.worked_s += time.monotonic() - job.running_since
            job.running_since = None
        job.ready.clear()
        self._jobs.remove(job)
        if self._jobs:
            self._jobs[0].ready.set()

    def give_way(self, job: Job, on_wait: Callable[[str], None] | None = None) -> None:
        """Between two chunks (or after a voice clip was encoded): if others wait and this job has had the
        line for SLICE_S, go to the back of the line and wait for the turn again.

        Raises:
            SynthesisCancelled: the job was cancelled meanwhile.
        """
        if job.stopped():
            raise SynthesisCancelled("stopped")
        with self._lock:
            if len(self._jobs) < 2 or self._jobs[0] is not job:
                return
            if job.running_since is not None and time.monotonic() - job.running_since < SLICE_S:
                return
            if job.running_since is not None:
                self._chunks.append(time.monotonic() - job.running_since)
            self._pass_on(job)
            self._jobs.append(job)
        self._wait_for_turn(job, on_wait)

    @contextmanager
    def turn(
        self,
        kind: str,
        words: int,
        on_wait: Callable[[str], None] | None = None,
        session: str | None = None,
    ) -> Iterator[Job]:
        """Wait for the syntheses ahead, then run the block; `on_wait` is told about the wait every second.

        Args:
            kind: "generate" or "compare" (each keeps its own record of speed).
            words: the dialogue's words (the estimate scales with them).
            on_wait: called with a sentence for the user while waiting.
            session: who asks, so that `cancel(session)` can stop it.

        Yields:
            The job: its `stopped` is the pipeline's cancel callback; call `give_way` between chunks.

        Raises:
            SynthesisCancelled: cancelled while waiting.
        """
        job = Job(kind, words, self.estimate(kind, words), session)
        with self._lock:
            self._jobs.append(job)
            if self._jobs[0] is job:
                job.ready.set()
        try:
            self._wait_for_turn(job, on_wait)
            yield job
            with self._lock:
                worked = job.worked_s + (time.monotonic() - (job.running_since or time.monotonic()))
                runs = self._history.setdefault(kind, deque(maxlen=HISTORY))
                runs.append(worked / max(words, 1))
        finally:
            with self._lock:
                if job in self._jobs:
                    was_head = self._jobs[0] is job
                    if was_head:
                        self._pass_on(job)
                    else:
                        self._jobs.remove(job)
