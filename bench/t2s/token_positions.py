"""Whether position-in-phone buckets are worth a larger token vocabulary: how much of the acoustic frames
the tokens explain."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.data.manifest import Utterance
from engine.data.wavio import read_wav
from engine.semantic.prompt_features import log_mel
from engine.semantic.tokens import PhoneTokenizer


def position_bucket_r2(
    train: Sequence[Utterance], test: Sequence[Utterance], positions: Sequence[int] = (1, 2, 3, 4)
) -> dict[int, float]:
    """How much of the acoustic frames the tokens explain, with 1..4 position buckets per phone.

    A lookup table (mean log-mel frame per token, fitted on `train`) predicts every frame of `test`; the figure
    is the explained variance. It decides whether position-in-phone is worth a larger token vocabulary.
    """
    def load(utterances: Sequence[Utterance]) -> list[tuple[Utterance, np.ndarray]]:
        def features(utterance: Utterance) -> np.ndarray:
            frames = log_mel(read_wav(utterance.wav_path)[0] / 32768.0, round(utterance.duration * 50))
            return frames - frames.mean(axis=0)  # the voice's colour is not what tokens say

        return [(u, features(u)) for u in utterances]

    fitted, scored = load(train), load(test)
    r2 = {}
    for count in positions:
        tokenizer = PhoneTokenizer(count)
        sums = np.zeros((tokenizer.vocab_size, fitted[0][1].shape[1]))
        counts = np.zeros(tokenizer.vocab_size)
        for utterance, features in fitted:
            tokens = tokenizer.from_alignment(utterance.phones, len(features)).numpy()
            np.add.at(sums, tokens, features)
            np.add.at(counts, tokens, 1)
        means = sums / np.maximum(counts, 1)[:, None]
        error = total = 0.0
        for utterance, features in scored:
            tokens = tokenizer.from_alignment(utterance.phones, len(features)).numpy()
            error += float(((features - means[tokens]) ** 2).sum())
            total += float((features**2).sum())
        r2[count] = 1.0 - error / total
    return r2
