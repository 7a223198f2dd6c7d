"""Engine phone names -> the project's phone inventory (`engine.text.phone_inventory.PHONE_SET`).

espeak-ng and mbrola segments are already named by espeak-ng mnemonics; British voices add a few names the
American table lacks. flite (CMU set) and festival (radio set) use ARPAbet-like names.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.text.phone_inventory import (
    LONG_PAUSE,
    NEIGHBOURS,
    PAUSE_NAMES,
    PHONE_SET,
    SHORT_PAUSE,
    SILENT_NAMES,
)

# espeak-ng en / en-gb names missing from the en-us inventory -> the nearest en-us phone(s).
BRITISH_NAMES: dict[str, tuple[str, ...]] = {"@U": ("oU",), "aU@": ("aU", "3"), "e": ("E",), "a2": ("a",)}

# flite's CMU and festival's radio phone sets -> espeak en-us mnemonics.
ARPABET: dict[str, tuple[str, ...]] = {
    "aa": ("A:",),
    "ae": ("a",),
    "ah": ("V",),
    "ao": ("O:",),
    "aw": ("aU",),
    "ax": ("@",),
    "axr": ("3",),
    "ay": ("aI",),
    "eh": ("E",),
    "er": ("3:",),
    "ey": ("eI",),
    "ih": ("I",),
    "ix": ("I2",),
    "iy": ("i:",),
    "ow": ("oU",),
    "oy": ("OI",),
    "uh": ("U",),
    "uw": ("u:",),
    "b": ("b",),
    "d": ("d",),
    "g": ("g",),
    "k": ("k",),
    "p": ("p",),
    "t": ("t",),
    "dx": ("t#",),
    "ch": ("tS",),
    "jh": ("dZ",),
    "dh": ("D",),
    "th": ("T",),
    "sh": ("S",),
    "zh": ("Z",),
    "f": ("f",),
    "v": ("v",),
    "s": ("s",),
    "z": ("z",),
    "hh": ("h",),
    "m": ("m",),
    "n": ("n",),
    "ng": ("N",),
    "nx": ("n",),
    "em": ("@", "m"),
    "en": ("n-",),
    "el": ("@L",),
    "l": ("l",),
    "r": ("r",),
    "w": ("w",),
    "y": ("j",),
}
ARPABET_PAUSES = frozenset({"pau", "h#", "brth", "ssil", "sil"})

PAUSE = "pause"  # marker returned for names that are silence; the caller decides "_" or "_." by position
SILENT = "silent"  # a marker with no sound of its own: its time goes to the neighbouring phone


def espeak_to_phones(name: str) -> tuple[str, ...] | str:
    """Inventory phones for one espeak-ng phoneme mnemonic (stress marks already absent in events).

    Args:
        name: espeak-ng phoneme mnemonic, e.g. "oU", "_:", "@U".

    Returns:
        A tuple of PHONE_SET symbols, or PAUSE / SILENT.

    Raises:
        KeyError: a name the inventory cannot place (a test runs every engine over sample text to catch it).
    """
    if name in PAUSE_NAMES:
        return PAUSE
    if name in SILENT_NAMES:
        return SILENT
    if name in PHONE_SET:
        return (name,)
    if name in NEIGHBOURS:
        return NEIGHBOURS[name]
    if name in BRITISH_NAMES:
        return BRITISH_NAMES[name]
    raise KeyError(f"espeak-ng phoneme {name!r} has no place in PHONE_SET")


def arpabet_to_phones(name: str) -> tuple[str, ...] | str:
    """Inventory phones for one flite (CMU) or festival (radio) phone name, e.g. "ax" -> ("@",), "pau" -> PAUSE."""
    name = name.lower().rstrip("012")
    if name in ARPABET_PAUSES:
        return PAUSE
    return ARPABET[name]


def label_segments(
    segments: list[tuple[str, float, float]],
    to_phones: Callable[[str], tuple[str, ...] | str],
    final: bool = True,
) -> list[tuple[str, float, float]]:
    """Engine segments of one sentence -> inventory segments with the project's pause convention.

    Silence before the first sound is a short pause "_", silence after the last sound is the sentence-end
    pause "_." (every sentence is synthesized alone), pauses in between are "_". Adjacent pauses merge; a
    name mapped to two phones splits its time evenly; silent markers join a following pause or else give
    their time to the phone before.

    Args:
        segments: (engine name, start_s, end_s), contiguous.
        to_phones: `espeak_to_phones` or `arpabet_to_phones`.
        final: label trailing silence "_." (True) or "_" (False).

    Returns:
        (PHONE_SET symbol, start_s, end_s), contiguous from the first segment's start to the last's end.
    """
    mapped = [(to_phones(name), start, end) for name, start, end in segments if end > start]
    # A silent marker next to a pause is part of that pause; elsewhere its time goes to the phone before.
    for i in range(len(mapped) - 2, -1, -1):
        if mapped[i][0] == SILENT and mapped[i + 1][0] == PAUSE:
            mapped[i] = (PAUSE, mapped[i][1], mapped[i][2])
    sounding = [i for i, (phones, _, _) in enumerate(mapped) if phones not in (PAUSE, SILENT)]
    last = sounding[-1] if sounding else -1
    out: list[tuple[str, float, float]] = []
    for i, (phones, start, end) in enumerate(mapped):
        if phones == SILENT and out:
            out[-1] = (out[-1][0], out[-1][1], end)
            continue
        if phones in (PAUSE, SILENT):
            label = LONG_PAUSE if i > last and final and sounding else SHORT_PAUSE
            if out and out[-1][0] in (SHORT_PAUSE, LONG_PAUSE):
                merged = LONG_PAUSE if LONG_PAUSE in (label, out[-1][0]) else SHORT_PAUSE
                out[-1] = (merged, out[-1][1], end)
            else:
                out.append((label, start, end))
            continue
        step = (end - start) / len(phones)
        out.extend((phone, start + k * step, start + (k + 1) * step) for k, phone in enumerate(phones))
    return out
