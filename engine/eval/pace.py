"""Speaking pace of a recording whose words are known: syllables per second of speech.

Syllables are the vowels of the words' phonemes (espeak-ng, as the synthesizer reads them); the time is the
time spent speaking, pauses of 150 ms or more left out (the same speech mask as
`engine.semantic.speaking_rate`), so a clip's leading silence or a pause between joined clips does not count.
"""

from __future__ import annotations

import numpy as np

from engine.semantic.speaking_rate import measure_speaking_rate
from engine.text.phonemize import count_syllables


def syllables_per_second(samples: np.ndarray, sample_rate: int, text: str) -> float:
    """Syllables of `text` per second of speech in the recording.

    Raises:
        UserInputError: the recording holds less than half a second of speech.
    """
    return count_syllables(text) / measure_speaking_rate(samples, sample_rate).speech_seconds
