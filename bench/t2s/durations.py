"""Duration figures: per-phone error after rounding to frames, utterance length from the raw text, and the
length error when each speaker's tempo is measured on its prompt's recordings (with their words, or the
phones heard in them), per prompt length."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict

import numpy as np

from engine.data.manifest import Utterance
from engine.data.wavio import read_wav
from engine.errors import UserInputError
from engine.semantic.duration_data import PROMPT_SECONDS, DurationExample, PromptSampler, utterance_to_example
from engine.semantic.duration_eval import predict_seconds, score
from engine.semantic.duration_model import seconds_to_frames
from engine.semantic.phone_recognizer import edit_distance, load_recognizer, targets
from engine.semantic.t2s import TextToSemantic
from engine.semantic.tempo import heard_tempo_factor, spoken_seconds, tempo_factor
from engine.semantic.tokens import alignment_frames
from engine.text.normalize import normalize_text
from engine.text.phone_inventory import PHONE_SET
from engine.text.phonemize import phonemize

PROMPT_LENGTHS = (PROMPT_SECONDS, 10.0, 15.0)  # seconds of prompt speech; voice clips are 3-15 s


def frame_mae_ms(examples: Sequence[DurationExample], predicted: Sequence[np.ndarray]) -> float:
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


def text_length_errors(
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
        text_errors = text_length_errors(
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
