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
  keep it as text (`check_voices` says so when that speaker has no voice).
- Any other line continues the previous turn (multi-line turns); a tag may stand alone on its line.
- A line that starts like a tag but is malformed ("<S1>", "{S1}", "[S1 hi", "S1] hi", "[]") is an error.
- Stage directions in parentheses, "(laughs)", are not spoken: they are kept in `Turn.directions`.
S-tags are case-insensitive ("[s1]" is S1); names are matched ignoring case, spelled as first written.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from engine.errors import UserInputError

__all__ = ["MAX_S_TAG", "TranscriptError", "Turn", "check_voices", "parse_transcript", "speakers"]

MAX_S_TAG = 99
_NAME = re.compile(r"[^\W\d_][\w-]*(?:\s+[A-Z0-9][\w-]*){0,2}")  # "Alice", "Dr Smith", "Player 2"
_S_TAG = re.compile(r"[sS](\d{1,3})")
_BRACKET_TAG = re.compile(r"\[([^\[\]]*)\]")
_INLINE_S_TAG = re.compile(r"\[\s*[sS]\d{1,3}\s*\]")
_COLON_TAG = re.compile(rf"({_NAME.pattern})[ \t]*:(?=\s|$)")
_EXAMPLE = "'[S1] Hello there.' or 'Alice: Hello there.'"


class TranscriptError(UserInputError):
    """The transcript cannot be read: the message names the line and the fix."""


@dataclass(frozen=True)
class Turn:
    """One speaker turn: who speaks, what is said (stage directions removed), and where it came from."""

    speaker: str
    text: str
    directions: tuple[str, ...] = ()
    line: int = 0


@dataclass
class _Draft:
    speaker: str
    line: int
    tag: str
    parts: list[tuple[int, str]]  # (line number, raw text) pieces of the turn


def _shorten(text: str, limit: int = 50) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _speaker_from_s_tag(match: re.Match[str], line_number: int, raw: str) -> str:
    number = int(match.group(1))
    if not 1 <= number <= MAX_S_TAG:
        raise TranscriptError(
            f"Line {line_number}: '{_shorten(raw)}' uses speaker S{number}, but speaker tags go from S1 to "
            f"S{MAX_S_TAG}; renumber the speaker, e.g. '[S1] ...'."
        )
    return f"S{number}"


def _raise_if_bad_tag(line: str, line_number: int) -> None:
    """Raise for a line that starts like a malformed speaker tag ("<3 you" is not one: it stays text)."""
    shown = _shorten(line)
    match = re.match(r"[<{]\s*([^<>{}]{0,40}?)\s*[>}]\s*(.*)", line)
    if match:
        inner = match.group(1) or "S1"
        raise TranscriptError(
            f"Line {line_number}: '{shown}' does not start with a speaker tag; write "
            f"'[{inner}] {_shorten(match.group(2), 30)}' or '{inner}: {_shorten(match.group(2), 30)}'."
        )
    if line.startswith("[") and "]" not in line:
        word = re.match(r"\[\s*(\S*)\s*(.*)", line)
        inner, rest = (word.group(1) or "S1", word.group(2)) if word else ("S1", "")
        raise TranscriptError(
            f"Line {line_number}: the speaker tag in '{shown}' has no closing ']'; write "
            f"'[{inner}] {_shorten(rest, 30)}'."
        )
    match = re.match(r"([^\s\[\]()]{1,30})\]\s*(.*)", line)
    if match:
        raise TranscriptError(
            f"Line {line_number}: the speaker tag in '{shown}' has no opening '['; write "
            f"'[{match.group(1)}] {_shorten(match.group(2), 30)}'."
        )
    match = _BRACKET_TAG.match(line)
    if match and not match.group(1).strip():
        raise TranscriptError(
            f"Line {line_number}: '{shown}' has an empty speaker tag '[]'; put the speaker in it, "
            f"e.g. '[S1] {_shorten(line[match.end():], 30)}'."
        )
    if match:
        raise TranscriptError(
            f"Line {line_number}: '[{_shorten(match.group(1), 30)}]' is not a speaker tag: a speaker is "
            f"S1 to S{MAX_S_TAG} or a name of 1 to 3 words (letters, digits, '-', '_'); write e.g. "
            f"'[S1] {_shorten(line[match.end():], 30)}' or 'Alice: ...'."
        )


