"""mbrola voices: espeak-ng writes the .pho (phones, durations, pitch), the mbrola binary renders it.

Phone labels are espeak-ng's own phoneme mnemonics (from the library's phoneme events for the same voice and
settings); their times are the .pho durations, which mbrola renders exactly, so the alignment is exact.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile

import numpy as np

from engine.data import espeak
from engine.data.wavio import read_wav

MBROLA_DIR = "/usr/share/mbrola"
# Phones espeak-ng writes for a database that lacks many of their diphones; mbrola would put silence into
# the word. Measured on 80 corpus sentences: sw2 missed 110 diphones, all with "i"; us3 missed 30, all with
# "O2"; the other databases used here missed at most 1. Durations are kept, so the alignment is unchanged.
PHONE_SUBSTITUTIONS: dict[str, dict[str, str]] = {"sw2": {"i": "i:"}, "us3": {"O2": "O"}}
# German databases de1-de3 have no diphone from "v" into a consonant or a pause (German devoices a final v):
# 1.3 missed diphones per 100 phones on 40 sentences, nearly all of them there. Such a "v" is said as "f".
DEVOICE_FINAL_V = frozenset({"de1", "de2", "de3"})
_OBSTRUENTS = frozenset(
    {"p", "b", "t", "d", "k", "g", "f", "v", "s", "z", "S", "Z", "tS", "dZ", "T", "D", "x", "C"}
)
_CONSONANTS_AND_PAUSE = _OBSTRUENTS | {"_", "m", "n", "N", "l", "r", "R", "h", "j", "w"}


def mbrola_available(database: str) -> bool:
    """Whether the mbrola binary and the voice database `database` (e.g. "us1") are installed."""
    return shutil.which("mbrola") is not None and os.path.exists(os.path.join(MBROLA_DIR, database, database))


def substitute_phones(pho: str, database: str) -> str:
    """Replace the phones of `pho` that `database` lacks diphones for (PHONE_SUBSTITUTIONS, DEVOICE_FINAL_V)."""
    table = PHONE_SUBSTITUTIONS.get(database, {})
    devoice = database in DEVOICE_FINAL_V
    if not table and not devoice:
        return pho
    rows = [line.partition("\t") for line in pho.splitlines()]
    names = [name for name, sep, _ in rows if sep]
    following = iter(names[1:] + ["_"])
    lines = []
    for name, sep, rest in rows:
        if not sep:
            lines.append(name)
            continue
        after = next(following)
        if devoice and name == "v" and after in _CONSONANTS_AND_PAUSE:
            name = "f"
        lines.append(table.get(name, name) + sep + rest)
    return "\n".join(lines) + "\n"


def render(pho: str, database: str) -> tuple[np.ndarray, int, list[str]]:
    """Run the mbrola binary on a .pho text.

    Args:
        pho: .pho text.
        database: mbrola database name, e.g. "us1".

    Returns:
        (int16 audio, sample rate, the diphones mbrola did not have and replaced by silence).
    """
    with tempfile.TemporaryDirectory() as tmp:
        pho_path, wav_path = os.path.join(tmp, "x.pho"), os.path.join(tmp, "x.wav")
        with open(pho_path, "w", encoding="utf-8") as handle:
            handle.write(pho)
        # -e: skip a missing diphone instead of aborting the sentence.
        result = subprocess.run(
            ["mbrola", "-e", os.path.join(MBROLA_DIR, database, database), pho_path, wav_path],
            check=True,
            capture_output=True,
            text=True,
        )
        audio, sample_rate = read_wav(wav_path)
    missing = re.findall(r"Warning: (\S+) unknown", result.stdout + result.stderr)
    return audio, sample_rate, missing


def parse_pho(pho: str) -> list[tuple[str, float]]:
    """(mbrola phone, duration in ms) for every phone line of a .pho text; comments and blank lines skipped."""
    phones = []
    for line in pho.splitlines():
        fields = line.split()
        if len(fields) >= 2 and not line.startswith(";"):
            phones.append((fields[0], float(fields[1])))
    return phones


def synthesize(
    text: str, voice: str, database: str, rate: int, pitch: int, pitch_range: int
) -> tuple[np.ndarray, int, list[tuple[str, float, float]]]:
    """Speak one sentence with an mbrola voice.

    Args:
        text: one sentence.
        voice: the espeak-ng voice that drives mbrola, e.g. "mb-us1" or "mb-de4-en".
        database: the mbrola database under /usr/share/mbrola, e.g. "us1", "de4".
        rate, pitch, pitch_range: espeak-ng prosody settings (words/minute, 0-100, 0-100).

    Returns:
        (int16 audio, sample rate, [(espeak mnemonic, start_s, end_s), ...]) covering the audio from 0 to its end.
    """
    events = espeak.synthesize(text, voice, rate, pitch, pitch_range)
    pho = substitute_phones(espeak.mbrola_pho(text, voice, rate, pitch, pitch_range), database)
    audio, sample_rate, _ = render(pho, database)
    segments = align_events_to_pho(events.events, events.sample_rate, parse_pho(pho))
    duration = len(audio) / sample_rate
    if segments:
        label, start, _ = segments[-1]
        segments[-1] = (label, start, duration)
    return audio, sample_rate, segments


def align_events_to_pho(
    events: tuple[tuple[str, int], ...], event_rate: int, pho: list[tuple[str, float]]
) -> list[tuple[str, float, float]]:
    """Label the .pho timeline with espeak mnemonics.

    Each espeak phoneme becomes 0-3 consecutive .pho lines ("A@" -> "A" "r"; "h" -> nothing in a French
    voice). The library's event times follow the same durations but not exactly (a fixed start offset,
    output-chunk rounding, and pauses that depend on library state), so the partition is found by dynamic
    programming: it minimizes the difference between each event's duration and its lines' summed duration,
    plus a penalty when a pause event takes a phone line or a phone event takes a pause line.

    Args:
        events: (mnemonic, start sample) from the library for the same text and settings.
        event_rate: sample rate of the event positions.
        pho: (mbrola phone, duration ms) per .pho line.

    Returns:
        [(mnemonic, start_s, end_s)] on the .pho timeline, contiguous, zero-length phonemes dropped.
    """
    if not events or not pho:
        return []
    durations = [d for _, d in pho]
    total = sum(durations)
    starts = [1000.0 * (sample - events[0][1]) / event_rate for _, sample in events]
    event_ms = [b - a for a, b in zip(starts, starts[1:] + [max(total, starts[-1])])]
    event_pause = [name.startswith("_") for name, _ in events]
    line_pause = [name == "_" for name, _ in pho]
    n, m, inf = len(events), len(pho), float("inf")
    cost = [[inf] * (m + 1) for _ in range(n + 1)]
    back = [[0] * (m + 1) for _ in range(n + 1)]
    cost[0][0] = 0.0
    for i in range(1, n + 1):
        for j in range(m + 1):
            for k in range(min(3, j) + 1):
                previous = cost[i - 1][j - k]
                if previous == inf:
                    continue
                lines = range(j - k, j)
                mismatch = sum(
                    _CATEGORY_PENALTY_MS for line in lines if line_pause[line] != event_pause[i - 1]
                )
                value = previous + abs(event_ms[i - 1] - sum(durations[line] for line in lines)) + mismatch
                if value < cost[i][j]:
                    cost[i][j], back[i][j] = value, k
    bounds = [0.0]
    for d in durations:
        bounds.append(bounds[-1] + d / 1000.0)
    spans: list[tuple[int, int]] = []
    j = m
    for i in range(n, 0, -1):
        k = back[i][j]
        spans.append((j - k, j))
        j -= k
    spans.reverse()
    return [(name, bounds[a], bounds[b]) for (name, _), (a, b) in zip(events, spans) if b > a]


# A pause event taking a phone line (or the reverse) costs as much as a 40 ms timing error.
_CATEGORY_PENALTY_MS = 40.0
