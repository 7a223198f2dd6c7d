"""The text-to-semantic benchmark's report: its tables and the section's text."""

from __future__ import annotations

from bench.report import Section, Table
from engine.semantic.duration_data import PROMPT_SECONDS
from engine.text.phone_inventory import PHONE_SET


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
