"""The page and the API chunk by chunk (issue 24): the line's turns between chunks and its honest wait, Stop
(by session, and through gradio's /cancel), the page's live player fed a chunk at a time, and /stream's
chunk files. Handlers called directly with a tiny acoustic model (tests/ui_helpers.py)."""

import asyncio
import io
import json
import threading
import time
import types
import wave

import pytest

from engine.errors import SynthesisCancelled
from engine.ui import handlers, stopping, synthesis, waiting
from engine.ui.waiting import SynthesisLine
from tests.test_streaming import LONG
from tests.ui_helpers import SETTING_VALUES, STATUS, Progress, page_generate_steps, speaker_values

pytestmark = pytest.mark.usefixtures("one_thread")


def test_a_long_job_gives_way_between_chunks_and_the_wait_counts_one_chunk(monkeypatch):
    monkeypatch.setattr(waiting, "SLICE_S", 0.2)
    line = SynthesisLine()
    order, told = [], []
    started = threading.Event()

    def long_job():
        with line.turn("generate", 10_000) as job:  # estimated at 400 s: far longer than a chunk
            for k in range(4):
                started.set()
                order.append(f"long {k}")
                time.sleep(0.3)
                line.give_way(job)

    thread = threading.Thread(target=long_job)
    thread.start()
    started.wait()
    with line.turn("generate", 10, told.append):
        order.append("short")
    thread.join()
    assert order.index("short") <= 2  # it waited for at most the chunk running when it came, and one more
    estimate = float(told[0].split("about ")[1].split(" s")[0])
    assert estimate <= 3.5  # one chunk of the long job (3 s before any chunk was measured), not 400 s


def test_cancel_stops_a_running_and_a_waiting_job():
    line = SynthesisLine()
    stopped = []
    running = threading.Event()

    def first():
        with line.turn("generate", 100, session="a") as job:
            running.set()
            while not job.stopped():
                time.sleep(0.01)
            stopped.append("first")

    thread = threading.Thread(target=first)
    thread.start()
    running.wait()

    def waiting():
        try:
            with line.turn("generate", 100, session="b"):
                stopped.append("ran")
        except SynthesisCancelled:
            stopped.append("second")

    other = threading.Thread(target=waiting)
    other.start()
    time.sleep(0.2)
    assert line.cancel("b") == 1 and line.cancel("nobody") == 0
    other.join(2)
    assert line.cancel("a") == 1
    thread.join(2)
    assert stopped == ["second", "first"]
    with line.turn("generate", 1):  # the line is free again
        pass


def test_the_page_plays_each_chunk_as_it_comes(tiny_synthesizer, voice):
    steps = page_generate_steps(LONG, [voice, voice])
    live, final = steps[:-1], steps[-1]
    assert len(live) >= 2
    for k, step in enumerate(live):
        with wave.open(io.BytesIO(step[-1])) as chunk:  # wav bytes for the streaming player
            assert chunk.getframerate() == 16000 and chunk.getnframes() > 0
        assert step[4 + STATUS["run"]].startswith("▶ Playing as it is generated: ")
        if k == 0:
            assert "1 of 8 turns" in step[4 + STATUS["run"]]
    _, files, report, _ = final[:4]
    assert "8 turns" in report and [f.rsplit(".", 1)[1] for f in files] == ["wav", "mp3"]
    assert "began to play after" in final[4 + STATUS["run"]]


def test_stop_ends_the_page_generate_within_a_decoder_iteration(tiny_synthesizer, voice, monkeypatch):
    request = types.SimpleNamespace(session_hash="stop-me")
    updates = []

    def progress(fraction, desc=None):
        updates.append(desc or "")
        if "acoustic iteration 2/" in (desc or "") and "turns" in (desc or ""):
            stopping.stop_synthesis(request)  # what the Stop button does, mid-decode of the second chunk

    settings = SETTING_VALUES.values()
    out = list(
        handlers.page_generate(
            None, None, LONG, *settings, *speaker_values([voice, voice]), progress=progress, request=request
        )
    )
    assert out[-1][4 + STATUS["run"]].startswith("■ Stopped after ")
    stop_at = next(i for i, u in enumerate(updates) if "acoustic iteration 2/" in u and "turns" in u)
    assert not any("acoustic iteration 3/" in u for u in updates[stop_at:])
    assert stopping.stop_synthesis(request) == "Nothing was being generated."


def test_the_stream_api_sends_each_chunk_then_the_whole(tiny_synthesizer, voice):
    settings = SETTING_VALUES.values()
    out = list(
        handlers.stream_dialogue(LONG, *settings, *speaker_values([voice, voice]), progress=Progress())
    )
    chunks, (last_chunk, files, report) = out[:-1], out[-1]
    assert len(chunks) >= 2 and last_chunk is None and "8 turns" in report
    total = 0
    for k, (path, none, line) in enumerate(chunks):
        of = "" if k == 0 else f" of {len(chunks)}"  # the first comes out before the rest is planned
        assert none is None and line.startswith(f"chunk {k + 1}{of}: turns ")
        with wave.open(path) as chunk:
            total += chunk.getnframes()
    with wave.open(files[0]) as whole:
        assert whole.getnframes() == total  # the chunks put end to end are the dialogue


def test_cancel_requests_reach_the_line_and_then_gradio(monkeypatch):
    cancelled, passed_on = [], []
    monkeypatch.setattr(synthesis.LINE, "cancel", lambda session: cancelled.append(session) or 1)
    monkeypatch.setattr(stopping, "_BLOCKS", [])

    async def downstream(scope, receive, send):
        passed_on.append((await receive())["body"])

    body = json.dumps({"session_hash": "abc", "fn_index": 3, "event_id": "e"}).encode()
    messages = [{"type": "http.request", "body": body[:10], "more_body": True}]
    messages.append({"type": "http.request", "body": body[10:], "more_body": False})

    async def receive():
        return messages.pop(0)

    scope = {"type": "http", "method": "POST", "path": "/gradio_api/cancel"}
    asyncio.run(stopping.CancelWatch(downstream)(scope, receive, None))
    assert cancelled == ["abc"] and passed_on == [body[:10]]
    other = {"type": "http", "method": "POST", "path": "/gradio_api/queue/join"}
    asyncio.run(stopping.CancelWatch(downstream)(other, lambda: asyncio.sleep(0, {"body": b"x"}), None))
    assert cancelled == ["abc"]
