"""Sentences for the corpus: dialogue lines (chatterbot-corpus) and quotations (fortune-mod), split, filtered,
normalized by the project's text frontend, de-duplicated, and assigned to a split by a hash of their text."""

from __future__ import annotations

import glob
import hashlib
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import yaml

FORTUNE_DIR = "/usr/share/games/fortunes"
# Pictures, program code and non-English jokes rather than sentences.
FORTUNE_SKIP = frozenset({"ascii-art", "perl", "translate-me"})
MIN_WORDS, MAX_WORDS = 3, 30
# Short neighbouring sentences of one quotation are spoken as one utterance up to this many words.
MERGE_WORDS = 18
SPLITS = ("train", "valid", "eval")
# Per mille of sentences held out: eval sentences are never spoken by training voices, valid ones never trained on.
EVAL_PER_MILLE, VALID_PER_MILLE = 15, 30

_ABBREVIATIONS = (
    "Mr",
    "Mrs",
    "Ms",
    "Dr",
    "St",
    "Jr",
    "Sr",
    "Prof",
    "vs",
    "etc",
    "Mt",
    "No",
    "Vol",
    "Gen",
    "Col",
)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_ABBREVIATION_END = re.compile(r"\b(?:" + "|".join(_ABBREVIATIONS) + r"|[A-Z])\.$")
_REJECT = re.compile(r"https?:|www\.|\.(?:com|org|net|edu)\b|@|[{}<>\[\]|\\_#=~^`$*+/]|\.\.|\t|::|;\s*$")
_ATTRIBUTION = re.compile(r"^\s*(?:--|-\s|~)")
_QUOTES = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2014": " - ", "\u2013": "-"}
)


@dataclass(frozen=True)
class Sentence:
    """One corpus text: `text` is normalized (what is spoken and stored), `split` one of SPLITS."""

    text: str
    source: str
    split: str


def split_of(text: str) -> str:
    """The split of a normalized text, fixed by a hash of its lower-cased letters (stable across runs and machines).

    Args:
        text: normalized sentence.

    Returns:
        "eval", "valid" or "train".
    """
    bucket = int(hashlib.sha1(dedup_key(text).encode()).hexdigest()[:8], 16) % 1000
    if bucket < EVAL_PER_MILLE:
        return "eval"
    if bucket < EVAL_PER_MILLE + VALID_PER_MILLE:
        return "valid"
    return "train"


def dedup_key(text: str) -> str:
    """Lower-case letters, digits and single spaces: two texts with the same key are the same sentence."""
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split())


def split_sentences(text: str) -> list[str]:
    """Split running text into sentences at . ! ? followed by a capital, keeping common abbreviations whole.

    Args:
        text: one paragraph (newlines already joined).

    Returns:
        The sentences, stripped, in order.
    """
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        candidate = text[start : match.start()].strip()
        if _ABBREVIATION_END.search(candidate):
            continue
        pieces.append(candidate)
        start = match.end()
    pieces.append(text[start:].strip())
    return [piece for piece in pieces if piece]


def acceptable(text: str) -> bool:
    """Whether a raw sentence is plain English prose of a speakable length (no URLs, code, tables or shouting).

    Args:
        text: one raw sentence.

    Returns:
        True when it has MIN_WORDS..MAX_WORDS words, only ASCII, mostly letters, and no code-like symbols.
    """
    words = text.split()
    if not MIN_WORDS <= len(words) <= MAX_WORDS or not text.isascii() or _REJECT.search(text):
        return False
    letters = sum(ch.isalpha() for ch in text)
    if letters < 0.7 * sum(not ch.isspace() for ch in text) or any(len(word) > 20 for word in words):
        return False
    upper = sum(ch.isupper() for ch in text)
    return upper <= 0.3 * letters and (text[0].isupper() or text[0].isdigit() or text[0] in "\"'(")


def group_sentences(sentences: list[str]) -> list[str]:
    """Join neighbouring sentences into utterances of at most MERGE_WORDS words (a longer one stays alone).

    Args:
        sentences: consecutive sentences of one text.

    Returns:
        Utterance texts in order.
    """
    groups: list[str] = []
    current: list[str] = []
    for sentence in sentences:
        if current and len(" ".join(current + [sentence]).split()) > MERGE_WORDS:
            groups.append(" ".join(current))
            current = []
        current.append(sentence)
    if current:
        groups.append(" ".join(current))
    return groups


