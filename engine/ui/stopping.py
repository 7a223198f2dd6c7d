"""Stopping a synthesis: the page's Stop button and an API client's cancel both reach gradio's /cancel route,
which ends the event for the client but cannot stop the thread computing it. `CancelWatch` sees those
requests on their way in and tells synthesis.LINE to stop the session's synthesis, which then ends within
one decoder iteration and frees the line for the next. `/stop` does the same for a client that asks."""

from __future__ import annotations

import json
import logging
from typing import Any

import gradio as gr

from engine.ui.synthesis import LINE

log = logging.getLogger(__name__)

# The handlers whose runs a cancel stops (their events share the synthesis line).
SYNTHESIS_HANDLERS = {
    "page_generate",
    "generate_dialogue",
    "stream_dialogue",
    "page_compare",
    "compare_iterations",
}
_BLOCKS: list[Any] = []  # the page, once built: its functions' names by index


def watch(blocks: gr.Blocks) -> None:
    """Let CancelWatch map a cancelled event's function index to its handler in these Blocks."""
    _BLOCKS[:] = [blocks]


def _cancels_a_synthesis(fn_index: object) -> bool:
    if not _BLOCKS or not isinstance(fn_index, int):
        return True  # an unknown page: stopping the session's synthesis is the safe reading
    fn = _BLOCKS[0].fns.get(fn_index)
    return fn is not None and getattr(fn.fn, "__name__", "") in SYNTHESIS_HANDLERS


class CancelWatch:
    """ASGI middleware: a POST to gradio's /cancel stops the synthesis of that session (the request then
    goes on to gradio unchanged)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or not scope["path"].endswith("/cancel"):
            await self.app(scope, receive, send)
            return
        messages, body, more = [], b"", True
        while more:
            message = await receive()
            messages.append(message)
            body += message.get("body", b"")
            more = message.get("more_body", False) and message["type"] == "http.request"
        try:
            request = json.loads(body or b"{}")
            if _cancels_a_synthesis(request.get("fn_index")):
                LINE.cancel(request.get("session_hash"))
        except (ValueError, AttributeError):
            log.warning("a /cancel request whose body could not be read: %r", body[:200])

        async def replay() -> dict:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


def session_of(request: gr.Request | None) -> str | None:
    """The session a handler runs for (None outside a served page, e.g. in tests calling it directly)."""
    return getattr(request, "session_hash", None) if request is not None else None


def stop_synthesis(request: gr.Request) -> str:
    """API and page: stop this session's synthesis (running or waiting). Returns what was stopped."""
    stopped = LINE.cancel(session_of(request))
    if not stopped:
        return "Nothing was being generated."
    return "Stopped: the synthesis ends within a second."
