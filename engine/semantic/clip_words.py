"""The words of a voice clip given without them, as Whisper tiny.en (or base) hears them.

They count the clip's pace for the pace guard (`pace_guard.clip_pace`: syllables per second of speech). The
stand-in without words, the syllable nuclei of the sound, ran 0.89-1.50 per syllable of the text on the 9
real clips of `bench/real_voices` that have a transcript (1.50 on a clip of slow, separate words, whose turns
then came out 1.37 times the clip's pace); tiny.en's words gave the same syllables per second as the
transcript on all 9. They do not set the tempo: measured, that raised the real voices' WER by 0.047
(docs/experiments.md). A decoding Whisper itself would call failed (a segment's mean log-probability below
`MIN_AVG_LOGPROB`, the threshold of its own temperature fallback) is not used: Whisper base hears that clip
again (loaded then; the 8 kHz narrator of the benchmark, which tiny.en heard as 18 syllables of nonsense at
-1.32, base as "The device was built of soft and thin steel." at -0.83), and when base fails too, or is not
installed, the nuclei stand in.
"""

from __future__ import annotations

import collections
import functools
import hashlib

from engine.audio import VoicePrompt

# Whisper's `log_prob_threshold` default: below it, its decoding is treated as failed. tiny.en's segments
# scored -0.07 to -0.21 on 12 of the real voices' clips and -0.09 to -0.40 on the built-in voices', and -1.16
# on the one real clip it misheard (an 8 kHz narrator).
MIN_AVG_LOGPROB = -1.0
# Clips this long at most are transcribed (the app takes clips up to 30 s; Whisper hears 30 s at once).
MAX_SECONDS = 30.0
# What was heard, per transcriber and clip content, for every listener of the process (a clip loaded again,
# or by another synthesizer, is not transcribed again); the oldest are forgotten past this many.
_HEARD: collections.OrderedDict[tuple[int, int, bytes], str] = collections.OrderedDict()
_REMEMBERED = 256


@functools.lru_cache(maxsize=2)
def _whisper(model: str):
    """A Whisper model ("tiny.en" or "base"), loaded once per process (tiny.en 3.8 s, base 2.1 s to load on the
    busy 2-core machine) and shared by every listener."""
    from engine.eval.wer import Transcriber

    return Transcriber(model)


class ClipListener:
    """Whisper tiny.en, and Whisper base for a clip whose decoding by tiny.en failed, each loaded on first use;
    `words` is cached per clip content.

    Attributes:
        unavailable: why Whisper could not be loaded ("" while it can); clips are then not transcribed.
    """

    def __init__(self) -> None:
        self._transcriber = None
        self._second = None  # Whisper base, once a clip needed it; False when it cannot be loaded
        self.unavailable = ""

    def words(self, prompt: VoicePrompt) -> str:
        """What the clip says, or "" when Whisper's decodings failed, heard nothing, cannot be loaded, or the
        clip is too long."""
        if len(prompt.samples) > MAX_SECONDS * prompt.sample_rate or not self.load():
            return ""
        digest = hashlib.blake2b(prompt.samples.tobytes(), digest_size=16).digest()
        key = (id(self._transcriber), prompt.sample_rate, digest)
        if key not in _HEARD:
            _HEARD[key] = self._hear(prompt)
            while len(_HEARD) > _REMEMBERED:
                _HEARD.popitem(last=False)
        _HEARD.move_to_end(key)
        return _HEARD[key]

    def _hear(self, prompt: VoicePrompt) -> str:
        """tiny.en's words, or base's where tiny.en's decoding failed ("" when both did)."""
        text, confidence = self._transcriber.transcribe_scored(prompt.samples, prompt.sample_rate)
        if confidence >= MIN_AVG_LOGPROB:
            return text
        if self._second is None:
            try:
                self._second = _whisper("base")
            except (ImportError, OSError):  # not installed: the nuclei stand in
                self._second = False
        if self._second is False:
            return ""
        text, confidence = self._second.transcribe_scored(prompt.samples, prompt.sample_rate)
        return text if confidence >= MIN_AVG_LOGPROB else ""

    def load(self) -> bool:
        """Load Whisper tiny.en now (about 4 s on a busy 2-core machine) unless it is; False when it cannot be."""
        if self._transcriber is None and not self.unavailable:
            try:
                self._transcriber = _whisper("tiny.en")
            except (ImportError, OSError) as error:  # a broken install: timed from the sound instead
                self.unavailable = (
                    f"Whisper tiny.en could not be loaded ({error}); reinstall: bash install.sh"
                )
        return self._transcriber is not None
