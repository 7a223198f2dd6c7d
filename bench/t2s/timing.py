"""How long text-to-semantic takes per turn, and the one-off costs of a new voice prompt."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence

import numpy as np

from engine.audio import load_voice_prompt
from engine.data.manifest import Utterance
from engine.semantic.t2s import TextToSemantic


def turn_texts(utterances: Sequence[Utterance], count: int) -> list[str]:
    """Turns of about 15 words, joined from eval sentences."""
    texts, current = [], []
    for utterance in utterances:
        current.append(utterance.text)
        if sum(len(t.split()) for t in current) >= 12:
            texts.append(" ".join(current))
            current = []
        if len(texts) == count:
            break
    return texts


def time_per_turn(t2s: TextToSemantic, texts: Sequence[str], prompt_wav: str) -> dict[str, float]:
    """Median milliseconds per turn (after warm-up), and the one-off costs of measuring a prompt's rate and of
    its tempo from the phones heard in it."""
    prompt = load_voice_prompt(prompt_wav)
    start = time.perf_counter()
    t2s.prompt_condition(prompt)  # measured once per prompt, then cached
    prompt_ms = 1000.0 * (time.perf_counter() - start)
    start = time.perf_counter()
    t2s.tempo(prompt)  # recognized once per prompt, then cached
    tempo_ms = 1000.0 * (time.perf_counter() - start)
    for text in texts[:5]:
        t2s(text, prompt)
    times = []
    for text in texts:
        start = time.perf_counter()
        t2s(text, prompt)
        times.append(1000.0 * (time.perf_counter() - start))
    return {
        "turns": len(texts),
        "words_per_turn": statistics.mean(len(t.split()) for t in texts),
        "median_ms": statistics.median(times),
        "p90_ms": float(np.percentile(times, 90)),
        "prompt_rate_ms": prompt_ms,
        "prompt_tempo_ms": tempo_ms,
        "prompt_seconds": prompt.duration,
    }
