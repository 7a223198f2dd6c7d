"""Allison Smith's Asterisk prompts (Debian `asterisk-core-sounds-en*`, CC-BY-SA-3.0) as training speech: the
one real speaker whose recordings may train models here (issue 21 and 22), except the clips the real-voice
benchmark plays (engine/vocoder/held_out.py). A model trained on her names her in its metadata
(`trained_real_persons`) and the benchmark reports her apart from the unseen speakers.

    python -m engine.data.asterisk --out /work/corpus_asterisk      # a corpus folder for prepare_acoustic

Each prompt's transcript comes from the package's core-sounds-en.txt; its phones are forced-aligned
(engine/data/forced_align.py). A prompt whose words Whisper base does not hear as written (WER above
`--max-wer`: a transcript that says "press 1" where she says "press one" is fine after normalization, one
that names a tone is not) is left out, so a wrong transcript cannot teach wrong phones.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.errors import UserInputError

if TYPE_CHECKING:
    from engine.vocoder.held_out import BenchmarkSpeech

PERSON = "asterisk-allison"
SOUNDS = "usr/share/asterisk/sounds/en_US_f_Allison"
G722_PACKAGE = "deb/asterisk-core-sounds-en-g722"
TEXTS = "deb/asterisk-core-sounds-en/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz"
MIN_SECONDS = 0.8
MAX_PHONE_SECONDS = 0.4  # a phone (not a pause) held longer than this after the edges are set: misaligned
SILENCE_DB = 35.0  # a 20 ms frame this far below the loudest one is silence
VALID_SHARE = 20  # one prompt in 20 (by a hash of its name) goes to the valid split


def prompt_texts(downloads: Path) -> dict[str, str]:
    """Transcripts of the prompts by name ("agent-pass", "digits/1"), from the package's text list; entries
    that describe a sound ("[ascending tones]") are left out."""
    texts = {}
    with gzip.open(downloads / TEXTS, "rt", encoding="utf-8", errors="replace") as lines:
        for line in lines.read().splitlines():
            m = re.match(r"^([\w/-]+): (.+)$", line.strip())
            if m and "[" not in m.group(2):
                texts[m.group(1)] = m.group(2)
    return texts


def snap_edges(
    phones: list[tuple[str, float, float]], audio: np.ndarray, rate: int
) -> list[tuple[str, float, float]]:
    """The alignment with its first and last phone confined to the speech: on these recordings the aligner
    lets the edge phones swallow the silence around them (a final "d" of 300 ms in "Cancelled."), so the
    edge pauses take every frame from the clip's ends to the first and last frame that is not silence."""
    hop = rate // 50
    frames = audio[: len(audio) // hop * hop].astype(np.float64).reshape(-1, hop)
    level = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-9)
    speech = np.flatnonzero(level > level.max() - SILENCE_DB)
    if len(phones) < 3 or len(speech) == 0:
        return phones
    begin, end = speech[0] * hop / rate, (speech[-1] + 1) * hop / rate
    out = list(phones)
    (lead, lead_start, lead_end), (first, _, first_end) = out[0], out[1]
    if lead_end < begin < first_end:
        out[0], out[1] = (lead, lead_start, begin), (first, begin, first_end)
    (last, last_start, last_end), (tail, _, tail_end) = out[-2], out[-1]
    if last_start < end < last_end:
        out[-2], out[-1] = (last, last_start, end), (tail, end, tail_end)
    return out


def well_aligned(phones: list[tuple[str, float, float]]) -> bool:
    """No phone but a pause held longer than MAX_PHONE_SECONDS."""
    return all(e - s <= MAX_PHONE_SECONDS for p, s, e in phones if not p.startswith("_"))


def training_prompts(bench: BenchmarkSpeech) -> Iterator[tuple[str, Path]]:
    """(name, G.722 file) of every prompt the real-voice benchmark (`bench`, its speech set) does not play,
    in name order."""
    folder = bench.folder / "downloads" / G722_PACKAGE / SOUNDS
    for path in sorted(folder.rglob("*.g722")):
        if (PERSON, path.stem) not in bench.clip_stems:
            yield path.relative_to(folder).with_suffix("").as_posix(), path


