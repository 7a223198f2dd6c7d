"""What the page says in words: the Check report, the Generate report, a clip's check, messages in place."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from engine.ui.speakers import SpeakerPlan, reading_notes

if TYPE_CHECKING:
    from engine.audio import VoicePrompt
    from engine.pipeline import DialogueResult

FORMAT_HELP = (
    "One turn per line: `[S1] text` or `Name: text`. A `Name:` line is a new speaker only when that name has "
    'a voice, speaks more than once, or is written `[Name]`; otherwise it stays text ("Note: ..."). Lines '
    "without a tag continue the turn above. `(laughs)` and other (stage directions) are not spoken. "
    "`[S1]`-`[S8]` use the voice slots of the same name; names take the free slots in order."
)
PHONES_SHOWN = 24


def md(text: str) -> str:
    """Text shown as it is in a Markdown component: no HTML tags, no emphasis from '*' or '_'."""
    return re.sub(r"([\\`*_|])", r"\\\1", html.escape(str(text), quote=False))


def problem(message: str) -> str:
    """A message about what is wrong, as the page shows it next to its cause."""
    return f"✗ {md(message)}"


def reading_summary(plan: SpeakerPlan) -> str:
    """One line under the transcript: how it was read (turns, speakers, lines kept as text)."""
    names = (
        ", ".join(name if name == slot else f"{name} ({slot})" for name, slot in plan.slots.items()) or "none"
    )
    kept = [r for r in plan.readings if r.kept_as_text]
    text = f"Read as {len(plan.turns)} turn{'s' * (len(plan.turns) != 1)}; speakers: {md(names)}."
    if kept:
        lines = ", ".join(f"line {r.line} ('{md(r.name)}:')" for r in kept)
        text += f" Kept as text, not speakers: {lines}."
    if plan.unplaced:
        text += f" No voice slot for: {md(', '.join(plan.unplaced))} (the page has slots S1-S8)."
    directions = sum(len(t.directions) for t in plan.turns)
    if directions:
        text += f" {directions} stage direction{'s' * (directions > 1)} will not be spoken."
    return text


def clip_summary(prompt: VoicePrompt, original: Path | str | None = None) -> str:
    """What was done to a clip that can be used, for the line under its slot."""
    done = "; ".join(prompt.notes) if prompt.notes else "used as it is"
    name = f"{md(Path(original).name)}: " if original else ""
    return f"✓ {name}{prompt.duration:.1f} s of speech at {prompt.sample_rate // 1000} kHz ({md(done)})."


def _directions_note(number: int, directions: tuple[str, ...]) -> str:
    said = ", ".join(f"({d})" for d in directions)
    return (
        f"Turn {number}: {md(said)} {'is a stage direction' if len(directions) == 1 else 'are stage directions'}"
        " and not spoken (the voices cannot laugh or sigh); write it in words to have it said."
    )


def check_report(
    plan: SpeakerPlan,
    normalized: list[tuple[str, tuple[str, ...], tuple[str, ...]]],
    clips: Mapping[str, str],
    words: Mapping[str, str],
) -> str:
    """The Check report: how each turn will be read out, who speaks it with which voice, what is not spoken.

    Args:
        plan: the transcript read for the page.
        normalized: per turn, (the text as it will be read out, its phones, normalization notes).
        clips: slot -> what its clip check said (markdown), for the slots the dialogue uses.
        words: speaker -> the clip words given for it (their tempo is measured on them).

    Returns:
        Markdown.
    """
    names = plan.speakers
    rows = []
    for number, (turn, (spoken, phones, _)) in enumerate(zip(plan.turns, normalized, strict=True), 1):
        slot = plan.slots.get(turn.speaker, "no slot")
        who = turn.speaker if turn.speaker == slot else f"{turn.speaker} ({slot})"
        unspoken = ", ".join(f"({d})" for d in turn.directions)
        rows.append(f"| {number} | {turn.line} | {md(who)} | {md(spoken)} | {len(phones)} | {md(unspoken)} |")
    headline = (
        f"**Check: {len(plan.turns)} turns, {len(names)} speakers ({md(', '.join(names))}).** Nothing was "
        "generated; the table shows what will be said."
    )
    out = [
        headline,
        "",
        "| turn | line | speaker (voice slot) | will be read out as | sounds | not spoken |",
        "|---|---|---|---|---|---|",
        *rows,
    ]
    notes = [md(note) for note in reading_notes(plan)]
    for number, (turn, (_, _, turn_notes)) in enumerate(zip(plan.turns, normalized, strict=True), 1):
        if turn.directions:
            notes.append(_directions_note(number, turn.directions))
        notes += [f"Turn {number}: {md(note)}" for note in turn_notes]
    if notes:
        out += ["", "Notes:", *[f"- {note}" for note in notes]]
    if clips:
        out += ["", "| voice slot | speaker | clip | tempo measured on |", "|---|---|---|---|"]
        for name, slot in plan.slots.items():
            if slot in clips:
                tempo = (
                    f"the words given: {md(words[name])!s}"
                    if words.get(name)
                    else "the sounds heard in the clip"
                )
                out.append(f"| {slot} | {md(name)} | {clips[slot]} | {tempo} |")
    details = "\n".join(
        f"turn {number}: {' '.join(phones[:PHONES_SHOWN])}{' ...' if len(phones) > PHONES_SHOWN else ''}"
        for number, (_, phones, _) in enumerate(normalized, 1)
    )
    out += ["", "<details><summary>Phones of each turn</summary>", "", "```", details, "```", "</details>"]
    return "\n".join(out)


def generate_report(result: DialogueResult, plan: SpeakerPlan) -> str:
    """The Generate report: length and speed, settings, timings, the turns, and every note (how lines were
    read, what was not spoken, what normalization changed or dropped, what was done to the clips)."""
    s = result.settings
    rows = "\n".join(
        f"| {i} | {md(t.speaker)} | {t.start_s:.2f}-{t.end_s:.2f} s | {t.n_frames} | {md(t.text)} | "
        f"{md(', '.join(f'({d})' for d in turn.directions))} |"
        for i, (t, turn) in enumerate(zip(result.turns, plan.turns, strict=True), 1)
    )
    timings = ", ".join(f"{stage} {seconds:.2f} s" for stage, seconds in result.timings.items())
    rates = ", ".join(f"{md(name)} x{rate:g}" for name, rate in s.rates)
    for pairs, source in ((s.tempos, "the clip's words"), (s.heard_tempos, "the phones heard in the clip")):
        if pairs:
            rates += f"; tempo from {source}: " + ", ".join(
                f"{md(name)} x{tempo:.2f}" for name, tempo in pairs
            )
    notes = [md(note) for note in reading_notes(plan)]
    for number, (t, turn) in enumerate(zip(result.turns, plan.turns, strict=True), 1):
        if turn.directions:
            notes.append(_directions_note(number, turn.directions))
        notes += [f"Turn {number}: {md(note)}" for note in t.notes if not note.startswith("read ")]
    notes += [md(note) for note in result.notes]
    return (
        f"**{len(result.turns)} turns, {result.duration_s:.1f} s of audio in {result.timings['total']:.1f} s "
        f"(real-time factor {result.real_time_factor:.2f}).**  \n"
        f"{s.method}, {s.iterations} iterations ({len(result.trace)} decoder steps, "
        f"{result.trace.forward_passes} forward passes), temperature {s.temperature:g}, guidance {s.guidance:g}, "
        f"seed {s.seed}, voice matching {s.voice_match:g}, pace check {'on' if s.pace_check else 'off'}; "
        f"rates {rates}.  \nTimings: {timings}\n\n"
        f"| turn | speaker | in the audio | frames | text spoken | not spoken |\n|---|---|---|---|---|---|\n{rows}"
        + ("\n\nNotes:" + "".join(f"\n- {note}" for note in notes) if notes else "")
    )


def out_of_date(previous_report: str | None) -> str | None:
    """The previous report, marked as belonging to the outputs of an earlier Generate."""
    if not previous_report or not previous_report.strip():
        return None
    marker = "> ⚠ **Out of date:** the last Generate failed (see the message above); the audio, report"
    if previous_report.startswith("> ⚠"):
        return previous_report
    return f"{marker} and figures below are from the Generate before it.\n\n{previous_report}"
