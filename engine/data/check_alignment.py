"""Alignment check of a corpus: phone times cover the audio, pauses are quiet, fricatives are noisy.

`python -m engine.data.check_alignment DIR [--per-engine N]` prints, per engine: the worst gap between the
summed phone durations and the audio length, the median level of pause and vowel segments (dB below the
utterance's loudest 25 ms), the share of pause segments quieter than 30 dB below it, and the median
zero-crossing rate of /s/ against vowels (an /s/ labelled over a vowel would have a vowel's low rate).
"""

from __future__ import annotations

import argparse
import random
from collections import defaultdict

import numpy as np

from engine.data.manifest import Utterance, load_manifest
from engine.data.wavio import read_wav
from engine.text.phone_inventory import LONG_PAUSE, SHORT_PAUSE, VOWELS

_FRAME = 400  # 25 ms at 16 kHz


def segment_stats(utterance: Utterance, shift: float = 0.0) -> dict[str, list[float]]:
    """Per-segment measurements of one utterance: level_db (relative to its loudest frame) and zcr per class.

    Args:
        utterance: a corpus utterance.
        shift: seconds added to every phone time (a deliberately wrong alignment, to show the check can fail).

    Returns:
        {"pause_db", "vowel_db", "s_zcr", "vowel_zcr", "cover_gap_s"} -> lists of values.
    """
    audio, rate = read_wav(utterance.wav_path)
    x = audio.astype(np.float64)
    frames = x[: len(x) // _FRAME * _FRAME].reshape(-1, _FRAME)
    peak = max(float(np.sqrt((frames**2).mean(axis=1)).max()), 1.0)
    stats: dict[str, list[float]] = defaultdict(list)
    stats["cover_gap_s"].append(abs(utterance.phones[-1][2] - len(audio) / rate) + utterance.phones[0][1])
    for symbol, start, end in ((p, s + shift, e + shift) for p, s, e in utterance.phones):
        # Central half of the segment: boundaries are where neighbours blend.
        a, b = int((start + (end - start) / 4) * rate), int((end - (end - start) / 4) * rate)
        piece = x[max(a, 0) : max(b, 0)]
        if len(piece) < 80:
            continue
        level = 20 * np.log10(max(float(np.sqrt((piece**2).mean())), 1e-3) / peak)
        zcr = float(np.mean(np.abs(np.diff(np.sign(piece))) > 0))
        if symbol in (SHORT_PAUSE, LONG_PAUSE):
            stats["pause_db"].append(level)
        elif symbol in VOWELS:
            stats["vowel_db"].append(level)
            stats["vowel_zcr"].append(zcr)
        elif symbol == "s":
            stats["s_zcr"].append(zcr)
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus")
    parser.add_argument("--per-engine", type=int, default=40)
    parser.add_argument("--shift", type=float, default=0.0, help="shift all phone times (s): a control")
    args = parser.parse_args()
    by_engine: dict[str, list[Utterance]] = defaultdict(list)
    for utterance in load_manifest(args.corpus):
        by_engine[utterance.engine].append(utterance)
    for engine, utterances in sorted(by_engine.items()):
        sample = random.Random(0).sample(utterances, min(args.per_engine, len(utterances)))
        merged: dict[str, list[float]] = defaultdict(list)
        contiguous = all(all(abs(p[2] - q[1]) < 1e-4 for p, q in zip(u.phones, u.phones[1:])) for u in sample)
        for utterance in sample:
            for key, values in segment_stats(utterance, args.shift).items():
                merged[key].extend(values)
        pause = np.array(merged["pause_db"])
        print(
            f"{engine:9s} n={len(sample):3d} contiguous={contiguous} max|phones-audio|="
            f"{max(merged['cover_gap_s']) * 1000:.2f} ms | pause median {np.median(pause):.1f} dB, "
            f"{np.mean(pause < -30) * 100:.0f}% < -30 dB | vowel median {np.median(merged['vowel_db']):.1f} dB | "
            f"zcr s {np.median(merged['s_zcr']):.2f} vs vowel {np.median(merged['vowel_zcr']):.2f}"
        )


if __name__ == "__main__":
    main()
