"""A dialogue generated chunk by chunk (engine/pipeline/chunks.py): every chunk's audio as soon as it is
decoded, progress that names the stage, the turns worked on and the time left, and a stop that takes
effect within one decoder iteration. `DialogueSynthesizer.stream` makes one; `synthesize` runs one to the
end and returns its `result()`.

Memory: one chunk's decode at a time (its logits, at most CHUNK_SECONDS of padded frames), whatever the
dialogue's length; with `keep=False` nothing else grows with the dialogue but its notes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.acoustic.decoding import DEFAULT_GUIDANCE, DEFAULT_TEMPERATURE
from engine.acoustic.trace import DecodeResult, merge_results, replace_turns
from engine.assemble import DialogueJoiner
from engine.codec.group_codec import GroupRVQCodec
from engine.errors import SynthesisCancelled, UserInputError
from engine.pipeline.chunks import CHUNK_SECONDS, chunk_seed, plan_chunks
from engine.pipeline.decoding import decode_acoustic, decode_turns
from engine.pipeline.planning import TurnPlanner, rates_for
from engine.pipeline.progress import Progress, ProgressReporter, format_seconds
from engine.pipeline.prompts import EncodedPrompt, VoiceSource
from engine.pipeline.results import DialogueResult, TurnAudio
from engine.pipeline.settings import SynthesisSettings, check_settings, check_voice_match, resolve_iterations
from engine.text.transcript import check_voices, parse_transcript, speakers

if TYPE_CHECKING:
    from engine.audio import VoicePrompt
    from engine.pipeline.synthesizer import DialogueSynthesizer

# The bar: loading, clips and planning up to SETUP_END; the chunks share the rest by their padded frames,
# each chunk's acoustic decode ACOUSTIC_SHARE of it and its codec decode the remainder.
SETUP_END = 0.05
ACOUSTIC_SHARE = 0.85
# Seconds per padded frame assumed for the time left until the first chunk is measured (group@2 here).
PRIOR_SECONDS_PER_FRAME = 0.002


@dataclass(frozen=True, eq=False)
class DialogueChunk:
    """The next stretch of a dialogue being generated.

    Attributes:
        index: which chunk (from 0), of `n_chunks` (the dialogue's count; None in the first chunk of a
            dialogue whose other turns are planned once it is out, `first_small`, so its audio need not wait).
        audio: float32 samples that follow the previous chunk's (the lead or pauses before its turns
            included; after the last turn, the closing silence too).
        start_s: where `audio` starts in the dialogue.
        sample_rate: samples per second.
        turns: the turns it holds, placed in the whole dialogue.
        first_turn: index of its first turn; `n_turns` the dialogue's.
    """

    index: int
    n_chunks: int | None
    audio: np.ndarray
    start_s: float
    sample_rate: int
    turns: tuple[TurnAudio, ...]
    first_turn: int
    n_turns: int

    @property
    def final(self) -> bool:
        """Whether this is the dialogue's last chunk."""
        return self.first_turn + len(self.turns) == self.n_turns

    @property
    def end_s(self) -> float:
        """Where this chunk's audio ends in the dialogue."""
        return self.start_s + len(self.audio) / self.sample_rate


@dataclass(frozen=True)
class StreamRequest:
    """What to synthesize and how (the arguments of `DialogueSynthesizer.synthesize` and `stream`)."""

    transcript: str
    voices: Mapping[str, VoiceSource]
    method: str = "group"
    iterations: int | None = None
    temperature: float = DEFAULT_TEMPERATURE
    guidance: float | None = None
    seed: int = 0
    rate: float | Mapping[str, float] = 1.0
    keep_trace: bool = False
    voice_match: float | None = None
    voice_texts: Mapping[str, str] | None = None
    first_small: bool = True
    keep: bool = True
    chunk_seconds: float = CHUNK_SECONDS
    pace_check: bool | None = None


