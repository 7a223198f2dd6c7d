"""Reading an audio file with ffmpeg: any format it knows, decoded to float samples at the file's own rate and
channel count, or an AudioInputError that says what is wrong with the file and what to do."""

from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from engine.errors import UserInputError

READABLE_FORMATS = "wav, mp3, flac, ogg, m4a or webm"
_FFMPEG_TIMEOUT_SECONDS = 120.0


class AudioInputError(UserInputError):
    """An audio file (voice prompt or output) that cannot be used; the message says why and what to do."""


@contextmanager
def as_file(source: str | Path | bytes, name: str | None) -> Iterator[tuple[Path, str]]:
    """A readable, non-empty file holding `source` and the name to use for it in messages."""
    if isinstance(source, (bytes, bytearray)):
        label = name or "the uploaded clip"
        if not source:
            raise AudioInputError(
                f"Voice clip '{label}' is empty (0 bytes); record or upload the clip again."
            )
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / ("upload" + (Path(name).suffix if name else ""))
            path.write_bytes(source)
            yield path, label
        return
    path = Path(source)
    label = name or path.name
    if not path.exists():
        raise AudioInputError(
            f"Voice clip '{label}' was not found at {path}; check the path or upload it again."
        )
    if path.is_dir():
        raise AudioInputError(
            f"Voice clip '{label}' is a folder, not an audio file; choose a file inside it."
        )
    if path.stat().st_size == 0:
        raise AudioInputError(f"Voice clip '{label}' is empty (0 bytes); record or upload the clip again.")
    yield path, label


def find_ffmpeg(action: str) -> str:
    executable = shutil.which("ffmpeg")
    if executable is None:
        raise AudioInputError(
            f"Cannot {action}: ffmpeg is not installed. "
            f"Run `bash install.sh` (or `sudo apt-get install ffmpeg`)."
        )
    return executable


def decode_file(path: Path, label: str, max_seconds: float) -> tuple[np.ndarray, int, int]:
    """Decode the first audio stream, at most `max_seconds` of it, at its own rate and channel count.

    Returns (float32 samples [n, channels], sample_rate, channels).
    """
    command = [
        find_ffmpeg(f"read voice clip '{label}'"), "-nostdin", "-hide_banner", "-v", "error",
        "-i", str(path), "-map", "0:a:0", "-t", f"{max_seconds:.3f}", "-c:a", "pcm_f32le", "-f", "wav", "-",
    ]  # fmt: skip
    try:
        result = subprocess.run(command, check=False, capture_output=True, timeout=_FFMPEG_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        raise AudioInputError(
            f"Voice clip '{label}' took over {_FFMPEG_TIMEOUT_SECONDS:.0f} s to decode; "
            f"convert it to a short wav or mp3 file and try again."
        ) from None
    unreadable = (
        f"Voice clip '{label}' could not be read as audio{{reason}}; use a {READABLE_FORMATS} recording "
        f"(the file may be damaged, or not a sound file)."
    )
    if result.returncode != 0:
        raise AudioInputError(unreadable.format(reason=_ffmpeg_reason(result.stderr, path, label)))
    parsed = _parse_float_wav(result.stdout)
    if parsed is None or len(parsed[0]) == 0:
        raise AudioInputError(unreadable.format(reason=" (no sound could be decoded from it)"))
    audio, rate, channels = parsed
    return np.nan_to_num(audio, nan=0.0, posinf=0.0, neginf=0.0), rate, channels


def _ffmpeg_reason(stderr: bytes, path: Path, label: str) -> str:
    text = stderr.decode(errors="replace").replace(str(path), label)
    if "matches no streams" in text:
        return " (it holds no sound track)"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return f" (ffmpeg: {lines[-1][:160]})" if lines else ""


def _parse_float_wav(data: bytes) -> tuple[np.ndarray, int, int] | None:
    """Parse the float32 wav ffmpeg writes to a pipe (its size fields are placeholders: read to the end)."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    pos, channels, rate = 12, 0, 0
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        pos += 8
        if chunk == b"fmt ":
            channels, rate = struct.unpack("<HI", data[pos + 2 : pos + 8])
        elif chunk == b"data":
            if channels == 0 or rate == 0:
                return None
            body = data[pos:]
            usable = len(body) // (4 * channels) * 4 * channels
            samples = np.frombuffer(body[:usable], dtype="<f4").reshape(-1, channels)
            return samples.astype(np.float32), rate, channels
        pos += size + (size & 1)
    return None


def raise_too_long(path: Path, label: str, max_seconds: float, decoded_seconds: float) -> None:
    total = _probe_duration(path)
    length = f"{total:.0f} s long" if total is not None else f"longer than {decoded_seconds:.0f} s"
    raise AudioInputError(
        f"Voice clip '{label}' is {length}; voice prompts need at most {max_seconds:g} s of speech. "
        f"Cut a 3-15 s clip of the speaker."
    )


def _probe_duration(path: Path) -> float | None:
    """The container's stated duration, if ffprobe knows it (streamed webm recordings often do not)."""
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        return None
    command = [ffprobe, "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)]
    try:
        result = subprocess.run(
            command, check=False, capture_output=True, text=True, timeout=_FFMPEG_TIMEOUT_SECONDS
        )
        return float(result.stdout.strip())
    except (subprocess.TimeoutExpired, ValueError):
        return None
