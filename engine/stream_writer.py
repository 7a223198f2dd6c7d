"""Writing a dialogue's audio as it is generated: 16-bit wav written chunk by chunk (its header completed
when it is closed, so a stopped run leaves a playable file), or to standard output for a player to read
while the rest is generated; mp3, flac and ogg through an ffmpeg process fed as the chunks come."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
from pathlib import Path
from typing import BinaryIO

import numpy as np

from engine.audio import WRITABLE_FORMATS, AudioInputError

# Sizes written into the header of a wav that goes to a pipe, which cannot be patched afterwards: players
# read such a stream until it ends.
_UNKNOWN_SIZE = 0xFFFFFFFF


def _wav_header(sample_rate: int, data_bytes: int) -> bytes:
    riff = min(_UNKNOWN_SIZE, 36 + data_bytes)
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        riff,
        b"WAVE",
        b"fmt ",
        16,
        1,  # PCM
        1,  # mono
        sample_rate,
        sample_rate * 2,
        2,
        16,
        b"data",
        min(_UNKNOWN_SIZE, data_bytes),
    )


def pcm16(samples: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] as little-endian 16-bit PCM (louder ones clipped)."""
    return np.round(np.clip(np.asarray(samples, dtype=np.float64), -1.0, 1.0) * 32767).astype("<i2")


class StreamWriter:
    """Appends mono float chunks to an audio file (or to stdout as wav when the path is "-")."""

    def __init__(self, path: str | Path, sample_rate: int) -> None:
        """
        Raises:
            AudioInputError: a format this app does not write, or ffmpeg missing for one it needs it for.
        """
        self.path = Path(path)
        self.sample_rate = int(sample_rate)
        self.samples = 0
        self._process: subprocess.Popen | None = None
        self._file: BinaryIO
        to_stdout = str(path) == "-"
        fmt = "wav" if to_stdout else self.path.suffix.lstrip(".").lower()
        if fmt not in WRITABLE_FORMATS:
            raise AudioInputError(
                f"Cannot write '{self.path.name}': use a name ending in .wav or .mp3 (or .flac, .ogg), or - "
                "for wav on standard output."
            )
        self.format = fmt
        if to_stdout:
            self._file = sys.stdout.buffer
            self._file.write(_wav_header(self.sample_rate, _UNKNOWN_SIZE))
        elif fmt == "wav":
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("wb")
            self._file.write(_wav_header(self.sample_rate, 0))
        else:
            ffmpeg = shutil.which("ffmpeg")
            if ffmpeg is None:
                raise AudioInputError(
                    f"Writing '{self.path.name}' needs ffmpeg, which is not installed; write a .wav instead "
                    "or install ffmpeg (apt-get install ffmpeg)."
                )
            self.path.parent.mkdir(parents=True, exist_ok=True)
            codec = {"mp3": ["-b:a", "128k"], "ogg": ["-c:a", "libvorbis"], "flac": []}[fmt]
            self._process = subprocess.Popen(
                [
                    ffmpeg,
                    "-hide_banner",
                    "-loglevel",
                    "error",
                    "-y",
                    "-f",
                    "s16le",
                    "-ar",
                    str(self.sample_rate),
                ]
                + ["-ac", "1", "-i", "pipe:0", *codec, str(self.path)],
                stdin=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            assert self._process.stdin is not None
            self._file = self._process.stdin

    @property
    def seconds(self) -> float:
        """Audio written so far."""
        return self.samples / self.sample_rate

    def write(self, samples: np.ndarray) -> None:
        """Append the next samples; they reach the file (or the pipe) at once."""
        data = pcm16(samples)
        self._file.write(data.tobytes())
        self._file.flush()
        self.samples += len(data)

    def close(self) -> Path:
        """Finish the file (the wav header gets its sizes; ffmpeg ends its stream).

        Raises:
            AudioInputError: ffmpeg failed to write the file.
        """
        if self._process is not None:
            self._file.close()
            assert self._process.stderr is not None
            stderr = self._process.stderr.read()
            if self._process.wait() != 0:
                raise AudioInputError(
                    f"ffmpeg could not write '{self.path.name}': {stderr.decode(errors='replace').strip()[-300:]}"
                )
        elif self._file is sys.stdout.buffer:
            self._file.flush()
        else:
            self._file.seek(0)
            self._file.write(_wav_header(self.sample_rate, self.samples * 2))
            self._file.close()
        return self.path
