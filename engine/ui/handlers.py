"""The page's event handlers: check, generate, compare iterations, redraw the trace, load demos.

Every handler turns a UserInputError into a gr.Error (a readable message in the page) and any other failure
into a gr.Error too, with the traceback in the server log, so the app keeps serving.
"""

from __future__ import annotations

import html
import inspect
import logging
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr
import numpy as np

from engine.demos import demo_voice_words, demo_voices, list_demos
from engine.errors import UserInputError
from engine.input_report import describe_input
from engine.ui.plots import TraceView, confidence_figure, figure_to_image, fill_in_figure, spectrogram_figure

if TYPE_CHECKING:  # the pipeline (torch, models) loads on first use, not when the page is built
    from engine.pipeline import DialogueResult, DialogueSynthesizer

log = logging.getLogger(__name__)

SPEAKERS = ("S1", "S2", "S3", "S4")
COMPARE_ITERATIONS = (1, 2, 4, 8, 16)
OUTPUT_DIR = Path(tempfile.gettempdir()) / "dialogue-synth"
ERROR_SECONDS = 30  # how long an error message stays in the page (long messages take a while to read)
KEEP_OUTPUTS_S = 3600.0  # written wav/mp3 files older than this are deleted at the next generation

_synthesizer = None
_synthesizer_lock = threading.Lock()


def synthesizer() -> DialogueSynthesizer:
    """The one DialogueSynthesizer of this process: models load on first use and stay loaded."""
    global _synthesizer
    with _synthesizer_lock:
        if _synthesizer is None:
            from engine.pipeline import DialogueSynthesizer

            _synthesizer = DialogueSynthesizer()
        return _synthesizer


def warm_up() -> None:
    """Load the models and the plotting code now, so the first Generate starts without waiting for them."""
    try:
        synthesizer().load()
        figure_to_image(spectrogram_figure(np.zeros(1600, np.float32), 16000, []))
    except Exception:  # the first Generate reports it to the user
        log.exception("warming up the models failed")


@contextmanager
def page_errors(action: str) -> Iterator[None]:
    """Show failures inside the block in the page: user errors as they are, anything else as a bug."""
    try:
        yield
    except gr.Error:
        raise
    except UserInputError as err:
        # The page renders messages as HTML: "<S1> hi" must show as text, not vanish as a tag.
        raise gr.Error(
            html.escape(str(err), quote=False),
            duration=ERROR_SECONDS,
            print_exception=False,
        ) from None
    except Exception as err:
        log.exception("%s failed", action)
        raise gr.Error(
            f"{action} failed unexpectedly ({type(err).__name__}: {html.escape(str(err), quote=False)}). "
            "The details are in the server log; try again, or try other settings.",
            duration=ERROR_SECONDS,
            print_exception=False,
        ) from None


# Inputs per speaker ---------------------------------------------------------------------------------------


def split_speaker_values(values: Sequence[Any]) -> tuple[list, list, list, list]:
    """The page's per-speaker inputs, in component order: 4 uploads, 4 demo voices, 4 clip words, 4 rates."""
    n = len(SPEAKERS)
    if len(values) != 4 * n:
        raise ValueError(
            f"expected {4 * n} per-speaker values (uploads, demo voices, clip words, rates), "
            f"got {len(values)}"
        )
    return [list(values[k * n : (k + 1) * n]) for k in range(4)]


SPEAKER_PARAMETERS = [
    *[(f"voice_{s.lower()}", None) for s in SPEAKERS],
    *[(f"demo_voice_{s.lower()}", None) for s in SPEAKERS],
    *[(f"voice_text_{s.lower()}", "") for s in SPEAKERS],
    *[(f"rate_{s.lower()}", 1.0) for s in SPEAKERS],
]


