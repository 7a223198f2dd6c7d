"""libespeak-ng through ctypes: audio plus phoneme events with exact sample positions, and mbrola .pho text."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import tempfile
from dataclasses import dataclass

import numpy as np

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INIT_PHONEME_EVENTS = 0x0001
_INIT_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PHONEMES_MBROLA = 0x10
_EVENT_LIST_TERMINATED = 0
_EVENT_PHONEME = 7
_EVENT_SAMPLERATE = 8
_PARAM_RATE, _PARAM_PITCH, _PARAM_RANGE = 1, 3, 4


class _Event(ctypes.Structure):
    # Layout of espeak_EVENT in speak_lib.h (the header is not installed here).
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


_Callback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass(frozen=True)
class EspeakOutput:
    """One synthesis: int16 audio, its sample rate, and (phoneme mnemonic, start sample) per phoneme event."""

    audio: np.ndarray
    sample_rate: int
    events: tuple[tuple[str, int], ...]


class _Engine:
    """The process-wide libespeak-ng instance (the library keeps global state, so one per process)."""

    def __init__(self) -> None:
        path = ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
        self.lib = ctypes.CDLL(path)
        self.lib.espeak_SetPhonemeTrace.argtypes = [ctypes.c_int, ctypes.c_void_p]
        self.lib.espeak_GetCurrentVoice.restype = ctypes.POINTER(ctypes.c_char_p * 3)  # name, languages, id
        self.libc = ctypes.CDLL(ctypes.util.find_library("c"))
        self.libc.fopen.restype = ctypes.c_void_p
        self.libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        self.libc.fclose.argtypes = [ctypes.c_void_p]
        rate = self.lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, None, _INIT_PHONEME_EVENTS | _INIT_DONT_EXIT
        )
        if rate <= 0:
            raise RuntimeError("libespeak-ng failed to initialize; is espeak-ng-data installed?")
        self.chunks: list[np.ndarray] = []
        self.events: list[tuple[str, int]] = []
        self.sample_rate = rate
        self.voice, self.identifier = "", b""
        self._callback = _Callback(self._on_audio)  # kept referenced: the library calls it later
        self.lib.espeak_SetSynthCallback(self._callback)

    def _on_audio(self, wav: ctypes._Pointer, n_samples: int, events: ctypes._Pointer) -> int:
        if n_samples > 0:
            self.chunks.append(np.ctypeslib.as_array(wav, (n_samples,)).copy())
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            event = events[i]
            if event.type == _EVENT_PHONEME:
                self.events.append((bytes(event.id).split(b"\0")[0].decode("ascii", "replace"), event.sample))
            elif event.type == _EVENT_SAMPLERATE:
                self.sample_rate = int.from_bytes(bytes(event.id)[:4], "little", signed=True)
            i += 1
        return 0

    def configure(self, voice: str, rate: int, pitch: int, pitch_range: int) -> None:
        # Selecting an mbrola voice restarts mbrola and reloads its database (~0.1 s): only on a change, ours
        # or another module's (engine.text.espeak_lib sets en-us in the same library for phonemizing).
        if voice != self.voice or self._current_identifier() != self.identifier:
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise ValueError(f"espeak-ng has no voice {voice!r}; list them with `espeak-ng --voices`.")
            self.voice, self.identifier = voice, self._current_identifier()
        self.lib.espeak_SetParameter(_PARAM_RATE, rate, 0)
        self.lib.espeak_SetParameter(_PARAM_PITCH, pitch, 0)
        self.lib.espeak_SetParameter(_PARAM_RANGE, pitch_range, 0)

    def _current_identifier(self) -> bytes:
        current = self.lib.espeak_GetCurrentVoice()
        return (current.contents[2] or b"") if current else b""

    def speak(self, text: str) -> None:
        self.chunks, self.events = [], []
        data = text.encode("utf-8")
        self.lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        self.lib.espeak_Synchronize()


_ENGINE: _Engine | None = None


def _engine() -> _Engine:
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = _Engine()
    return _ENGINE


def synthesize(
    text: str, voice: str, rate: int = 175, pitch: int = 50, pitch_range: int = 50
) -> EspeakOutput:
    """Speak `text` with an espeak-ng voice (for mbrola voices: through the library's own mbrola call).

    Args:
        text: plain text (one sentence works best: events restart per call).
        voice: espeak-ng voice name, e.g. "en-us", "en-us+f3", "mb-us1".
        rate: words per minute (espeak default 175).
        pitch: base pitch 0-100 (default 50).
        pitch_range: pitch range 0-100 (default 50).

    Returns:
        EspeakOutput with int16 audio, its rate, and phoneme events (mnemonic, start sample).
    """
    engine = _engine()
    engine.configure(voice, rate, pitch, pitch_range)
    engine.speak(text)
    audio = np.concatenate(engine.chunks) if engine.chunks else np.zeros(0, dtype=np.int16)
    return EspeakOutput(audio.astype(np.int16), engine.sample_rate, tuple(engine.events))


def mbrola_pho(text: str, voice: str, rate: int = 175, pitch: int = 50, pitch_range: int = 50) -> str:
    """The mbrola .pho text espeak-ng writes for `text` (as `espeak-ng -v VOICE --pho`), no audio made.

    Args:
        text: plain text.
        voice: an mbrola voice of espeak-ng, e.g. "mb-us1", "mb-de4-en".
        rate: words per minute; pitch, pitch_range: 0-100, as in `synthesize`.

    Returns:
        The .pho text: one "phone duration_ms [percent pitch_hz]..." line per phone.
    """
    engine = _engine()
    engine.configure(voice, rate, pitch, pitch_range)
    fd, path = tempfile.mkstemp(suffix=".pho")
    os.close(fd)
    stream = engine.libc.fopen(path.encode(), b"w")
    try:
        engine.lib.espeak_SetPhonemeTrace(_PHONEMES_MBROLA, stream)
        engine.speak(text)
    finally:
        engine.lib.espeak_SetPhonemeTrace(0, None)
        engine.libc.fclose(stream)
    with open(path, encoding="utf-8") as handle:
        pho = handle.read()
    os.unlink(path)
    return pho
