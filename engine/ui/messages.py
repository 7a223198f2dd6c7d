"""Where the page says what went wrong: next to its cause (under the dialogue, under a voice slot, or above
the buttons); and, for the API, the same messages as a gr.Error. Never a traceback: unexpected failures are
logged with theirs, and the user is told so."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import gradio as gr

from engine.errors import SynthesisCancelled, UserInputError
from engine.text.normalize import UnsupportedTextError
from engine.text.transcript import TranscriptError
from engine.ui import reports
from engine.ui.speakers import SLOTS, SlotError, SpeakerPlan

log = logging.getLogger(__name__)

ERROR_SECONDS = 30  # how long an API error's toast stays (long messages take a while to read)
# Places a message can go: under the dialogue, under one voice slot, above the buttons.
TRANSCRIPT, RUN = "transcript", "run"


@contextmanager
def page_errors(action: str) -> Iterator[None]:
    """For the API: user errors as a gr.Error with their message, anything else as a gr.Error saying it is
    a bug (the traceback goes to the server log)."""
    try:
        yield
    except gr.Error:
        raise
    except SynthesisCancelled:
        raise gr.Error(
            "Stopped: the synthesis was cancelled.", duration=ERROR_SECONDS, print_exception=False
        ) from None
    except UserInputError as err:
        raise gr.Error(reports.md(str(err)), duration=ERROR_SECONDS, print_exception=False) from None
    except Exception as err:
        log.exception("%s failed", action)
        raise gr.Error(unexpected(action, err), duration=ERROR_SECONDS, print_exception=False) from None


def unexpected(action: str, err: Exception) -> str:
    return reports.md(
        f"{action} failed unexpectedly ({type(err).__name__}: {err}). The details are in the server log; try "
        "again, or try other settings."
    )


def place_of(error: Exception, plan: SpeakerPlan | None) -> str:
    """Where a message goes: TRANSCRIPT, a slot, or RUN (above the buttons: settings, unexpected failures)."""
    if isinstance(error, SlotError):
        return error.slot
    if isinstance(error, (TranscriptError, UnsupportedTextError)):
        return TRANSCRIPT
    if isinstance(error, UserInputError) and plan is not None:
        message = str(error)
        for name, slot in plan.slots.items():
            if f"{name}'s voice" in message or f"{name}'s clip" in message:
                return slot
    return RUN


PLACE_NAMES = {TRANSCRIPT: "under the dialogue", **{slot: f"under voice slot {slot}" for slot in SLOTS}}


def statuses(
    plan: SpeakerPlan | None = None,
    clips: dict[str, str] | None = None,
    error: tuple[str, str] | None = None,
    run: str | None = None,
    action: str = "Generate",
) -> tuple:
    """The messages in place: (under the dialogue, under each slot, above the buttons); gr.skip() leaves
    one as it is.

    Args:
        plan: the transcript as read (its summary goes under the dialogue).
        clips: slot -> its clip check, for the slots the dialogue uses.
        error: (place, message) of what stopped the action.
        run: what to say above the buttons.
        action: the button pressed, for "Generate stopped: ...".
    """
    place, message = error if error else (None, "")
    transcript = (
        reports.problem(message)
        if place == TRANSCRIPT
        else reports.reading_summary(plan)
        if plan is not None
        else gr.skip()
    )
    slots = [
        reports.problem(message) if place == slot else (clips or {}).get(slot, gr.skip()) for slot in SLOTS
    ]
    if place == RUN:
        run = reports.problem(message)
    elif place is not None:
        run = f"✗ {action} stopped: what is wrong is shown {PLACE_NAMES[place]}."
    return (transcript, *slots, gr.skip() if run is None else run)


def failure(error: Exception, plan: SpeakerPlan | None, action: str) -> tuple[str, str]:
    """(place, message) for a failure; unexpected ones are logged with their traceback."""
    if isinstance(error, SynthesisCancelled):
        return RUN, f"{action} was stopped."
    if isinstance(error, UserInputError):
        return place_of(error, plan), str(error)
    log.exception("%s failed", action, exc_info=error)
    return RUN, unexpected(action, error)
