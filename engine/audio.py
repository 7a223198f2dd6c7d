"""Audio in and out: voice prompts are decoded with ffmpeg (engine.audio_file), mixed to mono, resampled,
trimmed of silence and loudness-normalized; results are written as wav, mp3, flac or ogg."""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import resample_poly

# AudioInputError is raised here and by engine.audio_file; callers import it from either.
from engine.audio_file import AudioInputError, as_file, decode_file, find_ffmpeg, raise_too_long

WRITABLE_FORMATS = ("wav", "mp3", "flac", "ogg")

# Speech-level gating (a simplified BS.1770 without K-weighting): blocks more than the relative gate below
# the mean are pauses and do not count towards the level. The absolute gate only drops digital silence: a
# higher one (BS.1770 uses -70) would make the level of a quiet clip change with its gain, so normalizing
# twice would not give the same result.
_GATE_BLOCK_SECONDS = 0.05
_ABSOLUTE_GATE_DBFS = -100.0
_RELATIVE_GATE_DB = 20.0
_PEAK_CEILING_DBFS = -1.0
PROMPT_LEVEL_DBFS = -20.0  # what a voice prompt is normalized to
_LIMITER_WINDOW_SECONDS = 0.005

# Silence detection works on 10 ms frames smoothed over 30 ms, relative to the clip's own loudest stretch,
# so a quiet but clean recording is trimmed as well as a loud one.
_FRAME_SECONDS = 0.01
_SMOOTH_FRAMES = 3
_SILENT_BELOW_DBFS = -50.0  # the loudest 30 ms of a clip this quiet hold no usable speech
_TRIM_RANGE_DB = 40.0  # frames this far below the loudest stretch count as silence...
_ABOVE_FLOOR_DB = 6.0  # ...and so do frames barely above the recording's noise floor...
_MAX_TRIM_THRESHOLD_DB = 20.0  # ...but the threshold never comes closer than this to the loudest stretch
_TRIM_MARGIN_SECONDS = 0.08

# A clip longer than max_seconds by more than this is rejected without decoding all of it: trimming only
# removes silence at the ends, so it cannot bring such a clip under the limit with sane margins.
_DECODE_SLACK_SECONDS = 60.0

# LAME's sample rates and the bitrates used for each (MPEG-1 rates allow 192 kbps, MPEG-2 160, MPEG-2.5 64).
_MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)


@dataclass(frozen=True, eq=False)
class VoicePrompt:
    """A cleaned-up voice clip, ready for the codec.

    Attributes:
        samples: float32 mono samples in [-1, 1] (read-only).
        sample_rate: samples per second.
        source: file name or description of where the clip came from.
        trimmed_seconds: seconds of leading and trailing silence removed.
        notes: what was done to the clip, in plain words, for the user.
    """

    samples: np.ndarray
    sample_rate: int
    source: str
    trimmed_seconds: float
    notes: tuple[str, ...]

    @property
    def duration(self) -> float:
        """Length of the prompt in seconds."""
        return len(self.samples) / self.sample_rate


