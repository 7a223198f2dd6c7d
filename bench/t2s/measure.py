"""Measuring every figure of the text-to-semantic benchmark on the corpus."""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import asdict

import numpy as np

from bench.t2s.durations import PROMPT_LENGTHS, frame_mae_ms, text_length_errors, with_prompt_words
from bench.t2s.speaking_rate import rate_correlation
from bench.t2s.timing import time_per_turn, turn_texts
from bench.t2s.token_positions import position_bucket_r2
from engine.data.manifest import load_manifest
from engine.errors import UserInputError
from engine.semantic.duration_data import PromptSampler, measure_prompts, utterance_to_example
from engine.semantic.duration_eval import (
    DurationScores,
    baseline_seconds,
    mean_duration_baseline,
    predict_seconds,
    score,
)
from engine.semantic.t2s import DEFAULT_CHECKPOINT, TextToSemantic

DEFAULT_CORPUS = os.environ.get("CORPUS_DIR", "/work/corpus")
TIMING_TURNS = 50
RATE_SAMPLE = 1500  # training utterances whose rate is measured for the correlation (all eval ones are)


def measure(corpus: str = DEFAULT_CORPUS, checkpoint: str = DEFAULT_CHECKPOINT) -> dict:
    """All figures of this benchmark, as a dict (see `run` for their meaning)."""
    t2s = TextToSemantic(checkpoint)
    train_utts, eval_utts = load_manifest(corpus, "train"), load_manifest(corpus, "eval")
    if not eval_utts:
        raise UserInputError(f"{corpus!r} has no eval utterances; build the corpus first.")
    train = [e for e in map(utterance_to_example, train_utts) if e is not None]
    sample = train_utts[:: max(1, len(train_utts) // RATE_SAMPLE)]
    features = measure_prompts(eval_utts + sample)
    examples = [e for e in map(utterance_to_example, eval_utts) if e is not None]
    prompts = PromptSampler(examples, features)
    examples = [e for e in examples if prompts.has_prompt(e)]
    model_seconds = predict_seconds(t2s.model, examples, [prompts.draw(e) for e in examples])
    base_seconds = baseline_seconds(mean_duration_baseline(train), examples)
    voice_of = {u.id: u.voice for u in eval_utts}
    speaker_of = {u.id: u.speaker for u in eval_utts}

    def scores(selected: list[int]) -> dict[str, DurationScores]:
        chosen = [examples[i] for i in selected]
        return {
            "model": score(chosen, [model_seconds[i] for i in selected]),
            "baseline": score(chosen, [base_seconds[i] for i in selected]),
        }

    by_voice: dict[str, list[int]] = defaultdict(list)
    for index, example in enumerate(examples):
        by_voice[f"{speaker_of[example.id].split('-')[0]} {voice_of[example.id]}"].append(index)
    by_length = {}
    for seconds in PROMPT_LENGTHS:
        predicted = predict_seconds(t2s.model, examples, [prompts.draw(e, seconds=seconds) for e in examples])
        by_length[seconds] = {
            voice: asdict(score([examples[i] for i in chosen], [predicted[i] for i in chosen]))
            for voice, chosen in [("all reserved voices", list(range(len(examples)))), *sorted(by_voice.items())]
        }
    scored = [u for u in eval_utts if u.id in {e.id for e in examples}]
    text_errors = text_length_errors(t2s, scored, prompts)
    turns = turn_texts(eval_utts, TIMING_TURNS)
    return {
        "corpus": corpus,
        "checkpoint": t2s.metadata,
        "all": {k: asdict(v) for k, v in scores(list(range(len(examples)))).items()},
        "by_voice": {v: {k: asdict(s) for k, s in scores(i).items()} for v, i in sorted(by_voice.items())},
        "by_prompt_seconds": by_length,
        "with_prompt_words": with_prompt_words(t2s, scored, examples, prompts),
        "frame_mae_ms": {
            "model": frame_mae_ms(examples, model_seconds),
            "baseline": frame_mae_ms(examples, base_seconds),
        },
        "from_text": {
            "utterances": len(text_errors),
            "within_10": float(np.mean(np.array(text_errors) <= 0.10)) if text_errors else float("nan"),
            "mean_abs_rel_error": float(np.mean(text_errors)) if text_errors else float("nan"),
        },
        "rate_estimator": {
            "eval": rate_correlation(eval_utts, features), "train": rate_correlation(sample, features)
        },
        "timing": time_per_turn(t2s, turns, eval_utts[0].wav_path),
        "position_bucket_r2": position_bucket_r2(train_utts[:: max(1, len(train_utts) // 1000)], eval_utts),
    }
