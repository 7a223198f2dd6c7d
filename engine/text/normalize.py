"""English text normalization for speech: numbers, currency, times, abbreviations and symbols become words.

Sentence punctuation (. , ? ! ; :) is kept because the pauses come from it. Text in another script is an
error; emoji and other symbols that cannot be spoken are removed and reported in `NormalizedText.notes`.
"""

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from engine.errors import UserInputError
from engine.text import numbers

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
_SPOKEN_PUNCTUATION = ".,?!;:"

# Abbreviations read the same everywhere; the trailing period is optional and consumed.
_ABBREVIATIONS = {
    "mr": "mister", "mrs": "missus", "prof": "professor", "jr": "junior", "sr": "senior",
    "mt": "mount", "ave": "avenue", "blvd": "boulevard", "rd": "road", "capt": "captain", "gen": "general",
    "sgt": "sergeant", "lt": "lieutenant", "col": "colonel", "gov": "governor", "sen": "senator",
    "rep": "representative", "inc": "incorporated", "ltd": "limited", "corp": "corporation",
    "dept": "department", "approx": "approximately", "vs": "versus", "etc": "et cetera",
    "jan": "january", "feb": "february", "mar": "march", "apr": "april", "aug": "august",
    "sept": "september", "oct": "october", "nov": "november", "dec": "december",
}
# Units only after a number ("5 km"); singular when the number is one.
_UNITS = {
    "km": "kilometers", "cm": "centimeters", "mm": "millimeters", "kg": "kilograms", "mg": "milligrams",
    "lb": "pounds", "lbs": "pounds", "oz": "ounces", "ft": "feet", "mi": "miles", "mph": "miles per hour",
    "km/h": "kilometers per hour", "kph": "kilometers per hour", "hz": "hertz", "khz": "kilohertz",
    "kb": "kilobytes", "mb": "megabytes", "gb": "gigabytes", "tb": "terabytes", "ms": "milliseconds",
}
_CURRENCY_SYMBOLS = {"$": ("dollar", "cent"), "£": ("pound", "penny"), "€": ("euro", "cent"),
                     "¥": ("yen", ""), "¢": ("cent", "")}
_CURRENCY_CODES = {"usd": ("dollar", "cent"), "eur": ("euro", "cent"), "gbp": ("pound", "penny"),
                   "jpy": ("yen", ""), "cad": ("Canadian dollar", "cent"),
                   "aud": ("Australian dollar", "cent")}
_SCALE_WORDS = {"k": "thousand", "m": "million", "mn": "million", "bn": "billion", "b": "billion",
                "thousand": "thousand", "million": "million", "billion": "billion", "trillion": "trillion"}
_FRACTIONS = {(1, 2): "one half", (1, 3): "one third", (2, 3): "two thirds", (1, 4): "one quarter",
              (3, 4): "three quarters"}
_SYMBOLS = {"&": " and ", "+": " plus ", "=": " equals ", "@": " at ", "×": " times ", "÷": " divided by ",
            "±": " plus or minus ", "<": " less than ", ">": " greater than ",
            "°": " degrees ", "%": " percent ", "#": " number "}
_QUOTES = {"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"', "\u00ab": '"',
           "\u00bb": '"', "\u2032": "'", "\u2033": '"', "\u2044": "/"}

_YEAR = r"1[1-9]\d\d|1[0-9][1-9]\d|20[1-9]\d"  # read as a year: 1010-2099 except 2000-2009
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"


def _plural(word: str, count_is_one: bool) -> str:
    if count_is_one or not word:
        return word
    if word.endswith("penny"):
        return word[:-5] + "pence"
    return word if word.endswith(("yen", "s")) else word + "s"


def _is_one(number: str) -> bool:
    return number.replace(",", "") in ("1", "1.0", "1.00")


