"""Fair queueing and Stop, measured through the app's own handlers in this process: a long dialogue on the API's
/stream handler, another user's short one on /generate, a stop as /stop (and the page's Stop, through
gradio's /cancel) makes it, all in one synthesis line (engine/ui/waiting.py), each handler on its own thread
as gradio runs them. The HTTP layer is left out; tests/test_api.py times the same against the served app.
"""

from __future__ import annotations

import threading
import time
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import gradio as gr

from engine.acoustic.decoding import DEFAULT_GUIDANCE, DEFAULT_STEPS, DEFAULT_TEMPERATURE
from engine.pipeline import DEFAULT_PACE_CHECK, DEFAULT_VOICE_MATCH
from engine.ui import handlers, stopping, synthesis
from engine.ui.speakers import SLOTS

# The page's defaults: method, iterations, temperature, guidance, seed, voice matching, pace check.
SETTINGS = (
    "group",
    DEFAULT_STEPS["group"],
    DEFAULT_TEMPERATURE,
    DEFAULT_GUIDANCE["group"],
    0,
    DEFAULT_VOICE_MATCH,
    DEFAULT_PACE_CHECK,
)
WAITING = "waiting"  # how the line's messages to a waiting synthesis begin
PROBE = "bench-probe"  # the kind of the job that waits for the line after a stop (its own speed record)


def speaker_values(voices: Mapping[str, str]) -> list:
    """The handlers' per-slot inputs with a built-in voice (by name) in each speaker's slot."""
    return [
        *[None] * len(SLOTS),
        *[voices.get(slot) for slot in SLOTS],
        *[""] * len(SLOTS),
        *[1.0] * len(SLOTS),
    ]


class _Progress:
    """Stands in for gr.Progress: when the synthesis started (its first update that is not a wait) and the
    last thing it said."""

    def __init__(self) -> None:
        self.started: float | None = None
        self.last = ""

    def __call__(self, fraction: float, desc: str | None = None) -> None:
        self.last = desc or ""
        if self.started is None and not self.last.startswith(WAITING):
            self.started = time.perf_counter()


class _Handler(threading.Thread):
    """One API call on its own thread: its outputs' arrival times, the progress it showed, how it ended."""

    def __init__(self, fn, transcript: str, voices: Mapping[str, str], session: str) -> None:
        super().__init__(daemon=True)
        self.fn, self.transcript, self.voices = fn, transcript, voices
        self.request = types.SimpleNamespace(session_hash=session)
        self.progress = _Progress()
        self.outputs: list[float] = []
        self.submitted = time.perf_counter()
        self.ended: float | None = None
        self.error = ""
        self._arrived = threading.Condition()

    def run(self) -> None:
        try:
            for _ in self.fn(
                self.transcript,
                *SETTINGS,
                *speaker_values(self.voices),
                progress=self.progress,
                request=self.request,
            ):
                with self._arrived:
                    self.outputs.append(time.perf_counter())
                    self._arrived.notify_all()
        except gr.Error as err:
            self.error = err.message
        finally:
            self.ended = time.perf_counter()
            with self._arrived:
                self._arrived.notify_all()

    def wait_for_output(self, n: int) -> None:
        """Block until the call has given `n` outputs (chunks, for /stream) or ended."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.outputs) >= n or self.ended is not None)

    def stop(self) -> None:
        """What /stop does for this call's session."""
        stopping.stop_synthesis(self.request)


def _start(fn, transcript: str, voices: Mapping[str, str], session: str) -> _Handler:
    call = _Handler(fn, transcript, voices, session)
    call.start()
    return call


@dataclass(frozen=True)
class Wait:
    """A short job submitted while the long one ran: what the long one was doing, and how long the short one
    waited for the line (until its first progress that was not a wait) and took in all."""

    long_was: str
    waited_s: float
    total_s: float


@dataclass(frozen=True)
class Stop:
    """A stop of the long job: what it was doing, seconds until the line took the next job and until the
    long job's handler returned, and the message its client got."""

    long_was: str
    line_free_s: float
    handler_done_s: float
    message: str


def fair_waits(
    long_transcript: str, short_transcript: str, voices: Mapping[str, str], after: Sequence[tuple[int, float]]
) -> list[Wait]:
    """A short job of another user submitted behind a long one, once per (chunk, delay) of `after`: that
    many seconds after the long job's chunk arrived, each once the previous short job is done. The long job
    is stopped after the last.
    """
    long = _start(handlers.stream_dialogue, long_transcript, voices, "bench-long")
    waits = []
    try:
        for k, (chunk, delay) in enumerate(after):
            long.wait_for_output(chunk)
            time.sleep(delay)
            was = long.progress.last
            short = _start(handlers.generate_dialogue, short_transcript, voices, f"bench-short-{k}")
            short.join()
            if short.error or short.progress.started is None:
                raise RuntimeError(f"the short job failed: {short.error or 'it never started'}")
            waits.append(Wait(was, short.progress.started - short.submitted, short.ended - short.submitted))
        if long.ended is not None:
            raise RuntimeError(f"the long job ended before the short ones were measured: {long.error}")
    finally:
        long.stop()
        long.join()
    return waits


def stop_times(
    long_transcript: str, voices: Mapping[str, str], after: Sequence[tuple[int, float]]
) -> list[Stop]:
    """Start the long job, stop it `delay` seconds after its `chunk`-th chunk arrived (once per pair of
    `after`), and time how soon the line takes a new job (one waiting on it, as the next user's would)."""
    stops = []
    for k, (chunk, delay) in enumerate(after):
        long = _start(handlers.stream_dialogue, long_transcript, voices, f"bench-stop-{k}")
        long.wait_for_output(chunk)
        time.sleep(delay)
        if long.ended is not None:
            raise RuntimeError(f"the long job ended before it was stopped: {long.error}")
        was = long.progress.last
        asked = time.perf_counter()
        long.stop()
        with synthesis.LINE.turn(PROBE, 1):
            free = time.perf_counter() - asked
        long.join()
        stops.append(Stop(was, free, long.ended - asked, long.error))
    return stops
