"""One utterance, any engine: 16 kHz int16 audio plus inventory phones with start/end times covering it."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np

from engine.data import espeak, festival, flite, kokoro, mbrola, piper, rhvoice
from engine.data.ipa import inventory_to_phones
from engine.data.phones import arpabet_to_phones, espeak_to_phones, label_segments
from engine.data.sentences import split_sentences
from engine.data.voices import Speaker
from engine.data.wavio import resample
from engine.text.phone_inventory import LONG_PAUSE, SHORT_PAUSE

SAMPLE_RATE = 16000
# Every sentence ends in at least this much "_." silence, so sentence ends sound (and are labelled) alike
# across engines: espeak-ng and mbrola stop almost at the last phone; flite and festival leave 0.2-0.45 s.
MIN_END_PAUSE_S = 0.2
_ESPEAK_RATE, _ESPEAK_PITCH = 175, 50
PhoneMapper = Callable[[str], tuple[str, ...] | str]


@dataclass(frozen=True)
class Synthesis:
    """audio: int16 at SAMPLE_RATE. phones: (PHONE_SET symbol, start_s, end_s), contiguous over the audio."""

    audio: np.ndarray
    phones: tuple[tuple[str, float, float], ...]

    @property
    def duration(self) -> float:
        """Length of the audio in seconds."""
        return len(self.audio) / SAMPLE_RATE


def _espeak_segments(output: espeak.EspeakOutput) -> list[tuple[str, float, float]]:
    rate, events = output.sample_rate, output.events
    if not events:
        return []
    starts = [sample for _, sample in events] + [len(output.audio)]
    segments = [("_", 0.0, starts[0] / rate)]
    segments += [(name, a / rate, b / rate) for (name, _), a, b in zip(events, starts[:-1], starts[1:])]
    return segments


def _espeak_settings(speaker: Speaker) -> tuple[int, int]:
    return round(_ESPEAK_RATE * speaker.rate), max(0, min(100, round(_ESPEAK_PITCH * speaker.pitch)))


def synthesize_sentence(
    speaker: Speaker, text: str
) -> tuple[np.ndarray, int, list[tuple[str, float, float]], PhoneMapper]:
    """Engine output for one sentence.

    Args:
        speaker: the voice and its setting.
        text: one sentence.

    Returns:
        (int16 audio, its sample rate, [(engine phone name, start_s, end_s)], the engine's name -> phones map).
    """
    if speaker.engine == "espeak":
        rate, pitch = _espeak_settings(speaker)
        output = espeak.synthesize(text, speaker.voice, rate, pitch)
        return output.audio, output.sample_rate, _espeak_segments(output), espeak_to_phones
    if speaker.engine == "mbrola":
        rate, pitch = _espeak_settings(speaker)
        audio, sample_rate, segments = mbrola.synthesize(text, speaker.driver, speaker.voice, rate, pitch, 50)
        return audio, sample_rate, segments, espeak_to_phones
    if speaker.engine == "flite":
        audio, sample_rate, segments = flite.synthesize(text, speaker.voice, speaker.rate, speaker.pitch)
        return audio, sample_rate, segments, arpabet_to_phones
    if speaker.engine == "festival":
        if speaker.pitch != 1.0:
            raise ValueError(f"{speaker.id}: festival voices take a rate setting only, not a pitch")
        audio, sample_rate, segments = festival.synthesize(text, speaker.voice, speaker.rate)
        return audio, sample_rate, segments, arpabet_to_phones
    if speaker.engine in ("kokoro", "piper"):
        if speaker.pitch != 1.0:
            raise ValueError(f"{speaker.id}: {speaker.engine} voices take a rate setting only, not a pitch")
        module = kokoro if speaker.engine == "kokoro" else piper
        audio, sample_rate, segments = module.synthesize(text, speaker.voice, speaker.rate)
        return audio, sample_rate, segments, inventory_to_phones
    if speaker.engine == "rhvoice":
        audio, sample_rate, segments = rhvoice.synthesize(text, speaker.voice, speaker.rate, speaker.pitch)
        return audio, sample_rate, segments, inventory_to_phones
    raise ValueError(f"unknown engine {speaker.engine!r}")


@cache
def voice_available(engine: str, voice: str) -> bool:
    """Whether this machine has the engine and the voice a speaker needs (`install.sh --corpus` installs all).

    Args:
        engine: one of voices.ENGINES.
        voice: the Speaker's voice (for mbrola its database).
    """
    if engine == "espeak":
        return shutil.which("espeak-ng") is not None
    if engine == "mbrola":
        return mbrola.mbrola_available(voice)
    if engine == "flite":
        return flite.flite_available(voice)
    if engine == "festival":
        return festival.festival_available(voice)
    if engine == "kokoro":
        return kokoro.kokoro_available()
    if engine == "piper":
        return piper.piper_available(voice)
    if engine == "rhvoice":
        return rhvoice.rhvoice_available(voice)
    raise ValueError(f"unknown engine {engine!r}")


def _fit_to_audio(
    segments: list[tuple[str, float, float]], duration: float
) -> list[tuple[str, float, float]]:
    """Clip engine times to the audio (engines round their last segment) and stretch the last one to its end."""
    fitted = [(name, min(start, duration), min(end, duration)) for name, start, end in segments]
    fitted = [segment for segment in fitted if segment[2] > segment[1]]
    if fitted:
        name, start, _ = fitted[-1]
        fitted[-1] = (name, start, duration)
    return fitted


def synthesize(speaker: Speaker, text: str) -> Synthesis:
    """Speak a (normalized) text with a corpus speaker, one sentence at a time, and join the sentences.

    Args:
        speaker: the voice and its rate/pitch setting.
        text: normalized text, one or more sentences.

    Returns:
        Synthesis at 16 kHz whose phones run from 0 to the end of the audio, ending in "_.".

    Raises:
        RuntimeError: the engine produced no audio or no phones for a sentence.
    """
    pieces: list[np.ndarray] = []
    phones: list[tuple[str, float, float]] = []
    offset = 0
    for sentence in split_sentences(text):
        audio, rate, segments, mapper = synthesize_sentence(speaker, sentence)
        if len(audio) == 0 or not segments:
            raise RuntimeError(f"{speaker.id} produced no audio for {sentence!r}")
        labelled = label_segments(_fit_to_audio(segments, len(audio) / rate), mapper)
        audio = resample(audio, rate, SAMPLE_RATE)
        duration = len(audio) / SAMPLE_RATE
        labelled = _fit_to_audio(labelled, duration)
        if labelled[-1][0] != LONG_PAUSE:
            labelled.append((LONG_PAUSE, duration, duration))
        pad = max(0, round((MIN_END_PAUSE_S - (labelled[-1][2] - labelled[-1][1])) * SAMPLE_RATE))
        audio = np.concatenate([audio, np.zeros(pad, dtype=np.int16)])
        labelled[-1] = (LONG_PAUSE, labelled[-1][1], len(audio) / SAMPLE_RATE)
        shift = offset / SAMPLE_RATE
        for k, (name, start, end) in enumerate(labelled):
            if k == 0 and phones and name == SHORT_PAUSE:
                # The next sentence's lead-in silence continues the previous sentence-end pause.
                phones[-1] = (LONG_PAUSE, phones[-1][1], end + shift)
            else:
                phones.append((name, start + shift, end + shift))
        pieces.append(audio)
        offset += len(audio)
    return Synthesis(np.concatenate(pieces), tuple((n, round(s, 5), round(e, 5)) for n, s, e in phones))
