"""The transcript format: speaker turns written as `[S1] text` or `Alice: text`, with (stage directions).

Rules for each line:
- Blank lines are ignored.
- `[S1] text` .. `[S99] text` or `[Name] text` at the start of a line starts a turn. S-tags (only they) also
  start a new turn in the middle of a line: "[S1] Hi. [S2] Hello." is two turns, "[sic]" stays text.
- `Name: text` starts a turn when, at the very start of an unindented line, a name of 1-3 words (letters,
  digits, '-', '_'; the first word starts with a letter, later words are capitalized or numbers: "Alice",
  "Dr Smith", "Player 2") is followed by ':' (spaces before it allowed) and a space or the line end.
  So "3:30", "http://x" and "so he said: hi" never start a turn, and a colon later in a line is text.
  A single word and colon at the start of a line ("Note: ...") does start a turn; indent such a line to
  keep it as text (`check_voices` says so when that speaker has no voice). Given `voiced` (the names that
  have a voice), `read_transcript` is stricter: a `Name:` line starts a turn only when the name has a voice,
  speaks more than once (two `Name:` lines, or a `[Name]` tag), or opens the transcript; otherwise the line,
  "Remember: bring the tickets." say, stays text of the turn above, and the line readings say so.
- Any other line continues the previous turn (multi-line turns); a tag may stand alone on its line.
- A line that starts like a tag but is malformed ("<S1>", "{S1}", "[S1 hi", "S1] hi", "[]") is an error.
- Stage directions in parentheses, "(laughs)", are not spoken: they are kept in `Turn.directions`.
S-tags are case-insensitive ("[s1]" is S1); names are matched ignoring case, spelled as first written.
"""

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from engine.text.tags import (
    INLINE_S_TAG,
    S_TAG,
    TranscriptError,
    name_tags,
    s_tag_speaker,
    shorten,
    split_line,
)

__all__ = [
    "LineReading",
    "TranscriptError",
    "Turn",
    "as_read",
    "check_voices",
    "parse_transcript",
    "read_transcript",
    "speakers",
    "turn_sources",
]

_EXAMPLE = "'[S1] Hello there.' or 'Alice: Hello there.'"


