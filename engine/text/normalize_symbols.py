"""The normalizer's last passes: symbols become words ("&" is "and"), punctuation becomes the pauses the
phonemizer reads, and what cannot be spoken is removed (with a note)."""

import re
import unicodedata

from engine.text.normalize_numbers import CURRENCY_SYMBOLS, plural
from engine.text.rewrite import TextRewriter

_SPOKEN_PUNCTUATION = ".,?!;:"
_SYMBOLS = {"&": " and ", "+": " plus ", "=": " equals ", "@": " at ", "×": " times ", "÷": " divided by ",
            "±": " plus or minus ", "<": " less than ", ">": " greater than ",
            "°": " degrees ", "%": " percent ", "#": " number "}


def expand_symbols(normalizer: TextRewriter) -> None:
    normalizer.expand(r"#(?=[A-Za-z])", lambda m: "hashtag")
    normalizer.expand(r"\band/or\b", lambda m: "and or", re.IGNORECASE)
    normalizer.expand(r"(?<=[A-Za-z])/(?=[A-Za-z])", lambda m: "slash")
    normalizer.expand(r"\s/\s|/", lambda m: "slash")
    # Email and web addresses: a dot between letters, with no space, is "dot".
    normalizer.expand(r"(?<=[a-z])\.(?=(com|org|net|edu|gov|io|co|uk)\b)", lambda m: "dot", re.IGNORECASE)
    # "<name>" is a bracket (chat logs, e-mail addresses); "<" and ">" alone compare things.
    normalizer.sub(r"<([^<>\s][^<>]*)>", lambda m: f"({m.group(1)})")
    normalizer.expand(r"(?<=[\s\d])[<>](?=[\s\d])", lambda m: _SYMBOLS[m.group(0)].strip())
    for symbol, said in _SYMBOLS.items():
        if symbol in "<>":
            continue
        normalizer.expand(re.escape(symbol), lambda m, said=said: said.strip())
    # Currency signs left over (without a number) are words too.
    for symbol, (name, _) in CURRENCY_SYMBOLS.items():
        normalizer.expand(re.escape(symbol), lambda m, name=name: plural(name, False))


def clean_punctuation(normalizer: TextRewriter) -> None:
    sub = normalizer.sub
    sub(r"\s*(?:--+|[\u2013\u2014\u2015]|\s-\s)\s*", lambda m: ", ")  # dashes that stand apart are a pause
    sub(r"\u2026|\.{3,}", lambda m: "...")
    sub(r"[(\[{]\s*|\s*[)\]}]", lambda m: ", ")  # brackets: a pause on each side
    sub(r"\"", lambda m: " ")
    sub(r"(?<![A-Za-z])'|'(?![A-Za-z])", lambda m: " ")  # quote marks, not apostrophes in words
    sub(r"_", lambda m: " ")

    # Anything left that is not a Latin letter (or accent), an apostrophe or hyphen, a space or spoken
    # punctuation cannot be said: remove it, and say so (a run like an emoji with its modifiers is one item).
    def speakable(char: str) -> bool:
        return char.isalpha() or char.isspace() or char in _SPOKEN_PUNCTUATION or char in "'-"

    removed: list[str] = []
    kept: list[str] = []
    for char in normalizer.text:
        accent = unicodedata.category(char).startswith("M") and kept and kept[-1].isalpha()
        if speakable(char) or accent:
            kept.append(char)
        elif kept and kept[-1] == "\x00":
            removed[-1] += char
        else:
            removed.append(char)
            kept.append("\x00")
    normalizer.text = "".join(kept).replace("\x00", " ")
    visible = [item for item in removed if any(unicodedata.category(c)[0] not in "CZ" for c in item)]
    if visible:
        normalizer.notes.append(
            f"removed {len(visible)} symbol{'s' if len(visible) > 1 else ''} that cannot be spoken: "
            + ", ".join(repr(item) for item in visible)
        )
    sub(r"(?<![A-Za-z])-+|-+(?![A-Za-z])", lambda m: " ")  # hyphens not joining words
    sub(r"\s+", lambda m: " ")
    sub(r"\s+([.,?!;:])", lambda m: m.group(1))
    # Runs of punctuation keep their strongest mark: "?!" -> "?", ",." -> ".", "!!!" -> "!".
    sub(r"[.,?!;:]{2,}", lambda m: _strongest(m.group(0)))
    sub(r"^[\s.,;:!?]+|[\s,;:]+$", lambda m: "")
    sub(r"([.,?!;:])(?=[A-Za-z])", lambda m: m.group(1) + " ")
    normalizer.text = normalizer.text.strip()


def _strongest(marks: str) -> str:
    if "..." in marks and not any(mark in marks for mark in "?!"):
        return "..."
    for mark in "?!.;:,":
        if mark in marks:
            return mark
    return marks[0]
