"""Text-to-semantic: a turn's text and its speaker's voice prompt -> one semantic token per codec frame.

normalize -> phonemize (pauses at punctuation) -> duration model conditioned on the prompt's measured speaking
rate -> the tempo measured on the clip's own words, or on the phones recognized in it (`tempo`) -> the user's
rate factor -> whole frames (cumulative rounding) -> frame tokens. The models are loaded once.
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
from engine.semantic.phone_recognizer import DEFAULT_CHECKPOINT as RECOGNIZER_CHECKPOINT
from engine.semantic.phone_recognizer import load_recognizer
from engine.semantic.prompt_features import PromptFeatures, measure_prompt
from engine.semantic.speaking_rate import SpeakingRate
from engine.semantic.tempo import heard_tempo_factor, spoken_seconds, tempo_factor
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
        tempo: seconds the speaker takes per predicted second, measured on the prompt's words (1.0 without
            them).
    """

    text: str
    notes: tuple[str, ...]
    phones: tuple[str, ...]
    frames: tuple[int, ...]
    tokens: torch.Tensor
    prompt_rate: float
    rate: float
    tempo: float = 1.0

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
        self,
        checkpoint: str = DEFAULT_CHECKPOINT,
        tokenizer: SemanticTokenizer | None = None,
        recognizer: str | os.PathLike | None = RECOGNIZER_CHECKPOINT,
    ) -> None:
        """Load the duration model and the phone recognizer.

        Args:
            checkpoint: a file written by `python -m engine.train.train_duration`.
            tokenizer: frame tokens from phones and durations; default `PhoneTokenizer()`.
            recognizer: a file written by `python -m engine.train.train_recognizer`, which hears the phones
                of clips whose words are not given (`tempo`); None: such clips keep tempo 1.0.

        Raises:
            FileNotFoundError: no checkpoint there (the message says how to make one).
        """
        for path, part in ((checkpoint, "duration"), (recognizer, "recognizer")):
            if path is not None and not os.path.exists(path):
                raise FileNotFoundError(
                    f"The {part} model {path} is missing; restore it from the repository (git checkout "
                    f"assets/{part}) or train it: python -m engine.train.train_{part} --corpus CORPUS_DIR"
                )
        self.recognizer = None if recognizer is None else load_recognizer(recognizer)
        self.model: DurationModel
        self.model, loaded = load_duration_model(checkpoint)
        self.metadata: dict = loaded.get("metadata", {})
        self.tokenizer = tokenizer or PhoneTokenizer()
        self._measured: weakref.WeakKeyDictionary[VoicePrompt, PromptFeatures] = weakref.WeakKeyDictionary()
        self._tempos: weakref.WeakKeyDictionary[VoicePrompt, dict[str, float]] = weakref.WeakKeyDictionary()

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

    def style_tensor(self, style: np.ndarray | None) -> torch.Tensor | None:
        """The fingerprint as the model takes it; a prompt without one gets the training average (what the
        model saw when it was withheld). None for a model without style input."""
        if not self.model.config.style_bands:
            return None
        return self.model.style_mean if style is None else torch.tensor(style, dtype=torch.float32)

    def tempo(self, prompt: VoicePrompt, words: str = "", name: str = "the voice clip") -> float:
        """Seconds the prompt's speaker takes per second the model predicts, measured on the clip's own words,
        or without them on the phones the recognizer hears in it; cached per clip and words.

        Args:
            prompt: the voice clip.
            words: what the clip says (raw text); empty: the phones are recognized (1.0 without a recognizer,
                or when too few are heard or they do not fit the clip, `heard_tempo_factor`).
            name: how to call the clip in error messages.

        Raises:
            UserInputError: the words cannot be read, or cannot be what the clip says.
        """
        words = words.strip()
        if not words and self.recognizer is None:
            return 1.0
        cached = self._tempos.setdefault(prompt, {})
        if words not in cached:
            rate, style = self.prompt_condition(prompt)
            spoken = spoken_seconds(prompt.samples, prompt.sample_rate)
            if words:
                try:
                    phones = phonemize(normalize_text(words).text)
                except UserInputError as error:
                    raise UserInputError(f"The text given for {name}: {error}") from error
                cached[words] = tempo_factor(self.model, [(phones, spoken)], rate, self.style_tensor(style), name)
            else:
                heard = self.recognizer.recognize(prompt.samples, prompt.sample_rate)
                cached[words] = heard_tempo_factor(self.model, [(heard, spoken)], rate, self.style_tensor(style))
        return cached[words]

    @torch.inference_mode()
    def plan_batch(
        self,
        texts: Sequence[str],
        prompts: Sequence[Prompt],
        rates: Sequence[float] | None = None,
        tempos: Sequence[float] | None = None,
    ) -> list[SemanticPlan]:
        """Plan several turns in one forward pass of the duration model.

        Args:
            texts: raw turn texts (normalized here).
            prompts: each turn's speaker prompt (VoicePrompt, PromptFeatures, SpeakingRate or nuclei per second).
            rates: each turn's speed factor in 0.5-2.0 (the user's per-speaker control); default 1.0.
            tempos: each turn's `tempo` (from its prompt's words); default 1.0.

        Returns:
            One SemanticPlan per turn, in order.

        Raises:
            UserInputError: a text with nothing to say, unsupported script, or a rate out of range.
        """
        rates = [1.0] * len(texts) if rates is None else [check_rate(r) for r in rates]
        tempos = [1.0] * len(texts) if tempos is None else [float(t) for t in tempos]
        if not len(texts) == len(prompts) == len(rates) == len(tempos):
            raise ValueError(
                f"{len(texts)} texts, {len(prompts)} prompts, {len(rates)} rates, {len(tempos)} tempos"
            )
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
            styles = torch.stack([self.style_tensor(style) for _, style in conditions])
        seconds = torch.exp(self.model(ids, torch.tensor(prompt_rates, dtype=torch.float32), styles)).numpy()
        plans = []
        for row, turn in enumerate(phones):
            turn_seconds = seconds[row, : len(turn)].astype(np.float64) * tempos[row] / rates[row]
            frames = seconds_to_frames(turn_seconds, self.tokenizer.frame_rate)
            plans.append(SemanticPlan(
                text=normalized[row].text,
                notes=normalized[row].notes,
                phones=tuple(turn),
                frames=tuple(int(f) for f in frames),
                tokens=self.tokenizer.from_durations(turn, frames),
                prompt_rate=prompt_rates[row],
                rate=rates[row],
                tempo=tempos[row],
            ))
        return plans

    def plan(self, text: str, prompt: Prompt, rate: float = 1.0, prompt_words: str = "") -> SemanticPlan:
        """Plan one turn; see `plan_batch`. `prompt_words`: what a VoicePrompt's clip says (see `tempo`)."""
        if prompt_words.strip() and not isinstance(prompt, VoicePrompt):
            raise ValueError("the prompt's words set the tempo only with the clip itself (a VoicePrompt)")
        tempo = self.tempo(prompt, prompt_words) if isinstance(prompt, VoicePrompt) else 1.0
        return self.plan_batch([text], [prompt], [rate], [tempo])[0]

    def __call__(self, text: str, prompt: Prompt, rate: float = 1.0, prompt_words: str = "") -> torch.Tensor:
        """Semantic tokens of one turn, LongTensor [T]."""
        return self.plan(text, prompt, rate, prompt_words).tokens


@functools.lru_cache(maxsize=1)
def default_text_to_semantic() -> TextToSemantic:
    """The shipped model, loaded on first use and kept for the process."""
    return TextToSemantic()


def text_to_semantic(
    turn_text: str, prompt: Prompt, rate: float = 1.0, prompt_words: str = ""
) -> torch.Tensor:
    """Semantic tokens for a turn, paced like the prompt's speaker.

    Args:
        turn_text: what the speaker says (raw text; numbers and abbreviations are read out).
        prompt: the speaker's VoicePrompt (its speaking rate and timing style are measured from the audio),
            or a SpeakingRate, or a rate in syllable nuclei per second.
        rate: speed factor, 0.5 (half speed) to 2.0 (double speed).
        prompt_words: what the VoicePrompt's clip says, if known: the speaker's tempo is then measured on it
            (on the reserved voices, 5 s prompts: 88-90 % of utterance lengths within 10 %), else on the phones
            recognized in the clip (80 %; the model alone, 73 %).

    Returns:
        LongTensor [T], one token per 20 ms codec frame.

    Raises:
        UserInputError: nothing to say in the text, a rate out of range, or words that are not the clip's.
    """
    return default_text_to_semantic()(turn_text, prompt, rate, prompt_words)
