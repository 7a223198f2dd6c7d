"""Text-to-semantic: a turn's text and its speaker's voice prompt -> one semantic token per codec frame.

normalize -> phonemize (pauses at punctuation) -> duration model conditioned on the prompt's measured speaking
rate -> the user's rate factor -> whole frames (cumulative rounding) -> frame tokens. The model is loaded once.
"""

from __future__ import annotations

import functools
import os
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from engine.audio import VoicePrompt
from engine.errors import UserInputError
from engine.semantic.duration_model import DurationModel, load_duration_model, seconds_to_frames
from engine.semantic.prompt_features import PromptFeatures, measure_prompt
from engine.semantic.speaking_rate import SpeakingRate
from engine.semantic.tokens import PhoneTokenizer, SemanticTokenizer
from engine.text.normalize import normalize_text
from engine.text.phonemize import phone_ids, phonemize

DEFAULT_CHECKPOINT = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "assets", "duration", "duration.pt"
)
MIN_RATE, MAX_RATE = 0.5, 2.0

Prompt = VoicePrompt | PromptFeatures | SpeakingRate | float


@dataclass(frozen=True, eq=False)
class SemanticPlan:
    """What one turn will say and for how long.

    Attributes:
        text: the normalized text that was phonemized.
        notes: what normalization read out or dropped, for the user.
        phones: phone symbols, pauses ("_", "_.") included.
        frames: frames per phone (parallel to `phones`; sums to len(tokens)).
        tokens: LongTensor [T] of semantic tokens at the codec frame rate.
        prompt_rate: the prompt's speaking rate (nuclei per second) the durations were conditioned on.
        rate: the user's speed factor (2.0 = twice as fast).
    """

    text: str
    notes: tuple[str, ...]
    phones: tuple[str, ...]
    frames: tuple[int, ...]
    tokens: torch.Tensor
    prompt_rate: float
    rate: float

    @property
    def seconds(self) -> float:
        """Length of the turn's speech."""
        return len(self.tokens) / PhoneTokenizer.frame_rate


def check_rate(rate: float) -> float:
    """The user's speed factor, validated.

    Raises:
        UserInputError: outside 0.5-2.0.
    """
    if not MIN_RATE <= float(rate) <= MAX_RATE:
        raise UserInputError(
            f"Speaking rate {rate} is out of range; choose a factor from {MIN_RATE} (half speed) "
            f"to {MAX_RATE} (double speed), 1.0 keeps the voice's own pace."
        )
    return float(rate)


