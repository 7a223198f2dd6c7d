"""The voice slots as the transcript and the clips change: who speaks with each slot and which slots show,
each clip checked as it arrives (what is wrong, or how it was cleaned up, under its slot), built-in voices,
the demos, and the voices the page opens with."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import gradio as gr

from engine.demos import demo_voice_words, demo_voices, list_demos
from engine.errors import UserInputError
from engine.ui import reports
from engine.ui.inputs import builtin_summary, check_clip
from engine.ui.speakers import SLOTS, plan_speakers, slot_heading, visible_slots

log = logging.getLogger(__name__)

OPENING_VOICES = {"S1": "us1-female", "S2": "rms-male"}  # the page opens on its example with these


def show_speakers(transcript: str | None, *slot_inputs: Any) -> tuple:
    """Page: who speaks with each slot, and which slots to show, as the transcript and the voices change.

    Args:
        transcript: the dialogue text.
        slot_inputs: the uploads, then the built-in voice choices, of every slot.

    Returns:
        (the line under the dialogue, *slot headings, *slot visibility updates).
    """
    uploads, choices = list(slot_inputs[: len(SLOTS)]), list(slot_inputs[len(SLOTS) :])
    filled = {slot for slot, up, ch in zip(SLOTS, uploads, choices, strict=True) if up or ch}
    try:
        plan = plan_speakers(transcript or "", filled=filled)
        line = reports.reading_summary(plan)
    except UserInputError as error:
        plan, line = None, reports.problem(str(error))
    return (
        line,
        *[slot_heading(plan, slot) for slot in SLOTS],
        *[gr.Group(visible=shown) for shown in visible_slots(plan, filled)],
    )


def check_upload(path: str | None) -> str:
    """Page: the line under a slot once a clip is uploaded or recorded: what is wrong, or how it was
    cleaned up."""
    if not path:
        return ""
    try:
        ok, message = check_clip(path)
    except Exception:
        log.exception("checking an uploaded clip failed")
        return reports.problem(
            "The clip could not be checked (the details are in the server log); try another."
        )
    return message if ok else reports.problem(message)


def pick_demo_voice(name: str | None) -> tuple:
    """Page: a built-in voice's clip (into the slot's audio input), its words (into the words box) and the
    line under the slot; no voice: no clip, the box and the line as they are."""
    if not name:
        return None, gr.skip(), gr.skip()
    voices = demo_voices()
    if name not in voices:
        return gr.skip(), gr.skip(), reports.problem(f"{name!r} is not a built-in voice.")
    ok, message = check_clip(voices[name])
    status = builtin_summary(name, message) if ok else reports.problem(message)
    return str(voices[name]), demo_voice_words().get(voices[name].resolve(), ""), status


def load_demo(name: str | None) -> tuple:
    """Page: a ready dialogue's transcript, then per slot its voice clips, the built-in voice names, what
    the clips say and the line under each slot (words typed for earlier clips would not fit these)."""
    demos = {demo.name: demo for demo in list_demos()}
    if not name or name not in demos:
        return (gr.skip(),) * (1 + 4 * len(SLOTS))
    demo = demos[name]
    names = {path.resolve(): voice for voice, path in demo_voices().items()}
    chosen = [names.get(demo.voices[slot].resolve()) if slot in demo.voices else None for slot in SLOTS]
    return _with_voices(demo.transcript, chosen)


def _with_voices(transcript: str | Any, chosen: Sequence[str | None]) -> tuple:
    picked = [pick_demo_voice(name) if name else (None, "", "") for name in chosen]
    return (
        transcript,
        *[clip for clip, _, _ in picked],
        *chosen,
        *[words for _, words, _ in picked],
        *[status for _, _, status in picked],
    )


def opening_voices() -> tuple:
    """Page, when it opens: the built-in voices of the example dialogue in S1 and S2, so that the first
    Generate works (same outputs as `load_demo`, the transcript left as it is)."""
    return _with_voices(gr.skip(), [OPENING_VOICES.get(slot) for slot in SLOTS])