def chatterbot_texts(data_dir: str | None = None) -> Iterable[tuple[str, str]]:
    """(source, line) for every line of the English chatterbot-corpus conversations.

    Args:
        data_dir: the corpus's english/ folder; default: the installed `chatterbot_corpus` package's.
    """
    if data_dir is None:
        import chatterbot_corpus

        data_dir = os.path.join(os.path.dirname(chatterbot_corpus.__file__), "data", "english")
    for path in sorted(glob.glob(os.path.join(data_dir, "*.yml"))):
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
        name = "chatterbot/" + os.path.splitext(os.path.basename(path))[0]
        for conversation in data.get("conversations") or []:
            for line in conversation:
                if isinstance(line, str):
                    yield name, line


def fortune_texts(fortune_dir: str = FORTUNE_DIR) -> Iterable[tuple[str, str]]:
    """(source, paragraph) for every fortune cookie, attribution lines dropped and lines joined.

    Args:
        fortune_dir: the fortune data folder (Debian: /usr/share/games/fortunes).
    """
    for path in sorted(glob.glob(os.path.join(fortune_dir, "*"))):
        name = os.path.basename(path)
        if "." in name or name in FORTUNE_SKIP or not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as handle:
            cookies = re.split(r"^%\s*$", handle.read(), flags=re.MULTILINE)
        for cookie in cookies:
            lines = [line for line in cookie.splitlines() if not _ATTRIBUTION.match(line)]
            # Indented or dialogue-formatted cookies (poems, "A: ... B: ...") are read line by line.
            if any(re.match(r"^\s*[A-Z][A-Za-z ]{0,15}:\s", line) for line in lines):
                for line in lines:
                    line = re.sub(r"^\s*[A-Z][A-Za-z ]{0,15}:\s+", "", line)
                    if line.strip():
                        yield "fortune/" + name, line.strip()
            elif "".join(lines).strip():
                yield "fortune/" + name, " ".join(" ".join(lines).split())


def candidate_utterances(texts: Iterable[tuple[str, str]]) -> Iterable[tuple[str, str]]:
    """(source, raw utterance) from (source, paragraph): split into sentences, filtered, short ones merged."""
    for source, paragraph in texts:
        sentences = [s for s in split_sentences(paragraph.translate(_QUOTES).strip()) if s]
        kept = [s for s in sentences if acceptable(s)]
        # A paragraph loses its neighbours' context when one sentence is dropped, so merge only fully kept ones.
        for utterance in group_sentences(kept) if len(kept) == len(sentences) else kept:
            if acceptable(utterance):
                yield source, utterance


def load_sentences(normalize: Callable[[str], str] | None = None) -> list[Sentence]:
    """All corpus sentences, normalized and de-duplicated, in a fixed order (by hash of the text).

    Args:
        normalize: text -> normalized text, raising `UserInputError` for text it cannot speak; default
            `engine.text.normalize.normalize_text` (its `.text`).

    Returns:
        Sentences sorted by a hash of their text, so the order is stable and sources are interleaved.
    """
    from engine.errors import UserInputError

    if normalize is None:
        from engine.text.normalize import normalize_text

        def normalize(text: str) -> str:
            return normalize_text(text).text

    seen: set[str] = set()
    sentences: list[Sentence] = []
    for source, raw in candidate_utterances(_all_texts()):
        try:
            text = " ".join(normalize(raw).split())
        except UserInputError:
            continue
        key = dedup_key(text)
        if key in seen or len(key.split()) < MIN_WORDS or not text.isascii():
            continue
        seen.add(key)
        sentences.append(Sentence(text, source, split_of(text)))
    sentences.sort(key=lambda s: hashlib.sha1(s.text.encode()).hexdigest())
    return sentences


def _all_texts() -> Iterable[tuple[str, str]]:
    yield from chatterbot_texts()
    yield from fortune_texts()
