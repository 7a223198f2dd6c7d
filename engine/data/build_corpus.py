"""Build (or resume) the synthetic training corpus: `python -m engine.data.build_corpus --hours H --out DIR`.

Eval utterances (held-out sentences, reserved voices) come first, then train/valid utterances in passes over
the sentences, each pass giving every sentence to another training speaker, until the train+valid audio
reaches the requested hours. Every finished utterance is appended to DIR/manifest.jsonl at once, so readers
can use the corpus while it grows and an interrupted build loses only the utterances in flight.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import hashlib
import json
import multiprocessing
import multiprocessing.pool
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass

from engine.data.corpus_tally import BuildTally, progress_line, write_summary
from engine.data.manifest import append_entry, drop_torn_tail, read_entries
from engine.data.sentences import Sentence, load_sentences
from engine.data.synthesize import SAMPLE_RATE, synthesize, voice_available
from engine.data.voices import ENGINES, EVAL_SPEAKERS, TRAIN_SPEAKERS, Speaker, extra_kokoro_speakers
from engine.data.wavio import write_wav_atomic
from engine.errors import UserInputError

SENTENCES_NAME = "sentences.jsonl"
ENGINE_LOG_NAME = "engine_stderr.log"
README = """Synthetic speech corpus made by `engine.data.build_corpus` (see corpus.json for the command,
counts, hours per split, speakers and synthesis speed).

wavs/<speaker>/<id>.wav   16 kHz mono 16-bit
manifest.jsonl            one utterance per line, appended as the build runs: id, speaker, engine, voice,
                          split (train | valid | eval), text (normalized), wav (relative path), sample_rate,
                          duration, phones [[symbol, start_s, end_s], ...] covering the audio, source
sentences.jsonl           every sentence with its split (a sentence is in exactly one split)

Phones are engine.text.phone_inventory.PHONE_SET symbols; "_" is a pause inside a sentence (and the silence
before the first phone), "_." the pause after each sentence. eval = held-out sentences spoken only by the
reserved voices (mbrola us3, de6, fr4; flite awb; festival ked_diphone; kokoro jf_tebukuro; rhvoice clb),
which never speak train/valid.
Read it with `engine.data.manifest.load_manifest(DIR, split=None)`.
"""


@dataclass(frozen=True)
class Job:
    """One utterance to make: `speaker` says `text` (normalized); `id` is unique per speaker and text."""

    id: str
    speaker: Speaker
    text: str
    split: str
    source: str

    @property
    def wav(self) -> str:
        return f"wavs/{self.speaker.id}/{self.id}.wav"


@dataclass(frozen=True)
class BuildConfig:
    """hours: train+valid audio to reach. eval_per_voice: eval utterances per reserved voice."""

    out: str
    hours: float
    jobs: int = 1
    eval_per_voice: int = 24
    seed: int = 0
    window: int = 32  # utterances handed out per worker between progress lines


def make_job(speaker: Speaker, sentence: Sentence) -> Job:
    """The job of `speaker` saying `sentence` (its id hashes the text, so it is stable across runs)."""
    digest = hashlib.sha1(sentence.text.encode()).hexdigest()[:12]
    return Job(f"{speaker.id}-{digest}", speaker, sentence.text, sentence.split, sentence.source)


def plan_eval(sentences: Sequence[Sentence], speakers: Sequence[Speaker], per_voice: int) -> list[Job]:
    """Eval jobs: each reserved speaker says `per_voice` eval sentences, voices interleaved.

    Args:
        sentences: all sentences (only split "eval" is used).
        speakers: reserved speakers.
        per_voice: utterances per speaker (at least 2, so one can prompt another of the same voice).

    Returns:
        Jobs in order: one per speaker in turn, no (speaker, sentence) twice.
    """
    held_out = [s for s in sentences if s.split == "eval"]
    if not held_out:
        return []
    jobs = {}
    for k in range(per_voice):
        for i, speaker in enumerate(speakers):
            job = make_job(speaker, held_out[(i * per_voice + k) % len(held_out)])
            jobs.setdefault(job.id, job)  # fewer held-out sentences than per_voice: each said once
    return list(jobs.values())


def plan_train(sentences: Sequence[Sentence], speakers: Sequence[Speaker], seed: int) -> Iterator[Job]:
    """Train/valid jobs, lazily: pass p gives each sentence to speaker (hash(sentence) + p) mod n.

    Args:
        sentences: all sentences (splits "train" and "valid" are used).
        speakers: training speakers (none may be reserved).
        seed: fixes the sentence order within each pass.

    Yields:
        Jobs; the sequence is fixed by (sentences, speakers, seed), so a longer build extends a shorter one.
    """
    reserved = [s.id for s in speakers if s.reserved]
    if reserved:
        raise ValueError(f"reserved voices may not speak train/valid sentences: {reserved}")
    pool = [s for s in sentences if s.split in ("train", "valid")]
    for rounds in range(len(speakers)):
        order = random.Random(seed * 1_000_003 + rounds).sample(range(len(pool)), len(pool))
        for index in order:
            sentence = pool[index]
            base = int(hashlib.sha1(sentence.text.encode()).hexdigest()[:8], 16)
            yield make_job(speakers[(base + rounds) % len(speakers)], sentence)


def run_job(job: Job, out: str) -> tuple[Job, dict | None, float, str]:
    """Synthesize one job and write its wav atomically (runs in a worker process).

    Returns:
        (job, manifest entry or None on failure, synthesis seconds, error message or "").
    """
    start = time.perf_counter()
    try:
        result = synthesize(job.speaker, job.text)
    except Exception as error:  # noqa: BLE001 - one bad sentence must not stop a multi-hour build
        return job, None, time.perf_counter() - start, f"{type(error).__name__}: {error}"
    elapsed = time.perf_counter() - start
    write_wav_atomic(os.path.join(out, job.wav), result.audio, SAMPLE_RATE)
    entry = {
        "id": job.id,
        "speaker": job.speaker.id,
        "engine": job.speaker.engine,
        "voice": job.speaker.voice,
        "split": job.split,
        "text": job.text,
        "wav": job.wav,
        "sample_rate": SAMPLE_RATE,
        "duration": round(result.duration, 5),
        "phones": [list(p) for p in result.phones],
        "source": job.source,
    }
    return job, entry, elapsed, ""


def _quiet_worker(log_path: str) -> None:
    """Send a worker's stderr to a file: mbrola, started inside libespeak-ng, prints a line per clipped sample."""
    handle = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(handle, 2)
    os.close(handle)


