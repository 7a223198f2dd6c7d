"""The end-to-end benchmark's dialogue: held-out sentences of the corpus's eval split in reserved voices, their
prompts, the recordings to score against, and the short warm-up dialogue."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from engine.data.manifest import Utterance, load_manifest
from engine.errors import UserInputError
from engine.text.transcript import parse_transcript

DEFAULT_CORPUS = os.environ.get("CORPUS_DIR", "/work/corpus")
# mbrola us3 and flite awb: two reserved voices of different engines and sexes.
DEFAULT_VOICES = ("us3", "awb")
TARGET_SECONDS = 30.0
# The prompt is the utterance nearest PROMPT_SECONDS (the acoustic model keeps its last few seconds); the
# similarity reference is nearest OTHER_SECONDS, about a turn's length, since resemblyzer scores rise with length.
PROMPT_SECONDS, OTHER_SECONDS = 6.0, 4.0
TURN_SECONDS = (2.5, 6.5)  # sentences of this length (in their real recording) make the turns
PAUSE_ESTIMATE_S = 0.45  # a speaker change's pause in AssemblyConfig, to plan the dialogue's length
STAGES = ("parse", "load", "prompts", "t2s", "acoustic", "codec_decode", "assemble")


@dataclass(frozen=True)
class DialogueCase:
    """A dialogue to generate and what to score it against.

    Attributes:
        transcript: one "[S1] text" line per turn.
        voices: speaker -> voice prompt file.
        other_recordings: speaker -> another recording of the same voice (speaker-similarity reference).
        labels: speaker -> the voice's name, e.g. "mbrola us3".
        reference_recordings: per turn, the real recording of its sentence by its voice (None if there is none).
    """

    transcript: str
    voices: dict[str, str]
    other_recordings: dict[str, str]
    labels: dict[str, str]
    reference_recordings: tuple[str | None, ...]


def _usable(utterance: Utterance) -> bool:
    """A sentence that reads as one clean turn: no stage-direction parentheses or tag-like brackets."""
    return (
        not any(c in utterance.text for c in "()[]")
        and TURN_SECONDS[0] <= utterance.duration <= TURN_SECONDS[1]
    )


def corpus_dialogue(
    corpus: str = DEFAULT_CORPUS, voices: Sequence[str] = DEFAULT_VOICES, seconds: float = TARGET_SECONDS
) -> DialogueCase:
    """A dialogue of held-out sentences in reserved voices, from the corpus's evaluation split.

    Per voice: the utterance nearest PROMPT_SECONDS is the prompt, the one nearest OTHER_SECONDS the similarity
    reference; the voices then take turns speaking their other sentences (never trained on, as the voices)
    until their real recordings and the pauses between them add up to about `seconds`.

    Args:
        corpus: corpus folder (engine.data.build_corpus).
        voices: eval-split voice names (Utterance.voice), one per speaker S1, S2, ...
        seconds: the dialogue's planned length.

    Returns:
        The dialogue, its voices and the recordings to score it against.

    Raises:
        UserInputError: the corpus has no eval split, or a voice is not in it or has too few sentences.
    """
    utterances = load_manifest(corpus, "eval")
    if not utterances:
        raise UserInputError(
            f"{corpus!r} has no eval utterances; build the corpus first (engine.data.build_corpus)."
        )
    present = sorted({u.voice for u in utterances})
    names = [f"S{i + 1}" for i in range(len(voices))]
    prompts, others, labels, pools = {}, {}, {}, []
    for name, voice in zip(names, voices):
        mine = sorted((u for u in utterances if u.voice == voice), key=lambda u: u.id)
        if len(mine) < 4:
            raise UserInputError(
                f"Voice {voice!r} has {len(mine)} eval utterances, too few for a dialogue; choose from "
                f"{', '.join(present)}."
            )
        prompt = min(mine, key=lambda u: abs(u.duration - PROMPT_SECONDS))
        other = min((u for u in mine if u is not prompt), key=lambda u: abs(u.duration - OTHER_SECONDS))
        prompts[name], others[name] = prompt.wav_path, other.wav_path
        labels[name] = f"{prompt.engine} {voice}"
        pools.append([u for u in mine if u is not prompt and u is not other and _usable(u)])
    # Turns alternate between the voices; a voice whose sentences run out leaves the rest to the others.
    order = [
        (name, pool[i])
        for i in range(max(map(len, pools)))
        for name, pool in zip(names, pools)
        if i < len(pool)
    ]
    lines, references, planned = [], [], 0.0
    for name, utterance in order:
        if planned + utterance.duration / 2 > seconds:  # this turn would overshoot by more than its half
            break
        lines.append(f"[{name}] {utterance.text}")
        references.append(utterance.wav_path)
        planned += utterance.duration + PAUSE_ESTIMATE_S
    return DialogueCase("\n".join(lines), prompts, others, labels, tuple(references))


def warmup_transcript(transcript: str) -> str:
    """The first line of each speaker's first turn: a short dialogue that loads every model and speaker."""
    lines = transcript.splitlines()
    firsts: dict[str, int] = {}
    for turn in parse_transcript(transcript):
        firsts.setdefault(turn.speaker, turn.line)
    return "\n".join(lines[line - 1] for line in sorted(firsts.values()))