def load_voice_prompt(
    source: str | Path | bytes,
    sample_rate: int = 16000,
    min_seconds: float = 1.0,
    max_seconds: float = 30.0,
    name: str | None = None,
) -> VoicePrompt:
    """Read a voice clip in any format ffmpeg reads and prepare it as a prompt.

    The clip is mixed to mono, resampled, trimmed of leading and trailing silence and loudness-normalized to
    -20 dBFS (speech-gated) with peaks limited to -1 dBFS.

    Args:
        source: path to the file, or its bytes (e.g. an upload).
        sample_rate: rate of the returned samples.
        min_seconds: least speech (after trimming) accepted.
        max_seconds: most speech (after trimming) accepted.
        name: name used in messages; defaults to the file name.

    Returns:
        The prepared prompt.

    Raises:
        AudioInputError: the file is missing, empty, not audio, silent, too short or too long, or ffmpeg is
            not installed.
    """
    if sample_rate <= 0 or not 0 < min_seconds < max_seconds:
        raise ValueError(
            f"need sample_rate > 0 and 0 < min_seconds < max_seconds, got {sample_rate}, "
            f"{min_seconds}, {max_seconds}"
        )
    decode_cap = max_seconds + _DECODE_SLACK_SECONDS
    with as_file(source, name) as (path, label):
        audio, native_rate, channels = decode_file(path, label, decode_cap)
        if len(audio) >= (decode_cap - _FRAME_SECONDS) * native_rate:
            raise_too_long(path, label, max_seconds, decode_cap)

    notes = []
    if channels > 1:
        notes.append(f"mixed {channels} channels to mono")
    mono = audio.mean(axis=1) if channels > 1 else audio[:, 0]
    if native_rate != sample_rate:
        mono = resample(mono, native_rate, sample_rate)
        notes.append(f"resampled {native_rate} -> {sample_rate} Hz")

    start, end, speech_seconds = _speech_bounds(mono, sample_rate, label)
    trimmed_seconds = (len(mono) - (end - start)) / sample_rate
    mono = mono[start:end]
    if trimmed_seconds >= 0.05:
        notes.append(f"trimmed {trimmed_seconds:.1f} s of silence")
    if speech_seconds < min_seconds:
        raise AudioInputError(
            f"Voice clip '{label}' is {speech_seconds:.1f} s of speech; voice prompts need "
            f"{min_seconds:g}-{max_seconds:g} s. Record or choose a longer clip (3-15 s works best)."
        )
    if speech_seconds > max_seconds:
        raise AudioInputError(
            f"Voice clip '{label}' is {speech_seconds:.0f} s of speech after trimming silence; voice prompts "
            f"need {min_seconds:g}-{max_seconds:g} s. Cut a 3-15 s clip of the speaker."
        )

    normalized, gain_db, limited = _normalize(mono, sample_rate, PROMPT_LEVEL_DBFS)
    if abs(gain_db) >= 0.5:
        notes.append(f"{'raised' if gain_db > 0 else 'lowered'} the level by {abs(gain_db):.1f} dB")
    if limited:
        notes.append("limited peaks to avoid clipping")
    normalized.flags.writeable = False
    return VoicePrompt(normalized, sample_rate, label, round(trimmed_seconds, 3), tuple(notes))


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Resample with a polyphase anti-aliasing filter.

    Args:
        samples: 1-D samples.
        from_rate: their sample rate.
        to_rate: the wanted sample rate.

    Returns:
        float32 samples at `to_rate`.
    """
    samples = np.asarray(samples, dtype=np.float32)
    if from_rate == to_rate:
        return samples.copy()
    # Odd rates (e.g. 44101 Hz) would give filters of millions of taps; a ratio within 1e-6 of the exact
    # one is inaudible.
    ratio = Fraction(to_rate, from_rate).limit_denominator(1000)
    return resample_poly(samples, ratio.numerator, ratio.denominator).astype(np.float32)


def speech_level_dbfs(samples: np.ndarray, sample_rate: int = 16000) -> float:
    """Speech-gated RMS level in dBFS: pauses are left out, so the figure does not depend on how much silence
    the clip holds. Returns -inf for digital silence.

    Args:
        samples: 1-D float samples (full scale 1.0).
        sample_rate: their sample rate (sets the 50 ms block size).

    Returns:
        The level in dBFS.
    """
    samples = np.asarray(samples, dtype=np.float64)
    block = max(1, round(_GATE_BLOCK_SECONDS * sample_rate))
    n_blocks = max(1, len(samples) // block)
    padded = np.zeros(n_blocks * block)
    padded[: min(len(samples), len(padded))] = samples[: len(padded)]
    energy = (padded.reshape(n_blocks, block) ** 2).mean(axis=1)
    loud = energy[energy > 10 ** (_ABSOLUTE_GATE_DBFS / 10)]
    if len(loud) == 0:
        return float("-inf")
    loud = loud[loud > loud.mean() * 10 ** (-_RELATIVE_GATE_DB / 10)]
    return float(10 * np.log10(loud.mean()))


def loudness_normalize(
    samples: np.ndarray, target_dbfs: float = -20.0, sample_rate: int = 16000
) -> np.ndarray:
    """Scale to a speech-gated RMS level and limit peaks to -1 dBFS, so nothing clips.

    Args:
        samples: 1-D float samples.
        target_dbfs: wanted level (see `speech_level_dbfs`).
        sample_rate: their sample rate.

    Returns:
        float32 samples in [-1, 1]. Digital silence is returned unchanged.
    """
    return _normalize(np.asarray(samples, dtype=np.float32), sample_rate, target_dbfs)[0]


def write_audio(path: str | Path, samples: np.ndarray, sample_rate: int, format: str | None = None) -> Path:
    """Write mono samples to a file: 16-bit PCM wav, mp3 (128-192 kbps), flac or ogg vorbis.

    Args:
        path: where to write; missing folders are created.
        samples: 1-D float samples in [-1, 1] (louder samples are clipped).
        sample_rate: their sample rate.
        format: one of wav, mp3, flac, ogg; by default taken from the file suffix.

    Returns:
        The path written.

    Raises:
        AudioInputError: the format is not one of those, or ffmpeg (needed for all but wav) is missing.
    """
    path = Path(path)
    fmt = (format or path.suffix.lstrip(".")).lower()
    if fmt not in WRITABLE_FORMATS:
        raise AudioInputError(
            f"Cannot write '{path.name}': '{fmt or 'no suffix'}' is not a format this app writes; "
            f"use a name ending in .wav or .mp3 (or .flac, .ogg)."
        )
    pcm = _to_pcm16(samples)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "wav":
        path.write_bytes(_wav_bytes(pcm, sample_rate))
        return path

    find_ffmpeg(f"write '{path.name}'")
    from pydub import AudioSegment  # imported here: pydub warns at import time when ffmpeg is missing

    segment = AudioSegment(pcm.tobytes(), frame_rate=sample_rate, sample_width=2, channels=1)
    parameters = []
    bitrate = None
    if fmt == "mp3":
        out_rate = min((r for r in _MP3_RATES if r >= sample_rate), default=_MP3_RATES[-1])
        if out_rate != sample_rate:
            parameters += ["-ar", str(out_rate)]
        bitrate = "192k" if out_rate >= 32000 else "128k" if out_rate >= 16000 else "64k"
    codec = "libvorbis" if fmt == "ogg" else None
    segment.export(path, format=fmt, bitrate=bitrate, codec=codec, parameters=parameters or None)
    return path


def to_wav_bytes(samples: np.ndarray, sample_rate: int) -> bytes:
    """The bytes of a 16-bit PCM mono wav file, for downloads and in-memory use.

    Args:
        samples: 1-D float samples in [-1, 1] (louder samples are clipped).
        sample_rate: their sample rate.

    Returns:
        The wav file's bytes.
    """
    return _wav_bytes(_to_pcm16(samples), sample_rate)


def frame_levels_db(samples: np.ndarray, frame: int) -> np.ndarray:
    """Level in dB of each whole `frame` samples of a clip, smoothed over `_SMOOTH_FRAMES` frames."""
    n_frames = len(samples) // frame
    energy = (samples[: n_frames * frame].astype(np.float64).reshape(n_frames, frame) ** 2).mean(axis=1)
    # Running sums can leave tiny negative values after smoothing: clamp before the log.
    energy = np.maximum(uniform_filter1d(energy, _SMOOTH_FRAMES, mode="nearest"), 0.0)
    return 10 * np.log10(energy + 1e-20)


def _speech_bounds(samples: np.ndarray, sample_rate: int, label: str) -> tuple[int, int, float]:
    """Where speech starts and ends, with margins: (start sample, end sample, seconds of speech)."""
    frame = max(1, round(_FRAME_SECONDS * sample_rate))
    levels = frame_levels_db(samples, frame)
    loudest = levels.max() if len(levels) else float("-inf")
    if loudest < _SILENT_BELOW_DBFS:
        raise AudioInputError(
            f"Voice clip '{label}' is silent (its loudest part is {max(loudest, -120.0):.0f} dBFS); "
            f"record again closer to the microphone, or check that the right microphone is selected."
        )
    floor = np.percentile(levels, 10)
    threshold = min(max(loudest - _TRIM_RANGE_DB, floor + _ABOVE_FLOOR_DB), loudest - _MAX_TRIM_THRESHOLD_DB)
    active = np.flatnonzero(levels > threshold)
    first, last = active[0], active[-1] + 1
    margin = round(_TRIM_MARGIN_SECONDS * sample_rate)
    start = max(0, first * frame - margin)
    end = min(len(samples), last * frame + margin)
    return start, end, (last - first) * frame / sample_rate


def _normalize(samples: np.ndarray, sample_rate: int, target_dbfs: float) -> tuple[np.ndarray, float, bool]:
    """Loudness normalization with a look-ahead peak limiter: (samples, gain in dB, whether it limited)."""
    level = speech_level_dbfs(samples, sample_rate)
    if not np.isfinite(level):
        return samples.astype(np.float32), 0.0, False
    gain_db = target_dbfs - level
    out = samples.astype(np.float64) * 10 ** (gain_db / 20)
    ceiling = 10 ** (_PEAK_CEILING_DBFS / 20)
    peak = np.abs(out).max()
    limited = bool(peak > ceiling)
    if limited:
        # Per-sample gain that would just reach the ceiling, spread by a minimum filter twice as wide as the
        # smoothing window: the smoothed gain then never exceeds what any sample needs, so no peak passes.
        needed = np.minimum(1.0, ceiling / np.maximum(np.abs(out), 1e-12))
        window = max(1, int(_LIMITER_WINDOW_SECONDS * sample_rate))
        gain = uniform_filter1d(minimum_filter1d(needed, 2 * window + 1), window + 1 - (window % 2))
        out = out * gain
    return np.clip(out, -1.0, 1.0).astype(np.float32), float(gain_db), limited


def _to_pcm16(samples: np.ndarray) -> np.ndarray:
    samples = np.asarray(samples)
    if samples.ndim != 1:
        raise ValueError(f"expected mono samples of shape [n], got shape {samples.shape}")
    if not np.all(np.isfinite(samples)):
        raise ValueError("samples hold NaN or infinite values")
    return np.round(np.clip(samples.astype(np.float64), -1.0, 1.0) * 32767).astype("<i2")


def _wav_bytes(pcm: np.ndarray, sample_rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(int(sample_rate))
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()
