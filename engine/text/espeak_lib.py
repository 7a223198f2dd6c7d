"""libespeak-ng through ctypes: text to espeak phoneme mnemonics, in-process (no subprocess per call).

libespeak-ng keeps global state, so it is initialised once per process and every call holds `ESPEAK_LOCK`;
other modules that drive libespeak-ng in the same process (e.g. for synthesis) must take the same lock.
"""

import ctypes
import ctypes.util
import threading

from engine.errors import UserInputError

ESPEAK_LOCK = threading.RLock()

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000  # without it, a missing data directory calls exit() inside the library
# Unused here, but espeak_Initialize resets the options for the whole process: without it, the corpus
# synthesizer (engine.data.espeak) in the same process gets no more phoneme events after this module starts.
_INITIALIZE_PHONEME_EVENTS = 0x0001
_CHARS_UTF8 = 1
PHONEME_SEPARATOR = "|"  # asked of espeak between the phoneme names of a word; words stay space-separated

_lib: ctypes.CDLL | None = None
_voice: tuple[str, bytes] | None = None  # (name asked for, identifier espeak reports for it)


class _Voice(ctypes.Structure):
    """The head of espeak_VOICE (speak_lib.h): enough to tell which voice is current."""

    _fields_ = [("name", ctypes.c_char_p), ("languages", ctypes.c_char_p), ("identifier", ctypes.c_char_p)]


class EspeakMissingError(UserInputError):
    """espeak-ng (the library or its en-us data) is not installed."""


def _load(voice: str) -> ctypes.CDLL:
    global _lib, _voice
    if _lib is None:
        path = ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
        try:
            lib = ctypes.cdll.LoadLibrary(path)
        except OSError as error:
            raise EspeakMissingError(
                f"espeak-ng is not installed (could not load libespeak-ng: {error}); "
                "run `bash install.sh` (it installs the Debian package espeak-ng)."
            ) from error
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_int]
        lib.espeak_GetCurrentVoice.restype = ctypes.POINTER(_Voice)
        flags = _INITIALIZE_DONT_EXIT | _INITIALIZE_PHONEME_EVENTS
        if lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, None, flags) < 0:
            raise EspeakMissingError(
                "espeak-ng's data could not be loaded (espeak_Initialize failed); "
                "run `bash install.sh` to reinstall espeak-ng and espeak-ng-data."
            )
        _lib = lib
    # Other code in this process may have switched libespeak-ng's voice (e.g. to synthesize with another
    # one); reading the current voice costs ~0.4 us, setting it ~250 us, so set it only when it changed.
    current = _lib.espeak_GetCurrentVoice()
    identifier = current.contents.identifier if current else None
    if _voice is None or _voice[0] != voice or identifier != _voice[1]:
        if _lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise EspeakMissingError(
                f"espeak-ng has no voice '{voice}'; run `bash install.sh` to install espeak-ng-data."
            )
        _voice = (voice, _lib.espeak_GetCurrentVoice().contents.identifier)
    return _lib


def text_to_phoneme_clauses(text: str, voice: str = "en-us") -> list[str]:
    """Phonemize text with libespeak-ng, one string per clause espeak found.

    Args:
        text: plain text (already normalized; espeak would read digits itself, but differently).
        voice: espeak-ng voice name.

    Returns:
        Per clause, espeak mnemonics with stress marks, names separated by `PHONEME_SEPARATOR` and words by
        spaces, e.g. ["h|@|l|'oU w|'3:|l|d"].
    """
    mode = ord(PHONEME_SEPARATOR) << 8  # bits 8-23: separator between names; bit 1 clear: mnemonics, not IPA
    with ESPEAK_LOCK:
        lib = _load(voice)
        buffer = ctypes.create_string_buffer(text.encode("utf-8"))
        pointer = ctypes.c_void_p(ctypes.addressof(buffer))
        clauses = []
        while pointer.value:  # espeak advances the pointer clause by clause and sets it to NULL at the end
            result = lib.espeak_TextToPhonemes(ctypes.byref(pointer), _CHARS_UTF8, mode)
            clauses.append(result.decode("utf-8", errors="replace") if result else "")
    return clauses