class TextToSemantic:
    """The loaded duration model and tokenizer; call it once per turn or per batch of turns."""

    def __init__(
        self, checkpoint: str = DEFAULT_CHECKPOINT, tokenizer: SemanticTokenizer | None = None
    ) -> None:
        """Load the duration model.

        Args:
            checkpoint: a file written by `python -m engine.train.train_duration`.
            tokenizer: frame tokens from phones and durations; default `PhoneTokenizer()`.

        Raises:
            FileNotFoundError: no checkpoint there (the message says how to make one).
        """
        if not os.path.exists(checkpoint):
            raise FileNotFoundError(
                f"The duration model {checkpoint} is missing; restore it from the repository (git checkout "
                f"assets/duration) or train it: python -m engine.train.train_duration --corpus CORPUS_DIR"
            )
        self.model: DurationModel
        self.model, loaded = load_duration_model(checkpoint)
        self.metadata: dict = loaded.get("metadata", {})
        self.tokenizer = tokenizer or PhoneTokenizer()
        self._measured: weakref.WeakKeyDictionary[VoicePrompt, PromptFeatures] = weakref.WeakKeyDictionary()

    def prompt_condition(self, prompt: Prompt) -> tuple[float, np.ndarray | None]:
        """(speaking rate in nuclei per second, style fingerprint or None) of a prompt.

        A VoicePrompt is measured once per object (then cached); a bare rate or SpeakingRate has no style, and
        the model uses an average voice's.

        Args:
            prompt: a VoicePrompt, its PromptFeatures, a measured SpeakingRate, or nuclei per second.
        """
        if isinstance(prompt, VoicePrompt):
            if prompt not in self._measured:
                self._measured[prompt] = measure_prompt(prompt.samples, prompt.sample_rate)
            prompt = self._measured[prompt]
        if isinstance(prompt, PromptFeatures):
            config = self.model.config
            if config.uses_dynamics and not prompt.dynamics_frames:
                return prompt.rate.per_second, None  # too little speech for the dynamics: an average voice's
            return prompt.rate.per_second, prompt.style_vector(config.style_kind)
        if isinstance(prompt, SpeakingRate):
            return prompt.per_second, None
        value = float(prompt)
        if not 0.5 <= value <= 15.0:
            raise ValueError(f"a speaking rate of {value} nuclei per second is not speech")
        return value, None

    @torch.inference_mode()
    def plan_batch(
        self, texts: Sequence[str], prompts: Sequence[Prompt], rates: Sequence[float] | None = None
    ) -> list[SemanticPlan]:
        """Plan several turns in one forward pass of the duration model.

        Args:
            texts: raw turn texts (normalized here).
            prompts: each turn's speaker prompt (VoicePrompt, PromptFeatures, SpeakingRate or nuclei per second).
            rates: each turn's speed factor in 0.5-2.0 (the user's per-speaker control); default 1.0.

        Returns:
            One SemanticPlan per turn, in order.

        Raises:
            UserInputError: a text with nothing to say, unsupported script, or a rate out of range.
        """
        rates = [1.0] * len(texts) if rates is None else [check_rate(r) for r in rates]
        if not len(texts) == len(prompts) == len(rates):
            raise ValueError(f"{len(texts)} texts, {len(prompts)} prompts and {len(rates)} rates")
        if not texts:
            return []
        normalized = [normalize_text(text) for text in texts]
        phones = [phonemize(n.text) for n in normalized]
        conditions = [self.prompt_condition(p) for p in prompts]
        prompt_rates = [rate for rate, _ in conditions]
        ids = torch.zeros(len(texts), max(map(len, phones)), dtype=torch.long)
        for row, turn in enumerate(phones):
            ids[row, : len(turn)] = torch.tensor(phone_ids(turn))
        styles = None
        if self.model.config.style_bands:
            # Prompts without a fingerprint get the training average (what the model saw when it was withheld).
            styles = torch.stack([
                self.model.style_mean if style is None else torch.tensor(style, dtype=torch.float32)
                for _, style in conditions
            ])
        seconds = torch.exp(self.model(ids, torch.tensor(prompt_rates, dtype=torch.float32), styles)).numpy()
        plans = []
        for row, turn in enumerate(phones):
            turn_seconds = seconds[row, : len(turn)].astype(np.float64) / rates[row]
            frames = seconds_to_frames(turn_seconds, self.tokenizer.frame_rate)
            plans.append(SemanticPlan(
                text=normalized[row].text,
                notes=normalized[row].notes,
                phones=tuple(turn),
                frames=tuple(int(f) for f in frames),
                tokens=self.tokenizer.from_durations(turn, frames),
                prompt_rate=prompt_rates[row],
                rate=rates[row],
            ))
        return plans

    def plan(self, text: str, prompt: Prompt, rate: float = 1.0) -> SemanticPlan:
        """Plan one turn; see `plan_batch`."""
        return self.plan_batch([text], [prompt], [rate])[0]

    def __call__(self, text: str, prompt: Prompt, rate: float = 1.0) -> torch.Tensor:
        """Semantic tokens of one turn, LongTensor [T]."""
        return self.plan(text, prompt, rate).tokens


@functools.lru_cache(maxsize=1)
def default_text_to_semantic() -> TextToSemantic:
    """The shipped model, loaded on first use and kept for the process."""
    return TextToSemantic()


def text_to_semantic(turn_text: str, prompt: Prompt, rate: float = 1.0) -> torch.Tensor:
    """Semantic tokens for a turn, paced like the prompt's speaker.

    Args:
        turn_text: what the speaker says (raw text; numbers and abbreviations are read out).
        prompt: the speaker's VoicePrompt (its speaking rate and timing style are measured from the audio),
            or a SpeakingRate, or a rate in syllable nuclei per second.
        rate: speed factor, 0.5 (half speed) to 2.0 (double speed).

    Returns:
        LongTensor [T], one token per 20 ms codec frame.

    Raises:
        UserInputError: nothing to say in the text, or a rate out of range.
    """
    return default_text_to_semantic()(turn_text, prompt, rate)
