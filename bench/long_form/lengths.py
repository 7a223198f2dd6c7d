"""One long dialogue generated start to end in a fresh process, as `generate --stream` runs it (each chunk taken
as it comes, nothing of the dialogue kept): time to first audio, each chunk's time, real-time factor and peak
resident memory; then how alike each speaker sounds to their clip in the first and the last pass through the
demo turns (the same sentences), and every turn's loudness.

Memory is the kernel's resident high-water mark (VmHWM in /proc/self/status), reset just before the dialogue
(engine.eval.timing), in a process of its own, so nothing measured before counts: the models, the encoded
clips and a warm-up synthesis are resident when the dialogue starts and are part of the peak.
"""

from __future__ import annotations

import multiprocessing
import statistics
import tempfile
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.audio import speech_level_dbfs
from engine.errors import UserInputError
from engine.eval.timing import peak_memory_mb, reset_peak_memory

WARM_UP_TURNS = 2
RESEEDS = (
    1,
    2,
    3,
)  # the first pass is generated again at these seeds (the dialogue is at 0): sampling's spread


@dataclass(frozen=True)
class LengthFigures:
    """One dialogue generated start to end.

    Attributes:
        turns: its turns; `pass_turns` of them make one pass through the demo turns.
        audio_s: seconds of audio made.
        first_audio_s: seconds until the first chunk came out of the stream.
        chunk_s: each chunk's time (from the previous chunk, the first from the start).
        wall_s: seconds until the last chunk.
        rss_before_mb: resident memory when the dialogue started (models and clips loaded, warmed up).
        peak_mb: the most resident memory during the dialogue.
        levels_db: each turn's speech-gated level (engine.audio.speech_level_dbfs).
        similarity: speaker -> (mean resemblyzer cosine of their turns in the first pass to their clip, the
            same in the last pass, the same for the first pass generated again at each of RESEEDS: how far
            sampling alone moves it); empty when not scored.
        pass_similarity: speaker -> the same mean for every pass in turn, first to last (None where none
            of their turns could be embedded); empty when not scored.
    """

    turns: int
    pass_turns: int
    audio_s: float
    first_audio_s: float
    chunk_s: tuple[float, ...]
    wall_s: float
    rss_before_mb: float
    peak_mb: float
    levels_db: tuple[float, ...]
    similarity: dict[str, tuple[float | None, float | None, tuple[float | None, ...]]]
    pass_similarity: dict[str, tuple[float | None, ...]] = field(default_factory=dict)

    @property
    def rtf(self) -> float:
        """Wall time over audio time."""
        return self.wall_s / self.audio_s


def _mean_similarity(encoder: Any, turns: list[np.ndarray], rate: int, clip: Any) -> float | None:
    scores = []
    for audio in turns:
        try:
            scores.append(encoder.similarity(audio, rate, clip.samples, clip.sample_rate))
        except UserInputError:  # too little speech in the turn to embed
            pass
    return statistics.mean(scores) if scores else None


def generate(
    transcript: str,
    voices: Mapping[str, str | Path],
    pass_turns: int,
    acoustic: str | Path | None = None,
    threads: int | None = None,
    score: bool = True,
) -> LengthFigures:
    """Load the models, encode the clips, warm up on the first turns, then generate `transcript` and measure.

    Args:
        transcript: the dialogue (passes of `pass_turns` turns each).
        voices: speaker -> voice clip.
        pass_turns: turns in one pass; every turn is written to a temporary folder as it comes (as `generate
            --stream` writes its file), so none is held, and scored per pass after the dialogue.
        acoustic: the acoustic checkpoint (None: the shipped one).
        threads: torch threads (None: torch's default).
        score: measure the speakers' similarity to their clips (resemblyzer) after the dialogue.
    """
    import torch

    from engine.audio import load_voice_prompt
    from engine.pipeline import DialogueSynthesizer

    if threads:
        torch.set_num_threads(threads)
    synth = DialogueSynthesizer(acoustic=acoustic)
    for name, clip in voices.items():
        synth.encode_prompt(clip, name)
    synth.synthesize("\n".join(transcript.splitlines()[:WARM_UP_TURNS]), voices, keep_trace=False)

    reset_peak_memory()
    rss_before = peak_memory_mb()
    last = time.perf_counter()
    chunk_s, levels, speakers = [], [], []
    with tempfile.TemporaryDirectory(prefix="long_form_") as folder:
        stream = synth.stream(transcript, voices, keep=False)
        for chunk in stream:
            now = time.perf_counter()
            chunk_s.append(now - last)
            for turn in chunk.turns:
                levels.append(speech_level_dbfs(turn.audio, chunk.sample_rate))
                np.save(Path(folder) / f"{len(speakers)}.npy", np.asarray(turn.audio, dtype=np.float32))
                speakers.append(turn.speaker)
            last = time.perf_counter()  # the writing is left out of the times
        peak = peak_memory_mb()
        wall = sum(chunk_s)
        passes = -(-len(speakers) // pass_turns)
        pass_similarity: dict[str, tuple[float | None, ...]] = {}
        similarity: dict[str, tuple[float | None, float | None, tuple[float | None, ...]]] = {}
        if score:
            from engine.eval.similarity import SpeakerEncoder

            encoder = SpeakerEncoder()
            rate = int(synth.codec.sample_rate)
            clips = {name: load_voice_prompt(voices[name]) for name in dict.fromkeys(speakers)}
            for name, clip in clips.items():
                pass_similarity[name] = tuple(
                    _mean_similarity(
                        encoder,
                        [
                            np.load(Path(folder) / f"{i}.npy")
                            for i in range(k * pass_turns, min((k + 1) * pass_turns, len(speakers)))
                            if speakers[i] == name
                        ],
                        rate,
                        clip,
                    )
                    for k in range(passes)
                )
            first_pass = "\n".join(transcript.splitlines()[:pass_turns])
            again = [
                synth.synthesize(first_pass, voices, seed=seed, keep_trace=False).turns for seed in RESEEDS
            ]
            for name, clip in clips.items():
                similarity[name] = (
                    pass_similarity[name][0],
                    pass_similarity[name][-1],
                    tuple(
                        _mean_similarity(encoder, [t.audio for t in turns if t.speaker == name], rate, clip)
                        for turns in again
                    ),
                )
    return LengthFigures(
        turns=stream.n_turns,
        pass_turns=pass_turns,
        audio_s=stream.audio_seconds,
        first_audio_s=chunk_s[0],
        chunk_s=tuple(chunk_s),
        wall_s=wall,
        rss_before_mb=rss_before,
        peak_mb=peak,
        levels_db=tuple(levels),
        similarity=similarity,
        pass_similarity=pass_similarity,
    )


def in_fresh_process(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`fn(*args, **kwargs)` in a new interpreter (spawned, not forked: nothing of this one is resident there)."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fn, *args, **kwargs).result()
