"""Text-to-semantic: a turn's text and its speaker's voice prompt -> one semantic token per codec frame.

normalize -> phonemize (pauses at punctuation) -> duration model conditioned on the prompt's measured speaking
rate -> the tempo measured on the clip's own words, or on the phones recognized in it (`tempo`) -> the pace
guard (`pace_guard`: within 15 % of the clip's pace, counted on its words, given or heard by Whisper) -> the
user's rate factor -> whole frames (cumulative rounding) -> frame tokens. The models are loaded once.
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
from engine.semantic.clip_words import ClipListener
from engine.semantic.duration_model import DurationModel, load_duration_model, seconds_to_frames
from engine.semantic.pace_guard import clip_pace, pace_scale
from engine.semantic.phone_recognizer import DEFAULT_CHECKPOINT as RECOGNIZER_CHECKPOINT
from engine.semantic.phone_recognizer import load_recognizer
from engine.semantic.prompt_features import PromptFeatures, measure_prompt
from engine.semantic.speaking_rate import SpeakingRate
from engine.semantic.tempo import heard_tempo_factor, spoken_seconds, tempo_factor
from engine.semantic.tokens import PhoneTokenizer, SemanticTokenizer
from engine.text.normalize import normalize_text
from engine.text.phonemize import phone_ids, phonemize

DEFAULT_CHECKPOINT = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    "assets",
    "duration",
    "duration.pt",
)
MIN_RATE, MAX_RATE = 0.5, 2.0
# Guards on what a clip can do to the durations (real clips lie outside the synthetic voices trained on):
# a prompt rate further than RATE_Z_LIMIT training deviations from the mean is clamped to that bound, and a
# fingerprint further than STYLE_RMS_Z_LIMIT (root mean square over its dimensions, in training deviations;
# the built-in voices measure 0.35-1.28) is replaced by the average voice's, which the model saw in
# training under style dropout.
RATE_Z_LIMIT = 2.5
STYLE_RMS_Z_LIMIT = 2.0

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
        pace_scale: what the pace guard multiplied the durations by (1.0: the turn's pace was within
            PACE_TOLERANCE of the clip's, or the guard was off), times the pace check's factor when the turn
            was made again (engine/pipeline/pace_check.py).
    """

    text: str
    notes: tuple[str, ...]
    phones: tuple[str, ...]
    frames: tuple[int, ...]
    tokens: torch.Tensor
    prompt_rate: float
    rate: float
    tempo: float = 1.0
    pace_scale: float = 1.0

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
        hear_words: bool = True,
    ) -> None:
        """Load the duration model and the phone recognizer.

        Args:
            checkpoint: a file written by `python -m engine.train.train_duration`.
            tokenizer: frame tokens from phones and durations; default `PhoneTokenizer()`.
            recognizer: a file written by `python -m engine.train.train_recognizer`, which hears the phones
                of clips whose words are not given (`tempo`); None: such clips keep tempo 1.0.
            hear_words: a clip given without its words is transcribed by Whisper tiny.en, or base where
                tiny.en fails (`ClipListener`), and its pace (for the pace guard) counted on what it heard.

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
        self.listener = ClipListener() if hear_words else None
        self.model: DurationModel
        self.model, loaded = load_duration_model(checkpoint)
        self.metadata: dict = loaded.get("metadata", {})
        self.tokenizer = tokenizer or PhoneTokenizer()
        self._measured: weakref.WeakKeyDictionary[VoicePrompt, PromptFeatures] = weakref.WeakKeyDictionary()
        self._tempos: weakref.WeakKeyDictionary[VoicePrompt, dict[str, float]] = weakref.WeakKeyDictionary()
        # The range and pace guards (on by default; off only to measure what they do).
        self.guards = True

    def prompt_features(self, prompt: VoicePrompt) -> PromptFeatures:
        """The clip's measured speaking rate and timing fingerprint (measured once per clip)."""
        if prompt not in self._measured:
            self._measured[prompt] = measure_prompt(prompt.samples, prompt.sample_rate)
        return self._measured[prompt]

    def prompt_condition(self, prompt: Prompt) -> tuple[float, np.ndarray | None]:
        """(speaking rate in nuclei per second, style fingerprint or None) of a prompt.

        A VoicePrompt is measured once per object (then cached); a bare rate or SpeakingRate has no style, and
        the model uses an average voice's.

        Args:
            prompt: a VoicePrompt, its PromptFeatures, a measured SpeakingRate, or nuclei per second.
        """
        if isinstance(prompt, VoicePrompt):
            prompt = self.prompt_features(prompt)
        if isinstance(prompt, PromptFeatures):
            config = self.model.config
            style = None  # too little speech for the dynamics: an average voice's
            if not (config.uses_dynamics and not prompt.dynamics_frames):
                style = prompt.style_vector(config.style_kind)
            return self.guard_condition(prompt.rate.per_second, style)[:2]
        if isinstance(prompt, SpeakingRate):
            return prompt.per_second, None
        value = float(prompt)
        if not 0.5 <= value <= 15.0:
            raise ValueError(f"a speaking rate of {value} nuclei per second is not speech")
        return value, None

    def guard_condition(
        self, rate: float, style: np.ndarray | None
    ) -> tuple[float, np.ndarray | None, list[str]]:
        """The prompt's rate and fingerprint held to the ranges seen in training (see RATE_Z_LIMIT and
        STYLE_RMS_Z_LIMIT), and what was changed, in words."""
        config, notes = self.model.config, []
        if not self.guards:
            return rate, style, notes
        z = (np.log(max(rate, 0.1)) - config.log_rate_mean) / config.log_rate_std
        if abs(z) > RATE_Z_LIMIT:
            held = float(np.exp(config.log_rate_mean + np.sign(z) * RATE_Z_LIMIT * config.log_rate_std))
            notes.append(
                f"its speaking rate ({rate:.1f} syllables/s) is outside the voices trained on; "
                f"planned as {held:.1f}"
            )
            rate = held
        if style is not None and config.style_bands:
            spread = (torch.tensor(style, dtype=torch.float32) - self.model.style_mean) / self.model.style_std
            if float(spread.pow(2).mean().sqrt()) > STYLE_RMS_Z_LIMIT:
                notes.append(
                    "its timing fingerprint is unlike the voices trained on; an average voice's is used"
                )
                style = None
        return rate, style, notes

    def condition_notes(self, prompt: VoicePrompt) -> list[str]:
        """What `guard_condition` changed for this clip (empty when nothing)."""
        features = self.prompt_features(prompt)
        config = self.model.config
        style = None
        if not (config.uses_dynamics and not features.dynamics_frames):
            style = features.style_vector(config.style_kind)
        return self.guard_condition(features.rate.per_second, style)[2]

    def clip_pace(self, prompt: Prompt, words: str = "") -> float | None:
        """Syllables per second of speech in a measured clip: of its words when they are given, or of those
        Whisper heard in it (`heard_words`), else from its sound (syllable nuclei); None for a bare rate.

        Raises:
            UserInputError: the words given cannot be read.
        """
        heard = not words.strip()
        if isinstance(prompt, VoicePrompt):
            words = self.heard_words(prompt) if heard else words
            prompt = self.prompt_features(prompt)
        if not isinstance(prompt, PromptFeatures):
            return None
        try:
            return clip_pace(prompt.rate, words)
        except UserInputError:
            if not heard:
                raise
            return clip_pace(prompt.rate)  # what Whisper wrote cannot be read: the nuclei stand in

    def style_tensor(self, style: np.ndarray | None) -> torch.Tensor | None:
        """The fingerprint as the model takes it; a prompt without one gets the training average (what the
        model saw when it was withheld). None for a model without style input."""
        if not self.model.config.style_bands:
            return None
        return self.model.style_mean if style is None else torch.tensor(style, dtype=torch.float32)

    def heard_words(self, prompt: VoicePrompt) -> str:
        """What Whisper (tiny.en, or base) heard the clip say ("" when it failed, or `hear_words` is off)."""
        return "" if self.listener is None else self.listener.words(prompt)

    def tempo(self, prompt: VoicePrompt, words: str = "", name: str = "the voice clip") -> float:
        """Seconds the prompt's speaker takes per second the model predicts, measured on the clip's own words,
        or without them on the phones the recognizer hears in it; cached per clip and words. (Whisper's words
        are not used here: on the real-voice benchmark the tempo they gave made some speakers faster and
        raised WER by 0.047, docs/experiments.md; they count the clip's pace, `clip_pace`.)

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
            style = self.style_tensor(style)
            spoken = spoken_seconds(prompt.samples, prompt.sample_rate)
            if words:
                try:
                    phones = phonemize(normalize_text(words).text)
                except UserInputError as error:
                    raise UserInputError(f"The text given for {name}: {error}") from error
                cached[words] = tempo_factor(self.model, [(phones, spoken)], rate, style, name)
            else:
                heard = self.recognizer.recognize(prompt.samples, prompt.sample_rate)
                cached[words] = heard_tempo_factor(self.model, [(heard, spoken)], rate, style)
        return cached[words]

    @torch.inference_mode()
    def plan_batch(
        self,
        texts: Sequence[str],
        prompts: Sequence[Prompt],
        rates: Sequence[float] | None = None,
        tempos: Sequence[float] | None = None,
        pace_guards: Sequence[bool] | None = None,
        clip_words: Sequence[str] | None = None,
    ) -> list[SemanticPlan]:
        """Plan several turns in one forward pass of the duration model.

        Args:
            texts: raw turn texts (normalized here).
            prompts: each turn's speaker prompt (VoicePrompt, PromptFeatures, SpeakingRate or nuclei per second).
            rates: each turn's speed factor in 0.5-2.0 (the user's per-speaker control); default 1.0.
            tempos: each turn's `tempo` (from its prompt's words); default 1.0.
            pace_guards: per turn, hold its pace within PACE_TOLERANCE of its clip's (measured prompts only);
                default on.
            clip_words: per turn, what its clip says ("" unknown): the clip's pace is then counted on them.

        Returns:
            One SemanticPlan per turn, in order.

        Raises:
            UserInputError: a text with nothing to say, unsupported script, or a rate out of range.
        """
        rates = [1.0] * len(texts) if rates is None else [check_rate(r) for r in rates]
        tempos = [1.0] * len(texts) if tempos is None else [float(t) for t in tempos]
        pace_guards = [True] * len(texts) if pace_guards is None else list(pace_guards)
        clip_words = [""] * len(texts) if clip_words is None else list(clip_words)
        if not len(texts) == len(prompts) == len(rates) == len(tempos) == len(pace_guards) == len(clip_words):
            raise ValueError(
                f"{len(texts)} texts, {len(prompts)} prompts, {len(rates)} rates, {len(tempos)} tempos, "
                f"{len(pace_guards)} pace guards, {len(clip_words)} clip words"
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
            turn_seconds = seconds[row, : len(turn)].astype(np.float64) * tempos[row]
            scale = 1.0
            if pace_guards[row]:
                scale = self._pace_scale(turn, turn_seconds, prompts[row], clip_words[row])
            turn_seconds = turn_seconds * scale / rates[row]
            frames = seconds_to_frames(turn_seconds, self.tokenizer.frame_rate)
            plans.append(
                SemanticPlan(
                    text=normalized[row].text,
                    notes=normalized[row].notes,
                    phones=tuple(turn),
                    frames=tuple(int(f) for f in frames),
                    tokens=self.tokenizer.from_durations(turn, frames),
                    prompt_rate=prompt_rates[row],
                    rate=rates[row],
                    tempo=tempos[row],
                    pace_scale=scale,
                )
            )
        return plans

    def _pace_scale(self, phones: Sequence[str], seconds: np.ndarray, prompt: Prompt, words: str) -> float:
        """Factor that brings a planned turn's pace within PACE_TOLERANCE of its clip's (1.0 when it is)."""
        clip = self.clip_pace(prompt, words) if self.guards else None
        return 1.0 if clip is None else pace_scale(phones, seconds, clip)

    def plan(self, text: str, prompt: Prompt, rate: float = 1.0, prompt_words: str = "") -> SemanticPlan:
        """Plan one turn; see `plan_batch`. `prompt_words`: what a VoicePrompt's clip says (see `tempo`)."""
        if prompt_words.strip() and not isinstance(prompt, VoicePrompt):
            raise ValueError("the prompt's words set the tempo only with the clip itself (a VoicePrompt)")
        tempo = self.tempo(prompt, prompt_words) if isinstance(prompt, VoicePrompt) else 1.0
        return self.plan_batch([text], [prompt], [rate], [tempo], clip_words=[prompt_words])[0]

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
