"""Small discriminators for the adversarial stage: multi-period (HiFi-GAN: the waveform folded by a period,
so each column hears one phase of a periodic signal) and multi-resolution (Vocos/UnivNet: 2-D convs over
magnitude spectrograms). Channels are a few tens, not HiFi-GAN's thousand: they must train on a CPU.

Each returns, per sub-discriminator, its logits and its inner activations (for feature matching).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from torch import Tensor, nn
from torch.nn.utils.parametrizations import weight_norm

from engine.vocoder.losses import magnitudes


@dataclass(frozen=True)
class DiscriminatorConfig:
    periods: tuple[int, ...] = (2, 3, 5, 7, 11)
    period_channels: tuple[int, ...] = (16, 32, 64, 64)
    resolutions: tuple[tuple[int, int], ...] = ((512, 128), (1024, 256), (2048, 512))
    resolution_channels: int = 16

    def to_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_dict(d: dict) -> DiscriminatorConfig:
        return DiscriminatorConfig(
            tuple(d["periods"]),
            tuple(d["period_channels"]),
            tuple(tuple(r) for r in d["resolutions"]),
            d["resolution_channels"],
        )


Judgement = tuple[list[Tensor], list[list[Tensor]]]  # logits per sub-discriminator, their activations


def _conv_stack(layers: nn.ModuleList, out: nn.Module, x: Tensor) -> tuple[Tensor, list[Tensor]]:
    """Leaky-ReLU conv layers, then the logits conv: (flat logits [B, -1], every layer's activations)."""
    maps = []
    for layer in layers:
        x = nn.functional.leaky_relu(layer(x), 0.1)
        maps.append(x)
    return out(x).flatten(1), maps


class PeriodDiscriminator(nn.Module):
    """2-D convs over the waveform folded into rows of `period` samples."""

    def __init__(self, period: int, channels: tuple[int, ...]):
        super().__init__()
        self.period = period
        layers, c_in = [], 1
        for c in channels:
            layers.append(weight_norm(nn.Conv2d(c_in, c, (5, 1), (3, 1), padding=(2, 0))))
            c_in = c
        layers.append(weight_norm(nn.Conv2d(c_in, c_in, (5, 1), 1, padding=(2, 0))))
        self.layers = nn.ModuleList(layers)
        self.out = weight_norm(nn.Conv2d(c_in, 1, (3, 1), 1, padding=(1, 0)))

    def forward(self, wave: Tensor) -> tuple[Tensor, list[Tensor]]:
        b, n = wave.shape
        pad = (-n) % self.period
        x = nn.functional.pad(wave, (0, pad), mode="reflect").view(b, 1, -1, self.period)
        return _conv_stack(self.layers, self.out, x)


class ResolutionDiscriminator(nn.Module):
    """2-D convs over one STFT resolution's compressed magnitudes."""

    def __init__(self, n_fft: int, hop: int, channels: int):
        super().__init__()
        self.n_fft, self.hop = n_fft, hop
        c = channels
        self.layers = nn.ModuleList(
            [
                weight_norm(nn.Conv2d(1, c, (7, 5), (4, 2), padding=(3, 2))),
                weight_norm(nn.Conv2d(c, c, (5, 3), (2, 1), padding=(2, 1))),
                weight_norm(nn.Conv2d(c, c, (5, 3), (2, 1), padding=(2, 1))),
                weight_norm(nn.Conv2d(c, c, (3, 3), 1, padding=1)),
            ]
        )
        self.out = weight_norm(nn.Conv2d(c, 1, (3, 3), padding=1))

    def forward(self, wave: Tensor) -> tuple[Tensor, list[Tensor]]:
        # Compressed magnitudes: the loud low harmonics would otherwise drown the rest.
        x = magnitudes(wave, self.n_fft, self.hop).pow(0.3)[:, None]
        return _conv_stack(self.layers, self.out, x)


class Discriminators(nn.Module):
    """All sub-discriminators together: one call judges a batch of waveforms [B, N]."""

    def __init__(self, cfg: DiscriminatorConfig):
        super().__init__()
        self.cfg = cfg
        self.subs = nn.ModuleList(
            [PeriodDiscriminator(p, cfg.period_channels) for p in cfg.periods]
            + [ResolutionDiscriminator(n, h, cfg.resolution_channels) for n, h in cfg.resolutions]
        )

    def forward(self, wave: Tensor) -> Judgement:
        logits, maps = [], []
        for sub in self.subs:
            out, inner = sub(wave)
            logits.append(out)
            maps.append(inner)
        return logits, maps
