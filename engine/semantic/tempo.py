"""Tempo from the prompt's words: how much longer or shorter the speaker takes than the duration model says.

The duration model hears a prompt's speaking rate and timing style, measured from audio alone; voices it was
never trained on still come out a few percent fast or slow, and the same for every turn. When the words of the
clip are known, the model predicts the clip itself, and the ratio of the clip's spoken time to that prediction
corrects every turn of the speaker (`tempo_factor`). Spoken time runs from the first to the last frame within
`_SPEECH_RANGE_DB` of the clip's loud frames (`spoken_seconds`): on the corpus, its ratio to the aligned span
from the first phone to the last is 0.98-1.03 for 90 % of the utterances (5th-95th percentile; median 1.005).
When the words are not given, the phones the recognizer hears in the clip stand in for them
(`heard_tempo_factor`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from engine.audio import frame_levels_db
from engine.errors import UserInputError
from engine.semantic.duration_model import DurationModel
from engine.text.phone_inventory import LONG_PAUSE, PHONE_ID

_FRAME_SECONDS = 0.01
_SPEECH_RANGE_DB = 40.0
# Words that match their clip are spoken within about 10 % of the model's prediction (factors 0.92-1.12 on the
# reserved voices, 0.91-1.12 on the demo voices); half as long again, or a third shorter, means they do not.
MIN_FACTOR, MAX_FACTOR = 2 / 3, 1.5
# Fewer recognized phones than this (under a second of speech) say too little about the tempo.
MIN_HEARD_PHONES = 12


def spoken_seconds(samples: np.ndarray, sample_rate: int) -> float:
    """Time from the first to the last sound of a clip: leading and trailing silence left out, pauses kept.

    Args:
        samples: mono float audio in [-1, 1].
        sample_rate: its rate.
    """
    frame = max(1, round(_FRAME_SECONDS * sample_rate))
    levels = frame_levels_db(np.asarray(samples, dtype=np.float64).reshape(-1), frame)
    if not len(levels):  # shorter than a frame
        return len(samples) / sample_rate
    sounding = np.flatnonzero(levels > np.percentile(levels, 95) - _SPEECH_RANGE_DB)
    return float(sounding[-1] - sounding[0] + 1) * frame / sample_rate


def _speech_seconds(seconds: np.ndarray, phones: Sequence[str]) -> float:
    """Predicted time of a clip's words: its phones but the pause after the last (clips are trimmed)."""
    end = len(phones) - 1 if phones and phones[-1] == LONG_PAUSE else len(phones)
    return float(np.sum(seconds[:end]))


@torch.inference_mode()
def tempo_factor(
    model: DurationModel,
    clips: Sequence[tuple[Sequence[str], float]],
    rate_per_second: float,
    style: torch.Tensor | None,
    name: str = "the voice clip",
) -> float:
    """Seconds the speaker takes per second the model predicts, over the prompt's clips.

    Args:
        model: the duration model.
        clips: per recording of the prompt, (its transcript's phones, its `spoken_seconds`).
        rate_per_second, style: the prompt's condition, as the model gets it for the speaker's turns.
        name: how to call the clip in the error message.

    Returns:
        The factor that multiplies the model's durations for this speaker.

    Raises:
        UserInputError: the transcript cannot be what the clip says (the factor would be outside 2/3-3/2).
    """
    clips = [(phones, spoken) for phones, spoken in clips if phones]
    if not clips:
        return 1.0
    ids = torch.zeros(len(clips), max(len(phones) for phones, _ in clips), dtype=torch.long)
    for row, (phones, _) in enumerate(clips):
        ids[row, : len(phones)] = torch.tensor([PHONE_ID[p] for p in phones])
    rates = torch.full((len(clips),), float(rate_per_second))
    styles = None if style is None else style.reshape(1, -1).expand(len(clips), -1)
    seconds = torch.exp(model(ids, rates, styles)).numpy()
    predicted = sum(_speech_seconds(seconds[row], phones) for row, (phones, _) in enumerate(clips))
    spoken = sum(s for _, s in clips)
    factor = spoken / predicted
    if not MIN_FACTOR <= factor <= MAX_FACTOR:
        raise UserInputError(
            f"The text given for {name} would take about {predicted:.1f} s to say, but the clip holds "
            f"{spoken:.1f} s of speech; give the words the clip says, or leave its text empty."
        )
    return float(factor)


def heard_tempo_factor(
    model: DurationModel,
    clips: Sequence[tuple[Sequence[str], float]],
    rate_per_second: float,
    style: torch.Tensor | None,
) -> float:
    """`tempo_factor` on phones recognized from the clips' sound (`PhoneRecognizer.recognize`), for a clip
    whose words are not given: 1.0 when fewer than `MIN_HEARD_PHONES` were heard or the factor falls outside
    2/3-3/2 (recognition went wrong; the model's own pacing is kept).

    Args:
        clips: per recording, (its recognized phones, its `spoken_seconds`).
    """
    heard = [(tuple(phones) + (LONG_PAUSE,), spoken) for phones, spoken in clips if phones]
    if sum(len(phones) - 1 for phones, _ in heard) < MIN_HEARD_PHONES:
        return 1.0
    try:
        return tempo_factor(model, heard, rate_per_second, style)
    except UserInputError:
        return 1.0