def named_speaker_inputs(fn: Callable) -> Callable:
    """Give a handler's `*speaker_values` their names (voice_s1.., demo_voice_s1.., voice_text_s1..,
    rate_s1..) in its signature.

    Gradio builds its API from the signature, so clients see the names and may pass them by keyword
    (`client.predict(transcript=..., voice_s1=handle_file("a.wav"), api_name="/generate")`); the handler
    still receives them, positionally, as *speaker_values.
    """
    signature = inspect.signature(fn)
    parameters = []
    for parameter in signature.parameters.values():
        if parameter.kind is parameter.VAR_POSITIONAL:
            parameters += [
                inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default)
                for name, default in SPEAKER_PARAMETERS
            ]
        else:
            parameters.append(parameter)
    fn.__signature__ = signature.replace(parameters=parameters)
    return fn


def _slots(names: Sequence[str]) -> dict[str, str]:
    """Which voice slot (S1..S4) each speaker takes: `[S2]` takes S2; named speakers (`Alice:`) take the
    free slots in order of first appearance; speakers beyond the fourth get none."""
    slots = {name: name for name in names if name in SPEAKERS}
    free = iter(s for s in SPEAKERS if s not in slots.values())
    for name in names:
        if name not in slots and (slot := next(free, None)) is not None:
            slots[name] = slot
    return slots


def _missing_voice_error(turns: Sequence, slots: dict[str, str], missing: list[str]) -> UserInputError:
    """The first speaker without a voice, said in the page's words (which slot to fill)."""
    name = missing[0]
    number, turn = next((i, t) for i, t in enumerate(turns, 1) if t.speaker == name)
    others = (
        f" (nor {'does' if len(missing) == 2 else 'do'} {', '.join(missing[1:])})" if len(missing) > 1 else ""
    )
    if name not in slots:
        return UserInputError(
            f"{name} (turn {number}, line {turn.line}) is a fifth speaker, but the page has voices for four: "
            f"S1-S4. Give {name}'s lines to one of the others{others}."
        )
    slot = slots[name]
    named = (
        "" if name == slot else f" (named speakers take the voices in order of appearance: {name} is {slot})"
    )
    return UserInputError(
        f"{name} speaks in turn {number} (line {turn.line}) but has no voice{others}: upload or record a clip "
        f"under 'Voice of {slot}', or pick a built-in voice for {slot}{named}."
    )


def resolve_voices(
    transcript: str,
    uploads: Sequence[str | None],
    demo_choices: Sequence[str | None],
    rates: Sequence[float | None],
    require_all: bool = True,
) -> tuple[dict[str, str], dict[str, float]]:
    """Voice clip and speaking rate per speaker of the transcript, from the page's slots.

    Args:
        transcript: the dialogue text.
        uploads: per slot, an uploaded or recorded clip's path (it wins over the demo voice).
        demo_choices: per slot, the name of a built-in voice, or None.
        rates: per slot, the speaking rate.
        require_all: refuse a speaker without a voice (False: leave them out, to check the text alone).

    Returns:
        (speaker -> clip path, speaker -> rate); an unreadable transcript gives the clips by slot and no
        rates, so that synthesis reports what is wrong with the text.

    Raises:
        UserInputError: a demo voice name that is not built in, or a speaker without a voice.
    """
    from engine.text.transcript import parse_transcript, speakers

    builtin = demo_voices()
    by_slot: dict[str, str] = {}
    for slot, upload, choice in zip(SPEAKERS, uploads, demo_choices, strict=True):
        if upload:
            by_slot[slot] = str(upload)
        elif choice:
            if choice not in builtin:
                raise UserInputError(
                    f"{choice!r} is not a built-in voice; choose one of {', '.join(builtin)}, or upload a clip."
                )
            by_slot[slot] = str(builtin[choice])
    try:
        turns = parse_transcript(transcript)
    except UserInputError:
        return by_slot, {}
    names = speakers(turns)
    slots = _slots(names)
    missing = [name for name in names if slots.get(name) not in by_slot]
    if missing and require_all:
        raise _missing_voice_error(turns, slots, missing)
    slot_rates = {
        slot: 1.0 if rate is None else float(rate) for slot, rate in zip(SPEAKERS, rates, strict=True)
    }
    voices = {name: by_slot[slot] for name, slot in slots.items() if slot in by_slot}
    return voices, {name: slot_rates[slot] for name, slot in slots.items()}


