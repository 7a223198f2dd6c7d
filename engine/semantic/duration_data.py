"""Duration-model examples from the corpus: phone ids, seconds per phone, and a prompt from the same speaker.

The prompt (speaking rate and style, `prompt_features`) of an example is measured on OTHER utterances of its speaker (at least `PROMPT_SECONDS` of
speech, like a voice clip), never on the utterance itself: at inference the prompt is another recording.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from engine.data.manifest import Utterance
from engine.data.wavio import read_wav
from engine.errors import UserInputError
from engine.semantic.duration_model import MIN_SECONDS
from engine.semantic.prompt_features import PromptFeatures, measure_prompt
from engine.text.phone_inventory import LONG_PAUSE, PHONE_ID, SHORT_PAUSE

PROMPT_SECONDS = 5.0  # prompts gather other utterances of the speaker until this much speech (clips: 3-15 s)


@dataclass(frozen=True)
class DurationExample:
    """One utterance for the duration model.

    Attributes:
        id, speaker: from the manifest.
        phones: symbols without the leading silence (the text frontend never starts with a pause).
        phone_ids: their ids.
        seconds: reference seconds per phone.
    """

    id: str
    speaker: str
    phones: tuple[str, ...]
    phone_ids: tuple[int, ...]
    seconds: tuple[float, ...]


def utterance_to_example(utterance: Utterance) -> DurationExample | None:
    """The duration example of a manifest utterance (None if it holds no sounding phone)."""
    phones = list(utterance.phones)
    while phones and phones[0][0] in (SHORT_PAUSE, LONG_PAUSE):
        phones.pop(0)  # leading silence belongs to the recording, not to the text
    if not any(p not in (SHORT_PAUSE, LONG_PAUSE) for p, _, _ in phones):
        return None
    return DurationExample(
        id=utterance.id,
        speaker=utterance.speaker,
        phones=tuple(p for p, _, _ in phones),
        phone_ids=tuple(PHONE_ID[p] for p, _, _ in phones),
        seconds=tuple(max(e - s, 0.0) for _, s, e in phones),
    )


def measure_prompts(utterances: Sequence[Utterance]) -> dict[str, PromptFeatures]:
    """Prompt features of each utterance's recording (utterances with too little speech are left out)."""
    features = {}
    for utterance in utterances:
        audio, sample_rate = read_wav(utterance.wav_path)
        try:
            features[utterance.id] = measure_prompt(audio.astype(np.float32) / 32768.0, sample_rate)
        except UserInputError:
            continue
    return features


class PromptSampler:
    """Makes a prompt for an utterance from other utterances of its speaker."""

    def __init__(self, examples: Sequence[DurationExample], features: dict[str, PromptFeatures]) -> None:
        self._by_speaker: dict[str, list[str]] = defaultdict(list)
        for example in examples:
            if example.id in features:
                self._by_speaker[example.speaker].append(example.id)
        self._features = features

    def has_prompt(self, example: DurationExample) -> bool:
        """Whether the speaker has another utterance to measure."""
        return any(i != example.id for i in self._by_speaker.get(example.speaker, ()))

    def others(
        self, example: DurationExample, rng: random.Random | None = None, seconds: float = PROMPT_SECONDS
    ) -> list[str]:
        """Ids of other utterances of the speaker, gathered until `seconds` of speech: the recordings of the
        prompt `draw` makes.

        Args:
            example: the utterance whose durations are predicted (never part of its own prompt).
            rng: random order of the other utterances (training); None takes them in a fixed order (evaluation).
            seconds: speech to gather (a voice clip is 3-15 s).
        """
        others = [i for i in self._by_speaker[example.speaker] if i != example.id]
        if rng is not None:
            others = rng.sample(others, len(others))
        else:  # deterministic, and different from one utterance to the next
            start = sum(map(ord, example.id)) % len(others)
            others = others[start:] + others[:start]
        chosen, gathered = [], 0.0
        for other in others:
            chosen.append(other)
            gathered += self._features[other].rate.speech_seconds
            if gathered >= seconds:
                break
        return chosen

    def draw(
        self, example: DurationExample, rng: random.Random | None = None, seconds: float = PROMPT_SECONDS
    ) -> PromptFeatures:
        """Features of the prompt of `others(example, rng, seconds)`, heard as one."""
        return PromptFeatures.combine([self._features[i] for i in self.others(example, rng, seconds)])


def collate(
    examples: Sequence[DurationExample], prompts: Sequence[PromptFeatures], style_kind: str = "bands"
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Pad a batch; the prompts' fingerprints are of `style_kind` (`PromptFeatures.style_vector`).

    Returns:
        (phone ids [B, N] with 0 padding, log target seconds [B, N] floored at `MIN_SECONDS`, prompt rates [B],
        prompt fingerprints [B, style dims]).
    """
    length = max(len(e.phone_ids) for e in examples)
    ids = torch.zeros(len(examples), length, dtype=torch.long)
    log_seconds = torch.zeros(len(examples), length)
    for row, example in enumerate(examples):
        ids[row, : len(example.phone_ids)] = torch.tensor(example.phone_ids)
        log_seconds[row, : len(example.seconds)] = torch.log(
            torch.tensor(example.seconds).clamp(min=MIN_SECONDS)
        )
    rates = torch.tensor([p.rate.per_second for p in prompts], dtype=torch.float32)
    styles = torch.tensor(np.stack([p.style_vector(style_kind) for p in prompts]), dtype=torch.float32)
    return ids, log_seconds, rates, styles
