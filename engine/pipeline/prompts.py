"""Voice prompts: a clip loaded, its end encoded into codec tokens and the whole profiled for voice matching,
once per clip (a small cache keyed by the clip's bytes, file or samples)."""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from engine.audio import VoicePrompt, load_voice_prompt, resample
from engine.codec.base import Codec
from engine.codec.group_codec import GroupRVQCodec
from engine.codec.voice_match import VoiceProfile, voice_profile

VoiceSource = str | Path | bytes | VoicePrompt
DEFAULT_PROMPT_SECONDS = 6.0
MIN_PROMPT_SECONDS, MAX_PROMPT_SECONDS = 1.0, 10.0
PROMPT_CACHE_SIZE = 16


@dataclass(frozen=True, eq=False)
class EncodedPrompt:
    """A voice clip ready for synthesis.

    Attributes:
        prompt: the prepared clip (whole: the speaking rate is measured on it).
        tokens: codec tokens [Q, P] of its last `prompt_seconds`.
        profile: what voice matching uses of the whole clip; None without a WORLD codec or voiced speech.
    """

    prompt: VoicePrompt
    tokens: torch.Tensor
    profile: VoiceProfile | None


def encode_prompt(
    codec: Codec, source: VoiceSource, prompt_seconds: float, name: str | None = None
) -> EncodedPrompt:
    """Load a voice clip, encode its last `prompt_seconds` with the codec and profile the whole clip.

    Args:
        codec: the codec the acoustic model was trained on.
        source: a file path, the file's bytes, or a VoicePrompt.
        prompt_seconds: how much of the clip's end becomes prompt tokens.
        name: how to call the clip in error messages.

    Raises:
        AudioInputError: the clip cannot be used (missing, silent, too short or too long...).
    """
    if isinstance(source, VoicePrompt):
        prompt = source
    else:
        prompt = load_voice_prompt(source, sample_rate=codec.sample_rate, name=name)
    samples = prompt.samples
    if prompt.sample_rate != codec.sample_rate:
        samples = resample(samples, prompt.sample_rate, codec.sample_rate)
    keep = round(prompt_seconds * codec.sample_rate)
    profile = None
    if isinstance(codec, GroupRVQCodec):
        # One WORLD analysis serves both: the profile reads the whole clip, the tokens its last frames.
        # The clip's start is cut to a whole number of frames so those frames fall where an analysis of
        # the last `prompt_seconds` alone would put them.
        hop = round(codec.sample_rate / codec.frame_rate)
        raw = codec.features(np.asarray(samples[len(samples) % hop :], dtype=np.float32))
        frames = math.ceil(min(keep, len(samples)) / hop)
        tokens = codec.quantize_features(raw[-frames:]).long()
        profile = voice_profile(raw, codec.layout)
    else:
        tokens = codec.encode(np.ascontiguousarray(samples[-keep:], dtype=np.float32)).long()
    return EncodedPrompt(prompt, tokens, profile)


def prompt_key(source: VoiceSource, prompt_seconds: float) -> tuple | None:
    """What identifies a clip for the cache: its bytes, its file and change time, or its samples."""
    if isinstance(source, VoicePrompt):
        digest = hashlib.sha1(np.ascontiguousarray(source.samples).tobytes()).hexdigest()
        return ("samples", digest, source.sample_rate, prompt_seconds)
    if isinstance(source, (bytes, bytearray)):
        return ("bytes", hashlib.sha1(source).hexdigest(), prompt_seconds)
    try:
        stat = Path(source).stat()
    except OSError:
        return None  # load_voice_prompt says what is wrong
    return ("file", str(Path(source).resolve()), stat.st_mtime_ns, stat.st_size, prompt_seconds)


class PromptCache:
    """The last `size` encoded clips by `prompt_key`, least recently used dropped first; thread-safe."""

    def __init__(self, size: int = PROMPT_CACHE_SIZE) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple, EncodedPrompt] = OrderedDict()

    def get(self, key: tuple | None) -> EncodedPrompt | None:
        with self._lock:
            if key is None or key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: tuple | None, encoded: EncodedPrompt) -> None:
        if key is None:
            return
        with self._lock:
            self._items[key] = encoded
            while len(self._items) > self.size:
                self._items.popitem(last=False)
