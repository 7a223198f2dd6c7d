"""Normalized English text -> phones of `PHONE_SET` (espeak-ng en-us mnemonics, no stress) with pause tokens.

Pauses come from punctuation: "_" after , ; : and spaced dashes, "_." after . ? ! and at the end. Word
boundaries are not phones. The same mapping (`espeak_names_to_phones`) serves anything else that gets espeak
phoneme names, e.g. the corpus builder's phoneme events, so training and inference speak one phone set.
"""

import collections
import re
from collections.abc import Iterable, Sequence

from engine.errors import UserInputError
from engine.text.espeak_lib import PHONEME_SEPARATOR, text_to_phoneme_clauses
from engine.text.normalize import normalize_text
from engine.text.phone_inventory import (
    ESPEAK_NAMES,
    LONG_PAUSE,
    LONGEST_NAME,
    NEIGHBOURS,
    PAUSE_NAMES,
    PHONE_ID,
    PHONE_SET,
    SHORT_PAUSE,
    SILENT_NAMES,
    SPECIALS,
    UNKNOWN,
    VOWELS,
)

__all__ = [
    "LONG_PAUSE",
    "PHONE_ID",
    "PHONE_SET",
    "SHORT_PAUSE",
    "UNKNOWN",
    "count_syllables",
    "espeak_names_to_phones",
    "phone_ids",
    "phonemize",
    "split_espeak_phonemes",
    "unknown_name_counts",
]

_PHONES = frozenset(PHONE_SET[len(SPECIALS):])
# Long pauses: sentence ends (runs like "?!" or "..." count once). Short: clause punctuation and dashes that
# stand apart from words (a hyphen inside "well-known" is not a pause).
_PUNCTUATION = re.compile(r"([.?!\u2026]+|[,;:]|\s-+\s|-{2,}|[\u2013\u2014])")
_LONG_PUNCTUATION = re.compile(r"[.?!\u2026]")
# espeak marks words it reads in another language, "(fr)...(en)"; en-us did not do it in the survey.
_LANGUAGE_SWITCH = re.compile(r"\([a-z]{2,3}(?:-[a-z0-9]+)?\)")

_unknown_names: collections.Counter[str] = collections.Counter()


def split_espeak_phonemes(phonemes: str) -> list[str]:
    """Split an espeak mnemonic string (`espeak-ng -x` output, with or without separators) into names.

    Args:
        phonemes: e.g. "h@l'oU w'3:ld" or "h|@|l|'oU w|'3:|l|d".

    Returns:
        Names by longest match against the en-us table (stress marks are names too), e.g.
        ["h", "@", "l", "'", "oU", "w", "'", "3:", "l", "d"]; a character starting no name is returned alone.
    """
    names = []
    phonemes = _LANGUAGE_SWITCH.sub(" ", phonemes)
    for piece in phonemes.replace(PHONEME_SEPARATOR, " ").split():
        start = 0
        while start < len(piece):
            for length in range(min(LONGEST_NAME, len(piece) - start), 0, -1):
                if piece[start:start + length] in ESPEAK_NAMES:
                    break
            else:
                length = 1
            names.append(piece[start:start + length])
            start += length
    return names


def espeak_names_to_phones(names: Iterable[str]) -> list[str]:
    """Map espeak-ng en-us phoneme names to `PHONE_SET` symbols.

    Args:
        names: espeak mnemonics, one per phoneme (stress marks and markers may be among them).

    Returns:
        Phones: stress marks and markers dropped, pauses inside a clause as "_", rare or foreign names as
        their near neighbour, and "<unk>" (counted, see `unknown_name_counts`) for a name espeak en-us lacks.
    """
    phones: list[str] = []
    for name in names:
        if name in _PHONES:
            phones.append(name)
        elif name in NEIGHBOURS:
            phones.extend(NEIGHBOURS[name])
        elif name in PAUSE_NAMES:
            phones.append(SHORT_PAUSE)
        elif name in SILENT_NAMES or not name:
            continue
        else:
            _unknown_names[name] += 1
            phones.append(UNKNOWN)
    return phones


def unknown_name_counts() -> dict[str, int]:
    """How often each espeak name outside the en-us table was met in this process (normally empty)."""
    return dict(_unknown_names)


def _add_pause(phones: list[str], pause: str) -> None:
    if not phones:
        return  # no pause before the first phone: the turn assembler owns leading silence
    if phones[-1] in (SHORT_PAUSE, LONG_PAUSE):
        if pause == LONG_PAUSE:
            phones[-1] = LONG_PAUSE  # ", ." or "_ inside a clause then ." -> one long pause
        return
    phones.append(pause)


def phonemize(text: str) -> list[str]:
    """Phonemize normalized English text with espeak-ng en-us.

    Args:
        text: output of `normalize_text` (no digits or symbols left; espeak would read them its own way).

    Returns:
        Symbols of `PHONE_SET`, ending with "_.", e.g. "Hello, world." -> h @ l oU _ w 3: l d _.

    Raises:
        UserInputError: the text holds nothing to say, or espeak-ng is missing.
    """
    phones: list[str] = []
    pieces = _PUNCTUATION.split(text)
    for index, piece in enumerate(pieces):
        if index % 2:  # odd pieces are the punctuation the split kept
            _add_pause(phones, LONG_PAUSE if _LONG_PUNCTUATION.search(piece) else SHORT_PAUSE)
            continue
        if not piece.strip():
            continue
        for clause in text_to_phoneme_clauses(piece):
            clause_phones = espeak_names_to_phones(split_espeak_phonemes(clause))
            for phone in clause_phones:
                if phone == SHORT_PAUSE:
                    _add_pause(phones, SHORT_PAUSE)
                else:
                    phones.append(phone)
            _add_pause(phones, SHORT_PAUSE)  # espeak split the piece itself (brackets, quotes): a clause edge
        if phones and phones[-1] == SHORT_PAUSE:
            phones.pop()  # the piece's own punctuation (next in `pieces`) decides the pause after it
    if not any(phone not in (SHORT_PAUSE, LONG_PAUSE) for phone in phones):
        raise UserInputError(
            f"There is nothing to say in {text!r}: it has no words espeak-ng can pronounce; "
            "write the words out."
        )
    _add_pause(phones, LONG_PAUSE)
    return phones


def count_syllables(text: str) -> int:
    """Syllables of raw text: the vowels of its phones, numbers and symbols read out as words (0 for none).

    Raises:
        UserInputError: the text cannot be read (another script, say).
    """
    spoken = normalize_text(text).text if text.strip() else ""
    return sum(1 for phone in phonemize(spoken) if phone in VOWELS) if spoken.strip() else 0


def phone_ids(phones: Sequence[str]) -> list[int]:
    """Token ids of phones (their index in `PHONE_SET`).

    Args:
        phones: symbols of `PHONE_SET`, e.g. from `phonemize`.

    Returns:
        One id per phone.

    Raises:
        ValueError: a symbol is not in `PHONE_SET` (a programming error, not user input).
    """
    try:
        return [PHONE_ID[phone] for phone in phones]
    except KeyError as error:
        raise ValueError(f"{error.args[0]!r} is not in PHONE_SET") from None
