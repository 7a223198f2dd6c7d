"""What a synthesis is run with: the decoding method, iterations, temperature, guidance, seed and voice
matching strength, each checked with a message that says what to choose instead."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.acoustic.decoding import DECODERS, DEFAULT_STEPS
from engine.codec.voice_match import DEFAULT_STRENGTH as DEFAULT_VOICE_MATCH
from engine.errors import UserInputError

METHODS = tuple(DECODERS)
MAX_ITERATIONS = 64
# Whether a turn heard more than 20 % off its clip's pace is made again (engine/pipeline/pace_check.py): on, since
# with the acoustic model of the wide Kokoro voice space every real-voice turn lands within 25 % of its clip's pace
# at a median acoustic real-time factor below 0.1 (about one real-voice turn in six decoded twice; 0.13-0.14 for
# the voices most often remade; docs/models/acoustic.md).
DEFAULT_PACE_CHECK = True

__all__ = [
    "DEFAULT_PACE_CHECK",
    "DEFAULT_VOICE_MATCH",
    "MAX_ITERATIONS",
    "METHODS",
    "SynthesisSettings",
    "check_settings",
    "check_voice_match",
    "resolve_iterations",
]


@dataclass(frozen=True)
class SynthesisSettings:
    """What a synthesis was run with (iterations and guidance resolved from the method's defaults).

    Attributes:
        method: "soundstorm", "group" or "spans".
        iterations: the decoder's main step count (first level / each group's coarse level).
        temperature: sampling temperature of candidate tokens.
        guidance: classifier-free guidance weight (1 = off).
        seed: seed of the token sampling and of the pause jitter.
        rates: (speaker, speed factor) pairs.
        prompt_seconds: the longest stretch of each voice clip given to the acoustic model.
        voice_match: strength of voice matching to the prompts (0 = off, or no WORLD codec).
        tempos: (speaker, tempo) pairs for speakers whose clip's words were given (`TextToSemantic.tempo`).
        heard_tempos: (speaker, tempo) pairs for the others: tempo measured on the phones heard in the clip.
        pace_check: whether turns heard off their clip's pace were made again (engine/pipeline/pace_check.py).
    """

    method: str
    iterations: int
    temperature: float
    guidance: float
    seed: int
    rates: tuple[tuple[str, float], ...]
    prompt_seconds: float
    voice_match: float = 0.0
    tempos: tuple[tuple[str, float], ...] = ()
    heard_tempos: tuple[tuple[str, float], ...] = ()
    pace_check: bool = False


def resolve_iterations(method: str, iterations: int | None) -> int:
    """The decoder's main step count: `iterations`, or the method's default.

    Raises:
        UserInputError: an unknown method, or iterations outside 1..MAX_ITERATIONS.
    """
    if method not in DECODERS:
        raise UserInputError(
            f"Decoding method {method!r} is unknown; choose one of {', '.join(METHODS)} "
            f"(group is the fastest)."
        )
    if iterations is None:
        return DEFAULT_STEPS[method]
    if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)):
        raise UserInputError(
            f"Iterations must be a whole number from 1 to {MAX_ITERATIONS}, not {iterations!r}."
        )
    if not 1 <= int(iterations) <= MAX_ITERATIONS:
        raise UserInputError(
            f"Iterations {iterations} is out of range; choose 1 to {MAX_ITERATIONS} "
            f"({DEFAULT_STEPS[method]} is the default for {method})."
        )
    return int(iterations)


def check_voice_match(strength: float) -> float:
    """A voice matching strength, checked: a number from 0 (off) to 1."""
    try:
        value = float(strength)
    except (TypeError, ValueError):
        value = float("nan")
    if not 0.0 <= value <= 1.0:
        raise UserInputError(
            f"Voice matching strength {strength!r} is out of range; use a number from 0 (off) to 1 "
            f"(default {DEFAULT_VOICE_MATCH:g})."
        )
    return value


def check_settings(temperature: float, guidance: float, seed: int) -> None:
    """Refuse a temperature outside 0..5, a guidance outside 1..10 or a seed that is not a whole number."""
    if not 0.0 <= float(temperature) <= 5.0:
        raise UserInputError(
            f"Temperature {temperature} is out of range; choose 0 (greedy) to 5, 1.0 samples the model as trained."
        )
    if not 1.0 <= float(guidance) <= 10.0:
        raise UserInputError(f"Guidance {guidance} is out of range; choose 1 (off) to 10; 3 is typical.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**63:
        raise UserInputError(f"Seed {seed!r} must be a whole number from 0 up; e.g. seed 0.")
