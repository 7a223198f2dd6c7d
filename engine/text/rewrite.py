"""A text under rewriting by the normalizer's regular-expression passes, with notes on what was read out."""

import re
from collections.abc import Callable


class TextRewriter:
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
