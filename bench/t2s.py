"""Text-to-semantic figures: duration error against the reference recordings of the held-out voices, the
speaking-rate estimator's agreement with true phone rates, and the time per turn.

`python -m bench.t2s [--corpus DIR]` prints them; `run(out_dir)` returns them as report sections. The corpus
is `$CORPUS_DIR` (default /work/corpus); the model is assets/duration/duration.pt.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from bench.report import Section, Table, section_markdown
from engine.audio import load_voice_prompt
from engine.data.manifest import Utterance, load_manifest
from engine.data.wavio import read_wav
from engine.errors import UserInputError
from engine.semantic.duration_data import (
    PROMPT_SECONDS,
    DurationExample,
    PromptSampler,
    measure_prompts,
    utterance_to_example,
)
from engine.semantic.duration_eval import (
    DurationScores,
    baseline_seconds,
    mean_duration_baseline,
    predict_seconds,
    score,
)
from engine.semantic.duration_model import seconds_to_frames
from engine.semantic.phone_recognizer import edit_distance, load_recognizer, targets
from engine.semantic.prompt_features import PromptFeatures, log_mel
from engine.semantic.t2s import DEFAULT_CHECKPOINT, TextToSemantic
from engine.semantic.tempo import heard_tempo_factor, spoken_seconds, tempo_factor
from engine.semantic.tokens import PhoneTokenizer, alignment_frames
from engine.text.normalize import normalize_text
from engine.text.phone_inventory import LONG_PAUSE, PHONE_SET, SHORT_PAUSE
from engine.text.phonemize import phonemize

DEFAULT_CORPUS = os.environ.get("CORPUS_DIR", "/work/corpus")
TIMING_TURNS = 50
RATE_SAMPLE = 1500  # training utterances whose rate is measured for the correlation (all eval ones are)
PROMPT_LENGTHS = (PROMPT_SECONDS, 10.0, 15.0)  # seconds of prompt speech; voice clips are 3-15 s


def _true_rate(utterance: Utterance) -> float | None:
    """Sounding phones per second of sounding time (articulation rate) from the alignment."""
    sounding = [e - s for p, s, e in utterance.phones if p not in (SHORT_PAUSE, LONG_PAUSE)]
    return len(sounding) / sum(sounding) if sounding and sum(sounding) > 0 else None


def rate_correlation(utterances: Sequence[Utterance], features: dict[str, PromptFeatures]) -> dict[str, float]:
    """Pearson correlation of log measured rate with log true phone rate, per utterance and per speaker."""
    pairs = [(features[u.id].rate.per_second, _true_rate(u), u.speaker) for u in utterances if u.id in features]
    pairs = [(m, t, s) for m, t, s in pairs if t]
    measured, true = np.log([m for m, _, _ in pairs]), np.log([t for _, t, _ in pairs])
    by_speaker: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for m, t, s in pairs:
        by_speaker[s].append((m, t))
    speakers = [v for v in by_speaker.values() if len(v) >= 3]
    speaker_measured = np.log([np.mean([m for m, _ in v]) for v in speakers])
    speaker_true = np.log([np.mean([t for _, t in v]) for v in speakers])
    return {
        "utterances": len(pairs),
        "r_utterance": float(np.corrcoef(measured, true)[0, 1]),
        "speakers": len(speakers),
        "r_speaker": float(np.corrcoef(speaker_measured, speaker_true)[0, 1]) if len(speakers) > 2 else float("nan"),
    }


def _frame_mae_ms(examples: Sequence[DurationExample], predicted: Sequence[np.ndarray]) -> float:
    """Per-phone error after both sides are cut into whole 20 ms frames (what the acoustic model receives)."""
    errors = []
    for example, seconds in zip(examples, predicted):
        bounds = np.cumsum((0.0,) + example.seconds)
        _, reference = alignment_frames(
            [(p, a, b) for p, a, b in zip(example.phones, bounds[:-1], bounds[1:])], round(bounds[-1] * 50)
        )
        frames = seconds_to_frames(seconds)
        errors.append(np.abs(frames - np.asarray(reference[: len(frames)])))
    return 20.0 * float(np.concatenate(errors).mean())


def _text_length_errors(
    t2s: TextToSemantic,
    utterances: Sequence[Utterance],
    prompts: PromptSampler,
    seconds: float = PROMPT_SECONDS,
    tempos: dict[str, float] | None = None,
) -> list[float]:
    """|length from the text alone - reference| / reference: phonemizer and duration model together (with each
    utterance's tempo from `tempos`, by id, when given)."""
    errors = []
    for utterance in utterances:
        example = utterance_to_example(utterance)
        if example is None or not prompts.has_prompt(example):
            continue
        tempo = 1.0 if tempos is None else tempos[example.id]
        try:
            prompt = prompts.draw(example, seconds=seconds)
            plan = t2s.plan_batch([utterance.text], [prompt], tempos=[tempo])[0]
        except UserInputError:
            continue
        reference = sum(example.seconds)
        errors.append(abs(plan.seconds - reference) / reference)
    return errors


def prompt_tempos(
    t2s: TextToSemantic,
    examples: Sequence[DurationExample],
    prompts: PromptSampler,
    clips: dict[str, tuple[Sequence[str], float]],
    seconds: float,
    heard: bool = False,
) -> dict[str, float]:
    """Each example's tempo, measured on the words of its prompt's recordings (`TextToSemantic.tempo`).

    Args:
        clips: utterance id -> (its phones, its spoken seconds), for every recording a prompt may hold.
        heard: the phones were recognized from the audio (`heard_tempo_factor`, as for a clip without words).
    """
    tempos = {}
    for example in examples:
        rate, style = t2s.prompt_condition(prompts.draw(example, seconds=seconds))
        recordings = [clips[i] for i in prompts.others(example, seconds=seconds)]
        if heard:
            tempos[example.id] = heard_tempo_factor(t2s.model, recordings, rate, t2s.style_tensor(style))
        else:
            tempos[example.id] = tempo_factor(t2s.model, recordings, rate, t2s.style_tensor(style), example.id)
    return tempos


def with_prompt_words(
    t2s: TextToSemantic,
    utterances: Sequence[Utterance],
    examples: Sequence[DurationExample],
    prompts: PromptSampler,
) -> dict[float, dict]:
    """Length and per-phone figures when the prompt's words are known, per prompt length.

    Two ways, each the same on both sides: phones from the alignment for the prompt's words and the
    utterance (as the main table), and phones from the raw texts through the phonemizer (as the app). The
    prompt's spoken time is measured on its audio (`spoken_seconds`), as for a user's clip. A third way
    knows no words: the prompt's phones are recognized from its audio (`PhoneRecognizer`), as the app does
    when a clip's words are not given.
    """
    recognizer = load_recognizer()
    audio = {u.id: read_wav(u.wav_path)[0] / 32768.0 for u in utterances}
    spoken = {u.id: spoken_seconds(audio[u.id], u.sample_rate) for u in utterances}
    aligned = {e.id: (e.phones, spoken[e.id]) for e in examples}
    recognized = {u.id: recognizer.recognize(audio[u.id], u.sample_rate) for u in utterances}
    heard = {i: (phones, spoken[i]) for i, phones in recognized.items()}
    said = {u.id: [PHONE_SET[t] for t in targets(u.phones)] for u in utterances}
    errors = sum(edit_distance(said[i], recognized[i]) for i in said)
    phone_error_rate = errors / sum(len(phones) for phones in said.values())
    texts = {}
    for utterance in utterances:
        try:
            texts[utterance.id] = (phonemize(normalize_text(utterance.text).text), spoken[utterance.id])
        except UserInputError:
            texts[utterance.id] = ((), spoken[utterance.id])  # no words: tempo 1.0
    voice_of = {u.id: f"{u.speaker.split('-')[0]} {u.voice}" for u in utterances}
    figures: dict[float, dict] = {}
    for seconds in PROMPT_LENGTHS:
        tempos = prompt_tempos(t2s, examples, prompts, aligned, seconds)
        predicted = predict_seconds(t2s.model, examples, [prompts.draw(e, seconds=seconds) for e in examples])
        scaled = [p * tempos[e.id] for e, p in zip(examples, predicted)]
        heard_tempos = prompt_tempos(t2s, examples, prompts, heard, seconds, heard=True)
        heard_scaled = [p * heard_tempos[e.id] for e, p in zip(examples, predicted)]
        groups: dict[str, list[int]] = defaultdict(list)
        for index, example in enumerate(examples):
            groups["all reserved voices"].append(index)
            groups[voice_of[example.id]].append(index)
        ordered = sorted(groups.items(), key=lambda g: (g[0] != "all reserved voices", g))
        text_errors = _text_length_errors(
            t2s, utterances, prompts, seconds, prompt_tempos(t2s, examples, prompts, texts, seconds)
        )
        figures[seconds] = {
            "tempo_range": (min(tempos.values()), max(tempos.values())),
            "by_voice": {
                voice: asdict(score([examples[i] for i in chosen], [scaled[i] for i in chosen]))
                for voice, chosen in ordered
            },
            "heard": {
                "phone_error_rate": phone_error_rate,
                "tempo_range": (min(heard_tempos.values()), max(heard_tempos.values())),
                "by_voice": {
                    voice: asdict(score([examples[i] for i in chosen], [heard_scaled[i] for i in chosen]))
                    for voice, chosen in ordered
                },
            },
            "from_text": {
                "utterances": len(text_errors),
                "within_10": float(np.mean(np.array(text_errors) <= 0.10)) if text_errors else float("nan"),
            },
        }
    return figures


def _turn_texts(utterances: Sequence[Utterance], count: int) -> list[str]:
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
    text_errors = _text_length_errors(t2s, scored, prompts)
    turns = _turn_texts(eval_utts, TIMING_TURNS)
    return {
        "corpus": corpus,
        "checkpoint": t2s.metadata,
        "all": {k: asdict(v) for k, v in scores(list(range(len(examples)))).items()},
        "by_voice": {v: {k: asdict(s) for k, s in scores(i).items()} for v, i in sorted(by_voice.items())},
        "by_prompt_seconds": by_length,
        "with_prompt_words": with_prompt_words(t2s, scored, examples, prompts),
        "frame_mae_ms": {
            "model": _frame_mae_ms(examples, model_seconds),
            "baseline": _frame_mae_ms(examples, base_seconds),
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


def sections(figures: dict) -> list[Section]:
    """Report sections for `figures` from `measure`."""
    rows = []
    for name, pair in [("all reserved voices", figures["all"]), *figures["by_voice"].items()]:
        model, base = pair["model"], pair["baseline"]
        rows.append((
            name, model["utterances"], base["phone_mae_ms"], model["phone_mae_ms"],
            1.0 - model["phone_mae_ms"] / base["phone_mae_ms"], base["total_within_10"], model["total_within_10"],
            model["total_abs_rel_error"], base["speech_within_10"], model["speech_within_10"],
        ))
    duration = Table(
        columns=("eval voices", "utts", "baseline ms/phone", "model ms/phone", "error cut", "baseline within 10%",
                 "model within 10%", "model mean |len err|", "baseline within 10% w/o end pause",
                 "model within 10% w/o end pause"),
        rows=tuple(rows),
        caption="Per-phone mean absolute duration error and utterance-length error, phones from the alignment",
    )
    frames, text = figures["frame_mae_ms"], figures["from_text"]
    rate, timing, meta = figures["rate_estimator"], figures["timing"], figures["checkpoint"]
    extra = Table(
        columns=("figure", "value"),
        rows=(
            ("per-phone error after rounding to 20 ms frames, model / baseline (ms)",
             f"{frames['model']:.1f} / {frames['baseline']:.1f}"),
            ("length from the raw text (phonemizer + model) within 10%",
             f"{text['within_10']:.1%} of {text['utterances']}"),
            ("rate estimator vs true phone rate, r per utterance (eval / train)",
             f"{rate['eval']['r_utterance']:.2f} / {rate['train']['r_utterance']:.2f}"),
            ("rate estimator vs true phone rate, r per speaker (eval / train)",
             (f"{rate['eval']['r_speaker']:.2f} ({rate['eval']['speakers']}) / "
              f"{rate['train']['r_speaker']:.2f} ({rate['train']['speakers']})")),
            ("text_to_semantic per turn, median / p90 (ms)",
             (f"{timing['median_ms']:.1f} / {timing['p90_ms']:.1f} "
              f"({timing['turns']} turns of {timing['words_per_turn']:.0f} words)")),
            ("measuring a prompt's speaking rate, once per prompt (ms)",
             f"{timing['prompt_rate_ms']:.1f} for {timing['prompt_seconds']:.1f} s"),
            ("its tempo from the phones heard in it (recognizer + duration model), once per prompt (ms)",
             f"{timing['prompt_tempo_ms']:.1f}"),
        ),
    )
    lengths = figures["by_prompt_seconds"]
    first = next(iter(lengths.values()))
    by_length = Table(
        columns=("eval voices", *(f"{float(k):.0f} s prompt: within 10% / ms per phone" for k in lengths)),
        rows=tuple(
            (voice, *(f"{lengths[k][voice]['total_within_10']:.1%} / {lengths[k][voice]['phone_mae_ms']:.1f}"
                      for k in lengths))
            for voice in first
        ),
        caption="The same model with longer prompts (other utterances of the voice gathered until that much speech)",
    )
    words = figures["with_prompt_words"]
    first_words = next(iter(words.values()))
    with_words = Table(
        columns=("eval voices", *(f"{float(k):.0f} s prompt: within 10% / ms per phone" for k in words)),
        rows=(
            *(
                (voice, *(f"{words[k]['by_voice'][voice]['total_within_10']:.1%} / "
                          f"{words[k]['by_voice'][voice]['phone_mae_ms']:.1f}" for k in words))
                for voice in first_words["by_voice"]
            ),
            ("from the raw texts (phonemizer on both sides), within 10%",
             *(f"{words[k]['from_text']['within_10']:.1%} of {words[k]['from_text']['utterances']}"
               for k in words)),
            ("tempo measured, lowest - highest",
             *(f"{words[k]['tempo_range'][0]:.2f} - {words[k]['tempo_range'][1]:.2f}" for k in words)),
        ),
        caption="With the prompt's words: each speaker's tempo measured on what its prompt recordings say "
        "(`TextToSemantic.tempo`; spoken time from the audio)",
    )
    heard = Table(
        columns=("eval voices", *(f"{float(k):.0f} s prompt: within 10% / ms per phone" for k in words)),
        rows=(
            *(
                (voice, *(f"{words[k]['heard']['by_voice'][voice]['total_within_10']:.1%} / "
                          f"{words[k]['heard']['by_voice'][voice]['phone_mae_ms']:.1f}" for k in words))
                for voice in first_words["heard"]["by_voice"]
            ),
            ("tempo measured, lowest - highest",
             *(f"{words[k]['heard']['tempo_range'][0]:.2f} - {words[k]['heard']['tempo_range'][1]:.2f}"
               for k in words)),
            ("recognizer's phone error rate on these recordings",
             *(f"{words[k]['heard']['phone_error_rate']:.1%}" for k in words)),
        ),
        caption="Without the prompt's words: the same tempo measured on the phones the recognizer hears in the "
        "prompt's recordings (what the app does for a clip whose words are not given)",
    )
    buckets = Table(
        columns=("position buckets per phone", "vocabulary", "explained variance of eval log-mel frames"),
        rows=tuple((k, k * len(PHONE_SET), r) for k, r in sorted(figures["position_bucket_r2"].items())),
        caption="A lookup table token -> mean log-mel frame (fitted on train), scored on the eval split",
    )
    text_block = (
        f"Evaluation split of `{figures['corpus']}`: voices never trained on, held-out sentences. Each utterance's "
        f"speaking rate is measured on other utterances of its voice (at least {PROMPT_SECONDS:.0f} s of speech), "
        "as a prompt would be. "
        "Baseline: the mean duration of each phone over the training split. Model: "
        f"{meta.get('parameters', '?')} parameters, {meta.get('step', '?')} steps, "
        f"{meta.get('train_seconds', 0) / 60:.0f} min of training on {meta.get('train_utterances', '?')} utterances "
        f"(`{meta.get('command', '?')}`)."
    )
    tables = (duration, by_length, with_words, heard, extra, buckets)
    return [Section(title="Text-to-semantic", text=text_block, items=tables)]


def run(out_dir: Path) -> list[Section]:
    """Measure and return the report sections; the raw figures go to out_dir/t2s.json."""
    figures = measure()
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    (Path(out_dir) / "t2s.json").write_text(json.dumps(figures, indent=1, default=float))
    return sections(figures)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Text-to-semantic figures on the corpus's evaluation split.")
    parser.add_argument("--corpus", default=DEFAULT_CORPUS)
    parser.add_argument("--checkpoint", default=DEFAULT_CHECKPOINT)
    parser.add_argument("--json", help="also write the raw figures here")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        figures = measure(args.corpus, args.checkpoint)
    except UserInputError as error:
        sys.exit(str(error))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1, default=float))
    with tempfile.TemporaryDirectory() as tmp:
        for section in sections(figures):
            print(section_markdown(section, Path(tmp)))


if __name__ == "__main__":
    main()
