"""Check and Generate, for the page and for the API: the page's handlers put every message next to its
cause and keep the previous outputs, marked; the API's raise a readable gr.Error. Generate runs chunk by
chunk: the page plays each chunk as it comes, `/stream` sends each, `/generate` the whole."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import gradio as gr

from engine.errors import SynthesisCancelled, UserInputError
from engine.ui import reports
from engine.ui.inputs import PageInput, named_speaker_inputs, plan_or_none, read_page, split_speaker_values
from engine.ui.messages import failure, page_errors, statuses
from engine.ui.speakers import SlotError
from engine.ui.stopping import session_of
from engine.ui.synthesis import (
    LINE,
    chunk_folder,
    pcm16,
    progress_reporter,
    stream_page,
    synthesizer,
    write_downloads,
)
from engine.ui.views import DRAWING, Decoded, draw

if TYPE_CHECKING:
    from engine.pipeline import DialogueChunk, DialogueResult

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


class _Waits:
    """What a synthesis tells the progress bar while it waits in the line: the fraction stays where the
    synthesis had got to (a long one giving way between chunks does not go back to 0)."""

    def __init__(self, progress: Callable) -> None:
        self.progress = progress
        self.fraction = 0.0
        self.report = progress_reporter(self._forward)

    def _forward(self, fraction: float, desc: str) -> None:
        self.fraction = fraction
        self.progress(fraction, desc=desc)

    def __call__(self, message: str) -> None:
        self.progress(self.fraction, desc=message)


class _Run:
    """The synthesis of the page's dialogue chunk by chunk, in its turn in the line: iterate it for the
    chunks; `result` is the whole dialogue after the last."""

    def __init__(self, page: PageInput, settings: Sequence[Any], progress: Callable, session: str | None):
        self.page, self.settings, self.progress, self.session = page, settings, progress, session
        self.result: DialogueResult | None = None

    def __iter__(self) -> Iterator[DialogueChunk]:
        waits = _Waits(self.progress)
        with LINE.turn("generate", self.page.words, waits, self.session) as job:
            chunks = stream_page(self.page, self.settings, waits.report, job, waits, keep_trace=True)
            self.result = yield from chunks


def _playing(chunk: DialogueChunk, seconds: float) -> str:
    first = f"{seconds:.1f} s after Generate" if chunk.index == 0 else f"{seconds:.0f} s in"
    return (
        f"▶ Playing as it is generated: {chunk.first_turn + len(chunk.turns)} of {chunk.n_turns} turns, "
        f"{chunk.end_s:.0f} s of audio ready ({first}). Stop ends it."
    )


@named_speaker_inputs
def generate_dialogue(
    transcript: str,
    method: str,
    iterations: int,
    temperature: float,
    guidance: float,
    seed: int,
    voice_match: float,
    pace_check: bool,
    *speaker_values: Any,
    progress: gr.Progress = gr.Progress(),  # noqa: B008  (gradio injects the page's progress bar this way)
    request: gr.Request = None,
) -> Iterator[tuple]:
    """API: synthesize the dialogue, then draw how it was decoded (`/stream` gives each chunk's audio as it
    is ready; a client's cancel, or `/stop`, ends either within a second).

    Args:
        transcript, method, iterations, temperature, guidance, seed, voice_match, pace_check: the page's
            fields.
        speaker_values: per slot (S1-S8): voice clips (paths or None), built-in voice names (or None), what
            the clips say (blank: unknown), speaking rates.
        progress: the page's progress bar (stage, turns, time left).
        request: who asks (gradio's), so that a cancel stops this synthesis.

    Yields:
        First the audio and the report (the rest skipped); then everything: (sample_rate, audio), the report
        markdown, the fill-in image, the confidence image, the steps image, the spectrogram image, and
        [wav path, mp3 path].
    """
    settings = (method, iterations, temperature, guidance, seed, voice_match, pace_check)
    with page_errors("Generating the dialogue"):
        page = read_page(transcript, speaker_values)
        run = _Run(page, settings, progress, session_of(request))
        for _ in run:  # the whole dialogue is delivered at once
            pass
        result = run.result
        audio, report = (result.sample_rate, pcm16(result.audio)), reports.generate_report(result, page.plan)
        yield audio, report, *[gr.skip()] * 5
        files = write_downloads(result)
        progress(1.0, desc="drawing the decoding views")
        yield (audio, report, *draw(Decoded.from_result(result, synthesizer().codec.frame_rate)), files)


@named_speaker_inputs
def stream_dialogue(
    transcript: str,
    method: str,
    iterations: int,
    temperature: float,
    guidance: float,
    seed: int,
    voice_match: float,
    pace_check: bool,
    *speaker_values: Any,
    progress: gr.Progress = gr.Progress(),  # noqa: B008
    request: gr.Request = None,
) -> Iterator[tuple]:
    """API: the dialogue chunk by chunk, each as a wav file as soon as it is ready (the first turn within
    about a second), then the whole as wav and mp3 with the report. Arguments as `generate_dialogue`.

    Yields:
        Per chunk: (the chunk's wav path, None, a line saying which turns and seconds it holds); at the end:
        (None, [wav path, mp3 path], the report markdown).
    """
    settings = (method, iterations, temperature, guidance, seed, voice_match, pace_check)
    with page_errors("Generating the dialogue"):
        from engine.audio import write_audio

        page = read_page(transcript, speaker_values)
        run = _Run(page, settings, progress, session_of(request))
        folder = chunk_folder()
        for chunk in run:
            a, b = chunk.first_turn + 1, chunk.first_turn + len(chunk.turns)
            path = write_audio(folder / f"chunk-{chunk.index + 1:03d}.wav", chunk.audio, chunk.sample_rate)
            of = f" of {chunk.n_chunks}" if chunk.n_chunks else ""  # None until the rest is planned
            where = f"chunk {chunk.index + 1}{of}: turns {a}-{b} of {chunk.n_turns}"
            yield str(path), None, f"{where}, {chunk.start_s:.2f}-{chunk.end_s:.2f} s of the dialogue"
        yield None, write_downloads(run.result), reports.generate_report(run.result, page.plan)


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
    pace_check: bool,
    *speaker_values: Any,
    progress: gr.Progress = gr.Progress(),  # noqa: B008
    request: gr.Request = None,
) -> Iterator[tuple]:
    """Page: synthesize chunk by chunk, each chunk's audio to the live player as soon as it is ready; then
    the whole dialogue, the downloads and the report (the decoding views follow in `page_draw`). On a
    failure, the message goes next to its cause and the previous outputs stay, marked out of date; on Stop,
    the run status says so.

    Yields:
        (audio, downloads, report, the new Decoded or None, *statuses, the live player's next chunk).
    """
    start = time.perf_counter()
    settings = (method, iterations, temperature, guidance, seed, voice_match, pace_check)
    page = None
    try:
        from engine.audio import to_wav_bytes

        page = read_page(transcript, speaker_values)
        synthesis = _Run(page, settings, progress, session_of(request))
        for chunk in synthesis:
            run = _playing(chunk, time.perf_counter() - start)
            live = to_wav_bytes(chunk.audio, chunk.sample_rate)
            yield (*[gr.skip()] * 4, *statuses(page.plan, page.clips, run=run), live)
        result = synthesis.result
        files = write_downloads(result)
        decoded = Decoded.from_result(result, synthesizer().codec.frame_rate)
    except SynthesisCancelled:
        plan = page.plan if page is not None else None
        stopped = f"■ Stopped after {time.perf_counter() - start:.1f} s; what was played is all there is."
        yield (*[gr.skip()] * 4, *statuses(plan, run=stopped), gr.skip())
        return
    except Exception as error:  # noqa: BLE001  (every failure is shown in the page)
        plan = plan_or_none(transcript, speaker_values)
        outdated = reports.out_of_date(previous_report)
        yield (
            gr.Audio(label=OUTDATED_AUDIO_LABEL) if kept is not None else gr.skip(),
            gr.skip(),
            outdated if outdated is not None else gr.skip(),
            None,
            *statuses(plan, error=failure(error, plan, "Generate")),
            gr.skip(),
        )
        return
    seconds = time.perf_counter() - start
    run = (
        f"✓ {result.duration_s:.1f} s of dialogue; audio and downloads after {seconds:.1f} s (it began to play "
        f"after {result.timings['first_audio']:.1f} s)." + DRAWING
    )
    yield (
        gr.Audio(value=(result.sample_rate, pcm16(result.audio)), label=AUDIO_LABEL),
        files,
        reports.generate_report(result, page.plan),
        decoded,
        *statuses(page.plan, page.clips, run=run),
        gr.skip(),
    )