@contextlib.contextmanager
def _worker_pool(config: BuildConfig) -> Iterator[multiprocessing.pool.Pool | None]:
    """A pool of forked workers, or None for --jobs 1 (jobs then run in this process: nothing forked)."""
    if config.jobs == 1:
        yield None
        return
    # fork: workers start at once; the parent never touches libespeak-ng, so no library state is copied.
    context = multiprocessing.get_context("fork")
    with context.Pool(config.jobs, _quiet_worker, (os.path.join(config.out, ENGINE_LOG_NAME),)) as pool:
        yield pool


def _run_job_star(args: tuple[Job, str]) -> tuple[Job, dict | None, float, str]:
    return run_job(*args)


def cached_sentences(out: str) -> list[Sentence]:
    """The corpus sentences, computed once and kept in DIR/sentences.jsonl so a resumed build (or a changed
    text frontend) never changes the texts of an existing corpus."""
    path = os.path.join(out, SENTENCES_NAME)
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            return [Sentence(**json.loads(line)) for line in handle if line.strip()]
    sentences = load_sentences()
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(asdict(sentence)) + "\n" for sentence in sentences)
    os.replace(tmp, path)
    return sentences


def build(
    config: BuildConfig,
    sentences: Sequence[Sentence] | None = None,
    train_speakers: Sequence[Speaker] = TRAIN_SPEAKERS,
    eval_speakers: Sequence[Speaker] = EVAL_SPEAKERS,
    command: str = "",
    log: Callable[[str], None] = print,
) -> BuildTally:
    """Build or resume a corpus in `config.out`.

    Args:
        config: output folder, target hours, worker count, eval size, seed.
        sentences: texts to speak; default: cached `load_sentences()` (chatterbot + fortunes).
        train_speakers, eval_speakers: who speaks train/valid and eval sentences.
        command: the command line recorded in corpus.json.
        log: where progress lines go.

    Returns:
        The final tally (counts and seconds per split).
    """
    os.makedirs(os.path.join(config.out, "wavs"), exist_ok=True)
    for stale in glob.glob(os.path.join(config.out, "wavs", "*", "*.tmp*")):
        os.remove(stale)  # half-written wavs of an interrupted run
    if sentences is None:
        sentences = cached_sentences(config.out)
    drop_torn_tail(config.out)
    with open(os.path.join(config.out, "README.txt"), "w", encoding="utf-8") as handle:
        handle.write(README)
    entries = {
        key: entry
        for key, entry in read_entries(config.out).items()
        if os.path.exists(os.path.join(config.out, entry["wav"]))
    }
    tally = BuildTally(entries.values())
    log(
        f"[build] {len(sentences)} sentences; resuming with {len(entries)} utterances, "
        f"{tally.train_valid_hours:.2f} h train+valid of {config.hours:.2f} h"
    )
    plan = iter(plan_eval(sentences, eval_speakers, config.eval_per_voice))
    train_plan = plan_train(sentences, train_speakers, config.seed)
    start, made, made_train_valid_s, eval_done = time.time(), 0, 0.0, False
    with _worker_pool(config) as pool:
        while True:
            window: list[Job] = []
            while len(window) < config.window * config.jobs:
                if eval_done and tally.train_valid_hours >= config.hours:
                    break
                job = next(plan, None)
                if job is None:
                    if eval_done:
                        break
                    plan, eval_done = train_plan, True
                    continue
                if job.id not in entries:
                    window.append(job)
            if not window:
                break
            # Runs of one speaker per worker: switching an mbrola voice reloads its database.
            window.sort(key=lambda job: job.speaker.id)
            tasks = [(job, config.out) for job in window]
            chunk = max(1, len(window) // (4 * config.jobs))
            results = (
                pool.imap_unordered(_run_job_star, tasks, chunksize=chunk)
                if pool
                else map(_run_job_star, tasks)
            )
            for job, entry, elapsed, error in results:
                if entry is None:
                    tally.failures += 1
                    log(f"[build] FAILED {job.id} {job.text!r}: {error}")
                    continue
                append_entry(config.out, entry)
                entries[job.id] = entry
                tally.add(entry)
                tally.synth_audio[job.speaker.engine] += entry["duration"]
                tally.synth_wall[job.speaker.engine] += elapsed
                made += 1
                if entry["split"] != "eval":
                    made_train_valid_s += entry["duration"]
            write_summary(config.out, config.hours, tally, sentences, command, train_speakers, eval_speakers)
            log(
                progress_line(
                    tally, len(entries), made, made_train_valid_s, time.time() - start, config.hours
                )
            )
    log(f"[build] done: {len(entries)} utterances, {tally.train_valid_hours:.2f} h train+valid")
    return tally


def available_speakers(speakers: Sequence[Speaker], log: Callable[[str], None] = print) -> list[Speaker]:
    """The speakers whose engine and voice are installed here; the others are named in one log line."""
    kept = [s for s in speakers if voice_available(s.engine, s.voice)]
    missing = Counter(f"{s.engine} {s.voice}" for s in speakers if s not in kept)
    if missing:
        log(
            f"[build] skipping {sum(missing.values())} speakers whose voice is not installed "
            f"({', '.join(sorted(missing))}); `bash install.sh --corpus` installs them"
        )
    return kept


def parse_engines(text: str) -> list[str]:
    """The engines named in `text` (comma-separated), each one of voices.ENGINES, or a UserInputError."""
    engines = [e.strip() for e in text.split(",") if e.strip()]
    unknown = sorted(set(engines) - set(ENGINES))
    if unknown or not engines:
        raise UserInputError(
            f"--engines {text!r}: {'unknown ' + ', '.join(unknown) if unknown else 'no engine named'}; "
            f"choose from {','.join(ENGINES)}."
        )
    return engines


def _log(line: str) -> None:
    print(line, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry: parse arguments, build, print progress; bad arguments print a plain message and exit 2."""
    parser = argparse.ArgumentParser(
        prog="python -m engine.data.build_corpus", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--hours", type=float, required=True, help="train+valid audio to reach, in hours")
    parser.add_argument("--out", required=True, help="corpus folder (created; an existing one is resumed)")
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: CPUs)"
    )
    parser.add_argument("--eval-per-voice", type=int, default=24, help="eval utterances per reserved voice")
    parser.add_argument("--seed", type=int, default=0, help="fixes the sentence order of each pass")
    parser.add_argument(
        "--engines",
        default=",".join(ENGINES),
        help="the engines whose speakers train, comma-separated (default: all; e.g. espeak,mbrola,flite,"
        "festival to build quickly, then resume with all to add the slower neural voices)",
    )
    parser.add_argument(
        "--kokoro-mixes",
        type=int,
        default=0,
        help="this many more Kokoro voices (mix29 onwards) join the training speakers (default 0); with "
        "--engines kokoro and a new --out, a corpus of many natural-sounding voices",
    )
    args = parser.parse_args(argv)
    try:
        if args.hours <= 0:
            raise UserInputError(
                f"--hours {args.hours} is not positive; give the hours of audio to build, e.g. --hours 8."
            )
        if args.jobs < 1:
            raise UserInputError(
                f"--jobs {args.jobs} is below 1; give the number of worker processes, e.g. --jobs 2."
            )
        if args.eval_per_voice < 2:
            raise UserInputError(
                "--eval-per-voice must be at least 2 (one utterance prompts another of the same voice)."
            )
        if args.kokoro_mixes < 0:
            raise UserInputError(f"--kokoro-mixes {args.kokoro_mixes} is negative; give 0 or more voices.")
        engines = parse_engines(args.engines)
        config = BuildConfig(args.out, args.hours, args.jobs, args.eval_per_voice, args.seed)
        command = "python -m engine.data.build_corpus " + " ".join(sys.argv[1:] if argv is None else argv)
        candidates = [s for s in TRAIN_SPEAKERS if s.engine in engines] + list(
            extra_kokoro_speakers(args.kokoro_mixes)
        )
        train_speakers = available_speakers(candidates, _log)
        eval_speakers = available_speakers(EVAL_SPEAKERS, _log)
        if not train_speakers:
            raise UserInputError("No corpus voice is installed; run `bash install.sh --corpus`.")
        build(config, None, train_speakers, eval_speakers, command, _log)
    except UserInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
