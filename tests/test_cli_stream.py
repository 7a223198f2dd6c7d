"""`generate --stream` (issue 24): the audio written chunk by chunk as it is generated, to a file or to
standard output; Ctrl-C keeps what was written, an error leaves nothing. Tiny random acoustic model."""

import io
import re
import wave

import numpy as np
import pytest

from engine import stream_writer
from engine.cli import main
from tests.test_pipeline import checkpoint, codec, voices  # noqa: F401  (fixtures)
from tests.test_streaming import LONG

pytestmark = pytest.mark.usefixtures("one_thread")


def _args(tmp_path, voices, checkpoint, out, *extra):  # noqa: F811
    transcript = tmp_path / "long.txt"
    transcript.write_text(LONG, encoding="utf-8")
    voice_args = [a for s, p in voices.items() for a in ("--voice", f"{s}={p}")]
    return ["generate", str(transcript), *voice_args, "-o", str(out), "--acoustic", str(checkpoint), *extra]


def _read_wav(data: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(data)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), "<i2"), w.getframerate()


def test_stream_writes_every_chunk_as_it_comes(tmp_path, voices, checkpoint, capsys, monkeypatch):  # noqa: F811
    sizes = []
    real_write = stream_writer.StreamWriter.write

    def spying(self, samples):
        real_write(self, samples)
        sizes.append(self._file.tell())  # on disk already, before the next chunk is generated

    monkeypatch.setattr(stream_writer.StreamWriter, "write", spying)
    out = tmp_path / "out.wav"
    assert main(_args(tmp_path, voices, checkpoint, out, "--stream", "--seed", "2")) == 0
    captured = capsys.readouterr()
    assert len(sizes) >= 2 and sizes == sorted(sizes)
    samples, rate = _read_wav(out.read_bytes())
    assert rate == 16000 and len(samples) * 2 + 44 == sizes[-1]
    n = len(re.findall(r"chunk \d+(/\d+)?: turns? [\d-]+ of 8 written", captured.err))
    assert n == len(sizes) and "chunk 1: turn 1 of 8 written" in captured.err  # before the rest was planned
    assert re.search(rf"first audio after [\d.]+ s \({n} chunks\)", captured.out)
    reported = float(re.search(r"for ([\d.]+) s of audio", captured.out).group(1))
    assert len(samples) / rate == pytest.approx(reported, abs=0.01)
    assert "wrote" in captured.out and "as it was generated" in captured.out


def test_stream_to_stdout_and_to_mp3(tmp_path, voices, checkpoint, capfdbinary):  # noqa: F811
    assert main(_args(tmp_path, voices, checkpoint, "-", "--stream")) == 0
    captured = capfdbinary.readouterr()
    samples, rate = _read_wav(captured.out)  # the header says "unknown length": read to the end
    assert rate == 16000 and len(samples) > rate
    assert b"real-time factor" in captured.err  # the report goes to stderr, not into the audio
    mp3 = tmp_path / "out.mp3"
    assert main(_args(tmp_path, voices, checkpoint, mp3, "--stream")) == 0
    assert mp3.read_bytes()[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")


def test_ctrl_c_keeps_what_was_written(tmp_path, voices, checkpoint, capsys, monkeypatch):  # noqa: F811
    calls = []
    real_write = stream_writer.StreamWriter.write

    def interrupted(self, samples):
        calls.append(len(samples))
        if len(calls) == 2:
            raise KeyboardInterrupt
        real_write(self, samples)

    monkeypatch.setattr(stream_writer.StreamWriter, "write", interrupted)
    out = tmp_path / "stopped.wav"
    assert main(_args(tmp_path, voices, checkpoint, out, "--stream")) == 130
    err = capsys.readouterr().err
    assert re.search(rf"stopped; {re.escape(str(out))} holds the first [\d.]+ s", err)
    samples, _ = _read_wav(out.read_bytes())
    assert len(samples) == calls[0]  # the first chunk, in a file with a complete header


def test_stream_errors_are_readable_and_leave_no_file(tmp_path, voices, checkpoint, capsys):  # noqa: F811
    out = tmp_path / "o.wav"
    assert main(_args(tmp_path, voices, checkpoint, out, "--stream", "--iterations", "0")) == 2
    assert "Iterations 0 is out of range" in capsys.readouterr().err and not out.exists()
    assert main(_args(tmp_path, voices, checkpoint, tmp_path / "o.aiff", "--stream")) == 2
    assert "use a name ending in .wav or .mp3" in capsys.readouterr().err
    assert main(_args(tmp_path, voices, checkpoint, "-")) == 2
    assert "-o - (wav on standard output) needs --stream" in capsys.readouterr().err
