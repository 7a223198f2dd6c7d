"""The page's inputs read for a synthesis: the per-slot values (clips, built-in voices, clip words, rates)
mapped to the transcript's speakers, each clip checked once per file version; and the API's names for them."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.demos import demo_voices
from engine.errors import UserInputError
from engine.text.transcript import TranscriptError
from engine.ui import reports
from engine.ui.speakers import (
    SLOTS,
    SlotError,
    SpeakerPlan,
    missing_voice_error,
    no_slot_error,
    plan_speakers,
    slot_values,
)


def split_speaker_values(values: Sequence[Any]) -> tuple[list, list, list, list]:
    """The page's per-slot inputs, in component order: uploads, built-in voices, clip words, rates; k of
    each for the first k slots (k <= 8; the rest are empty), each list padded to every slot."""
    if len(values) % 4 or len(values) > 4 * len(SLOTS):
        raise ValueError(
            f"expected 4 x k per-slot values (uploads, built-in voices, clip words, rates; k <= {len(SLOTS)}), "
            f"got {len(values)}"
        )
    k = len(values) // 4
    uploads, choices, words, rates = (slot_values(values[i * k : (i + 1) * k], "values") for i in range(4))
    return uploads, choices, words, [1.0 if r is None else r for r in rates]


SPEAKER_PARAMETERS = [
    *[(f"voice_{s.lower()}", None) for s in SLOTS],
    *[(f"demo_voice_{s.lower()}", None) for s in SLOTS],
    *[(f"voice_text_{s.lower()}", None) for s in SLOTS],
    *[(f"rate_{s.lower()}", 1.0) for s in SLOTS],
]


def named_speaker_inputs(fn: Callable) -> Callable:
    """Give a handler's `*speaker_values` their names (voice_s1.., demo_voice_s1.., voice_text_s1..,
    rate_s1..) in its signature, each with a default, so that API clients may leave any out.

    Gradio builds its API from the signature, so clients see the names and may pass them by keyword
    (`client.predict(transcript=..., voice_s1=handle_file("a.wav"), api_name="/generate")`); the handler
    still receives them, positionally, as *speaker_values.
    """
    signature = inspect.signature(fn)
    parameters = []
    for parameter in signature.parameters.values():
        if parameter.kind is parameter.VAR_POSITIONAL:
            parameters += [
                inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default)
                for name, default in SPEAKER_PARAMETERS
            ]
        else:
            parameters.append(parameter)
    fn.__signature__ = signature.replace(parameters=parameters)
    return fn


@functools.lru_cache(maxsize=64)
def _check_clip_file(path: str, mtime_ns: int, size: int) -> tuple[bool, str]:
    from engine.audio import load_voice_prompt
    from engine.denoise import clean_up
    from engine.voice_check import speech_problem

    del mtime_ns, size  # part of the cache key: a changed file is checked again
    name = Path(path).name
    try:
        prompt = clean_up(load_voice_prompt(path, name=name))
    except UserInputError as err:
        return False, str(err)
    problem = speech_problem(prompt)
    if problem:
        return False, f"Voice clip '{name}' cannot be used: {problem}"
    return True, reports.clip_summary(prompt, path)


def builtin_summary(name: str, message: str) -> str:
    """A built-in voice's clip check, said as such (its words are known)."""
    details = message.removeprefix("✓ ").split(": ", 1)[-1]
    return f"✓ built-in voice {name}: {details} Its words are known, so its tempo is measured on them."


def check_clip(path: str | Path) -> tuple[bool, str]:
    """Whether a clip can be a voice, and what to say under its slot (what is wrong, or how it was cleaned
    up); the clip is read once per file version."""
    try:
        stat = Path(path).stat()
    except OSError:
        return False, f"Voice clip '{Path(path).name}' was not found; upload it again."
    return _check_clip_file(str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size)


@dataclass(frozen=True)
class PageInput:
    """What the page's fields give the synthesizer.

    Attributes:
        plan: the transcript read with the slots that have a voice.
        voices: speaker -> clip path.
        rates: speaker -> speaking rate.
        texts: speaker -> the clip's words (given ones only).
        clips: slot -> the line to show under it (its clip check), for the slots the dialogue uses.
    """

    plan: SpeakerPlan
    voices: dict[str, str]
    rates: dict[str, float]
    texts: dict[str, str]
    clips: dict[str, str]

    @property
    def words(self) -> int:
        return sum(len(turn.text.split()) for turn in self.plan.turns)


def slot_clips(uploads: Sequence, choices: Sequence) -> dict[str, tuple[str, str | None]]:
    """slot -> (clip path, built-in voice name or None); an upload wins over a built-in voice."""
    builtin = demo_voices()
    by_slot: dict[str, tuple[str, str | None]] = {}
    for slot, upload, choice in zip(SLOTS, uploads, choices, strict=True):
        if upload:
            by_slot[slot] = (str(upload), None)
        elif choice:
            if choice not in builtin:
                raise SlotError(
                    slot,
                    f"{choice!r} is not a built-in voice; choose one of {', '.join(builtin)}, or upload a clip.",
                )
            by_slot[slot] = (str(builtin[choice]), choice)
    return by_slot


def read_page(
    transcript: str | None, speaker_values: Sequence[Any], require_voices: bool = True
) -> PageInput:
    """Read the page's dialogue and voice slots.

    Args:
        transcript: the dialogue text.
        speaker_values: the per-slot inputs (`split_speaker_values`).
        require_voices: refuse a speaker without a voice (False: leave them out, to check the text alone).

    Returns:
        The speakers with their clips, rates and clip words, and each used slot's clip check.

    Raises:
        TranscriptError: the transcript cannot be read, or has speakers the page has no slot for.
        SlotError: a slot's clip cannot be used, or a speaker's slot has no voice.
    """
    uploads, choices, words, rates = split_speaker_values(speaker_values)
    by_slot = slot_clips(uploads, choices)
    plan = plan_speakers(transcript or "", filled=set(by_slot))
    if (error := no_slot_error(plan)) is not None:
        raise TranscriptError(str(error))
    if require_voices and (error := missing_voice_error(plan, set(by_slot))) is not None:
        raise error
    clips: dict[str, str] = {}
    for slot in dict.fromkeys(plan.slots.values()):
        if slot not in by_slot:
            continue
        path, builtin = by_slot[slot]
        ok, message = check_clip(path)
        if not ok:
            raise SlotError(slot, message)
        clips[slot] = (
            message if builtin is None else f"✓ built-in voice {builtin}: " + message.removeprefix("✓ ")
        )
    slot_rates = dict(zip(SLOTS, rates, strict=True))
    slot_words = {slot: str(w).strip() for slot, w in zip(SLOTS, words, strict=True) if w and str(w).strip()}
    return PageInput(
        plan=plan,
        voices={name: by_slot[slot][0] for name, slot in plan.slots.items() if slot in by_slot},
        rates={name: float(slot_rates[slot]) for name, slot in plan.slots.items()},
        texts={name: slot_words[slot] for name, slot in plan.slots.items() if slot in slot_words},
        clips=clips,
    )


def plan_or_none(transcript: str | None, speaker_values: Sequence[Any]) -> SpeakerPlan | None:
    try:
        uploads, choices, _, _ = split_speaker_values(speaker_values)
        return plan_speakers(transcript or "", filled=set(slot_clips(uploads, choices)))
    except UserInputError:
        return None
