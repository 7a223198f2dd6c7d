"""Speaker tags at the start of a transcript line (`[S1]`, `[Alice]`, `Alice:`) and in its middle (`[S2]`):
how a line's tag is recognized, what is wrong with a malformed one, and every tag of a transcript
(`name_tags`). The rules are in engine/text/transcript.py's docstring."""

import re
from dataclasses import dataclass

from engine.errors import UserInputError

__all__ = [
    "INLINE_S_TAG",
    "MAX_S_TAG",
    "S_TAG",
    "NameTag",
    "TranscriptError",
    "name_tags",
    "s_tag_speaker",
    "shorten",
    "split_line",
]

MAX_S_TAG = 99
_NAME = re.compile(r"[^\W\d_][\w-]*(?:\s+[A-Z0-9][\w-]*){0,2}")  # "Alice", "Dr Smith", "Player 2"
S_TAG = re.compile(r"[sS](\d{1,3})")
_BRACKET_TAG = re.compile(r"\[([^\[\]]*)\]")
INLINE_S_TAG = re.compile(r"\[\s*[sS]\d{1,3}\s*\]")
_COLON_TAG = re.compile(rf"({_NAME.pattern})[ \t]*:(?=\s|$)")


class TranscriptError(UserInputError):
    """The transcript cannot be read: the message names the line and the fix."""


@dataclass(frozen=True)
class NameTag:
    """A name written as a speaker tag (`Alice:` or `[Alice]`), in order of first appearance.

    Attributes:
        name: as first written.
        line: the line where it first appears.
        colon_lines: the lines where it starts a line as `Name:`.
        bracketed: it appears as a `[Name]` tag (always a speaker).
        opens: it tags the transcript's first line (there is no turn above to continue).
        is_s_tag: an `S1`..`S99` tag (always a speaker; `name` is then "S1" etc.).
    """

    name: str
    line: int
    colon_lines: tuple[int, ...]
    bracketed: bool
    opens: bool
    is_s_tag: bool

    @property
    def certain(self) -> bool:
        """Whether it is a speaker whatever voices are given: an S-tag, a `[Name]`, used on two lines or
        opening the transcript."""
        return self.is_s_tag or self.bracketed or self.opens or len(self.colon_lines) > 1


def shorten(text: str, limit: int = 50) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def s_tag_speaker(match: re.Match[str], line_number: int, raw: str) -> str:
    number = int(match.group(1))
    if not 1 <= number <= MAX_S_TAG:
        raise TranscriptError(
            f"Line {line_number}: '{shorten(raw)}' uses speaker S{number}, but speaker tags go from S1 to "
            f"S{MAX_S_TAG}; renumber the speaker, e.g. '[S1] ...'."
        )
    return f"S{number}"


def _raise_if_bad_tag(line: str, line_number: int) -> None:
    """Raise for a line that starts like a malformed speaker tag ("<3 you" is not one: it stays text)."""
    shown = shorten(line)
    match = re.match(r"[<{]\s*([^<>{}]{0,40}?)\s*[>}]\s*(.*)", line)
    if match:
        inner = match.group(1) or "S1"
        raise TranscriptError(
            f"Line {line_number}: '{shown}' does not start with a speaker tag; write "
            f"'[{inner}] {shorten(match.group(2), 30)}' or '{inner}: {shorten(match.group(2), 30)}'."
        )
    if line.startswith("[") and "]" not in line:
        word = re.match(r"\[\s*(\S*)\s*(.*)", line)
        inner, rest = (word.group(1) or "S1", word.group(2)) if word else ("S1", "")
        raise TranscriptError(
            f"Line {line_number}: the speaker tag in '{shown}' has no closing ']'; write "
            f"'[{inner}] {shorten(rest, 30)}'."
        )
    match = re.match(r"([^\s\[\]()]{1,30})\]\s*(.*)", line)
    if match:
        raise TranscriptError(
            f"Line {line_number}: the speaker tag in '{shown}' has no opening '['; write "
            f"'[{match.group(1)}] {shorten(match.group(2), 30)}'."
        )
    match = _BRACKET_TAG.match(line)
    if match and not match.group(1).strip():
        raise TranscriptError(
            f"Line {line_number}: '{shown}' has an empty speaker tag '[]'; put the speaker in it, "
            f"e.g. '[S1] {shorten(line[match.end() :], 30)}'."
        )
    if match:
        raise TranscriptError(
            f"Line {line_number}: '[{shorten(match.group(1), 30)}]' is not a speaker tag: a speaker is "
            f"S1 to S{MAX_S_TAG} or a name of 1 to 3 words (letters, digits, '-', '_'); write e.g. "
            f"'[S1] {shorten(line[match.end() :], 30)}' or 'Alice: ...'."
        )


def split_line(line: str, line_number: int, names: bool) -> tuple[str | None, str, str]:
    """(speaker or None for a continuation, the rest of the line, the tag's kind: "s", "bracket", "colon" or
    ""); `names`: look for 'Name:' tags too."""
    match = _BRACKET_TAG.match(line)
    if match:
        inner = match.group(1).strip()
        s_tag = S_TAG.fullmatch(inner)
        if s_tag:
            return s_tag_speaker(s_tag, line_number, line), line[match.end() :], "s"
        if _NAME.fullmatch(inner):
            return " ".join(inner.split()), line[match.end() :], "bracket"
        _raise_if_bad_tag(line, line_number)
    match = _COLON_TAG.match(line) if names else None
    if match:
        name = " ".join(match.group(1).split())
        s_tag = S_TAG.fullmatch(name)
        if s_tag:
            return s_tag_speaker(s_tag, line_number, line), line[match.end() :], "s"
        return name, line[match.end() :], "colon"
    if re.match(r"[<{\[]|[^\s\[\]()]{1,30}\]", line):
        _raise_if_bad_tag(line, line_number)
    return None, line, ""


def name_tags(text: str) -> list[NameTag]:
    """Every speaker tag of a transcript (S-tags and names), in order of first appearance.

    Raises:
        TranscriptError: a malformed tag (as `parse_transcript`).
    """
    found: dict[str, dict] = {}
    first = True
    for line_number, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        speaker, rest, kind = split_line(line, line_number, names=not raw[0].isspace())
        tags = [(speaker, kind)] if speaker is not None else []
        for tag in INLINE_S_TAG.findall(rest):
            tags.append((s_tag_speaker(S_TAG.fullmatch(tag.strip("[] \t")), line_number, line), "s"))
        for name, kind in tags:
            entry = found.setdefault(
                name.casefold(),
                {
                    "name": name,
                    "line": line_number,
                    "colon": [],
                    "bracket": False,
                    "opens": first,
                    "s": False,
                },
            )
            entry["s"] |= kind == "s"
            entry["bracket"] |= kind == "bracket"
            if kind == "colon":
                entry["colon"].append(line_number)
        first = False
    return [
        NameTag(e["name"], e["line"], tuple(e["colon"]), e["bracket"], e["opens"], e["s"])
        for e in found.values()
    ]