class DialogueStream:
    """Iterate it for the chunks; after the last, `result()` is the whole dialogue (when kept)."""

    def __init__(
        self,
        synth: DialogueSynthesizer,
        request: StreamRequest,
        progress: Progress | None = None,
        cancel: Callable[[], bool] | None = None,
        pause: Callable[[], None] | None = None,
    ) -> None:
        self.synth = synth
        self.request = request
        self.report = ProgressReporter(progress)
        self.cancel = cancel
        self.pause = pause  # called where others may run first: after a voice clip was encoded
        self.timings: dict[str, float] = {}
        self.n_turns = 0
        self.n_chunks = 0
        # After the last chunk (kept or not): what the run was, for reports.
        self.forward_passes = 0
        self.audio_seconds = 0.0
        self.notes: list[str] = []
        self.settings: SynthesisSettings | None = None
        self._result: DialogueResult | None = None
        self._iterator = self._run()

    def __iter__(self) -> Iterator[DialogueChunk]:
        return self._iterator

    def __next__(self) -> DialogueChunk:
        return next(self._iterator)

    def result(self) -> DialogueResult:
        """The whole dialogue, once every chunk was taken (and the stream was made with keep=True)."""
        if self._result is None:
            raise RuntimeError("the stream was not run to its end, or was made with keep=False")
        return self._result

    def _check_cancel(self) -> None:
        if self.cancel is not None and self.cancel():
            raise SynthesisCancelled("the synthesis was stopped")

    def _tick(self, name: str) -> Callable[[], None]:
        """Adds the time from now to the call of the returned function to timings[name]."""
        clock = time.perf_counter()

        def stop() -> None:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - clock

        return stop

    @staticmethod
    def _cost(planner: TurnPlanner, chunk: Sequence[int]) -> int:
        """A chunk's padded frames (what its decode costs)."""
        return len(chunk) * max(len(planner.plans[i].tokens) for i in chunk)

    def _decode(
        self,
        planner: TurnPlanner,
        batch: Sequence[int],
        encoded: Mapping[str, EncodedPrompt],
        how: tuple[int, float, float],
        seed: int,
        on_iteration: Callable[[int, int], None],
        on_turn: Callable[[int, int], None],
    ) -> tuple[DecodeResult, list[np.ndarray]]:
        """The planned turns `batch` through the acoustic decoder in one batch, then each to audio (`how`:
        the decoder's steps and guidance, the voice matching strength)."""
        req, synth, turns = self.request, self.synth, planner.turns
        steps, guidance, match = how
        done = self._tick("acoustic")
        decoded = decode_acoustic(
            synth.acoustic,
            planner.plan(batch),
            [encoded[turns[i].speaker].tokens for i in batch],
            req.method,
            steps,
            req.temperature,
            guidance,
            seed,
            on_iteration,
            req.keep_trace,
        )
        done()
        done = self._tick("codec_decode")
        waves = decode_turns(
            synth.codec, decoded, [encoded[turns[i].speaker].profile for i in batch], match, on_turn
        )
        done()
        return decoded, waves

    def _remake(
        self,
        planner: TurnPlanner,
        chunk: range,
        off: Mapping[int, float],
        decoded: DecodeResult,
        waves: list[np.ndarray],
        encoded: Mapping[str, EncodedPrompt],
        how: tuple[int, float, float],
        report: Callable[[str, str, float], None],
    ) -> DecodeResult:
        """The pace check's remake: the chunk's turns heard off their clip's pace (`off`: turn -> factor on
        its durations) planned again and decoded once more, in one batch when it is no larger than the
        chunk's (else one by one); their audio replaces theirs in `waves`, their decode theirs in the result
        (`how` as `_decode`'s)."""
        req, synth = self.request, self.synth
        budget = self._cost(planner, chunk)
        again = [i for i in chunk if i in off]
        done = self._tick("t2s")
        for i in again:
            planner.replan(i, off[i])
        done()
        batches = [again] if self._cost(planner, again) <= budget else [[i] for i in again]
        for batch in batches:
            where = (
                "pace check: turn" + ("s " if len(batch) > 1 else " ") + ", ".join(str(i + 1) for i in batch)
            )
            redo, remade = self._decode(
                planner,
                batch,
                encoded,
                how,
                (chunk_seed(req.seed, batch[0]) + 1) % 2**63,  # other draws than the first attempt's
                lambda i, n, where=where: report(where, f"acoustic iteration {i}/{n}", 1.0),
                lambda i, n, where=where: report(where, "codec decode", 1.0),
            )
            rows = [i - chunk.start for i in batch]
            for row, i, wave in zip(rows, batch, remade, strict=True):
                waves[row] = wave
                planner.heard_again(i, wave, int(synth.codec.sample_rate))
            decoded = replace_turns(decoded, rows, redo)
        return decoded

    def _run(self) -> Iterator[DialogueChunk]:
        req, synth = self.request, self.synth
        self.report("starting", 0.0)
        start = time.perf_counter()
        for name in ("parse", "load", "prompts", "t2s", "acoustic", "codec_decode", "assemble"):
            self.timings[name] = 0.0
        steps = resolve_iterations(req.method, req.iterations)
        guidance = DEFAULT_GUIDANCE[req.method] if req.guidance is None else float(req.guidance)
        check_settings(req.temperature, guidance, req.seed)
        match = synth.voice_match if req.voice_match is None else check_voice_match(req.voice_match)
        check_pace = synth.pace_check if req.pace_check is None else bool(req.pace_check)
        how = (steps, guidance, match)  # every decode of the dialogue's turns
        if not isinstance(req.transcript, str):
            raise UserInputError(
                "The transcript must be text; write one turn per line, e.g. '[S1] Hello there.'"
            )
        voices = req.voices or {}

        done = self._tick("parse")
        turns = parse_transcript(req.transcript)
        notes = check_voices(turns, voices)
        names = speakers(turns)
        rates = rates_for(names, req.rate)
        done()
        self.n_turns = len(turns)

        done = self._tick("load")
        if not synth.loaded:
            self.report("loading models", 0.01)
        synth.load()
        done()

        # Every clip is read and checked now; its codec tokens are made when a chunk first needs them.
        done = self._tick("prompts")
        by_key = {str(key).strip().casefold(): source for key, source in voices.items()}
        sources = {name: by_key[name.casefold()] for name in names}
        labels = {
            name: f"{name}'s voice" + (f" ({Path(s).name})" if isinstance(s, (str, Path)) else "")
            for name, s in sources.items()
        }
        clips: dict[str, VoicePrompt] = {}
        encoded: dict[str, EncodedPrompt] = {}
        for n, name in enumerate(names):
            self.report(f"reading the voice clips: {name}", 0.02 + 0.02 * n / len(names))
            clips[name] = synth.load_prompt(sources[name], labels[name])
            notes += [f"voice {name}: {note}" for note in clips[name].notes]
        done()

        done = self._tick("t2s")
        planner = TurnPlanner(synth.t2s, turns, clips, sources, rates, req.voice_texts)
        given = {str(key).strip().casefold() for key, text in (req.voice_texts or {}).items() if text}
        for name in names:  # words given for a clip that cannot be its words are refused before any audio
            if name.casefold() in given:
                planner.tempo(name)
        frame_rate = synth.codec.frame_rate
        if req.first_small:  # the first turn alone, so its audio need not wait for the others' planning
            self.report("text to semantic: the first turn", 0.04)
            chunks = [range(1)]
            first = len(planner.plan([0])[0].tokens)
            words = [max(len(t.text.split()), 1) for t in turns]
            total_cost = first * sum(words) / words[0]  # until the rest is planned
        else:
            self.report(f"text to semantic: {len(turns)} turns", 0.04)
            plans = planner.plan(range(len(turns)))
            chunks = plan_chunks([len(p.tokens) for p in plans], frame_rate, req.chunk_seconds, False)
            total_cost = float(sum(self._cost(planner, c) for c in chunks))
        done()

        sample_rate = int(synth.codec.sample_rate)
        joiner = DialogueJoiner([t.speaker for t in turns], sample_rate, synth.assembly, int(req.seed))
        pieces: list[np.ndarray] = []
        decodes: list[DecodeResult] = []
        placed: list[TurnAudio] = []
        work_start = time.perf_counter()
        cost_done = 0.0
        cost = 0.0

        def report(where: str, stage: str, within: float) -> None:
            self._check_cancel()
            share = min((cost_done + cost * within) / total_cost, 1.0)
            elapsed = time.perf_counter() - work_start
            if cost_done > 0 or share > 0.05:
                left = elapsed * (1.0 - share) / max(share, 1e-9)
            else:
                left = PRIOR_SECONDS_PER_FRAME * total_cost * (1.0 - share)
            fraction = SETUP_END + (0.99 - SETUP_END) * share
            self.report(f"{where}: {stage} · about {format_seconds(left)} left", fraction)

        k = 0
        while k < len(chunks):
            chunk = chunks[k]
            plans = planner.plan(chunk)
            cost = float(self._cost(planner, chunk))
            a, b = chunk.start + 1, chunk.stop
            where = f"turn {a} of {len(turns)}" if a == b else f"turns {a}-{b} of {len(turns)}"
            done = self._tick("prompts")
            new = [name for name in dict.fromkeys(turns[i].speaker for i in chunk) if name not in encoded]
            for name in new:
                report(where, f"encoding {name}'s voice clip", 0.0)
                encoded[name] = synth.encode_prompt(sources[name], labels[name], loaded=clips[name])
            done()
            if new and self.pause is not None:  # an encoding is as long as a chunk: others may go first
                self.pause()

            report(where, "acoustic model", 0.0)
            decoded, waves = self._decode(
                planner,
                list(chunk),
                encoded,
                how,
                chunk_seed(req.seed, chunk.start),
                lambda i, n, where=where: report(
                    where, f"acoustic iteration {i}/{n}", ACOUSTIC_SHARE * i / n
                ),
                lambda i, n, where=where, first=chunk.start: report(
                    where,
                    f"codec decode, turn {first + i + 1}",
                    ACOUSTIC_SHARE + (1 - ACOUSTIC_SHARE) * i / n,
                ),
            )
            off = planner.off_pace(list(chunk), waves, sample_rate) if check_pace else {}
            if off:
                decoded = self._remake(planner, chunk, off, decoded, waves, encoded, how, report)
                plans = planner.plan(chunk)

            done = self._tick("assemble")
            piece = joiner.add(waves)
            chunk_turns = tuple(
                TurnAudio(
                    speaker=turns[i].speaker,
                    text=plan.text,
                    audio=audio,
                    start_s=span[0] / sample_rate,
                    end_s=span[1] / sample_rate,
                    n_frames=int(n_frames),
                    notes=plan.notes,
                    remade=i in planner.remade,
                )
                for i, plan, audio, span, n_frames in zip(
                    chunk, plans, piece.turns, piece.spans, decoded.lengths, strict=True
                )
            )
            if req.keep:
                pieces.append(piece.audio)
                decodes.append(decoded)
                placed += chunk_turns
            done()
            self.forward_passes += decoded.trace.forward_passes
            cost_done += cost
            rest_unplanned = k == 0 and req.first_small and len(turns) > 1
            if k == 0:
                self.timings["first_audio"] = time.perf_counter() - start
            self.n_chunks = len(chunks)
            if k + 1 < len(chunks):
                report(where, "chunk done", 1.0)
            yield DialogueChunk(
                k,
                None if rest_unplanned else len(chunks),
                piece.audio,
                piece.start / sample_rate,
                sample_rate,
                chunk_turns,
                chunk.start,
                len(turns),
            )
            if rest_unplanned:  # the rest of the dialogue, while the first turn plays
                done = self._tick("t2s")
                report(where, f"text to semantic: turns 2-{len(turns)}", 1.0)
                rest = planner.plan(range(1, len(turns)))
                chunks += plan_chunks(
                    [len(p.tokens) for p in rest],
                    frame_rate,
                    req.chunk_seconds,
                    previous=int(cost),
                    offset=1,
                )
                total_cost = cost + sum(self._cost(planner, c) for c in chunks[1:])
                self.n_chunks = len(chunks)
                done()
            k += 1

        plan = planner.result()
        notes += plan.notes
        self.timings["total"] = time.perf_counter() - start
        self.audio_seconds = joiner.cursor / sample_rate
        self.notes = notes
        self.settings = SynthesisSettings(
            method=req.method,
            iterations=steps,
            temperature=float(req.temperature),
            guidance=guidance,
            seed=int(req.seed),
            rates=tuple(rates.items()),
            prompt_seconds=synth.prompt_seconds,
            voice_match=match if isinstance(synth.codec, GroupRVQCodec) else 0.0,
            pace_check=check_pace and synth.t2s.guards,
            tempos=tuple((name, tempo) for name, tempo in plan.tempos.items() if name in plan.known_words),
            heard_tempos=tuple(
                (name, tempo)
                for name, tempo in plan.tempos.items()
                if synth.t2s.recognizer is not None and name not in plan.known_words
            ),
        )
        self.report("done", 1.0)
        if not req.keep:
            return
        merged = merge_results(decodes)
        self._result = DialogueResult(
            np.concatenate(pieces),
            sample_rate,
            placed,
            merged.trace,
            merged.tokens,
            dict(self.timings),
            self.settings,
            notes,
            chunks=len(chunks),
        )
