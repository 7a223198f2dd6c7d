"""Make the neural decoder's training pairs (codec tokens, 24 kHz waveform) from audio that sounds like
people: the Asterisk prompts (real, 16 kHz), Kokoro (24 kHz) and Piper (22 kHz) speaking training sentences,
and optionally utterances of the 16 kHz corpus. Held-out speakers are refused (engine/vocoder/held_out.py).

    python -m engine.train.prepare_vocoder --out /work/vocoder_data --kokoro 600 --piper 200 --corpus-utterances 300

Resumable: pairs already in OUT are skipped. Each clip is analysed at the codec's 16 kHz, as `encode` does,
and kept at 24 kHz; a clip from a lower rate keeps its band limit (`cutoff_hz`) for the losses.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from engine.audio import resample
from engine.codec.base import DEFAULT_CODEC_DIR, load_codec
from engine.data import asterisk
from engine.data.real_speech import DEFAULT_DIR as REAL_SPEECH_DIR
from engine.data.real_speech.sources import read_recording
from engine.errors import UserInputError
from engine.vocoder.generator import VocoderConfig
from engine.vocoder.held_out import BenchmarkSpeech, benchmark_speech, check_trainable
from engine.vocoder.pairs import PairWriter

SOURCES = ("asterisk", "kokoro", "piper", "corpus")


@dataclass(frozen=True)
class Clip:
    """One recording offered for training, read only when its pair is made."""

    id: str
    source: str
    person: str
    path: Path  # the recording (or, for a synthesized clip, a name standing for its voice)
    read: Callable[[], tuple[np.ndarray, int]]  # -> mono float32 samples, sample rate
    engine_voice: tuple[str, str] | None = None


def asterisk_clips(bench: BenchmarkSpeech) -> Iterator[Clip]:
    """Allison's Asterisk prompts (G.722, 16 kHz), every file the benchmark does not play."""
    for name, path in asterisk.training_prompts(bench):
        clip_id = f"asterisk-{name.replace('/', '_')}"
        yield Clip(clip_id, "asterisk", asterisk.PERSON, path, lambda p=path: read_recording(p))


def _training_sentences(count: int, seed: int) -> list[str]:
    from engine.data.sentences import load_sentences

    pool = sorted(s.text for s in load_sentences() if s.split == "train")
    rng = np.random.default_rng(seed)
    return [pool[i] for i in rng.choice(len(pool), size=min(count, len(pool)), replace=False)]


def synthesized_clips(engine: str, count: int, seed: int) -> Iterator[Clip]:
    """`count` training sentences spoken by the engine's training speakers in turn (Kokoro or Piper)."""
    from engine.data.voices import TRAIN_SPEAKERS

    if engine == "kokoro":
        from engine.data import kokoro as module
    else:
        from engine.data import piper as module
    speakers = [s for s in TRAIN_SPEAKERS if s.engine == engine]
    for k, text in enumerate(_training_sentences(count, seed + zlib.crc32(engine.encode()))):
        sp = speakers[k % len(speakers)]

        def read(sp=sp, text=text) -> tuple[np.ndarray, int]:
            pcm, rate, _ = module.synthesize(text, sp.voice, sp.rate)
            return pcm.astype(np.float32) / 32768.0, rate

        digest = zlib.crc32(text.encode()) & 0xFFFFFFFF
        yield Clip(f"{sp.id}-{digest:08x}", engine, sp.id, Path(engine) / sp.voice, read, (engine, sp.voice))


def corpus_clips(corpus: Path, count: int) -> Iterator[Clip]:
    """Up to `count` train-split utterances of the 16 kHz corpus, taken from each speaker in turn."""
    from engine.data.manifest import load_manifest

    by_speaker: dict[str, list] = {}
    for u in load_manifest(str(corpus), "train"):
        by_speaker.setdefault(u.speaker, []).append(u)
    queues = [sorted(us, key=lambda u: u.id) for _, us in sorted(by_speaker.items())]
    taken = 0
    for depth in range(max((len(q) for q in queues), default=0)):
        for q in queues:
            if depth < len(q) and taken < count:
                u = q[depth]
                taken += 1
                yield Clip(
                    u.id,
                    "corpus",
                    u.speaker,
                    Path(u.wav_path),
                    lambda p=u.wav_path: read_recording(Path(p)),
                    (u.engine, u.voice),
                )


