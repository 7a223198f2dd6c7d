"""How well predicted phone durations match reference recordings: per-phone error and total-length error."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from engine.semantic.duration_data import DurationExample, collate
from engine.semantic.duration_model import DurationModel
from engine.semantic.prompt_features import PromptFeatures
from engine.text.phone_inventory import LONG_PAUSE, SHORT_PAUSE


@dataclass(frozen=True)
class DurationScores:
    """Figures over a set of utterances.

    Attributes:
        utterances, phones: how many were scored.
        phone_mae_ms: mean absolute error per phone (pauses included), milliseconds.
        sounding_mae_ms: the same over phones that are not pauses.
        total_within_10: fraction of utterances whose total length is within 10% of the reference.
        total_abs_rel_error: mean |predicted total - reference total| / reference total.
        speech_within_10: like total_within_10, without the sentence-end pause (the synthesizer's trailing
            silence, 0.2-0.5 s depending on the engine; turns are joined with pauses of their own).
    """

    utterances: int
    phones: int
    phone_mae_ms: float
    sounding_mae_ms: float
    total_within_10: float
    total_abs_rel_error: float
    speech_within_10: float


def score(examples: Sequence[DurationExample], predicted: Sequence[np.ndarray]) -> DurationScores:
    """Compare predicted seconds per phone with the references.

    Args:
        examples: utterances with reference seconds.
        predicted: seconds per phone, parallel to `examples`.

    Returns:
        The figures.
    """
    errors, sounding_errors, relative, speech_relative = [], [], [], []
    for example, predicted_seconds in zip(examples, predicted):
        reference, seconds = np.asarray(example.seconds), np.asarray(predicted_seconds)
        error = np.abs(seconds - reference)
        errors.append(error)
        sounding = np.array([p not in (SHORT_PAUSE, LONG_PAUSE) for p in example.phones])
        sounding_errors.append(error[sounding])
        relative.append(abs(float(np.sum(seconds)) - reference.sum()) / reference.sum())
        speech = slice(None, -1) if example.phones[-1] == LONG_PAUSE else slice(None)
        speech_relative.append(
            abs(float(np.sum(seconds[speech])) - reference[speech].sum()) / reference[speech].sum()
        )
    all_errors, all_sounding = np.concatenate(errors), np.concatenate(sounding_errors)
    relative_array = np.array(relative)
    return DurationScores(
        utterances=len(examples),
        phones=len(all_errors),
        phone_mae_ms=1000.0 * float(all_errors.mean()),
        sounding_mae_ms=1000.0 * float(all_sounding.mean()),
        total_within_10=float((relative_array <= 0.10).mean()),
        total_abs_rel_error=float(relative_array.mean()),
        speech_within_10=float((np.array(speech_relative) <= 0.10).mean()),
    )


@torch.no_grad()
def predict_seconds(
    model: DurationModel, examples: Sequence[DurationExample], prompts: Sequence[PromptFeatures], batch: int = 64
) -> list[np.ndarray]:
    """Seconds per phone predicted by `model` for each example, given each one's prompt."""
    model.eval()
    out: list[np.ndarray] = []
    for start in range(0, len(examples), batch):
        chunk = examples[start : start + batch]
        ids, _, rates, styles = collate(chunk, prompts[start : start + batch], model.config.style_kind)
        seconds = torch.exp(model(ids, rates, styles)).numpy()
        out.extend(seconds[row, : len(example.phone_ids)] for row, example in enumerate(chunk))
    return out


def mean_duration_baseline(train: Sequence[DurationExample]) -> dict[str, float]:
    """Mean seconds of each phone symbol over the training utterances (the baseline a model must beat)."""
    totals: dict[str, list[float]] = defaultdict(list)
    for example in train:
        for phone, seconds in zip(example.phones, example.seconds):
            totals[phone].append(seconds)
    return {phone: float(np.mean(values)) for phone, values in totals.items()}


def baseline_seconds(means: dict[str, float], examples: Sequence[DurationExample]) -> list[np.ndarray]:
    """The baseline's prediction: each phone's training mean (the overall mean for a phone never seen)."""
    overall = float(np.mean(list(means.values())))
    return [np.array([means.get(p, overall) for p in example.phones]) for example in examples]
