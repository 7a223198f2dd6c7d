"""The normalizer's pass that reads abbreviations as words: titles, street kinds, months, "e.g.", "No. 5",
and initialisms with periods."""

import re

from engine.text.rewrite import TextRewriter

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


def _final_period(match: re.Match[str]) -> str:
    """An abbreviation's period that also ends the text is kept as the sentence end."""
    ended = match.group(0).endswith(".") and not match.string[match.end():].strip()
    return "." if ended else ""


def expand_abbreviations(normalizer: TextRewriter) -> None:
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
