"""English text normalization for speech: numbers, currency, times, abbreviations and symbols become words.

Sentence punctuation (. , ? ! ; :) is kept because the pauses come from it. Text in another script is an
error; emoji and other symbols that cannot be spoken are removed and reported in `NormalizedText.notes`.
"""

import re
import unicodedata
from dataclasses import dataclass

from engine.errors import UserInputError
from engine.text.normalize_abbreviations import expand_abbreviations
from engine.text.normalize_numbers import expand_currency, expand_numbers, expand_times
from engine.text.normalize_symbols import clean_punctuation, expand_symbols
from engine.text.rewrite import TextRewriter

__all__ = ["NormalizedText", "UnsupportedTextError", "normalize_for_scoring", "normalize_text"]


@dataclass(frozen=True)
class NormalizedText:
    """Text ready for the phonemizer, and remarks on what was read out or dropped."""

    text: str
    notes: tuple[str, ...] = ()


class UnsupportedTextError(UserInputError):
    """The text contains letters of a script other than Latin."""


_SCRIPT_NAMES = {
    "CJK": "Chinese (CJK)", "HIRAGANA": "Japanese (Hiragana)", "KATAKANA": "Japanese (Katakana)",
    "HANGUL": "Korean (Hangul)", "ARABIC": "Arabic", "HEBREW": "Hebrew", "CYRILLIC": "Cyrillic",
    "GREEK": "Greek", "DEVANAGARI": "Devanagari", "THAI": "Thai", "ARMENIAN": "Armenian",
    "GEORGIAN": "Georgian", "BENGALI": "Bengali", "TAMIL": "Tamil", "ETHIOPIC": "Ethiopic",
}
_QUOTES = {"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"', "\u00ab": '"',
           "\u00bb": '"', "\u2032": "'", "\u2033": '"', "\u2044": "/"}


def _check_script(text: str) -> None:
    scripts: dict[str, list[str]] = {}
    for word in re.findall(r"\w+", text):
        for char in word:
            if not (char.isalpha() or char.isdigit()) or ord(char) < 128:
                continue
            first = unicodedata.name(char, "UNKNOWN").split()[0]
            if first == "LATIN":
                continue
            script = _SCRIPT_NAMES.get(first, first.title())
            words = scripts.setdefault(script, [])
            if word not in words:
                words.append(word)
            break
    if scripts:
        found = "; ".join(
            f"{script} letters ({', '.join(repr(word) for word in words[:3])}{', ...' * (len(words) > 3)})"
            for script, words in scripts.items()
        )
        raise UnsupportedTextError(
            f"The text contains {found}; only English text can be spoken — transliterate or translate it."
        )


def normalize_text(text: str) -> NormalizedText:
    """Rewrite English text so that every word can be pronounced as written.

    Args:
        text: one turn of a transcript, e.g. "Dr. Smith paid $5.50 at 3:30 pm on May 1st 😀".

    Returns:
        The text to phonemize ("Doctor Smith paid five dollars and fifty cents at three thirty PM on May
        first") and notes on what was read out and what was removed.

    Raises:
        UnsupportedTextError: letters of another script (Cyrillic, Greek, CJK, Arabic, ...).
        UserInputError: nothing speakable is left.
    """
    text = unicodedata.normalize("NFKC", text)
    text = "".join(_QUOTES.get(char, char) for char in text)
    _check_script(text)
    normalizer = TextRewriter(text)
    expand_times(normalizer)
    expand_currency(normalizer)
    expand_abbreviations(normalizer)
    expand_numbers(normalizer)
    expand_symbols(normalizer)
    clean_punctuation(normalizer)
    if not re.search(r"[^\W\d_]", normalizer.text):
        raise UserInputError(
            f"There is nothing to say in {text.strip()[:60]!r}: it has no words; write what should be spoken."
        )
    return NormalizedText(normalizer.text, tuple(dict.fromkeys(normalizer.notes)))


def normalize_for_scoring(text: str) -> str:
    """Text reduced for word error rate: lowercase words, numbers expanded, no punctuation or hyphens.

    Args:
        text: a reference transcript or a recognizer's output (e.g. Whisper's "It's 3:30.").

    Returns:
        e.g. "it's three thirty". Text with nothing speakable (or in another script) gives "".
    """
    try:
        spoken = normalize_text(text).text
    except UserInputError:
        return ""
    spoken = spoken.lower().replace("-", " ")
    spoken = re.sub(r"[.,?!;:]", " ", spoken)
    spoken = re.sub(r"(?<![a-z])'|'(?![a-z])", " ", spoken)
    return " ".join(spoken.split())