def _split_line(line: str, line_number: int, names: bool) -> tuple[str | None, str]:
    """(speaker or None for a continuation, the rest of the line); `names`: look for 'Name:' tags too."""
    match = _BRACKET_TAG.match(line)
    if match:
        inner = match.group(1).strip()
        s_tag = _S_TAG.fullmatch(inner)
        if s_tag:
            return _speaker_from_s_tag(s_tag, line_number, line), line[match.end():]
        if _NAME.fullmatch(inner):
            return " ".join(inner.split()), line[match.end():]
        _raise_if_bad_tag(line, line_number)
    match = _COLON_TAG.match(line) if names else None
    if match:
        name = " ".join(match.group(1).split())
        s_tag = _S_TAG.fullmatch(name)
        return (_speaker_from_s_tag(s_tag, line_number, line) if s_tag else name), line[match.end():]
    if re.match(r"[<{\[]|[^\s\[\]()]{1,30}\]", line):
        _raise_if_bad_tag(line, line_number)
    return None, line


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
                    f"Line {line_number}: '{_shorten(text)}' has a ')' with no '(' before it; "
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
            f"Line {line_number}: '{_shorten(text)}' has a '(' that is never closed; close the stage "
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
            f"Line {draft.line}: the turn of {draft.speaker} ('{_shorten(draft.tag)}') has {what}; write the "
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


def parse_transcript(text: str) -> list[Turn]:
    """Parse a dialogue transcript into turns (rules in the module docstring).

    Args:
        text: the transcript, e.g. "[S1] Hi there! (laughs)\\n[S2] Hello.\\nAlice: Hi, both."

    Returns:
        The turns in order; `Turn.line` is the 1-based line where each starts.

    Raises:
        TranscriptError: empty transcript, text before the first tag, a malformed tag, a turn with nothing to
            say, or unbalanced parentheses; the message names the line and the fix.
    """
    lines = text.lstrip("\ufeff").splitlines()
    if not any(line.strip() for line in lines):
        raise TranscriptError(f"The transcript is empty; write one turn per line, e.g. {_EXAMPLE}")
    drafts: list[_Draft] = []
    spellings: dict[str, str] = {}
    for line_number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        speaker, rest = _split_line(line, line_number, names=not raw[0].isspace())
        # "[S1] Hi. [S2] Hello." holds two turns: cut the rest of the line at each inline S-tag.
        pieces = _INLINE_S_TAG.split(rest)
        tags = [tag.strip("[] \t") for tag in _INLINE_S_TAG.findall(rest)]
        if speaker is not None:
            speaker = spellings.setdefault(speaker.casefold(), speaker)
            drafts.append(_Draft(speaker, line_number, _shorten(line), [(line_number, pieces[0])]))
        elif drafts:
            drafts[-1].parts.append((line_number, pieces[0]))
        else:
            raise TranscriptError(
                f"Line {line_number}: '{_shorten(line)}' comes before the first speaker tag; start it with "
                f"a tag, e.g. '[S1] {_shorten(line, 30)}' or 'Alice: {_shorten(line, 30)}'.{_name_hint(line)}"
            )
        for tag, piece in zip(tags, pieces[1:], strict=True):
            inline = _speaker_from_s_tag(_S_TAG.fullmatch(tag), line_number, line)
            inline = spellings.setdefault(inline.casefold(), inline)
            tag_text = f"[{tag}]{_shorten(piece, 40)}"
            drafts.append(_Draft(inline, line_number, tag_text, [(line_number, piece)]))
    return [_finish(draft) for draft in drafts]


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
        if not _S_TAG.fullmatch(turn.speaker):
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
