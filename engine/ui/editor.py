"""The turn editor: the transcript as a list of (speaker, text) turns that can be moved, added (for whoever
goes on the exchange), deleted and edited, written back into the transcript after each edit."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gradio as gr

from engine.errors import UserInputError
from engine.text.transcript import turn_sources
from engine.ui.speakers import SLOTS, plan_speakers


def editor_turns(transcript: str | None, filled: Sequence[str] = ()) -> list[tuple[str, str]]:
    """The turns as the turn editor shows them: (speaker, text as written)."""
    plan = plan_speakers(transcript or "", filled=set(filled))
    voiced = [*plan.slots, *plan.unplaced]
    return turn_sources(transcript or "", voiced=voiced)


def write_turns(turns: Sequence[tuple[str, str]]) -> str:
    """Turns back into a transcript: one `[Speaker] text` line each (a bracketed name is always a speaker)."""
    return "\n".join(f"[{speaker}] {text}".rstrip() for speaker, text in turns)


def next_speaker(turns: Sequence[tuple[str, str]], after: int) -> str:
    """Who speaks a turn added after turn `after` (0-based): whoever spoke before the one it follows (so a
    two-person exchange goes on), else the first speaker who is not the one it follows, else S2."""
    if after >= 1 and turns[after - 1][0] != turns[after][0]:
        return turns[after - 1][0]
    current = turns[after][0] if turns else "S1"
    others = [speaker for speaker, _ in turns if speaker != current]
    if others:
        return others[0]
    return next(slot for slot in SLOTS if slot != current)


def edit_turns(
    turns: Sequence[tuple[str, str]], action: str, index: int, value: str = ""
) -> list[tuple[str, str]]:
    """The turn editor's turns after one edit.

    Args:
        turns: (speaker, text) of each turn.
        action: "up", "down", "delete", "add" (a turn after `index`; -1: at the start), "speaker" or "text"
            (set to `value`).
        index: the turn (0-based).
        value: the new speaker or text.

    Returns:
        The new list (the given one is left as it is).
    """
    turns = list(turns)
    if action == "add":
        speaker = next_speaker(turns, index) if turns and index >= 0 else "S1"
        turns.insert(max(0, min(index + 1, len(turns))), (speaker, ""))
    elif not 0 <= index < len(turns):
        return turns
    elif action == "up" and index > 0:
        turns[index - 1], turns[index] = turns[index], turns[index - 1]
    elif action == "down" and index < len(turns) - 1:
        turns[index + 1], turns[index] = turns[index], turns[index + 1]
    elif action == "delete":
        del turns[index]
    elif action == "speaker" and value and value.strip():
        turns[index] = (" ".join(value.split()), turns[index][1])
    elif action == "text":
        turns[index] = (turns[index][0], " ".join((value or "").split()))
    return turns


def sync_editor(transcript: str | None, version: int, *slot_inputs: Any) -> tuple:
    """Page: the turn editor's turns read from the transcript (None when it cannot be read), and a new
    version number, which redraws the editor.

    Args:
        transcript: the dialogue text.
        version: the editor's current version.
        slot_inputs: the uploads, then the built-in voice choices, of every slot.
    """
    uploads, choices = list(slot_inputs[: len(SLOTS)]), list(slot_inputs[len(SLOTS) :])
    filled = [slot for slot, up, ch in zip(SLOTS, uploads, choices, strict=True) if up or ch]
    try:
        turns = editor_turns(transcript, filled)
    except UserInputError:
        turns = None
    return turns, (version or 0) + 1


def editor_edit(action: str, index: int) -> Callable:
    """Page: a handler for one button or field of the turn editor: (turns, version, value) -> (turns,
    transcript, version); the version changes (the editor is redrawn) only when turns move, come or go."""
    redraw = action in ("up", "down", "delete", "add")

    def handle(turns: list | None, version: int, value: str = "") -> tuple:
        if turns is None:
            return gr.skip(), gr.skip(), gr.skip()
        new = edit_turns([tuple(t) for t in turns], action, index, value)
        return new, write_turns(new), (version or 0) + 1 if redraw else gr.skip()

    return handle


# The editor on the page ------------------------------------------------------------------------------------


def turn_editor_tab(transcript: gr.Textbox) -> tuple[gr.Tab, gr.State, gr.State]:
    """The "Turns" tab (inside the page's gr.Tabs): a row per turn with its speaker, its words and ↑ ↓ + ✕;
    every edit is written into `transcript`.

    Returns:
        (the tab, the turns shown (None: the text cannot be read), their version: a change redraws the rows).
    """
    quiet = {"show_progress": "hidden", "api_visibility": "private"}
    with gr.Tab("Turns", id="turns-tab", elem_id="turns-tab") as turns_tab:
        gr.Markdown(
            "Each turn: its speaker, its words; ↑ ↓ move it, + adds a turn after it (for whoever spoke "
            "before it), ✕ deletes it. Edits go into the text."
        )
        editor_turns = gr.State(None)
        editor_version = gr.State(0)

        @gr.render(inputs=[editor_turns], triggers=[editor_version.change])
        def turn_editor(turns: list | None) -> None:
            if turns is None:
                gr.Markdown(
                    "The text cannot be shown as turns yet: fix what the message under the dialogue "
                    "says (in the Text tab).",
                    elem_id="turn-editor-problem",
                )
                return
            names = list(dict.fromkeys([*SLOTS, *(speaker for speaker, _ in turns)]))
            editing = [editor_turns, editor_version]
            changed = [editor_turns, transcript, editor_version]
            for i, (speaker, text) in enumerate(turns):
                with gr.Row(elem_classes=["turn-row"], elem_id=f"turn-{i + 1}"):
                    who = gr.Dropdown(
                        names,
                        value=speaker,
                        allow_custom_value=True,
                        show_label=False,
                        container=False,
                        scale=1,
                        min_width=110,
                        elem_id=f"turn-{i + 1}-speaker",
                    )
                    words = gr.Textbox(
                        text,
                        show_label=False,
                        container=False,
                        placeholder="What they say",
                        scale=8,
                        elem_id=f"turn-{i + 1}-text",
                    )
                    for label, action in (("↑", "up"), ("↓", "down"), ("+", "add"), ("✕", "delete")):
                        gr.Button(
                            label, size="sm", scale=0, min_width=36, elem_id=f"turn-{i + 1}-{action}"
                        ).click(editor_edit(action, i), editing, changed, **quiet)
                who.input(editor_edit("speaker", i), [*editing, who], changed, **quiet)
                words.input(
                    editor_edit("text", i),
                    [*editing, words],
                    changed,
                    **quiet,
                    trigger_mode="always_last",
                )
            gr.Button("+ Add a turn", size="sm", elem_id="turn-add").click(
                editor_edit("add", len(turns) - 1), editing, changed, **quiet
            )

    return turns_tab, editor_turns, editor_version
