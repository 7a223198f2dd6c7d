"""A tiny stand-in for the few torchaudio pieces `encodec` touches, used only when torchaudio won't import.

There is no CPU torchaudio here (pip's is a CUDA build whose import raises OSError). encodec needs
`transforms.Resample`, `transforms.Spectrogram`, `load` and `save`; they are served from scipy, torch
and soundfile. `ensure_torchaudio()` registers the stand-in in sys.modules only if the real import fails.
"""

from __future__ import annotations

import sys
import types
from math import gcd

import numpy as np
import torch


class Resample(torch.nn.Module):
    """Polyphase resampling along the last axis (scipy.signal.resample_poly)."""

    def __init__(self, orig_freq: int = 16000, new_freq: int = 16000):
        super().__init__()
        self.orig_freq, self.new_freq = int(orig_freq), int(new_freq)

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        if self.orig_freq == self.new_freq:
            return wav
        from scipy.signal import resample_poly

        g = gcd(self.orig_freq, self.new_freq)
        out = resample_poly(wav.detach().cpu().numpy(), self.new_freq // g, self.orig_freq // g, axis=-1)
        return torch.from_numpy(np.ascontiguousarray(out)).to(wav.dtype)


class Spectrogram(torch.nn.Module):
    """Magnitude (power=1) or power (power=2) STFT, or the complex STFT when power is None."""

    def __init__(
        self,
        n_fft: int = 400,
        win_length: int | None = None,
        hop_length: int | None = None,
        window_fn=torch.hann_window,
        power: float | None = 2.0,
        normalized: bool = False,
        center: bool = True,
        pad_mode: str = "reflect",
        onesided: bool = True,
    ):
        super().__init__()
        self.n_fft = n_fft
        self.win_length = win_length or n_fft
        self.hop_length = hop_length or self.win_length // 2
        self.register_buffer("window", window_fn(self.win_length), persistent=False)
        self.power, self.normalized, self.center = power, normalized, center
        self.pad_mode, self.onesided = pad_mode, onesided

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        shape = wav.shape
        spec = torch.stft(
            wav.reshape(-1, shape[-1]),
            self.n_fft,
            self.hop_length,
            self.win_length,
            self.window,
            center=self.center,
            pad_mode=self.pad_mode,
            normalized=self.normalized,
            onesided=self.onesided,
            return_complex=True,
        )
        spec = spec.reshape(*shape[:-1], *spec.shape[-2:])
        return spec if self.power is None else spec.abs().pow(self.power)


def load(path, *args, **kwargs) -> tuple[torch.Tensor, int]:
    """(channels, samples) float32 tensor and sample rate, read with soundfile."""
    import soundfile

    data, sr = soundfile.read(str(path), dtype="float32", always_2d=True)
    return torch.from_numpy(data.T.copy()), sr


def save(path, wav: torch.Tensor, sample_rate: int, bits_per_sample: int = 16, **kwargs) -> None:
    """Write (channels, samples) audio with soundfile (16-bit PCM unless told otherwise)."""
    import soundfile

    subtype = {16: "PCM_16", 24: "PCM_24", 32: "PCM_32"}.get(bits_per_sample, "PCM_16")
    soundfile.write(str(path), wav.detach().cpu().numpy().T, sample_rate, subtype=subtype)


def build_module() -> types.ModuleType:
    """A fresh `torchaudio` stand-in module (with `torchaudio.transforms`)."""
    mod = types.ModuleType("torchaudio")
    mod.__doc__ = "Stand-in for torchaudio (engine.codec.torchaudio_standin): real torchaudio unavailable."
    transforms = types.ModuleType("torchaudio.transforms")
    transforms.Resample = Resample
    transforms.Spectrogram = Spectrogram
    mod.transforms = transforms
    mod.load, mod.save = load, save
    mod.__is_standin__ = True
    return mod


def ensure_torchaudio() -> bool:
    """Make `import torchaudio` work: the real one if it imports, else the stand-in.

    Returns:
        True when the stand-in was registered (now or earlier), False when the real torchaudio is used.
    """
    existing = sys.modules.get("torchaudio")
    if existing is not None:
        return bool(getattr(existing, "__is_standin__", False))
    try:
        import torchaudio  # noqa: F401

        return False
    except (ImportError, OSError):
        # A failed import can leave half-initialised submodules behind; clear them before standing in.
        for name in [n for n in sys.modules if n == "torchaudio" or n.startswith("torchaudio.")]:
            del sys.modules[name]
        mod = build_module()
        sys.modules["torchaudio"] = mod
        sys.modules["torchaudio.transforms"] = mod.transforms
        return True
