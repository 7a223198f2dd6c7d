"""The channels real voice clips come through, simulated on clean training prompts.

A user's clip was recorded on some microphone in some room, maybe over a telephone line or as a small mp3;
the corpus is clean synthesizer output. `simulate_channel` draws one such path at random and applies it,
in the order sound meets it: room reverberation, microphone colouring, background noise, band limit,
a lossy codec, then level and DC offset. The result has the input's length, so it can stand in for the
clean prompt frame for frame.

    rng = np.random.default_rng(0)
    degraded, steps = simulate_channel(clean, 16000, rng)   # steps: e.g. ['reverb rt60 0.42 s', ...]
"""

from __future__ import annotations

import shutil
import subprocess
from math import gcd

import numpy as np
from scipy.signal import butter, fftconvolve, resample_poly, sosfilt

# (name, probability) of each stage being applied; each draws its own settings.
STAGE_PROBABILITY = {"reverb": 0.35, "eq": 0.6, "noise": 0.6, "band": 0.5, "codec": 0.5, "level": 0.8}
BANDS = ("telephone", "4k", "5.5k")
CODECS = ("mulaw", "g722", "gsm", "mp3", "opus")


def simulate_channel(
    x: np.ndarray, sample_rate: int, rng: np.random.Generator
) -> tuple[np.ndarray, list[str]]:
    """A random real-world channel applied to mono float audio; returns (audio, what was applied).

    Args:
        x: mono waveform in [-1, 1].
        sample_rate: its rate (16 kHz in the corpus).
        rng: seeded random source; the same seed gives the same channel.

    Returns:
        float32 audio of len(x) samples in [-1, 1], and one short description per stage applied.
    """
    y = np.asarray(x, dtype=np.float64)
    steps = []
    for stage, apply in (
        ("reverb", reverberate),
        ("eq", tilt_microphone),
        ("noise", add_noise),
        ("band", limit_band),
        ("codec", code_lossily),
        ("level", shift_level),
    ):
        if rng.random() < STAGE_PROBABILITY[stage]:
            y, step = apply(y, sample_rate, rng)
            steps.append(step)
    y = np.pad(y, (0, max(0, len(x) - len(y))))[: len(x)]
    return np.clip(y, -1.0, 1.0).astype(np.float32), steps


def reverberate(x: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """A small room: direct sound, a few early reflections and an exponentially decaying diffuse tail."""
    rt60 = rng.uniform(0.15, 0.7)
    n = int(sr * rt60)
    t = np.arange(n) / sr
    rir = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)  # -60 dB at rt60
    rir[: int(sr * 0.003)] = 0.0  # the tail starts after the first reflections
    for _ in range(rng.integers(3, 8)):
        rir[int(sr * rng.uniform(0.002, 0.02))] += rng.uniform(0.2, 0.6) * rng.choice((-1, 1))
    direct_to_reverb = 10 ** (rng.uniform(-3, 12) / 20)
    rir *= 1.0 / (np.sqrt(np.sum(rir**2)) * direct_to_reverb)
    rir[0] = 1.0
    y = fftconvolve(x, rir)[: len(x)]
    return _same_peak(y, x), f"reverb rt60 {rt60:.2f} s"