def resolve_voice_texts(transcript: str, texts: Sequence[str | None]) -> dict[str, str]:
    """What each speaker's voice clip says, from the page's slots (mapped to speakers as `resolve_voices`
    maps the clips).

    Args:
        transcript: the dialogue text.
        texts: per slot, the words typed for its clip; blank ones are left out (a built-in voice's words are
            known to the pipeline; typed words win over them).

    Returns:
        speaker -> the clip's words; by slot when the transcript is unreadable (synthesis then reports what
        is wrong with the text).
    """
    from engine.text.transcript import parse_transcript, speakers

    by_slot = {
        slot: text.strip() for slot, text in zip(SPEAKERS, texts, strict=True) if text and text.strip()
    }
    try:
        slots = _slots(speakers(parse_transcript(transcript)))
    except UserInputError:
        return by_slot
    return {name: by_slot[slot] for name, slot in slots.items() if slot in by_slot}


# Handlers ---------------------------------------------------------------------------------------------------


@named_speaker_inputs
def check_dialogue(transcript: str, *speaker_values: Any) -> str:
    """Gradio handler: report the parsed dialogue (turns, phones, voices), or show what is wrong."""
    uploads, choices, words, rates = split_speaker_values(speaker_values)
    with page_errors("Checking the dialogue"):
        # With no voice given yet, check the text alone.
        require = any(uploads) or any(choices)
        voices, _ = resolve_voices(transcript or "", uploads, choices, rates, require_all=require)
        report = describe_input(transcript or "", voices, source="dialogue")
        for name, text in resolve_voice_texts(transcript or "", words).items():
            if name in voices:
                report += "\n" + _describe_clip_words(name, text)
        return "```\n" + report + "\n```"


def _describe_clip_words(speaker: str, words: str) -> str:
    """The Check report's line on the words given for a speaker's clip; refuses words that cannot be read
    (whether they fit the clip's length is measured when generating, with the duration model)."""
    from engine.text.normalize import normalize_text
    from engine.text.phonemize import phonemize

    try:
        phones = phonemize(normalize_text(words).text)
    except UserInputError as error:
        raise UserInputError(f"The text given for {speaker}'s voice clip: {error}") from None
    return (
        f"  words of {speaker}'s clip: {words!r} ({len(phones)} phones; "
        f"{speaker}'s tempo is measured on them)"
    )


def _report(result: DialogueResult) -> str:
    """Markdown summary of a generated dialogue: turns, settings, timings, notes."""
    s = result.settings
    rows = "\n".join(
        f"| {i} | {t.speaker} | {t.start_s:.2f}-{t.end_s:.2f} s | {t.n_frames} | {t.text} |"
        for i, t in enumerate(result.turns, 1)
    )
    timings = ", ".join(f"{stage} {seconds:.2f} s" for stage, seconds in result.timings.items())
    notes = "".join(f"\n- {note}" for note in result.notes)
    rates = ", ".join(f"{name} x{rate:g}" for name, rate in s.rates)
    for pairs, source in ((s.tempos, "the clip's words"), (s.heard_tempos, "the phones heard in the clip")):
        if pairs:
            rates += f"; tempo from {source}: " + ", ".join(f"{name} x{tempo:.2f}" for name, tempo in pairs)
    return (
        f"**{len(result.turns)} turns, {result.duration_s:.1f} s of audio in {result.timings['total']:.1f} s "
        f"(real-time factor {result.real_time_factor:.2f}).**  \n"
        f"{s.method}, {s.iterations} iterations ({len(result.trace)} decoding steps, "
        f"{result.trace.forward_passes} forward passes), temperature {s.temperature:g}, guidance {s.guidance:g}, "
        f"seed {s.seed}, voice matching {s.voice_match:g}; rates {rates}.  \nTimings: {timings}\n\n"
        f"| turn | speaker | in the audio | frames | text spoken |\n|---|---|---|---|---|\n{rows}"
        + (f"\n\nNotes:{notes}" if notes else "")
    )


