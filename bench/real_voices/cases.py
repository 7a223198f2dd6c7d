"""The voices of the real-voice benchmark (unseen real people, the built-in voices, the synthetic reserved
voices), the recordings each is judged against, and the held-out sentences they speak."""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

from engine.data import real_speech
from engine.data.manifest import load_manifest
from engine.data.sentences import load_sentences
from engine.demos import demo_voice_words, demo_voices
from engine.eval.panel import ClipScores

UNSEEN, BUILT_IN, RESERVED = "unseen real", "built-in", "reserved synthetic"
# A real person of the set whose other recordings trained the acoustic model or the neural decoder (their
# metadata's `trained_real_persons`): judged as ever, but reported apart from the unseen voices.
SEEN = "real, heard in training"
REAL = (UNSEEN, SEEN)
SENTENCE_WORDS = (7, 18)
# Sentences per voice: 5 keeps a run of the whole set near 20 minutes on the 2-core machine.
SENTENCES = 4


@dataclass(frozen=True)
class VoiceCase:
    """A voice to generate in, and the recordings to judge its turns against.

    Attributes:
        id: short name; group: UNSEEN, SEEN, BUILT_IN or RESERVED; person: who speaks (shared by two channels of
            one speaker); channel: how the clip was recorded.
        prompt: the voice clip given to the synthesizer, and what it says ("" unknown).
        references: (path, text) of other recordings of the speaker.
        reference_is_prompt: only the prompt exists; it stands in as its own reference.
    """

    id: str
    group: str
    person: str
    channel: str
    prompt: Path
    prompt_text: str
    references: tuple[tuple[Path, str], ...]
    reference_is_prompt: bool = False


@dataclass
class CaseFigures:
    """Judgements of one voice: its prompt, references, their codec resynthesis, and generated turns."""

    case: VoiceCase
    prompt: ClipScores | None = None
    references: list[ClipScores] = field(default_factory=list)
    resynthesis: list[ClipScores] = field(default_factory=list)
    generated: dict[str, list[ClipScores]] = field(default_factory=dict)  # setting -> turns
    tempo: dict[str, float | None] = field(default_factory=dict)  # setting -> tempo the pipeline used
    seconds: dict[str, float] = field(default_factory=dict)  # setting -> generation wall time
    remade: dict[str, float] = field(default_factory=dict)  # setting -> share of turns made again for pace
    acoustic_rtf: dict[str, float] = field(default_factory=dict)  # setting -> acoustic s / audio s


def held_out_sentences(n: int, seed: int = 0) -> list[str]:
    """`n` sentences of the corpus's eval split (never trained on), 7-18 words, chosen by `seed`."""
    pool = [
        s.text
        for s in load_sentences()
        if s.split == "eval"
        and SENTENCE_WORDS[0] <= len(s.text.split()) <= SENTENCE_WORDS[1]
        and not any(c in s.text for c in '()[]:;"')
    ]
    return random.Random(seed).sample(sorted(pool), n)


def real_cases(folder: Path) -> list[VoiceCase]:
    """The real speakers of the set (built first if it is not there)."""
    try:
        real = real_speech.load(folder)
    except FileNotFoundError:
        print(f"[real_voices] building the real-speech set in {folder}", file=sys.stderr)
        real = real_speech.build(folder, log=lambda m: print(m, file=sys.stderr))
    return [
        VoiceCase(
            s.id,
            UNSEEN,
            s.person,
            s.channel,
            real.path(s.prompt),
            s.prompt.text,
            tuple((real.path(c), c.text) for c in s.references),
            s.reference_is_prompt,
        )
        for s in real.speakers
    ]


def built_in_cases() -> list[VoiceCase]:
    """The app's built-in voices (training-set voices); their clip is their only reference."""
    words = demo_voice_words()
    return [
        VoiceCase(name, BUILT_IN, name, "built-in", path, words.get(path.resolve(), ""), ((path, ""),), True)
        for name, path in sorted(demo_voices().items())
    ]


def reserved_cases(corpus: str) -> list[VoiceCase]:
    """The synthetic reserved voices: prompt the eval utterance nearest 6 s, references the two nearest 4 s."""
    utterances = load_manifest(corpus, "eval")
    cases = []
    for voice in sorted({u.voice for u in utterances}):
        mine = sorted((u for u in utterances if u.voice == voice), key=lambda u: u.id)
        prompt = min(mine, key=lambda u: abs(u.duration - 6.0))
        others = sorted((u for u in mine if u is not prompt), key=lambda u: abs(u.duration - 4.0))[:2]
        cases.append(
            VoiceCase(
                f"{prompt.engine}-{voice}",
                RESERVED,
                voice,
                "synthetic",
                Path(prompt.wav_path),
                prompt.text,
                tuple((Path(u.wav_path), u.text) for u in others),
            )
        )
    return cases
