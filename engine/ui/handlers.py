"""The page's event handlers, gathered from the modules that hold them, for blocks.py, app.py and
bench/app.py: generate.py (Check, Generate), compare.py, views.py (the decoding views), voice_slots.py,
editor.py (the turn editor); what they share is in inputs.py, messages.py and synthesis.py.

The page's own handlers (`page_*` and the slot and editor events) never raise for a user's mistake: the
message goes next to what caused it and the previous outputs stay, marked out of date. The API's
(`check_dialogue`, `generate_dialogue`, `stream_dialogue`, `compare_iterations`) raise a readable gr.Error
instead.
"""

from engine.ui.compare import COMPARE_ITERATIONS, compare_iterations, page_compare
from engine.ui.editor import edit_turns, editor_edit, editor_turns, sync_editor, write_turns
from engine.ui.generate import (
    AUDIO_LABEL,
    check_dialogue,
    generate_dialogue,
    page_check,
    page_generate,
    stream_dialogue,
)
from engine.ui.inputs import SPEAKER_PARAMETERS
from engine.ui.speakers import SHOWN_SLOTS, SLOTS
from engine.ui.synthesis import warm_up
from engine.ui.views import Decoded, page_draw, redraw_step, redraw_window, step_slider
from engine.ui.voice_slots import (
    OPENING_VOICES,
    check_upload,
    load_demo,
    opening_voices,
    pick_demo_voice,
    show_speakers,
)

SPEAKERS = SLOTS[:SHOWN_SLOTS]  # the slots shown when the page opens (bench/app.py fills these)

__all__ = [
    "AUDIO_LABEL",
    "COMPARE_ITERATIONS",
    "OPENING_VOICES",
    "SPEAKERS",
    "SPEAKER_PARAMETERS",
    "Decoded",
    "check_dialogue",
    "check_upload",
    "compare_iterations",
    "edit_turns",
    "editor_edit",
    "editor_turns",
    "generate_dialogue",
    "load_demo",
    "opening_voices",
    "page_check",
    "page_compare",
    "page_draw",
    "page_generate",
    "pick_demo_voice",
    "redraw_step",
    "redraw_window",
    "show_speakers",
    "step_slider",
    "stream_dialogue",
    "sync_editor",
    "warm_up",
    "write_turns",
]