def tilt_microphone(x: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """A microphone's colouring: a spectral tilt around 1 kHz and one broad resonance."""
    tilt = rng.uniform(-4, 4)  # dB per octave
    peak_hz, peak_db = rng.uniform(300, 4000), rng.uniform(-6, 6)
    spectrum = np.fft.rfft(x)
    f = np.maximum(np.fft.rfftfreq(len(x), 1 / sr), 50.0)
    octaves = np.log2(f / 1000.0)
    gain_db = tilt * octaves + peak_db * np.exp(-0.5 * (np.log2(f / peak_hz) / 0.5) ** 2)
    y = np.fft.irfft(spectrum * 10 ** (gain_db / 20), len(x))
    return _same_peak(y, x), f"mic tilt {tilt:+.1f} dB/oct, {peak_db:+.1f} dB at {peak_hz:.0f} Hz"


NOISES = ("white", "pink", "brown", "hum")


def add_noise(x: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """White, pink or brown noise, or mains hum with harmonics, at 10-40 dB SNR."""
    kind = str(rng.choice(NOISES))
    snr = rng.uniform(10, 40)
    return mix_noise(x, sr, kind, snr, rng), f"{kind} noise at {snr:.0f} dB SNR"


def mix_noise(x: np.ndarray, sr: int, kind: str, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """`x` with noise of `kind` (one of NOISES) added `snr_db` below its mean power."""
    n = len(x)
    if kind == "hum":
        base = rng.choice((50.0, 60.0))
        t = np.arange(n) / sr
        noise = sum(
            rng.uniform(0.2, 1) / k * np.sin(2 * np.pi * base * k * t + rng.uniform(0, 6.3))
            for k in (1, 2, 3, 5)
        )
    else:
        white = np.fft.rfft(rng.standard_normal(n))
        f = np.maximum(np.fft.rfftfreq(n, 1 / sr), 20.0)
        power = {"white": 0.0, "pink": 1.0, "brown": 2.0}[kind]
        noise = np.fft.irfft(white / f ** (power / 2), n)
    speech_power = np.mean(x**2) if np.any(x) else 1e-6
    noise *= np.sqrt(speech_power / (np.mean(noise**2) + 1e-12) / 10 ** (snr_db / 10))
    return x + noise


def limit_band(x: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """A telephone line (300-3400 Hz through 8 kHz sampling) or a 4 / 5.5 kHz low-pass."""
    band = rng.choice(BANDS)
    if band == "telephone":
        y = _resample(sosfilt(butter(6, (300, 3400), "bandpass", fs=sr, output="sos"), x), sr, 8000)
        return _resample(y, 8000, sr)[: len(x)], "telephone band 300-3400 Hz"
    cutoff = {"4k": 4000.0, "5.5k": 5500.0}[band]
    return sosfilt(butter(8, cutoff, "lowpass", fs=sr, output="sos"), x), f"low-pass {cutoff / 1000:g} kHz"


def code_lossily(x: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """G.711 mu-law at 8 kHz, or an ffmpeg round trip through G.722, GSM, mp3 or opus at a low bitrate.

    A round trip that ffmpeg refuses (its raw GSM stream of some clips does not decode) falls back to mu-law.
    """
    codec = rng.choice(CODECS) if shutil.which("ffmpeg") else "mulaw"
    if codec == "mulaw":
        return _mulaw(x, sr), "G.711 mu-law"
    if codec == "g722":
        args, name = ["-c:a", "g722", "-ar", "16000", "-f", "wav"], "G.722"
    elif codec == "gsm":
        args, name = ["-c:a", "libgsm", "-ar", "8000", "-f", "gsm"], "GSM 06.10"
    else:
        kbps = int(rng.choice((16, 24, 32))) if codec == "mp3" else int(rng.choice((8, 12, 16)))
        args = (
            ["-c:a", "libmp3lame", "-b:a", f"{kbps}k", "-f", "mp3"]
            if codec == "mp3"
            else ["-c:a", "libopus", "-b:a", f"{kbps}k", "-f", "ogg"]
        )
        name = f"{codec} {kbps} kbit/s"
    try:
        return _ffmpeg(x, sr, args), name
    except subprocess.CalledProcessError:
        return _mulaw(x, sr), f"G.711 mu-law ({name} failed)"


def _mulaw(x: np.ndarray, sr: int) -> np.ndarray:
    narrow = _resample(x, sr, 8000)
    mu = 255.0
    coded = np.sign(narrow) * np.log1p(mu * np.minimum(np.abs(narrow), 1)) / np.log1p(mu)
    coded = np.round(coded * 127) / 127  # 8 bits
    expanded = np.sign(coded) * ((1 + mu) ** np.abs(coded) - 1) / mu
    return _resample(expanded, 8000, sr)[: len(x)]


def shift_level(x: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """A quiet or hot recording (peak -30 to -1 dBFS) with a small DC offset."""
    peak_db, dc = rng.uniform(-30, -1), rng.uniform(-0.02, 0.02)
    peak = np.max(np.abs(x)) or 1.0
    return x * 10 ** (peak_db / 20) / peak + dc, f"peak {peak_db:.0f} dBFS, DC {dc:+.3f}"


def _same_peak(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    return y * ((np.max(np.abs(x)) or 1.0) / (np.max(np.abs(y)) or 1.0))


def _resample(x: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    g = gcd(sr_in, sr_out)
    return resample_poly(x, sr_out // g, sr_in // g)


def _ffmpeg(x: np.ndarray, sr: int, encode: list[str]) -> np.ndarray:
    """Encode with ffmpeg's `encode` arguments and decode back to `sr`, all through pipes."""
    pcm = np.clip(x, -1, 1).astype("<f4").tobytes()
    source = ["-f", "f32le", "-ar", str(sr), "-ac", "1", "-i", "pipe:0"]
    quiet = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"]
    coded = subprocess.run([*quiet, *source, *encode, "pipe:1"], input=pcm, capture_output=True, check=True)
    decoded = subprocess.run(
        [*quiet, "-i", "pipe:0", "-f", "f32le", "-ar", str(sr), "-ac", "1", "pipe:1"],
        input=coded.stdout,
        capture_output=True,
        check=True,
    )
    return np.frombuffer(decoded.stdout, dtype="<f4").astype(np.float64)
