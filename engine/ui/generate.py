"""Check and Generate, for the page and for the API: the page's handlers put every message next to its
cause and keep the previous outputs, marked; the API's raise a readable gr.Error."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import gradio as gr

from engine.errors import UserInputError
from engine.ui import reports
from engine.ui.inputs import PageInput, named_speaker_inputs, plan_or_none, read_page, split_speaker_values
from engine.ui.messages import failure, page_errors, statuses
from engine.ui.speakers import SlotError
from engine.ui.synthesis import LINE, pcm16, progress_reporter, synthesize_page, synthesizer, write_downloads
from engine.ui.views import DRAWING, Decoded, draw

if TYPE_CHECKING:
    from engine.pipeline import DialogueResult

AUDIO_LABEL = "Dialogue"
OUTDATED_AUDIO_LABEL = "Dialogue: from an earlier Generate (the last one failed, see above)"


def _check(transcript: str | None, speaker_values: Sequence[Any]) -> tuple[PageInput, str]:
    from engine.text.normalize import normalize_text
    from engine.text.phonemize import phonemize

    uploads, choices, _, _ = split_speaker_values(speaker_values)
    # With no voice given yet, check the text alone.
    page = read_page(transcript, speaker_values, require_voices=any(uploads) or any(choices))
    normalized = []
    for turn in page.plan.turns:
        text = normalize_text(turn.text)
        normalized.append((text.text, tuple(phonemize(text.text)), text.notes))
    for name, words in page.texts.items():
        try:
            phonemize(normalize_text(words).text)
        except UserInputError as error:
            raise SlotError(
                page.plan.slots[name], f"The text given for {name}'s voice clip: {error}"
            ) from None
    return page, reports.check_report(page.plan, normalized, page.clips, page.texts)


@named_speaker_inputs
def check_dialogue(transcript: str, *speaker_values: Any) -> str:
    """API: what was understood of the dialogue (turns, how each is read out, voices), as markdown."""
    with page_errors("Checking the dialogue"):
        return _check(transcript, speaker_values)[1]


def page_check(transcript: str, *speaker_values: Any) -> tuple:
    """Page: the Check report, or what is wrong next to its cause. Returns (report, *statuses)."""
    try:
        page, report = _check(transcript, speaker_values)
    except Exception as error:  # noqa: BLE001  (every failure is shown in the page)
        plan = plan_or_none(transcript, speaker_values)
        return (gr.skip(), *statuses(plan, error=failure(error, plan, "Check"), action="Check"))
    return (
        report,
        *statuses(page.plan, page.clips, run="✓ Checked: the report below says how it will be read."),
    )


# Generate --------------------------------------------------------------------------------------------------


def _generate(
    transcript, method, iterations, temperature, guidance, seed, voice_match, speaker_values, progress
) -> tuple[PageInput, DialogueResult]:
    page = read_page(transcript, speaker_values)
    report = progress_reporter(progress)
    with LINE.turn("generate", page.words, lambda message: progress(0.0, desc=message)):
        result = synthesize_page(page, method, iterations, temperature, guidance, seed, voice_match, report)
    return page, result


@named_speaker_inputs
def generate_dialogue(
    transcript: str,
    method: str,
    iterations: int,
    temperature: float,
    guidance: float,
    seed: int,
    voice_match: float,
    *speaker_values: Any,
    progress: gr.Progress = gr.Progress(),  # noqa: B008  (gradio injects the page's progress bar this way)
) -> Iterator[tuple]:
    """API: synthesize the dialogue, then draw how it was decoded.

    Args:
        transcript, method, iterations, temperature, guidance, seed, voice_match: the page's fields.
        speaker_values: per slot (S1-S8): voice clips (paths or None), built-in voice names (or None), what
            the clips say (blank: unknown), speaking rates.
        progress: the page's progress bar (stage and iteration).

    Yields:
        First the audio and the report (the rest skipped); then everything: (sample_rate, audio), the report
        markdown, the fill-in image, the confidence image, the steps image, the spectrogram image, and
        [wav path, mp3 path].
    """
    with page_errors("Generating the dialogue"):
        page, result = _generate(
            transcript, method, iterations, temperature, guidance, seed, voice_match, speaker_values, progress
        )
        audio, report = (result.sample_rate, pcm16(result.audio)), reports.generate_report(result, page.plan)
        yield audio, report, *[gr.skip()] * 5
        files = write_downloads(result)
        progress(1.0, desc="drawing the decoding views")
        yield (audio, report, *draw(Decoded.from_result(result, synthesizer().codec.frame_rate)), files)


def page_generate(
    previous_report: str | None,
    kept: Decoded | None,
    transcript: str,
    method: str,
    iterations: int,
    temperature: float,
    guidance: float,
    seed: int,
    voice_match: float,
    *speaker_values: Any,
    progress: gr.Progress = gr.Progress(),  # noqa: B008
) -> tuple:
    """Page: synthesize and deliver the audio, the downloads and the report at once (the decoding views
    follow in `page_draw`); on a failure, the message goes next to its cause and the previous outputs stay,
    marked out of date.

    Returns:
        (audio, downloads, report, the new Decoded or None, *statuses).
    """
    start = time.perf_counter()
    try:
        page, result = _generate(
            transcript, method, iterations, temperature, guidance, seed, voice_match, speaker_values, progress
        )
        files = write_downloads(result)
        decoded = Decoded.from_result(result, synthesizer().codec.frame_rate)
    except Exception as error:  # noqa: BLE001  (every failure is shown in the page)
        plan = plan_or_none(transcript, speaker_values)
        outdated = reports.out_of_date(previous_report)
        return (
            gr.Audio(label=OUTDATED_AUDIO_LABEL) if kept is not None else gr.skip(),
            gr.skip(),
            outdated if outdated is not None else gr.skip(),
            None,
            *statuses(plan, error=failure(error, plan, "Generate")),
        )
    seconds = time.perf_counter() - start
    run = f"✓ {result.duration_s:.1f} s of dialogue; audio and downloads after {seconds:.1f} s." + DRAWING
    return (
        gr.Audio(value=(result.sample_rate, pcm16(result.audio)), label=AUDIO_LABEL),
        files,
        reports.generate_report(result, page.plan),
        decoded,
        *statuses(page.plan, page.clips, run=run),
    )
