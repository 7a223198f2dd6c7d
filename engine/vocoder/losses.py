"""The decoder's training losses: multi-resolution STFT and log-mel L1 (each counted only below the band a
training clip really has), and the hinge and feature-matching losses of the adversarial stage.

A clip recorded at 16 kHz and resampled to 24 kHz holds nothing above 8 kHz: there it teaches the low band
only, so the bins above its `cutoff_hz` are left out of the spectral losses, and the discriminators hear
both the clip and the decoder's output cut to that band (`band_limit`).
"""

from __future__ import annotations

import functools
import math

import torch
from torch import Tensor

STFT_RESOLUTIONS = ((512, 128), (1024, 256), (2048, 512))  # (n_fft, hop), window = n_fft
MEL_FFT, MEL_HOP, MEL_BANDS = 1024, 256, 100


def magnitudes(wave: Tensor, n_fft: int, hop: int) -> Tensor:
    """|STFT| [B, n_fft // 2 + 1, frames] of wave [B, N]."""
    window = torch.hann_window(n_fft, device=wave.device)
    spec = torch.stft(wave, n_fft, hop, n_fft, window=window, center=True, return_complex=True)
    return spec.abs().clamp(min=1e-5)


def _bin_mask(cutoff_hz: Tensor, n_bins: int, sample_rate: int) -> Tensor:
    """[B, n_bins, 1] weights: 1 for bins at or below each clip's cutoff."""
    freqs = torch.linspace(0, sample_rate / 2, n_bins)
    return (freqs[None, :] <= cutoff_hz[:, None]).float()[:, :, None]


def _masked_mean(x: Tensor, mask: Tensor) -> Tensor:
    weights = mask.expand_as(x)
    return (x * weights).sum() / weights.sum().clamp(min=1)


def stft_loss(fake: Tensor, real: Tensor, cutoff_hz: Tensor, sample_rate: int) -> Tensor:
    """Spectral convergence plus log-magnitude L1, averaged over STFT_RESOLUTIONS, below each cutoff."""
    total = fake.new_zeros(())
    for n_fft, hop in STFT_RESOLUTIONS:
        f, r = magnitudes(fake, n_fft, hop), magnitudes(real, n_fft, hop)
        mask = _bin_mask(cutoff_hz, f.shape[1], sample_rate)
        convergence = ((r - f) * mask).norm() / (r * mask).norm().clamp(min=1e-5)
        total = total + convergence + _masked_mean((f.log() - r.log()).abs(), mask)
    return total / len(STFT_RESOLUTIONS)


@functools.lru_cache(maxsize=4)
def mel_filters(sample_rate: int, n_fft: int, n_mels: int) -> Tensor:
    """[n_mels, n_fft // 2 + 1] triangular filters on the HTK mel scale, 0 Hz to Nyquist."""

    def mel(hz: Tensor) -> Tensor:
        return 2595.0 * torch.log10(1.0 + hz / 700.0)

    def hz(m: Tensor) -> Tensor:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)

    edges = hz(torch.linspace(0.0, float(mel(torch.tensor(sample_rate / 2))), n_mels + 2))
    freqs = torch.linspace(0, sample_rate / 2, n_fft // 2 + 1)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs[None] - lower) / (centre - lower)
    falling = (upper - freqs[None]) / (upper - centre)
    return torch.clamp(torch.minimum(rising, falling), min=0.0)


def log_mel(wave: Tensor, sample_rate: int) -> Tensor:
    """Natural log of the mel-weighted STFT magnitude [B, MEL_BANDS, frames] (as Vocos: magnitude, not power)."""
    mag = magnitudes(wave, MEL_FFT, MEL_HOP)
    mel = torch.einsum("mf,bft->bmt", mel_filters(sample_rate, MEL_FFT, MEL_BANDS), mag)
    return torch.log(mel.clamp(min=1e-5))


def mel_band_mask(cutoff_hz: Tensor, sample_rate: int) -> Tensor:
    """[B, MEL_BANDS, 1] weights: 1 for mel bands whose upper edge lies below each clip's cutoff."""
    filters = mel_filters(sample_rate, MEL_FFT, MEL_BANDS)
    freqs = torch.linspace(0, sample_rate / 2, filters.shape[1])
    top = torch.stack([freqs[row > 0].max() for row in filters])
    return (top[None, :] <= cutoff_hz[:, None]).float()[:, :, None]


def mel_loss(fake: Tensor, real: Tensor, cutoff_hz: Tensor, sample_rate: int) -> Tensor:
    """L1 between log-mel spectrograms, over the bands below each clip's cutoff."""
    mask = mel_band_mask(cutoff_hz, sample_rate)
    return _masked_mean((log_mel(fake, sample_rate) - log_mel(real, sample_rate)).abs(), mask)


def band_limit(wave: Tensor, cutoff_hz: Tensor, sample_rate: int) -> Tensor:
    """wave [B, N] with everything above each row's cutoff removed (rows at full band pass unchanged)."""
    if bool((cutoff_hz >= sample_rate / 2).all()):
        return wave
    spec = torch.fft.rfft(wave)
    freqs = torch.fft.rfftfreq(wave.shape[-1], 1.0 / sample_rate)
    keep = (freqs[None, :] <= cutoff_hz[:, None]).to(spec.dtype)
    return torch.fft.irfft(spec * keep, n=wave.shape[-1])


def discriminator_hinge(real_logits: list[Tensor], fake_logits: list[Tensor]) -> Tensor:
    """Hinge loss of the discriminators: real above +1, fake below -1."""
    total = real_logits[0].new_zeros(())
    for r, f in zip(real_logits, fake_logits):
        total = total + torch.relu(1 - r).mean() + torch.relu(1 + f).mean()
    return total / len(real_logits)


def generator_hinge(fake_logits: list[Tensor]) -> Tensor:
    """Hinge loss of the generator: its output judged real."""
    return sum(torch.relu(1 - f).mean() for f in fake_logits) / len(fake_logits)


def feature_matching(real_maps: list[list[Tensor]], fake_maps: list[list[Tensor]]) -> Tensor:
    """L1 between the discriminators' inner activations on real and generated audio, relative to the real."""
    terms = [
        (r.detach() - f).abs().mean() / r.detach().abs().mean().clamp(min=1e-5)
        for rs, fs in zip(real_maps, fake_maps)
        for r, f in zip(rs, fs)
    ]
    return sum(terms) / max(len(terms), 1)


def log_spectral_distance_db(fake: Tensor, real: Tensor, cutoff_hz: float, sample_rate: int) -> float:
    """Mean |log-mel difference| in dB below `cutoff_hz`: the quality figure checkpoints record."""
    mask = mel_band_mask(torch.full((fake.shape[0],), float(cutoff_hz)), sample_rate)
    diff = (log_mel(fake, sample_rate) - log_mel(real, sample_rate)).abs() * (20.0 / math.log(10.0))
    return float(_masked_mean(diff, mask))
