"""Phone times for engines that give none (RHVoice): Viterbi forced alignment of the known phone sequence
over the project's phone recognizer's frame scores (assets/recognizer, 20 ms frames).

Each phone of the sequence holds a contiguous run of at least one frame, in order. The recognizer is a CTC
model, so most frames score blank highest; every frame is scored by the phone's (or, for a pause, both pause
symbols') share of the non-blank probability mass. Counting the blank mass towards pauses let pauses swallow
speech on voices the recognizer knows badly (Kokoro: 230 ms median boundary error against 60 ms without;
espeak-ng 13 ms either way); a level term for pauses gained at most 1 ms. Median boundary error against exact
engine timings is in docs/data.md (`python -m engine.data.forced_align` measures it).
"""

from __future__ import annotations

import argparse
import itertools
from functools import lru_cache

import numpy as np

from engine.text.phone_inventory import LONG_PAUSE, PAD, PHONE_ID, SHORT_PAUSE

FRAME_S = 0.02
_PAUSE_IDS = [PHONE_ID[SHORT_PAUSE], PHONE_ID[LONG_PAUSE]]


@lru_cache(maxsize=1)
def _recognizer():
    import torch

    from engine.semantic.phone_recognizer import load_recognizer

    torch.set_num_threads(1)
    return load_recognizer()


def frame_scores(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """The recognizer's log-probabilities [frames, PHONE_SET] of int16 or float audio."""
    import torch

    from engine.semantic.phone_recognizer import recognizer_features

    samples = audio.astype(np.float32) / (32768.0 if audio.dtype == np.int16 else 1.0)
    model = _recognizer()
    features = torch.from_numpy(recognizer_features(samples, sample_rate, model.config.n_mels))
    with torch.inference_mode():
        return model(features.unsqueeze(0))[0].double().numpy()


def emission_scores(log_probs: np.ndarray, phones: list[str]) -> np.ndarray:
    """Score [frames, states] of each sequence position at each frame (see the module docstring)."""
    probs = np.exp(log_probs)
    non_blank = np.maximum(1.0 - probs[:, PHONE_ID[PAD]], 1e-12)
    pause = np.log(np.maximum(probs[:, _PAUSE_IDS].sum(axis=1), 1e-12) / non_blank)
    columns = []
    for phone in phones:
        if phone in (SHORT_PAUSE, LONG_PAUSE):
            columns.append(pause)
        else:
            columns.append(np.log(np.maximum(probs[:, PHONE_ID[phone]], 1e-12) / non_blank))
    return np.stack(columns, axis=1)


def viterbi_segments(scores: np.ndarray) -> list[tuple[int, int]]:
    """Best monotonic segmentation of frames into the states in order, each at least one frame.

    Args:
        scores: [T, S] emission log-scores, T >= S.

    Returns:
        (first frame, end frame) per state, contiguous over 0..T.
    """
    frames, states = scores.shape
    if frames < states:
        raise ValueError(f"{states} phones cannot fit in {frames} frames")
    best = np.full(states, -np.inf)
    best[0] = scores[0, 0]
    moved = np.zeros((frames, states), dtype=bool)  # entered state s at frame t
    for t in range(1, frames):
        advance = np.concatenate([[-np.inf], best[:-1]])
        moved[t] = advance > best
        best = np.maximum(best, advance) + scores[t]
    bounds, state = [frames], states - 1
    for t in range(frames - 1, 0, -1):
        if moved[t, state]:
            bounds.append(t)
            state -= 1
            if state == 0:
                break
    bounds.append(0)
    bounds.reverse()
    return list(itertools.pairwise(bounds))


def align(audio: np.ndarray, sample_rate: int, phones: list[str]) -> list[tuple[str, float, float]]:
    """Times of `phones` (inventory symbols, edge pauses included) over `audio`.

    Returns:
        [(phone, start_s, end_s)], contiguous from 0 to the end of the audio.
    """
    scores = emission_scores(frame_scores(audio, sample_rate), phones)
    duration = len(audio) / sample_rate
    segments = viterbi_segments(scores)
    out = [(phone, a * FRAME_S, b * FRAME_S) for phone, (a, b) in zip(phones, segments)]
    out[-1] = (out[-1][0], out[-1][1], duration)
    return [(p, min(s, duration), e) for p, s, e in out]


def boundary_errors(
    reference: list[tuple[str, float, float]], aligned: list[tuple[str, float, float]]
) -> list[float]:
    """Signed errors (s) of the inner boundaries of two timings of the same phone sequence."""
    return [b[1] - a[1] for a, b in zip(reference[1:], aligned[1:])]


def main() -> None:
    """Measure the alignment against exact engine timings on freshly synthesized sentences."""
    from engine.data.sentences import candidate_utterances, fortune_texts
    from engine.data.synthesize import SAMPLE_RATE, synthesize
    from engine.data.voices import EVAL_SPEAKERS, TRAIN_SPEAKERS

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--sentences", type=int, default=10)
    parser.add_argument("--engines", default="espeak,mbrola,flite,festival,kokoro,piper")
    args = parser.parse_args()
    texts = [text for _, text in candidate_utterances(fortune_texts())][: args.sentences]
    for engine in args.engines.split(","):
        # The first training speaker of each engine and its reserved one (unseen by the recognizer).
        speakers = [s for s in TRAIN_SPEAKERS if s.engine == engine][:1]
        speakers += [s for s in EVAL_SPEAKERS if s.engine == engine][:1]
        for speaker in speakers:
            errors: list[float] = []
            for text in texts:
                result = synthesize(speaker, text)
                reference = list(result.phones)
                aligned = align(result.audio, SAMPLE_RATE, [p for p, _, _ in reference])
                errors += boundary_errors(reference, aligned)
            error = np.abs(errors) * 1000
            print(
                f"{speaker.id:34s} {len(errors):5d} boundaries: median |error| {np.median(error):5.1f} ms, "
                f"mean {np.mean(error):5.1f}, within 20 ms {np.mean(error <= 20) * 100:4.1f} %, "
                f"within 50 ms {np.mean(error <= 50) * 100:4.1f} %, mean signed {np.mean(errors) * 1000:+5.1f} ms",
                flush=True,
            )


if __name__ == "__main__":
    main()
