"""Numbers as English words (American style, no "and"): cardinals, ordinals, years, decimals, digits."""

_ONES = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
)
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_IRREGULAR_ORDINALS = {
    "one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
    "nine": "ninth", "twelve": "twelfth",
}
MAX_CARDINAL = 10**15 - 1  # "nine hundred ninety-nine trillion ..."; longer numbers are read digit by digit


def _below_thousand(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    words = [f"{_ONES[hundreds]} hundred"] if hundreds else []
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        words.append(_TENS[tens] + (f"-{_ONES[ones]}" if ones else ""))
    elif rest:
        words.append(_ONES[rest])
    return " ".join(words)


def cardinal(n: int) -> str:
    """Cardinal number in words.

    Args:
        n: an integer with |n| <= MAX_CARDINAL.

    Returns:
        e.g. -1234 -> "minus one thousand two hundred thirty-four".
    """
    if n < 0:
        return "minus " + cardinal(-n)
    if n > MAX_CARDINAL:
        return digits(str(n))
    if n < 1000:
        return _below_thousand(n) if n else "zero"
    words = []
    for scale, name in _SCALES:
        count, n = divmod(n, scale)
        if count:
            words.append(f"{_below_thousand(count)} {name}")
    if n:
        words.append(_below_thousand(n))
    return " ".join(words)


def ordinal(n: int) -> str:
    """Ordinal number in words, e.g. 22 -> "twenty-second", 103 -> "one hundred third"."""
    words = cardinal(n)
    head, sep, last = words.rpartition("-") if "-" in words.split()[-1] else words.rpartition(" ")
    if last in _IRREGULAR_ORDINALS:
        last = _IRREGULAR_ORDINALS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return head + sep + last


def year(n: int) -> str:
    """A year as it is said: 1999 -> "nineteen ninety-nine", 1905 -> "nineteen oh five",
    1900 -> "nineteen hundred", 2005 -> "two thousand five", 2024 -> "twenty twenty-four".

    Args:
        n: 1000 <= n <= 9999 (other numbers are read as cardinals).
    """
    if not 1000 <= n <= 9999 or n % 1000 < 10:  # 2000-2009, 1000-1009: "two thousand five"
        return cardinal(n)
    century, rest = divmod(n, 100)
    if rest == 0:
        return f"{cardinal(century)} hundred"
    return f"{cardinal(century)} {'oh ' + _ONES[rest] if rest < 10 else cardinal(rest)}"


def decade(n: int) -> str:
    """A decade: 1990 -> "nineteen nineties", 2000 -> "two thousands", 60 -> "sixties"."""
    words = year(n) if n >= 1000 else cardinal(n)
    return words[:-1] + "ies" if words.endswith("y") else words + "s"


def digits(text: str) -> str:
    """Digit by digit, e.g. "007" -> "zero zero seven"."""
    return " ".join(_ONES[int(char)] for char in text if char.isdigit())


def decimal(text: str) -> str:
    """A decimal number written with a point, e.g. "3.14" -> "three point one four", ".5" -> "point five".

    Args:
        text: digits, optionally with thousands commas, a point and more digits; a leading "-" for negatives.
    """
    negative = text.startswith("-")
    whole, _, fraction = text.lstrip("-").replace(",", "").partition(".")
    words = cardinal(int(whole)) if whole else ""
    if fraction:
        words = f"{words} point {digits(fraction)}".strip()
    return f"minus {words}" if negative else words
