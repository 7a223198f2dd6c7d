"""The pace guard: each turn's pace (syllables per second of speech) held within PACE_TOLERANCE of its clip's.

A clip's pace is counted on its words when they are known (given, or heard by Whisper: `clip_words`), as
`engine.eval.pace` measures any recording: their syllables per second of the clip's speech. Without words it
is the syllable nuclei per second of its sound over NUCLEI_PER_SYLLABLE (median of nuclei counted per
syllable of the text on 40 corpus utterances of the training voices; 10th-90th percentile 0.75-1.17). On
real voices the nuclei ran 0.89-1.50 per syllable: a clip of slow, separate words (2.6 syllables/s) counted
1.50, and its turns came out at 1.37 times its pace.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.semantic.speaking_rate import SpeakingRate
from engine.text.phone_inventory import LONG_PAUSE, SHORT_PAUSE, VOWELS
from engine.text.phonemize import count_syllables

PACE_TOLERANCE = 0.15
NUCLEI_PER_SYLLABLE = 0.96
# Turns of fewer syllables are left alone: their pace says too little.
MIN_SYLLABLES = 3


def clip_pace(rate: SpeakingRate, words: str = "") -> float:
    """Syllables per second of a clip's speech: of its words, or from its nuclei when there are none.

    Args:
        rate: the clip's measured speaking rate (its nuclei and seconds of speech).
        words: what the clip says (raw text), or "".

    Raises:
        UserInputError: the words cannot be read.
    """
    syllables = count_syllables(words) if words.strip() else 0
    if syllables:
        return syllables / rate.speech_seconds
    return rate.per_second / NUCLEI_PER_SYLLABLE


def pace_scale(phones: Sequence[str], seconds: np.ndarray, clip: float) -> float:
    """Factor on a planned turn's durations that brings its pace within PACE_TOLERANCE of `clip` (1.0 when
    it is, or the turn is too short to say).

    Args:
        phones: the turn's phones; seconds: their planned durations; clip: the clip's `clip_pace`.
    """
    sounding = [s for p, s in zip(phones, seconds) if p not in (SHORT_PAUSE, LONG_PAUSE)]
    n_syllables = sum(1 for p in phones if p in VOWELS)
    if n_syllables < MIN_SYLLABLES or not sounding:
        return 1.0
    ratio = (n_syllables / float(sum(sounding))) / clip  # > 1: the turn is faster than the clip
    held = min(max(ratio, 1.0 / (1.0 + PACE_TOLERANCE)), 1.0 + PACE_TOLERANCE)
    return float(ratio / held)
