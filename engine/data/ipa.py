"""The project's phones spelled in IPA for neural engines that read phonemes (Kokoro, Piper), and their timings
back: every input character belongs to one inventory phone or pause, so per-character durations give times.

A sentence is phonemized by libespeak-ng en-us (as `engine.text.phonemize` does), each phoneme mapped to the
inventory, and each inventory phone spelled by a table: espeak-ng's own IPA (Piper's voices learnt it) or
misaki's (Kokoro's). Stress marks go to the phone after them, word spaces to the phone before.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from engine.data.phones import PAUSE
from engine.text.espeak_lib import PHONEME_SEPARATOR, text_to_phoneme_clauses
from engine.text.phone_inventory import LONG_PAUSE, SHORT_PAUSE
from engine.text.phonemize import espeak_names_to_phones, split_espeak_phonemes

# espeak-ng en-us IPA of each inventory phone (as `espeak-ng -v en-us --ipa` writes them).
ESPEAK_IPA: dict[str, str] = {
    "p": "p", "b": "b", "t": "t", "d": "d", "k": "k", "g": "ɡ", "?": "ʔ", "t#": "ɾ", "t2": "t",
    "f": "f", "v": "v", "T": "θ", "D": "ð", "s": "s", "z": "z", "S": "ʃ", "Z": "ʒ", "h": "h", "x": "x",
    "tS": "tʃ", "dZ": "dʒ", "m": "m", "n": "n", "N": "ŋ", "n-": "n̩", "l": "l", "r": "ɹ", "r-": "ɹ",
    "w": "w", "j": "j", ";": "j",
    "a": "æ", "aa": "æ", "a#": "ɐ", "A:": "ɑː", "E": "ɛ", "e@": "ɛɹ", "I": "ɪ", "I2": "ɪ", "I#": "ᵻ",
    "i": "i", "i:": "iː", "0": "ɑː", "O:": "ɔː", "O2": "ɔ", "V": "ʌ", "U": "ʊ", "u:": "uː", "@": "ə",
    "@2": "ə", "@-": "ə", "@L": "əl", "3": "ɚ", "3:": "ɜː", "aI": "aɪ", "aI3": "aɪɚ", "aI@": "aɪə",
    "eI": "eɪ", "oU": "oʊ", "aU": "aʊ", "OI": "ɔɪ", "A@": "ɑːɹ", "O@": "ɔːɹ", "o@": "oːɹ", "i@": "ɪɹ",
    "i@3": "ɪɹ", "U@": "ʊɹ",
}  # fmt: skip
# misaki's American spelling (the phonemes Kokoro-82M was trained on): one letter per diphthong.
MISAKI_IPA: dict[str, str] = {
    **ESPEAK_IPA,
    "tS": "ʧ", "dZ": "ʤ", "n-": "ᵊn", "a#": "ə", "A:": "ɑ", "0": "ɑ", "O:": "ɔ", "i:": "i", "u:": "u",
    "3:": "ɜɹ", "3": "əɹ", "@L": "ᵊl", "aI": "I", "aI3": "Iəɹ", "aI@": "Iə", "eI": "A", "oU": "O",
    "aU": "W", "OI": "Y", "A@": "ɑɹ", "O@": "ɔɹ", "o@": "ɔɹ",
}  # fmt: skip
_STRESS = {"'": "ˈ", ",": "ˌ"}
# Pieces between punctuation, as engine.text.phonemize splits them; the punctuation itself is kept.
_PUNCTUATION = re.compile(r"([.?!\u2026]+|[,;:]|\s-+\s|-{2,}|[\u2013\u2014])")
_LONG = re.compile(r"[.?!\u2026]")

# Owner of a character that is no phone: the phone before it (word space) or after it (stress mark).
BEFORE, AFTER = -1, -2


@dataclass(frozen=True)
class Spelling:
    """A sentence as engine input: `text` (IPA characters) and, per character, the index of its unit in
    `units` (or BEFORE / AFTER). units: inventory phones, "_" for a pause the punctuation asks for."""

    text: str
    owners: tuple[int, ...]
    units: tuple[str, ...]


def spell(sentence: str, table: Mapping[str, str]) -> Spelling:
    """IPA input for one normalized sentence.

    Args:
        sentence: one sentence of normalized text.
        table: inventory phone -> IPA (`ESPEAK_IPA` or `MISAKI_IPA`).

    Returns:
        The Spelling; punctuation stays in the text (",", "." ...) and owns a pause unit.
    """
    chars: list[str] = []
    owners: list[int] = []
    units: list[str] = []

    def add(text: str, owner: int) -> None:
        chars.extend(text)
        owners.extend([owner] * len(text))

    pieces = _PUNCTUATION.split(sentence)
    for index, piece in enumerate(pieces):
        if index % 2:
            long = bool(_LONG.search(piece))
            mark = piece.strip()[-1:] if piece.strip()[-1:] in ".?!,;:" else ("." if long else ",")
            if chars and chars[-1] == " ":
                chars.pop(), owners.pop()
            units.append(LONG_PAUSE if long else SHORT_PAUSE)
            add(mark, len(units) - 1)
            add(" ", BEFORE)
            continue
        for clause in text_to_phoneme_clauses(piece) if piece.strip() else []:
            for word in clause.split():
                for name in split_espeak_phonemes(word.replace(PHONEME_SEPARATOR, " ")):
                    if name in _STRESS:
                        add(_STRESS[name], AFTER)
                        continue
                    for phone in espeak_names_to_phones([name]):
                        if phone == SHORT_PAUSE:
                            units.append(SHORT_PAUSE)
                            add(",", len(units) - 1)
                        else:
                            units.append(phone)
                            add(table[phone], len(units) - 1)
                add(" ", BEFORE)
    while chars and (chars[-1] == " " or owners[-1] == AFTER):
        chars.pop(), owners.pop()
    if not units or units[-1] not in (SHORT_PAUSE, LONG_PAUSE):
        units.append(LONG_PAUSE)
        add(".", len(units) - 1)
    return Spelling("".join(chars), tuple(owners), tuple(units))


def keep_known(spelling: Spelling, vocabulary: Mapping[str, int]) -> Spelling:
    """The spelling without characters the engine has no id for (their time would be lost)."""
    kept = [(c, o) for c, o in zip(spelling.text, spelling.owners) if c in vocabulary]
    return Spelling("".join(c for c, _ in kept), tuple(o for _, o in kept), spelling.units)


def unit_durations(owners: Sequence[int], seconds: Sequence[float], n_units: int) -> list[float]:
    """Seconds per unit from seconds per character (BEFORE characters give theirs to the unit before,
    AFTER characters to the next; with no such unit, to the nearest one)."""
    total = [0.0] * n_units
    pending = 0.0
    last = -1
    for owner, duration in zip(owners, seconds):
        if owner == AFTER:
            pending += duration
        elif owner == BEFORE:
            if last >= 0:
                total[last] += duration
            else:
                pending += duration
        else:
            total[owner] += duration + pending
            pending, last = 0.0, owner
    if pending and last >= 0:
        total[last] += pending
    return total


def timed_segments(
    units: Sequence[str], durations: Sequence[float], lead_s: float, tail_s: float
) -> list[tuple[str, float, float]]:
    """Contiguous (unit, start_s, end_s) with `lead_s` of silence before the first unit and `tail_s` after
    the last (the engine's padding tokens), pause units named "_" (the caller's labelling decides "_.")."""
    segments = [(SHORT_PAUSE, 0.0, float(lead_s))]
    time = float(lead_s)
    for unit, duration in zip(units, durations):
        name = SHORT_PAUSE if unit == LONG_PAUSE else unit
        segments.append((name, time, time + float(duration)))
        time += float(duration)
    segments.append((SHORT_PAUSE, time, time + float(tail_s)))
    return segments


def inventory_to_phones(name: str) -> tuple[str, ...] | str:
    """The phone mapper for segments already named by inventory symbols (pauses -> PAUSE)."""
    return PAUSE if name in (SHORT_PAUSE, LONG_PAUSE) else (name,)


def shift_inner_boundaries(
    segments: list[tuple[str, float, float]], shift_s: float
) -> list[tuple[str, float, float]]:
    """Move every boundary but the first start and the last end by `shift_s` (negative: earlier), keeping each
    segment at least 1 ms long: for an engine whose sound runs a fixed time ahead of its duration frames."""
    inner = [end + shift_s for _, _, end in segments[:-1]]
    end_all = segments[-1][2]
    for k in range(len(inner)):
        low = (inner[k - 1] if k else segments[0][1]) + 0.001
        high = end_all - 0.001 * (len(inner) - k)
        inner[k] = min(max(inner[k], low), high)
    starts = [segments[0][1], *inner]
    ends = [*inner, end_all]
    return [(name, start, end) for (name, _, _), start, end in zip(segments, starts, ends)]


def trim_silent_tails(
    segments: list[tuple[str, float, float]],
    audio: np.ndarray,
    sample_rate: int,
    floor_db: float = -35.0,
    margin_s: float = 0.02,
) -> list[tuple[str, float, float]]:
    """Give the silent end of a phone that runs into a pause to the pause: Kokoro's duration predictor
    stretches the last phone of a sentence over up to half a second of silence.

    Args:
        segments: contiguous (name, start_s, end_s), pauses named "_".
        audio: the int16 audio they time.
        floor_db: 5 ms frames this far below the loudest frame count as silence.
        margin_s: sound kept after the last loud frame (a release, a fading vowel).
    """
    hop = max(1, sample_rate // 200)
    x = audio.astype(np.float64)
    frames = x[: len(x) // hop * hop].reshape(-1, hop)
    level = 10 * np.log10((frames**2).mean(axis=1) + 1.0)
    loud = level > level.max() + floor_db
    out = list(segments)
    for k in range(len(out) - 1):
        name, start, end = out[k]
        if name == SHORT_PAUSE or out[k + 1][0] != SHORT_PAUSE:
            continue
        first, last = int(start * sample_rate) // hop, min(int(end * sample_rate) // hop, len(loud))
        sounding = np.flatnonzero(loud[first:last])
        if len(sounding) == 0:
            continue
        new_end = min(end, (first + sounding[-1] + 1) * hop / sample_rate + margin_s)
        if new_end < end:
            out[k] = (name, start, new_end)
            out[k + 1] = (SHORT_PAUSE, new_end, out[k + 1][2])
    return out