def make_pair(clip: Clip, codec, writer: PairWriter, cfg: VocoderConfig) -> float:
    """Encode one clip and store its pair; returns its seconds."""
    samples, rate = clip.read()
    world_rate = codec.cfg.world.sample_rate
    codes = codec.encode(resample(samples, rate, world_rate))
    wave = resample(samples, rate, cfg.sample_rate)
    writer.add(clip.id, clip.source, clip.person, codes, wave, min(rate, cfg.sample_rate) / 2)
    return len(samples) / rate


def prepare(
    out: Path,
    clips: Iterator[Clip],
    bench: BenchmarkSpeech,
    codec_dir: Path = DEFAULT_CODEC_DIR,
    log: Callable[[str], None] = print,
    command: str = "",
) -> dict:
    """Check every clip against the held-out speakers, then encode and store those not stored yet.

    Returns:
        A summary: pairs and seconds per source, the real persons trained on, the commands that made the
        folder (`command` added to those before) and the time they spent in all.
    """
    cfg = VocoderConfig()
    codec = load_codec(codec_dir)
    writer = PairWriter(out, Path(codec_dir) / "codec.pt", cfg.hop, cfg.sample_rate)
    clips = list(clips)
    for clip in clips:  # all refused before any work: a held-out clip is a mistake in the recipe
        check_trainable(bench, clip.person, clip.path, clip.engine_voice)
    todo = [c for c in clips if c.id not in writer.done]
    log(f"[prepare_vocoder] {len(clips)} clips, {len(clips) - len(todo)} already stored, {len(todo)} to make")
    t0, seconds = time.perf_counter(), 0.0
    for k, clip in enumerate(todo, start=1):
        seconds += make_pair(clip, codec, writer, cfg)
        if k % 50 == 0 or k == len(todo):
            log(
                f"[prepare_vocoder] {k}/{len(todo)} ({seconds / 60:.1f} min of audio, {time.perf_counter() - t0:.0f} s)"
            )
    entries = [
        json.loads(line)
        for line in (Path(out) / "pairs.jsonl").read_text().splitlines()
        if line.endswith("}")
    ]
    summary_path = Path(out) / "summary.json"
    before = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    commands = before.get("commands", []) + ([command] if command else [])
    summary = {
        "pairs": len(entries),
        "minutes_by_source": {
            s: round(sum(e["seconds"] for e in entries if e["source"] == s) / 60, 1)
            for s in sorted({e["source"] for e in entries})
        },
        "trained_real_persons": sorted({e["person"] for e in entries if e["person"] in bench.persons}),
        "commands": commands,
        "seconds_spent": round(before.get("seconds_spent", 0.0) + time.perf_counter() - t0, 1),
    }
    summary_path.write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=Path("/work/vocoder_data"))
    p.add_argument("--sources", default="asterisk,kokoro,piper", help=f"comma-separated, of {SOURCES}")
    p.add_argument("--kokoro", type=int, default=600, help="Kokoro sentences")
    p.add_argument("--piper", type=int, default=200, help="Piper sentences")
    p.add_argument("--corpus", type=Path, default=Path("/work/corpus"))
    p.add_argument("--corpus-utterances", type=int, default=300)
    p.add_argument("--real-speech", type=Path, default=REAL_SPEECH_DIR)
    p.add_argument("--codec", type=Path, default=DEFAULT_CODEC_DIR)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    chosen = [s.strip() for s in args.sources.split(",") if s.strip()]
    try:
        unknown = set(chosen) - set(SOURCES)
        if unknown:
            raise UserInputError(f"Unknown sources {sorted(unknown)}; use some of {SOURCES}.")
        bench = benchmark_speech(args.real_speech)

        def clips() -> Iterator[Clip]:
            if "asterisk" in chosen:
                yield from asterisk_clips(bench)
            for engine in ("kokoro", "piper"):
                if engine in chosen:
                    yield from synthesized_clips(engine, getattr(args, engine), args.seed)
            if "corpus" in chosen:
                yield from corpus_clips(args.corpus, args.corpus_utterances)

        command = shlex.join([sys.executable, "-m", "engine.train.prepare_vocoder", *(argv or sys.argv[1:])])
        summary = prepare(args.out, clips(), bench, args.codec, command=command)
    except UserInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
