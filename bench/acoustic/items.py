"""The acoustic benchmark's evaluation items: held-out sentences of the reserved voices, each with a prompt
and a similarity reference of the same voice, and the settings and targets the benchmark sweeps."""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from engine.errors import UserInputError

DEFAULT_CORPUS = os.environ.get("CORPUS_DIR", "/work/corpus")
ITERATIONS = (1, 2, 4, 8, 16)
# Voice matching strengths the default decoder is also generated at (0 = the acoustic model as it is).
VOICE_MATCH_STRENGTHS = (0.0, 0.3, 0.5, 0.7)
METHODS = ("group", "soundstorm", "spans")
# Targets of the issue: generated WER at most this times the codec resynthesis WER of the same sentences...
WER_RATIO_TARGET = 1.5
# ...speaker similarity to another recording of the prompt's voice at least this...
SIMILARITY_TARGET = 0.80
# ...and group decoding at 4 iterations within 10% of the WER of SoundStorm at 16.
GROUP_VS_SOUNDSTORM = (("group", 4), ("soundstorm", 16), 1.10)
# Target sentences last 2-8 s: shorter ones have too few words for a WER, longer ones pad the batch.
TARGET_SECONDS = (2.0, 8.0)
PROMPT_MIN_SECONDS = 0.3  # short eval clips are still valid references; prompts are picked among the longest
CODEC_REFERENCE = "codec resynthesis"


@dataclass(frozen=True)
class EvalItem:
    """One sentence to generate and the recordings it is judged by.

    Attributes:
        voice: name of the voice (for per-voice figures).
        text: the sentence to generate.
        prompt: a recording of the voice (not of `text`) given to the pipeline as the voice clip.
        other: a third recording of the voice, the reference for speaker similarity.
        reference: the voice's own recording of `text` (original and codec-resynthesis reference rows).
    """

    voice: str
    text: str
    prompt: Path
    other: Path
    reference: Path


def eval_items(corpus: str, per_voice: int = 4) -> list[EvalItem]:
    """Items from the corpus's eval split (reserved voices): per voice, `per_voice` target sentences, each
    with a prompt and an "other" recording taken from the voice's longest remaining utterances.

    Args:
        corpus: corpus directory with manifest.jsonl holding an eval split.
        per_voice: target sentences per voice.

    Returns:
        Items grouped by voice, in a fixed order (utterances sorted by id).

    Raises:
        UserInputError: no eval split, or a voice has too few utterances for `per_voice`.
    """
    from engine.data.manifest import load_manifest

    if per_voice < 1:
        raise UserInputError(f"--per-voice {per_voice} must be at least 1.")
    utterances = load_manifest(corpus, "eval")
    if not utterances:
        raise UserInputError(
            f"The corpus at {corpus} has no eval utterances; build it with its eval split or set CORPUS_DIR."
        )
    by_voice: dict[str, list] = defaultdict(list)
    for u in sorted(utterances, key=lambda u: u.id):
        by_voice[f"{u.engine}/{u.voice}"].append(u)
    items = []
    for voice, utts in sorted(by_voice.items()):
        lo, hi = TARGET_SECONDS
        targets = [u for u in utts if lo <= u.duration <= hi][:per_voice]
        rest = sorted((u for u in utts if u not in targets), key=lambda u: (-u.duration, u.id))
        if len(targets) < per_voice or len(rest) < 2 * per_voice:
            raise UserInputError(
                f"Voice {voice} has {len(utts)} eval utterances, too few for {per_voice} targets with a "
                "prompt and another recording each; use a smaller --per-voice."
            )
        for i, target in enumerate(targets):
            prompt, other = rest[2 * i], rest[2 * i + 1]
            items.append(
                EvalItem(
                    voice, target.text, Path(prompt.wav_path), Path(other.wav_path), Path(target.wav_path)
                )
            )
    return items
