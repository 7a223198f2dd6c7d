"""Planning a dialogue's turns: each speaker's rate and tempo (from the clip's words, the built-in voice's
known words, or the phones heard in the clip), the semantic tokens of every turn, and the length limits of
one acoustic batch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.audio import VoicePrompt
from engine.demos import demo_voice_words
from engine.errors import UserInputError
from engine.semantic.t2s import SemanticPlan, TextToSemantic, check_rate
from engine.text.transcript import Turn

# One batch holds every turn padded to the longest: these bound its memory (logits of B x T x 4096 codes).
MAX_TURN_SECONDS = 60.0
MAX_BATCH_SECONDS = 1800.0


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


def plan_turns(
    t2s: TextToSemantic,
    turns: Sequence[Turn],
    prompts: Mapping[str, VoicePrompt],
    sources: Mapping[str, object],
    rates: Mapping[str, float],
    voice_texts: Mapping[str, str] | None,
) -> DialoguePlan:
    """Every turn's semantic tokens in one pass, each speaker at the tempo measured on their clip.

    Args:
        t2s: the text-to-semantic stage.
        turns: the parsed dialogue.
        prompts: speaker (as in the turns) -> their prepared voice clip.
        sources: speaker -> what the clip was given as (a built-in voice's path has known words).
        rates: speaker -> speed factor.
        voice_texts: speaker -> what their clip says (keys matched ignoring case); may be None.

    Raises:
        UserInputError: words that cannot be the clip's, or a turn or batch too long (`check_lengths`).
    """
    names = list(prompts)
    words = {str(key).strip().casefold(): text for key, text in (voice_texts or {}).items() if text}
    built_in = demo_voice_words()
    for name in names:  # the built-in voices' words are known
        source = sources[name]
        if name.casefold() not in words and isinstance(source, (str, Path)):
            words[name.casefold()] = built_in.get(Path(source).resolve(), "")
    tempos = {
        name: t2s.tempo(prompts[name], words.get(name.casefold()) or "", f"{name}'s voice clip")
        for name in names
    }
    plans = t2s.plan_batch(
        [turn.text for turn in turns],
        [prompts[t.speaker] for t in turns],
        [rates[t.speaker] for t in turns],
        [tempos[t.speaker] for t in turns],
        [not words.get(t.speaker.casefold()) for t in turns],
    )
    notes = []
    for name in names:
        notes += [f"voice {name}: {note}" for note in t2s.condition_notes(prompts[name])]
        scales = [p.pace_scale for p, t in zip(plans, turns) if t.speaker == name and p.pace_scale != 1.0]
        if scales:
            notes.append(
                f"voice {name}: the pace of {len(scales)} turn(s) was held within 15 % of the clip's "
                f"(durations x{min(scales):.2f}-{max(scales):.2f}); give the clip's words for an exact tempo"
            )
    check_lengths(turns, plans)
    known = frozenset(name for name in names if words.get(name.casefold()))
    return DialoguePlan(plans, tempos, known, notes)


def check_lengths(turns: Sequence[Turn], plans: Sequence[SemanticPlan]) -> None:
    """Refuse turns too long for one batch, naming the turn and how to fix it."""
    longest = max(range(len(plans)), key=lambda i: plans[i].seconds)
    seconds = plans[longest].seconds
    turn = turns[longest]
    if seconds > MAX_TURN_SECONDS:
        raise UserInputError(
            f"Turn {longest + 1} (line {turn.line}, {turn.speaker}) would last {seconds:.0f} s; a turn can last "
            f"at most {MAX_TURN_SECONDS:.0f} s. Split it into several turns of the same speaker."
        )
    if seconds * len(plans) > MAX_BATCH_SECONDS:
        raise UserInputError(
            f"The dialogue is too long to generate at once: {len(plans)} turns padded to the longest "
            f"({seconds:.0f} s) make {seconds * len(plans) / 60:.0f} minutes. Generate it in parts of "
            f"at most {int(MAX_BATCH_SECONDS // seconds)} turns."
        )