def _write_downloads(result: DialogueResult) -> list[str]:
    """The dialogue as wav and mp3 files for the page's download list; old outputs are removed."""
    from engine.audio import write_audio

    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in OUTPUT_DIR.glob("dialogue-*"):
        if now - old.stat().st_mtime > KEEP_OUTPUTS_S:
            old.unlink(missing_ok=True)
    s = result.settings
    stem = OUTPUT_DIR / f"dialogue-{s.method}-{s.iterations}it-seed{s.seed}-{uuid.uuid4().hex[:8]}"
    return [
        str(write_audio(f"{stem}.{suffix}", result.audio, result.sample_rate)) for suffix in ("wav", "mp3")
    ]


def pcm16(audio: np.ndarray) -> np.ndarray:
    """Float samples as 16-bit PCM, the player's format (gradio would convert them with a warning)."""
    return (np.clip(audio, -1.0, 1.0) * 32767).round().astype(np.int16)


def _progress_reporter(
    progress: Callable, run: int = 0, runs: int = 1, prefix: str = ""
) -> Callable[[str, float], None]:
    """The pipeline's progress(stage, fraction) as run `run` of `runs` on the page's bar."""

    def report(stage: str, fraction: float) -> None:
        progress((run + fraction) / runs, desc=prefix + stage)

    return report


def _synthesize(
    transcript: str,
    method: str,
    iterations: float,
    temperature: float,
    guidance: float,
    seed: float,
    voice_match: float,
    speaker_values: Sequence[Any],
    progress: Callable[[str, float], None],
    **kw: Any,
) -> DialogueResult:
    """One synthesis from the page's fields (voices resolved from the slots)."""
    uploads, choices, words, rates = split_speaker_values(speaker_values)
    voices, speaker_rates = resolve_voices(transcript or "", uploads, choices, rates)
    return synthesizer().synthesize(
        transcript or "",
        voices,
        voice_texts=resolve_voice_texts(transcript or "", words),
        method=method,
        iterations=_whole(iterations, "Iterations"),
        temperature=float(temperature),
        guidance=float(guidance),
        seed=_whole(seed, "Seed"),
        voice_match=voice_match,
        rate=speaker_rates or 1.0,
        progress=progress,
        **kw,
    )


def _whole(value: float | None, what: str) -> int:
    """A number from a page field as an int; refuses fractions and empty fields."""
    if value is None or float(value) != int(float(value)):
        raise UserInputError(f"{what} must be a whole number, not {value!r}.")
    return int(float(value))


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
    """Gradio handler: synthesize the dialogue, then draw how it was decoded.

    Args:
        transcript, method, iterations, temperature, guidance, seed, voice_match: the page's fields.
        speaker_values: 4 voice clips (paths or None), 4 built-in voice names (or None), 4 texts of what the
            clips say (blank: unknown), 4 speaking rates.
        progress: the page's progress bar (stage and iteration).

    Yields:
        First the audio and the report (the rest skipped), so the dialogue plays while the figures are drawn;
        then everything: (sample_rate, audio), the report markdown, the fill-in image, the iteration slider's
        update, the confidence image, the spectrogram image, [wav path, mp3 path], and the TraceView kept
        for redrawing.
    """
    with page_errors("Generating the dialogue"):
        result = _synthesize(
            transcript,
            method,
            iterations,
            temperature,
            guidance,
            seed,
            voice_match,
            speaker_values,
            _progress_reporter(progress),
        )
        audio, report = (result.sample_rate, pcm16(result.audio)), _report(result)
        yield audio, report, *[gr.skip()] * 6
        progress(1.0, desc="drawing the decoding trace")
        view = TraceView.from_trace(
            result.trace, [t.speaker for t in result.turns], synthesizer().codec.frame_rate
        )
        last = view.iterations
        spans = [(t.speaker, t.start_s, t.end_s) for t in result.turns]
        yield (
            audio,
            report,
            figure_to_image(fill_in_figure(view, last)),
            gr.Slider(minimum=1, maximum=max(last, 1), value=last, step=1, interactive=last > 1),
            figure_to_image(confidence_figure(view, last)),
            figure_to_image(spectrogram_figure(result.audio, result.sample_rate, spans)),
            _write_downloads(result),
            view,
        )


