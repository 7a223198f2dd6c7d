"""Which of the page's voice slots (S1..S8) each speaker of a transcript takes, and how each line was read."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from engine.errors import UserInputError
from engine.text.tags import name_tags
from engine.text.transcript import LineReading, Turn, as_read, read_transcript, speakers

SLOTS = tuple(f"S{i}" for i in range(1, 9))
SHOWN_SLOTS = 4  # slots shown when the page opens; the others appear when the transcript needs them


class SlotError(UserInputError):
    """Something wrong with one voice slot (shown under that slot on the page)."""

    def __init__(self, slot: str, message: str) -> None:
        super().__init__(message)
        self.slot = slot


@dataclass(frozen=True)
class SpeakerPlan:
    """A transcript read for the page.

    Attributes:
        turns: the turns, with `Name:` lines that are not speakers read as text.
        readings: how each non-blank line was read.
        slots: speaker -> voice slot; speakers with no slot (S9, a ninth speaker) are left out.
        text: the transcript as the pipeline must be given it (lines read as text indented, so its own
            reading agrees: `engine.text.transcript.as_read`).
    """

    turns: list[Turn]
    readings: list[LineReading]
    slots: dict[str, str]
    text: str

    @property
    def speakers(self) -> list[str]:
        """The speakers in order of first appearance."""
        return speakers(self.turns)

    @property
    def unplaced(self) -> list[str]:
        """Speakers without a voice slot."""
        return [name for name in self.speakers if name not in self.slots]

    def speaker_of(self, slot: str) -> str | None:
        """Who takes a slot (None: nobody in this dialogue)."""
        return next((name for name, taken in self.slots.items() if taken == slot), None)

    def turns_of(self, speaker: str) -> list[int]:
        """The 1-based numbers of a speaker's turns."""
        return [i for i, turn in enumerate(self.turns, 1) if turn.speaker == speaker]


def plan_speakers(transcript: str, filled: Collection[str] = ()) -> SpeakerPlan:
    """Read a transcript and give its speakers voice slots.

    `[S3]` takes S3. Names take the free slots in order of first appearance; a name written once as
    `Name:` (not `[Name]`, not opening the transcript) is a speaker only when the slot it would take has a
    voice: otherwise its line stays text ("Remember: bring the tickets.").

    Args:
        transcript: the dialogue text.
        filled: the slots that have a voice (a clip or a built-in voice).

    Returns:
        The plan.

    Raises:
        TranscriptError: the transcript cannot be read.
    """
    tags = name_tags(transcript)
    slots = {tag.name: tag.name for tag in tags if tag.is_s_tag and tag.name in SLOTS}
    free = [slot for slot in SLOTS if slot not in slots.values()]
    voiced = [tag.name for tag in tags if tag.is_s_tag]
    for tag in tags:
        if tag.is_s_tag:
            continue
        if tag.certain or (free and free[0] in filled):
            voiced.append(tag.name)
            if free:
                slots[tag.name] = free.pop(0)
    turns, readings = read_transcript(transcript, voiced=voiced)
    by_fold = {name.casefold(): slot for name, slot in slots.items()}
    placed = {name: by_fold[name.casefold()] for name in speakers(turns) if name.casefold() in by_fold}
    return SpeakerPlan(turns, readings, placed, as_read(transcript, readings))


def no_slot_error(plan: SpeakerPlan) -> UserInputError | None:
    """The message for speakers the page has no voice slot for (S9 and up, a ninth speaker), else None."""
    unplaced = plan.unplaced
    if not unplaced:
        return None
    name = unplaced[0]
    number = plan.turns_of(name)[0]
    line = plan.turns[number - 1].line
    others = f" (and {', '.join(unplaced[1:])})" if len(unplaced) > 1 else ""
    if name.startswith("S") and name[1:].isdigit():
        return UserInputError(
            f"{name} (turn {number}, line {line}){others} has no voice slot: the page has slots {SLOTS[0]}-"
            f"{SLOTS[-1]}, one per speaker. Renumber the speakers from S1, or give {name}'s lines to one of the "
            "others."
        )
    return UserInputError(
        f"{name} (turn {number}, line {line}){others} would be speaker number {len(plan.slots) + 1}, but the page "
        f"has voice slots for {len(SLOTS)} speakers ({SLOTS[0]}-{SLOTS[-1]}). Give {name}'s lines to one of "
        "the others."
    )


