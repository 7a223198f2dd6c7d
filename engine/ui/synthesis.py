"""The app's one synthesizer and what a page's synthesis needs around it: the line syntheses wait in (and
give way in between chunks), the page's fields as the pipeline's arguments, whole or chunk by chunk, and
the wav/mp3 downloads."""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.errors import UserInputError
from engine.ui.memory import release_freed_memory
from engine.ui.plots import figure_to_image, spectrogram_figure
from engine.ui.waiting import Job, SynthesisLine

if TYPE_CHECKING:  # the pipeline (torch, models) loads on first use, not when the page is built
    from engine.pipeline import DialogueChunk, DialogueResult, DialogueSynthesizer, Progress
    from engine.ui.inputs import PageInput

log = logging.getLogger(__name__)

OUTPUT_DIR = Path(tempfile.gettempdir()) / "dialogue-synth"
KEEP_OUTPUTS_S = 3600.0  # written wav/mp3 files older than this are deleted at the next generation

_synthesizer = None
_synthesizer_lock = threading.Lock()
LINE = SynthesisLine()


def synthesizer() -> DialogueSynthesizer:
    """The one DialogueSynthesizer of this process: models load on first use and stay loaded."""
    global _synthesizer
    with _synthesizer_lock:
        if _synthesizer is None:
            from engine.pipeline import DialogueSynthesizer

            _synthesizer = DialogueSynthesizer()
        return _synthesizer


def warm_up() -> None:
    """Load the models (Whisper tiny.en too, which hears the words of clips given without them) and the
    plotting code, and encode the built-in voices, now: the first Generate then starts without waiting for
    them (a clip's first encoding takes about 0.4 s of the first audio's time)."""
    from engine.demos import demo_voices

    try:
        synth = synthesizer()
        synth.load()
        if synth.t2s.listener is not None:
            synth.t2s.listener.load()
        for name, path in demo_voices().items():
            synth.encode_prompt(path, name)
        figure_to_image(spectrogram_figure(np.zeros(1600, np.float32), 16000, []))
    except Exception:  # the first Generate reports it to the user
        log.exception("warming up the models failed")


def pcm16(audio: np.ndarray) -> np.ndarray:
    """Float samples as 16-bit PCM, the player's format (gradio would convert them with a warning)."""
    return (np.clip(audio, -1.0, 1.0) * 32767).round().astype(np.int16)


def progress_reporter(
    progress: Callable, run: int = 0, runs: int = 1, prefix: str = ""
) -> Callable[[str, float], None]:
    """The pipeline's progress(stage, fraction) as run `run` of `runs` on the page's bar."""

    def report(stage: str, fraction: float) -> None:
        progress((run + fraction) / runs, desc=prefix + stage)

    return report


def whole_number(value: float | None, what: str) -> int:
    """A number from a page field as an int; refuses fractions and empty fields."""
    if value is None or float(value) != int(float(value)):
        raise UserInputError(f"{what} must be a whole number, not {value!r}.")
    return int(float(value))


def _page_options(page: PageInput, settings: Sequence[Any]) -> dict[str, Any]:
    """The page's fields as the pipeline's options; `settings` are the page's (method, iterations,
    temperature, guidance, seed, voice_match, pace_check)."""
    method, iterations, temperature, guidance, seed, voice_match, pace_check = settings
    return {
        "voice_texts": page.texts,
        "method": method,
        "iterations": whole_number(iterations, "Iterations"),
        "temperature": float(temperature),
        "guidance": float(guidance),
        "seed": whole_number(seed, "Seed"),
        "voice_match": voice_match,
        "pace_check": bool(pace_check),
        "rate": page.rates or 1.0,
    }


def synthesize_page(
    page: PageInput, settings: Sequence[Any], progress: Progress, job: Job | None = None, **kw: Any
) -> DialogueResult:
    """One synthesis from the page's fields (`_page_options`), stopped when `job` is; the freed memory
    goes back to the system afterwards."""
    try:
        return synthesizer().synthesize(
            page.plan.text,
            page.voices,
            progress,
            job.stopped if job else None,
            **_page_options(page, settings),
            **kw,
        )
    finally:
        release_freed_memory()


def stream_page(
    page: PageInput,
    settings: Sequence[Any],
    progress: Progress,
    job: Job,
    on_wait: Callable[[str], None] | None = None,
    **kw: Any,
) -> Iterator[DialogueChunk]:
    """The page's synthesis chunk by chunk (the first turn first), stopped when `job` is, giving way in the
    line between chunks and after encoding a voice clip; its `DialogueStream.result()` is returned at the end
    (`yield from`)."""
    options = _page_options(page, settings)
    stream = synthesizer().stream(
        page.plan.text,
        page.voices,
        progress,
        job.stopped,
        pause=lambda: LINE.give_way(job, on_wait),
        **options,
        **kw,
    )
    try:
        for chunk in stream:
            yield chunk
            if not chunk.final:
                LINE.give_way(job, on_wait)
    finally:
        release_freed_memory()
    return stream.result() if stream.request.keep else None


def _clear_old_outputs() -> None:
    """Remove written files and folders older than KEEP_OUTPUTS_S."""
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in OUTPUT_DIR.iterdir():
        if now - old.stat().st_mtime <= KEEP_OUTPUTS_S:
            continue
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)


def chunk_folder() -> Path:
    """A new folder for the chunk files of one streamed generation (removed with the old downloads)."""
    _clear_old_outputs()
    folder = OUTPUT_DIR / uuid.uuid4().hex[:12]
    folder.mkdir(parents=True)
    return folder


def write_downloads(result: DialogueResult) -> list[str]:
    """The dialogue as wav and mp3 files named by their settings, each generation in its own folder (so
    the names need no random part); folders older than KEEP_OUTPUTS_S are removed."""
    from engine.audio import write_audio

    _clear_old_outputs()
    s = result.settings
    folder = OUTPUT_DIR / uuid.uuid4().hex[:12]
    name = f"dialogue-{s.method}-{s.iterations}it-seed{s.seed}"
    return [
        str(write_audio(folder / f"{name}.{suffix}", result.audio, result.sample_rate))
        for suffix in ("wav", "mp3")
    ]