class _Normalizer:
    """Runs the rewriting passes over one text, collecting notes."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.notes: list[str] = []

    def sub(self, pattern: str, replace: Callable[[re.Match[str]], str], flags: int = 0) -> None:
        self.text = re.sub(pattern, replace, self.text, flags=flags)

    def expand(self, pattern: str, words: Callable[[re.Match[str]], str], flags: int = 0) -> None:
        """Replace each match by words (padded with spaces) and note the reading."""

        def replace(match: re.Match[str]) -> str:
            said = words(match)
            if said.strip() != match.group(0).strip():
                self.notes.append(f"read {match.group(0).strip()!r} as {said.strip()!r}")
            return f" {said} "

        self.sub(pattern, replace, flags)


def _final_period(match: re.Match[str]) -> str:
    """An abbreviation's period that also ends the text is kept as the sentence end."""
    ended = match.group(0).endswith(".") and not match.string[match.end():].strip()
    return "." if ended else ""


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


def _currency(normalizer: _Normalizer) -> None:
    def spoken(number: str, scale: str | None, unit: tuple[str, str]) -> str:
        main, minor = unit
        if scale:
            return f"{numbers.decimal(number)} {_SCALE_WORDS[scale.lower()]} {_plural(main, False)}"
        whole, _, cents = number.replace(",", "").partition(".")
        words = f"{numbers.cardinal(int(whole or 0))} {_plural(main, whole == '1')}"
        if cents and int(cents) and minor and len(cents) == 2:
            said_cents = f"{numbers.cardinal(int(cents))} {_plural(minor, cents == '01')}"
            words = f"{words} and {said_cents}" if int(whole or 0) else said_cents
        elif cents and int(cents):
            words = f"{numbers.decimal(number)} {_plural(main, False)}"
        return words

    scale = r"(?:\s?(thousand|million|billion|trillion|bn|mn|[kmb])\b)?"
    normalizer.expand(
        rf"(-?)([$£€¥])\s?({_NUMBER}){scale}",
        lambda m: "minus " * bool(m.group(1)) + spoken(m.group(3), m.group(4), _CURRENCY_SYMBOLS[m.group(2)]),
        re.IGNORECASE,
    )
    normalizer.expand(
        rf"\b({_NUMBER}){scale}\s?(usd|eur|gbp|jpy|cad|aud)\b",
        lambda m: spoken(m.group(1), m.group(2), _CURRENCY_CODES[m.group(3).lower()]),
        re.IGNORECASE,
    )
    normalizer.expand(
        r"(\d+)\s?¢", lambda m: f"{numbers.cardinal(int(m.group(1)))} {_plural('cent', m.group(1) == '1')}"
    )


def _times(normalizer: _Normalizer) -> None:
    meridiem = r"\s?([ap])\.?\s?m\b\.?"

    def clock(hour: str, minute: str | None, suffix: str | None) -> str:
        words = numbers.cardinal(int(hour))
        if minute and minute != "00":
            words += (" oh " if minute[0] == "0" else " ") + numbers.cardinal(int(minute))
        elif not suffix:
            words += " o'clock"
        if suffix:
            words += f" {suffix.upper()}M"  # capitals: espeak spells "AM", but says a lone "a" as "uh"
        return words

    normalizer.expand(
        rf"\b([01]?\d|2[0-3]):([0-5]\d)(?:{meridiem})?(?!\d)",
        lambda m: clock(m.group(1), m.group(2), m.group(3)),
        re.IGNORECASE,
    )
    normalizer.expand(
        rf"\b(1[0-2]|0?\d){meridiem}", lambda m: clock(m.group(1), None, m.group(2)), re.IGNORECASE
    )