def missing_voice_error(plan: SpeakerPlan, filled: Collection[str]) -> SlotError | None:
    """The message for the first speaker whose slot has no voice (shown under that slot), else None."""
    missing = [name for name in plan.speakers if name in plan.slots and plan.slots[name] not in filled]
    if not missing:
        return None
    name = missing[0]
    slot = plan.slots[name]
    number = plan.turns_of(name)[0]
    turn = plan.turns[number - 1]
    others = (
        f" (nor {'does' if len(missing) == 2 else 'do'} {', '.join(missing[1:])})" if len(missing) > 1 else ""
    )
    named = (
        ""
        if name == slot
        else f" (named speakers take the free slots in order of appearance: {name} is {slot})"
    )
    hint = ""
    if name != slot and len(plan.turns_of(name)) == 1:
        hint = f"; if '{name}:' on line {turn.line} is part of the text, not a speaker, indent that line"
    return SlotError(
        slot,
        f"{name} speaks in turn {number} (line {turn.line}) but has no voice{others}: upload or record a clip "
        f"under 'Voice of {slot}', or pick a built-in voice for {slot}{named}{hint}.",
    )


def reading_notes(plan: SpeakerPlan) -> list[str]:
    """How the transcript was read where it matters: named speakers' slots and `Name:` lines kept as text."""
    notes = [
        f"{name} (turns {', '.join(map(str, plan.turns_of(name)))}) speaks with the voice in slot {slot}."
        for name, slot in plan.slots.items()
        if name != slot
    ]
    for reading in plan.readings:
        if reading.kept_as_text:
            notes.append(
                f"Line {reading.line} ('{reading.name}: ...') is read as text of turn {reading.turn} "
                f"({reading.speaker}), not as a new speaker: '{reading.name}' is written once and has no voice. "
                f"To make it a speaker, write '[{reading.name}] ...' or give it a voice in the next free slot."
            )
    return notes


def visible_slots(plan: SpeakerPlan | None, filled: Collection[str]) -> list[bool]:
    """Which slots to show: those the dialogue uses or that have a voice, and the first free one (for one
    more speaker); S1 and S2 always."""
    used = set(plan.slots.values()) if plan is not None else set()
    spare = next((slot for slot in SLOTS if slot not in used and slot not in filled), None)
    return [i < 2 or slot in used or slot in filled or slot == spare for i, slot in enumerate(SLOTS)]


def slot_heading(plan: SpeakerPlan | None, slot: str) -> str:
    """The line above a slot: who speaks with it, or that nobody does (and who would, given a voice)."""
    if plan is None:
        return f"**{slot}**"
    name = plan.speaker_of(slot)
    if name is None:
        used = set(plan.slots.values())
        waiting = [r.name for r in plan.readings if r.kept_as_text]
        first_free = next((s for s in SLOTS if s not in used), None)
        if waiting and slot == first_free:
            return f"**{slot}** · free: give it a voice to make '{waiting[0]}' (read as text now) a speaker"
        return f"**{slot}** · free: not in this dialogue"
    turns = plan.turns_of(name)
    which = f"turn{'s' * (len(turns) > 1)} {', '.join(map(str, turns))}"
    return f"**{slot}** · {name + ', ' if name != slot else ''}{which}"


def slot_values(values: Sequence, what: str) -> list:
    """Per-slot values padded to every slot (a caller may give only the first few slots)."""
    values = list(values)
    if len(values) > len(SLOTS):
        raise ValueError(f"{len(values)} {what} for {len(SLOTS)} voice slots")
    return values + [None] * (len(SLOTS) - len(values))
