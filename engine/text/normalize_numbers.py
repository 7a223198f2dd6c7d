"""The normalizer's passes that read numbers as words: money, clock times, dates, phone numbers, percentages,
temperatures, ordinals, decades, measures, fractions, ranges, years and plain numbers."""

import re

from engine.text import numbers
from engine.text.rewrite import TextRewriter

# Units only after a number ("5 km"); singular when the number is one.
_UNITS = {
    "km": "kilometers", "cm": "centimeters", "mm": "millimeters", "kg": "kilograms", "mg": "milligrams",
    "lb": "pounds", "lbs": "pounds", "oz": "ounces", "ft": "feet", "mi": "miles", "mph": "miles per hour",
    "km/h": "kilometers per hour", "kph": "kilometers per hour", "hz": "hertz", "khz": "kilohertz",
    "kb": "kilobytes", "mb": "megabytes", "gb": "gigabytes", "tb": "terabytes", "ms": "milliseconds",
}
CURRENCY_SYMBOLS = {"$": ("dollar", "cent"), "£": ("pound", "penny"), "€": ("euro", "cent"),
                    "¥": ("yen", ""), "¢": ("cent", "")}
_CURRENCY_CODES = {"usd": ("dollar", "cent"), "eur": ("euro", "cent"), "gbp": ("pound", "penny"),
                   "jpy": ("yen", ""), "cad": ("Canadian dollar", "cent"),
                   "aud": ("Australian dollar", "cent")}
_SCALE_WORDS = {"k": "thousand", "m": "million", "mn": "million", "bn": "billion", "b": "billion",
                "thousand": "thousand", "million": "million", "billion": "billion", "trillion": "trillion"}
_FRACTIONS = {(1, 2): "one half", (1, 3): "one third", (2, 3): "two thirds", (1, 4): "one quarter",
              (3, 4): "three quarters"}
_YEAR = r"1[1-9]\d\d|1[0-9][1-9]\d|20[1-9]\d"  # read as a year: 1010-2099 except 2000-2009
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"


def plural(word: str, count_is_one: bool) -> str:
    if count_is_one or not word:
        return word
    if word.endswith("penny"):
        return word[:-5] + "pence"
    return word if word.endswith(("yen", "s")) else word + "s"


def _is_one(number: str) -> bool:
    return number.replace(",", "") in ("1", "1.0", "1.00")


def expand_currency(normalizer: TextRewriter) -> None:
    def spoken(number: str, scale: str | None, unit: tuple[str, str]) -> str:
        main, minor = unit
        if scale:
            return f"{numbers.decimal(number)} {_SCALE_WORDS[scale.lower()]} {plural(main, False)}"
        whole, _, cents = number.replace(",", "").partition(".")
        words = f"{numbers.cardinal(int(whole or 0))} {plural(main, whole == '1')}"
        if cents and int(cents) and minor and len(cents) == 2:
            said_cents = f"{numbers.cardinal(int(cents))} {plural(minor, cents == '01')}"
            words = f"{words} and {said_cents}" if int(whole or 0) else said_cents
        elif cents and int(cents):
            words = f"{numbers.decimal(number)} {plural(main, False)}"
        return words

    scale = r"(?:\s?(thousand|million|billion|trillion|bn|mn|[kmb])\b)?"
    normalizer.expand(
        rf"(-?)([$£€¥])\s?({_NUMBER}){scale}",
        lambda m: "minus " * bool(m.group(1)) + spoken(m.group(3), m.group(4), CURRENCY_SYMBOLS[m.group(2)]),
        re.IGNORECASE,
    )
    normalizer.expand(
        rf"\b({_NUMBER}){scale}\s?(usd|eur|gbp|jpy|cad|aud)\b",
        lambda m: spoken(m.group(1), m.group(2), _CURRENCY_CODES[m.group(3).lower()]),
        re.IGNORECASE,
    )
    normalizer.expand(
        r"(\d+)\s?¢", lambda m: f"{numbers.cardinal(int(m.group(1)))} {plural('cent', m.group(1) == '1')}"
    )


def expand_times(normalizer: TextRewriter) -> None:
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


def _dates_and_phone_numbers(normalizer: TextRewriter) -> None:
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


def expand_numbers(normalizer: TextRewriter) -> None:
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