def _abbreviations(normalizer: _Normalizer) -> None:
    normalizer.expand(r"\be\.\s?g\.|\beg\.(?=\s)", lambda m: "for example,", re.IGNORECASE)
    normalizer.expand(r"\bi\.\s?e\.", lambda m: "that is,", re.IGNORECASE)
    normalizer.expand(r"\b(?:c|ca)\.\s?(?=\d)", lambda m: "circa")
    normalizer.expand(r"\b(pg|pp)\.?\s?(?=\d)", lambda m: "page" if m.group(1) == "pg" else "pages")
    # "No. 5" / "no 5" is "number five", but "No." before anything else is the word no.
    normalizer.expand(r"\b(N)o\.?\s?(?=\d)", lambda m: "nN"[m.group(1) == "N"] + "umber", re.IGNORECASE)
    normalizer.expand(r"\bMs\b\.?(?=\s+[A-Z])", lambda m: "Miz")  # "ms" alone is milliseconds
    # Dr/St: a title before a name ("Dr. Smith", "St Louis"), a street kind after one ("Elm St.").
    normalizer.expand(r"\b(Dr|St)\.?(?=\s+[A-Z])", lambda m: {"Dr": "Doctor", "St": "Saint"}[m.group(1)])
    normalizer.expand(
        r"\b([A-Z][a-z]+\s+)(Dr|St)\b(\.?)",
        lambda m: m.group(1) + {"Dr": "Drive", "St": "Street"}[m.group(2)] + _final_period(m),
    )
    normalizer.expand(r"\b(Dr|St)\b\.?", lambda m: {"Dr": "Doctor", "St": "Street"}[m.group(1)])

    def word(match: re.Match[str]) -> str:
        said = _ABBREVIATIONS[match.group(1).lower()]
        return said.capitalize() if match.group(1)[0].isupper() else said

    # Month and other short forms need the period, so "Jan", "mar", "rep" as words stay words.
    dotted = "jan|feb|mar|apr|aug|sept|oct|nov|dec|gen|col|rep|sen|gov|rd|mt|corp|ave"
    normalizer.expand(rf"\b({dotted})\.", word, re.IGNORECASE)
    free = "|".join(k for k in _ABBREVIATIONS if k not in dotted.split("|"))
    normalizer.expand(rf"\b({free})\b\.?", word, re.IGNORECASE)
    # Initialisms with periods: "U.S.A." -> "USA", which espeak spells out; a final period ends the sentence.
    normalizer.expand(
        r"\b((?:[A-Za-z]\.){2,})(?=(\s+[A-Z]|\s*$)?)",
        lambda m: m.group(1).replace(".", "").upper() + ("." if m.group(2) is not None else ""),
    )


def _dates_and_phone_numbers(normalizer: _Normalizer) -> None:
    expand = normalizer.expand

    def date(month: str, day: str, year: str) -> str:
        if len(year) == 4:
            year = numbers.year(int(year))
        else:  # "05" -> "oh five", "99" -> "ninety-nine"
            year = f"oh {numbers.cardinal(int(year))}" if year[0] == "0" else numbers.cardinal(int(year))
        return f"{_MONTHS[int(month) - 1]} {numbers.ordinal(int(day))}, {year}"

    day, month = r"(0?[1-9]|[12]\d|3[01])", r"(0?[1-9]|1[0-2])"
    expand(rf"\b(1\d{{3}}|20\d\d)-{month}-{day}\b", lambda m: date(m.group(2), m.group(3), m.group(1)))  # ISO
    expand(rf"\b{month}/{day}/(\d{{4}}|\d\d)\b", lambda m: date(m.group(1), m.group(2), m.group(3)))  # US
    months = "|".join(_MONTHS)
    expand(rf"\b({months})\s+{day}\b(?![:\d]|[.,]\d)", lambda m: f"{m[1]} {numbers.ordinal(int(m[2]))}")
    # Phone numbers are read in digit groups: "(555) 123-4567", "555-123-4567", "555-1234".
    expand(
        r"(?:\(\d{3}\)\s?|\b\d{3}[-.])?\b\d{3}-\d{4}\b",
        lambda m: ", ".join(numbers.digits(group) for group in re.findall(r"\d+", m.group(0))),
    )