def redraw_trace(view: TraceView | None, iteration: float) -> tuple:
    """Gradio handler: the fill-in and confidence images at another iteration of the kept trace."""
    if view is None:
        return None, None
    with page_errors("Drawing the decoding trace"):
        it = int(iteration)
        return figure_to_image(fill_in_figure(view, it)), figure_to_image(confidence_figure(view, it))


@named_speaker_inputs
def compare_iterations(
    transcript: str,
    method: str,
    temperature: float,
    guidance: float,
    seed: int,
    voice_match: float,
    *speaker_values: Any,
    progress: gr.Progress = gr.Progress(),  # noqa: B008
) -> tuple:
    """Gradio handler: the same dialogue, method and seed at 1, 2, 4, 8 and 16 iterations.

    Args:
        transcript, method, temperature, guidance, seed, voice_match: the page's fields.
        speaker_values: per slot, as `generate_dialogue` takes them.
        progress: the page's progress bar (run, stage and iteration).

    Returns:
        One gr.Audio update per iteration count (labeled with the count and the generation time), then a
        markdown table of the times.
    """
    players, rows = [], []
    n_runs = len(COMPARE_ITERATIONS)
    with page_errors("Comparing iterations"):
        for k, iterations in enumerate(COMPARE_ITERATIONS):
            report = _progress_reporter(
                progress, k, n_runs, f"run {k + 1}/{n_runs}, {iterations} iterations: "
            )
            result = _synthesize(
                transcript,
                method,
                iterations,
                temperature,
                guidance,
                seed,
                voice_match,
                speaker_values,
                report,
                keep_trace=False,
            )
            seconds = result.timings["total"]
            label = f"{iterations} iteration{'s' * (iterations > 1)}, made in {seconds:.1f} s"
            players.append(gr.Audio(value=(result.sample_rate, pcm16(result.audio)), label=label))
            rows.append(
                f"| {iterations} | {seconds:.2f} s | {result.timings['acoustic']:.2f} s | "
                f"{result.real_time_factor:.2f} |"
            )
    table = (
        f"{method}, seed {int(seed)}, the same for every run.\n\n| iterations | total | acoustic decode | "
        "real-time factor |\n|---|---|---|---|\n" + "\n".join(rows)
    )
    return (*players, table)


def load_demo(name: str | None) -> tuple:
    """Gradio handler: a ready dialogue's transcript, then per slot its voice clips, the demo voice names and
    what the clips say (words typed for earlier clips would not fit these)."""
    with page_errors("Loading the demo"):
        demos = {demo.name: demo for demo in list_demos()}
        if not name:
            return (gr.skip(),) * (1 + 3 * len(SPEAKERS))
        if name not in demos:
            raise UserInputError(f"There is no demo called {name!r}; choose one of {', '.join(demos)}.")
        demo = demos[name]
        names = {path.resolve(): voice for voice, path in demo_voices().items()}
        words = demo_voice_words()
        clips = [demo.voices.get(slot) for slot in SPEAKERS]
        return (
            demo.transcript,
            *[str(clip) if clip else None for clip in clips],
            *[names.get(clip.resolve()) if clip else None for clip in clips],
            *[words.get(clip.resolve(), "") if clip else "" for clip in clips],
        )


def pick_demo_voice(name: str | None) -> tuple:
    """Gradio handler: the clip of a built-in voice, shown in the speaker's audio input, and what it says,
    shown in the speaker's words box (words typed for an earlier clip would not fit it); no voice: no clip,
    the box as it is."""
    with page_errors("Choosing the voice"):
        if not name:
            return None, gr.skip()
        voices = demo_voices()
        if name not in voices:
            raise UserInputError(f"{name!r} is not a built-in voice; choose one of {', '.join(voices)}.")
        return str(voices[name]), demo_voice_words().get(voices[name].resolve(), "")
