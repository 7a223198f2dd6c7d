"""Planning a dialogue's turns: each speaker's rate and tempo (from the clip's words, the built-in voice's
known words, or the phones heard in the clip) and pace (the clip's, counted on its words or those Whisper
heard in it), the semantic tokens of every turn, and the longest turn one acoustic batch takes (a dialogue of
any length is decoded in chunks: engine/pipeline/chunks.py); with the pace check, the turns heard off their
clip's pace planned again (engine/pipeline/pace_check.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from engine.audio import VoicePrompt
from engine.demos import demo_voice_words
from engine.errors import UserInputError
from engine.pipeline.pace_check import HEARD_TOLERANCE, correction, heard_ratio
from engine.semantic.pace_guard import PACE_TOLERANCE
from engine.semantic.t2s import SemanticPlan, TextToSemantic, check_rate
from engine.text.transcript import Turn

# A turn is decoded whole, in one chunk: this bounds a chunk's memory (logits of T x 4096 codes).
MAX_TURN_SECONDS = 60.0


@dataclass(frozen=True)
class DialoguePlan:
    """The semantic plan of every turn and how each speaker's tempo was measured.

    Attributes:
        plans: one per turn, in order.
        tempos: speaker -> tempo factor the durations were scaled by.
        known_words: speakers whose clip's words were known (given, or a built-in voice's).
        notes: remarks for the user (a clip's rate or fingerprint held to the training range, paces held).
    """

    plans: list[SemanticPlan]
    tempos: dict[str, float]
    known_words: frozenset[str]
    notes: list[str]


def rates_for(names: Sequence[str], rate: float | Mapping[str, float]) -> dict[str, float]:
    """Speed factor per speaker (keys matched ignoring case); speakers not named get 1.0."""
    if isinstance(rate, Mapping):
        given = {str(k).strip().casefold(): v for k, v in rate.items()}
        unknown = [k for k in rate if str(k).strip().casefold() not in {n.casefold() for n in names}]
        if unknown:
            raise UserInputError(
                f"A speaking rate was given for {', '.join(map(str, unknown))}, who never speaks "
                f"(speakers: {', '.join(names)}); check the name."
            )
        return {n: check_rate(given.get(n.casefold(), 1.0)) for n in names}
    return {n: check_rate(rate) for n in names}


class TurnPlanner:
    """Plans a dialogue's turns a few at a time (the first turn before the rest, so a long dialogue's first
    audio need not wait for all of them); each speaker's tempo is measured on their clip when first needed.

    Args:
        t2s: the text-to-semantic stage.
        turns: the parsed dialogue.
        prompts: speaker (as in the turns) -> their prepared voice clip.
        sources: speaker -> what the clip was given as (a built-in voice's path has known words).
        rates: speaker -> speed factor.
        voice_texts: speaker -> what their clip says (keys matched ignoring case); may be None.
    """

    def __init__(
        self,
        t2s: TextToSemantic,
        turns: Sequence[Turn],
        prompts: Mapping[str, VoicePrompt],
        sources: Mapping[str, object],
        rates: Mapping[str, float],
        voice_texts: Mapping[str, str] | None,
    ) -> None:
        self.t2s, self.turns, self.prompts, self.rates = t2s, list(turns), prompts, rates
        words = {str(key).strip().casefold(): text for key, text in (voice_texts or {}).items() if text}
        built_in = demo_voice_words()
        for name, source in sources.items():  # the built-in voices' words are known
            if name.casefold() not in words and isinstance(source, (str, Path)):
                words[name.casefold()] = built_in.get(Path(source).resolve(), "")
        self.words = {name: words.get(name.casefold()) or "" for name in prompts}
        self.tempos: dict[str, float] = {}
        self.plans: dict[int, SemanticPlan] = {}
        self.paces: dict[str, float | None] = {}
        self.remade: dict[int, tuple[float, float | None]] = {}  # turn -> its pace as heard, before and after

    def tempo(self, name: str) -> float:
        """The speaker's tempo factor (measured on their clip once).

        Raises:
            UserInputError: words that cannot be the clip's.
        """
        if name not in self.tempos:
            self.tempos[name] = self.t2s.tempo(self.prompts[name], self.words[name], f"{name}'s voice clip")
        return self.tempos[name]

    def plan(self, indices: Sequence[int]) -> list[SemanticPlan]:
        """The semantic plans of these turns (planned in one pass, or kept from an earlier call).

        Raises:
            UserInputError: words that cannot be a clip's, a text with nothing to say, or a turn too long.
        """
        todo = [i for i in indices if i not in self.plans]
        if todo:
            turns = [self.turns[i] for i in todo]
            plans = self.t2s.plan_batch(
                [turn.text for turn in turns],
                [self.prompts[t.speaker] for t in turns],
                [self.rates[t.speaker] for t in turns],
                [self.tempo(t.speaker) for t in turns],
                clip_words=[self.words[t.speaker] for t in turns],
            )
            check_lengths(turns, plans, todo)
            self.plans.update(zip(todo, plans, strict=True))
        return [self.plans[i] for i in indices]

    def clip_pace(self, name: str) -> float | None:
        """The speaker's clip's pace (syllables per second of speech), counted once; None when unknown."""
        if name not in self.paces:
            self.paces[name] = self.t2s.clip_pace(self.prompts[name], self.words[name])
        return self.paces[name]

    def off_pace(
        self, indices: Sequence[int], waves: Sequence[np.ndarray], sample_rate: int
    ) -> dict[int, float]:
        """The decoded turns (`waves[k]` is turn `indices[k]`, planned already) heard more than HEARD_TOLERANCE
        off their clip's pace, each with the factor on its durations that corrects it; none when the guards
        are off, a turn was made again already, or it would grow longer than a turn may last."""
        if not self.t2s.guards:
            return {}
        found = {}
        for i, wave in zip(indices, waves, strict=True):
            clip = self.clip_pace(self.turns[i].speaker)
            ratio = (
                None
                if clip is None or i in self.remade
                else heard_ratio(wave, sample_rate, self.plans[i], clip)
            )
            factor = correction(ratio)
            if factor is not None and self.plans[i].seconds * factor <= MAX_TURN_SECONDS:
                found[i] = factor
                self.remade[i] = (float(ratio), None)
        return found

    def replan(self, index: int, factor: float) -> SemanticPlan:
        """Plan turn `index` again with its durations times `factor` (the guard's scale kept, the guard not
        applied again); the new plan replaces the old one."""
        old, turn = self.plans[index], self.turns[index]
        name = turn.speaker
        plan = self.t2s.plan_batch(
            [turn.text],
            [self.prompts[name]],
            [self.rates[name]],
            [self.tempo(name) * old.pace_scale * factor],
            pace_guards=[False],
            clip_words=[self.words[name]],
        )[0]
        self.plans[index] = replace(plan, tempo=old.tempo, pace_scale=old.pace_scale * factor)
        return self.plans[index]

    def heard_again(self, index: int, wave: np.ndarray, sample_rate: int) -> None:
        """Record the pace as heard of a turn made again (for the notes)."""
        clip = self.clip_pace(self.turns[index].speaker)
        before = self.remade[index][0]
        self.remade[index] = (
            before,
            None if clip is None else heard_ratio(wave, sample_rate, self.plans[index], clip),
        )

    def result(self) -> DialoguePlan:
        """Every turn's plan (planning those not planned yet), the tempos and the notes for the user."""
        plans = self.plan(range(len(self.turns)))
        notes = [note for name in self.prompts for note in self._voice_notes(name, plans)]
        known = frozenset(name for name in self.prompts if self.words[name])
        return DialoguePlan(plans, {n: self.tempo(n) for n in self.prompts}, known, notes)

    def _voice_notes(self, name: str, plans: Sequence[SemanticPlan]) -> list[str]:
        """What the duration guards and the listener did for one speaker, in words."""
        prompt, given = self.prompts[name], bool(self.words[name])
        notes = [f"voice {name}: {note}" for note in self.t2s.condition_notes(prompt)]
        heard = "" if given else self.t2s.heard_words(prompt)
        listener = self.t2s.listener
        if heard:
            notes.append(
                f"voice {name}: its clip's words were not given; Whisper heard \u201c{heard}\u201d and the clip's "
                "pace was counted on that (type the clip's words for an exact tempo)"
            )
        elif not given and listener is not None and listener.unavailable:
            notes.append(f"voice {name}: the clip's pace was counted from its sound; {listener.unavailable}")
        scales = [  # the guard's alone: a turn made again has its own note
            p.pace_scale
            for i, (p, t) in enumerate(zip(plans, self.turns))
            if t.speaker == name and p.pace_scale != 1.0 and i not in self.remade
        ]
        if scales:
            notes.append(
                f"voice {name}: the pace of {len(scales)} turn(s) was held within {PACE_TOLERANCE * 100:.0f} % "
                f"of the clip's (durations x{min(scales):.2f}-{max(scales):.2f})"
                + ("" if given else "; give the clip's words for an exact tempo")
            )
        remade = [
            (i + 1, *self.remade[i])
            for i, t in enumerate(self.turns)
            if t.speaker == name and i in self.remade
        ]
        if remade:
            notes.append(
                f"voice {name}: turn(s) {', '.join(str(n) for n, _, _ in remade)} came out more than "
                f"{HEARD_TOLERANCE * 100:.0f} % off the clip's pace as heard ("
                + ", ".join(
                    f"x{before:.2f}" + ("" if after is None else f" -> x{after:.2f}")
                    for _, before, after in remade
                )
                + ") and were made again"
            )
        return notes


def check_lengths(
    turns: Sequence[Turn], plans: Sequence[SemanticPlan], indices: Sequence[int] | None = None
) -> None:
    """Refuse a turn too long for one batch, naming the turn (its number in the dialogue: `indices`, when
    `turns` are some of its turns) and how to fix it."""
    longest = max(range(len(plans)), key=lambda i: plans[i].seconds)
    seconds = plans[longest].seconds
    turn = turns[longest]
    number = (indices[longest] if indices is not None else longest) + 1
    if seconds > MAX_TURN_SECONDS:
        raise UserInputError(
            f"Turn {number} (line {turn.line}, {turn.speaker}) would last {seconds:.0f} s; a turn can last "
            f"at most {MAX_TURN_SECONDS:.0f} s. Split it into several turns of the same speaker."
        )