def _numbers(normalizer: _Normalizer) -> None:
    expand = normalizer.expand
    _dates_and_phone_numbers(normalizer)
    expand(r"~(?=\s?\d)", lambda m: "about")
    expand(rf"(-?(?:{_NUMBER}))\s?%", lambda m: f"{numbers.decimal(m.group(1))} percent")
    expand(
        rf"(-?(?:{_NUMBER}))\s?°\s?([CF])\b",
        lambda m: f"{numbers.decimal(m.group(1))} degrees {'Celsius' if m.group(2) == 'C' else 'Fahrenheit'}",
    )
    expand(r"(\d+)\s?°", lambda m: f"{numbers.cardinal(int(m.group(1)))} degrees")
    expand(r"\b(\d+)\s?(st|nd|rd|th)\b", lambda m: numbers.ordinal(int(m.group(1))), re.IGNORECASE)
    expand(r"\b(1\d|20)(\d0)'?s\b", lambda m: numbers.decade(int(m.group(1) + m.group(2))))
    expand(r"(?<![\w.])'?([2-9]0)'?s\b", lambda m: numbers.decade(int(m.group(1))))

    def measure(match: re.Match[str]) -> str:
        unit = _UNITS[match.group(2).lower()]
        if _is_one(match.group(1)):
            unit = "foot" if unit == "feet" else re.sub(r"s\b", "", unit, count=1)  # "one mile per hour"
        return f"{numbers.decimal(match.group(1))} {unit}"

    units = "|".join(re.escape(unit) for unit in sorted(_UNITS, key=len, reverse=True))
    expand(rf"(?<![\w.,])(-?(?:{_NUMBER}))\s?({units})\b(?!/)", measure, re.IGNORECASE)

    def fraction(match: re.Match[str]) -> str:
        top, bottom = int(match.group(1)), int(match.group(2))
        if (top, bottom) in _FRACTIONS:
            return _FRACTIONS[(top, bottom)]
        return f"{numbers.cardinal(top)} over {numbers.cardinal(bottom)}"

    expand(r"(?<![\w/])(\d{1,3})/(\d{1,3})(?![\w/])", fraction)
    expand(r"(?<![\w.,])(\d+)x(\d+)\b", lambda m: " by ".join(numbers.cardinal(int(n)) for n in m.groups()))
    normalizer.sub(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])", lambda m: " ")  # "MP3" -> "MP 3"

    def number_range(match: re.Match[str]) -> str:
        first, last = match.group(1), match.group(2)
        read = numbers.year if all(re.fullmatch(_YEAR, n) for n in (first, last)) else numbers.cardinal
        return f"{read(int(first))} to {read(int(last))}"

    expand(r"(?<![\w.,])(\d{1,4})\s?-\s?(\d{1,4})(?!\d|[.,]\d)", number_range)  # "10-20", "1990-1995"
    # A four-digit number from 1010 to 2099 is read as a year ("in 1999", "2024 was"), except before a plural
    # noun ("1500 items", "1234 steps": a count). 1000-1009 and 2000-2009 read the same either way.
    counted = r"\s+(?!(?:was|is|has|does|goes|says|as|us|this|its|his|plus)\b)[a-z]+s\b"
    expand(rf"(?<![\w.,$£€-])({_YEAR})(?!\d|[,.]\d|{counted})", lambda m: numbers.year(int(m.group(1))))
    expand(r"(?<![\w.,])0\d+(?!\d|[.,]\d)", lambda m: numbers.digits(m.group(0)))  # zip codes, "007"

    def number(match: re.Match[str]) -> str:
        text = match.group(0)
        sign = "minus " if text.startswith("-") else ""
        body = text.lstrip("-")
        if "." not in body and len(body.replace(",", "")) > 15:
            return sign + numbers.digits(body)
        return sign + numbers.decimal(body)

    # A minus sign only where a hyphen cannot be meant: at the start, or after a space or bracket.
    expand(rf"(?:(?<=^)|(?<=[\s(\[]))-(?:{_NUMBER})|(?:{_NUMBER})", number)


def _symbols(normalizer: _Normalizer) -> None:
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
    for symbol, (name, _) in _CURRENCY_SYMBOLS.items():
        normalizer.expand(re.escape(symbol), lambda m, name=name: _plural(name, False))


def _punctuation(normalizer: _Normalizer) -> None:
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
    normalizer = _Normalizer(text)
    _times(normalizer)
    _currency(normalizer)
    _abbreviations(normalizer)
    _numbers(normalizer)
    _symbols(normalizer)
    _punctuation(normalizer)
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