def build(real_speech: Path, out: Path, max_wer: float, log=print) -> dict[str, int]:
    """Write the corpus folder `out` (wavs/ + manifest.jsonl); returns counts of what was kept and why not."""
    from engine.data.forced_align import align
    from engine.data.manifest import MANIFEST_NAME, read_entries
    from engine.data.real_speech.sources import read_recording
    from engine.data.wavio import write_wav_atomic
    from engine.eval.wer import Transcriber, word_error_rate
    from engine.text.normalize import normalize_text
    from engine.text.phonemize import phonemize
    from engine.vocoder.held_out import benchmark_speech

    texts = prompt_texts(real_speech / "downloads")
    done = read_entries(str(out))
    heard = Transcriber("base")
    counts = {"kept": 0, "no transcript": 0, "too short": 0, "not heard as written": 0, "misaligned": 0}
    started = time.time()
    prompts = list(training_prompts(benchmark_speech(real_speech)))
    with open(out / MANIFEST_NAME, "a", encoding="utf-8") as manifest:
        for i, (name, path) in enumerate(prompts):
            if i % 50 == 0:
                log(f"{i}/{len(prompts)} prompts ({time.time() - started:.0f} s): {counts}")
            uid = "asterisk-" + name.replace("/", "_")
            if uid in done:
                counts["kept"] += 1
                continue
            if name not in texts:
                counts["no transcript"] += 1
                continue
            samples, rate = read_recording(path)
            if len(samples) < MIN_SECONDS * rate:
                counts["too short"] += 1
                continue
            try:
                text = normalize_text(texts[name]).text
                phones = ["_", *phonemize(text)]
            except UserInputError:
                counts["no transcript"] += 1
                continue
            if word_error_rate(text, heard.transcribe(samples, rate)) > max_wer:
                counts["not heard as written"] += 1
                continue
            audio = np.clip(np.round(samples * 32767), -32768, 32767).astype(np.int16)
            phones = snap_edges(align(audio, rate, phones), audio, rate)
            if not well_aligned(phones):
                counts["misaligned"] += 1
                continue
            wav = f"wavs/{PERSON}/{uid}.wav"
            write_wav_atomic(str(out / wav), audio, rate)
            split = "valid" if zlib.crc32(uid.encode()) % VALID_SHARE == 0 else "train"
            entry = {
                "id": uid,
                "speaker": PERSON,
                "engine": "asterisk",
                "voice": "allison",
                "split": split,
                "text": text,
                "wav": wav,
                "sample_rate": rate,
                "duration": len(audio) / rate,
                "phones": [[p, round(s, 5), round(e, 5)] for p, s, e in phones],
                "source": str(path.relative_to(real_speech)),
            }
            manifest.write(json.dumps(entry) + "\n")
            manifest.flush()
            counts["kept"] += 1
    return counts


def main(argv: list[str] | None = None) -> None:
    from engine.data.real_speech import DEFAULT_DIR

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--real-speech", type=Path, default=DEFAULT_DIR, help="the real-speech set (its downloads)"
    )
    p.add_argument("--out", type=Path, required=True, help="corpus folder to write (resumed if it exists)")
    p.add_argument(
        "--max-wer", type=float, default=0.25, help="Whisper base WER above which a prompt is left out"
    )
    args = p.parse_args(argv)
    if not (args.real_speech / "downloads" / TEXTS).is_file():
        raise UserInputError(
            f"No Asterisk prompts under {args.real_speech}: fetch the real-speech set first "
            f"(`python -m engine.data.real_speech --out {args.real_speech}`)."
        )
    args.out.mkdir(parents=True, exist_ok=True)
    print(build(args.real_speech, args.out, args.max_wer))


if __name__ == "__main__":
    main()