@dataclass(frozen=True)
class Turn:
    """One speaker turn: who speaks, what is said (stage directions removed), and where it came from."""

    speaker: str
    text: str
    directions: tuple[str, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class LineReading:
    """How one non-blank line of a transcript was read.

    Attributes:
        line: its 1-based number.
        speaker: whose turn the line belongs to.
        turn: the 1-based number of that turn (of the first one, for a line holding several).
        starts_turn: the line starts a turn (with a tag) rather than continuing the one above.
        kept_as_text: a `Name:` line read as text (the name is not a speaker: see `read_transcript`).
        name: the name of such a line (else "").
    """

    line: int
    speaker: str
    turn: int
    starts_turn: bool
    kept_as_text: bool = False
    name: str = ""


@dataclass
class _Draft:
    speaker: str
    line: int
    tag: str
    parts: list[tuple[int, str]]  # (line number, raw text) pieces of the turn


def _take_directions(text: str, line_number: int) -> tuple[str, list[str]]:
    """Remove "(...)" stage directions from one line of a turn; return the spoken rest and the directions."""
    spoken: list[str] = []
    directions: list[str] = []
    depth = 0
    current: list[str] = []
    for char in text:
        if char == "(":
            if depth:
                current.append(char)
            depth += 1
        elif char == ")":
            if depth == 0:
                raise TranscriptError(
                    f"Line {line_number}: '{shorten(text)}' has a ')' with no '(' before it; "
                    "write the stage direction as '(laughs)' or remove the ')'."
                )
            depth -= 1
            if depth:
                current.append(char)
            else:
                directions.append(" ".join("".join(current).split()))
                current = []
                spoken.append(" ")
        elif depth:
            current.append(char)
        else:
            spoken.append(char)
    if depth:
        raise TranscriptError(
            f"Line {line_number}: '{shorten(text)}' has a '(' that is never closed; close the stage "
            "direction on the same line, e.g. '(laughs)', or remove the '('."
        )
    return "".join(spoken), [direction for direction in directions if direction]


def _finish(draft: _Draft) -> Turn:
    spoken_parts: list[str] = []
    directions: list[str] = []
    for line_number, text in draft.parts:
        spoken, found = _take_directions(text, line_number)
        spoken_parts.append(spoken)
        directions += found
    spoken = " ".join(" ".join(spoken_parts).split())
    spoken = re.sub(r"\s+([.,?!;:])", r"\1", spoken)
    if not re.search(r"\w", spoken):
        if directions:
            what = f"only the stage direction '({directions[0]})' and nothing to say"
            example = f"[{draft.speaker}] ({directions[0]}) That is funny."
        else:
            what, example = "no text", f"[{draft.speaker}] Hello there."
        raise TranscriptError(
            f"Line {draft.line}: the turn of {draft.speaker} ('{shorten(draft.tag)}') has {what}; write the "
            f"words after the tag, e.g. '{example}', or delete the line."
        )
    return Turn(draft.speaker, spoken, tuple(directions), draft.line)


def _name_hint(line: str) -> str:
    """A hint for a line that looks like 'Some name: text' with a name the format does not accept."""
    match = re.match(r"([^:\[\]]{1,40}?)\s*:\s", line)
    if not match:
        return ""
    words = re.sub(r"[^\w\s-]", "", match.group(1)).split()[:3] or ["Alice"]
    name = " ".join([words[0]] + [word[0].upper() + word[1:] for word in words[1:]])
    return (
        f" If '{match.group(1)}' is the speaker, write it as '{name}: ...': a name is 1 to 3 words of "
        "letters, digits, '-' or '_', and words after the first start with a capital or a digit."
    )


def parse_transcript(text: str, voiced: Collection[str] | None = None) -> list[Turn]:
    """Parse a dialogue transcript into turns (rules in the module docstring).

    Args:
        text: the transcript, e.g. "[S1] Hi there! (laughs)\\n[S2] Hello.\\nAlice: Hi, both."
        voiced: None: every `Name:` line starts a turn. Else the names that have a voice: a `Name:` line then
            starts a turn only for those, names that speak more than once and the first line
            (`read_transcript`).

    Returns:
        The turns in order; `Turn.line` is the 1-based line where each starts.

    Raises:
        TranscriptError: empty transcript, text before the first tag, a malformed tag, a turn with nothing to
            say, or unbalanced parentheses; the message names the line and the fix.
    """
    return read_transcript(text, voiced)[0]


def read_transcript(text: str, voiced: Collection[str] | None = None) -> tuple[list[Turn], list[LineReading]]:
    """Parse a transcript into turns and say how each line was read.

    Args:
        text: the transcript.
        voiced: None: every `Name:` line starts a turn (as `parse_transcript` without it). Else the names
            (any case) that have a voice: a `Name:` line then starts a turn only when its name is one of
            them, speaks more than once (`NameTag.certain`) or opens the transcript; any other `Name:` line
            ("Remember: bring the tickets.") is text of the turn above, and its reading says so.

    Returns:
        (the turns, one reading per non-blank line).

    Raises:
        TranscriptError: as `parse_transcript`.
    """
    drafts, readings = _read_drafts(text, voiced)
    return [_finish(draft) for draft in drafts], readings


def _read_drafts(text: str, voiced: Collection[str] | None) -> tuple[list[_Draft], list[LineReading]]:
    lines = text.lstrip("\ufeff").splitlines()
    if not any(line.strip() for line in lines):
        raise TranscriptError(f"The transcript is empty; write one turn per line, e.g. {_EXAMPLE}")
    keep: set[str] | None = None
    if voiced is not None:
        keep = {str(name).strip().casefold() for name in voiced}
        keep |= {tag.name.casefold() for tag in name_tags(text) if tag.certain}
    drafts: list[_Draft] = []
    readings: list[LineReading] = []
    spellings: dict[str, str] = {}
    for line_number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        speaker, rest, kind = split_line(line, line_number, names=not raw[0].isspace())
        kept_as_text = ""
        if kind == "colon" and keep is not None and speaker.casefold() not in keep and drafts:
            kept_as_text, speaker, rest = speaker, None, line
        # "[S1] Hi. [S2] Hello." holds two turns: cut the rest of the line at each inline S-tag.
        pieces = INLINE_S_TAG.split(rest)
        tags = [tag.strip("[] \t") for tag in INLINE_S_TAG.findall(rest)]
        if speaker is not None:
            speaker = spellings.setdefault(speaker.casefold(), speaker)
            drafts.append(_Draft(speaker, line_number, shorten(line), [(line_number, pieces[0])]))
        elif drafts:
            drafts[-1].parts.append((line_number, pieces[0]))
        else:
            raise TranscriptError(
                f"Line {line_number}: '{shorten(line)}' comes before the first speaker tag; start it with "
                f"a tag, e.g. '[S1] {shorten(line, 30)}' or 'Alice: {shorten(line, 30)}'.{_name_hint(line)}"
            )
        readings.append(
            LineReading(
                line_number,
                drafts[-1].speaker,
                len(drafts),
                speaker is not None,
                bool(kept_as_text),
                kept_as_text,
            )
        )
        for tag, piece in zip(tags, pieces[1:], strict=True):
            inline = s_tag_speaker(S_TAG.fullmatch(tag), line_number, line)
            inline = spellings.setdefault(inline.casefold(), inline)
            tag_text = f"[{tag}]{shorten(piece, 40)}"
            drafts.append(_Draft(inline, line_number, tag_text, [(line_number, piece)]))
    return drafts, readings


def turn_sources(text: str, voiced: Collection[str] | None = None) -> list[tuple[str, str]]:
    """Each turn's speaker and its text as written (stage directions kept, its lines joined by spaces), read
    as `read_transcript` reads it; for editing the turns one by one.

    Raises:
        TranscriptError: as `parse_transcript`.
    """
    drafts = _read_drafts(text, voiced)[0]
    for draft in drafts:  # what is wrong with a turn (nothing to say, unbalanced parentheses) is raised here
        _finish(draft)
    return [
        (d.speaker, " ".join(" ".join(piece.split()) for _, piece in d.parts if piece.strip()))
        for d in drafts
    ]


def as_read(text: str, readings: Sequence[LineReading]) -> str:
    """The transcript with every `Name:` line that was read as text indented, so that `parse_transcript`
    without `voiced` (the pipeline's reading) reads it the same way; line numbers are kept."""
    indent = {r.line for r in readings if r.kept_as_text}
    lines = text.lstrip("\ufeff").splitlines()
    return "\n".join("  " + line if n in indent else line for n, line in enumerate(lines, start=1))


def speakers(turns: Sequence[Turn]) -> list[str]:
    """The speakers of the turns, in order of first appearance."""
    return list(dict.fromkeys(turn.speaker for turn in turns))


def check_voices(turns: Sequence[Turn], voices: Mapping[str, object]) -> list[str]:
    """Check that every speaker has a voice.

    Args:
        turns: parsed turns.
        voices: speaker -> voice (a file, a demo voice name, a prompt object...); keys match speakers ignoring
            case ("s1" is S1).

    Returns:
        Warnings for voices given for speakers who never speak (empty when all is well).

    Raises:
        TranscriptError: a turn is spoken by a speaker with no voice; names the first such turn, its line and
            every speaker without a voice.
    """
    given = {str(key).strip().casefold(): key for key in voices}
    spoken_by = speakers(turns)
    missing = [speaker for speaker in spoken_by if speaker.casefold() not in given]
    if missing:
        number, turn = next((i, t) for i, t in enumerate(turns, start=1) if t.speaker == missing[0])
        others = f" (no voice either for {', '.join(missing[1:])})" if len(missing) > 1 else ""
        hint = ""
        if not S_TAG.fullmatch(turn.speaker):
            hint = (
                f"; if '{turn.speaker}' on line {turn.line} is part of the text, not a speaker, indent "
                "that line or join it to the line before"
            )
        option = f"--voice {turn.speaker}=FILE"
        if " " in turn.speaker:  # the shell needs quotes around a name with a space
            option = f"--voice '{turn.speaker}=FILE'"
        raise TranscriptError(
            f"Turn {number} (line {turn.line}) is spoken by {turn.speaker}, but no voice was given for "
            f"{turn.speaker}{others}; add {option} or pick a voice for {turn.speaker}{hint}."
        )
    speaking = {speaker.casefold() for speaker in spoken_by}
    return [
        f"A voice was given for {key}, but {key} never speaks in the transcript (speakers: "
        f"{', '.join(spoken_by)}); check the name or remove that voice."
        for folded, key in given.items()
        if folded not in speaking
    ]
