"""The neural decoder: ConvNeXt blocks over the codec's dequantized 20 ms frames, then an inverse-STFT head
that writes one 24 kHz STFT frame per codec frame (Vocos-style: no upsampling convolutions, so it is cheap).

Frame t of the output STFT is centred on sample t * hop, while codec frame t describes samples
[t * hop, (t + 1) * hop): the half-hop offset is learned from the neighbouring frames the blocks see.

Anchored on WORLD (`world_anchor`): the decoder also hears WORLD's synthesis of the same frames (resampled to
24 kHz), whose STFT enters beside the features, and its head writes a change to that STFT (log-magnitude
and phase) rather than a whole one. The head starts at zero, so an untrained anchored decoder is WORLD:
training only has to learn what WORLD gets wrong (its buzz, the band above 8 kHz), not pitch and phase
from nothing, which the unanchored decoder had not learnt for unheard voices after 38,500 steps
(docs/models/vocoder.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn


@dataclass(frozen=True)
class VocoderConfig:
    """The generator's shape; saved in every checkpoint so it loads without guessing."""

    feature_dim: int = 46  # the codec's normalized WORLD vector (log-F0, voicing, envelope, aperiodicity)
    sample_rate: int = 24000
    hop: int = 480  # 20 ms: one STFT frame per codec frame
    n_fft: int = 1920  # 4 x hop, as Vocos: an 80 ms window overlapped four times
    dim: int = 192
    intermediate: int = 576
    layers: int = 8
    kernel: int = 7  # each block sees +-3 frames; with the input conv, +-27 frames (0.54 s)
    world_anchor: bool = False  # write a change to WORLD's STFT of the same frames (module docstring)

    def to_dict(self) -> dict:
        return asdict(self)


class ConvNeXtBlock(nn.Module):
    """Depthwise conv over frames, LayerNorm, pointwise MLP, layer-scaled residual."""

    def __init__(self, dim: int, intermediate: int, kernel: int, layer_scale: float):
        super().__init__()
        self.depthwise = nn.Conv1d(dim, dim, kernel, padding=kernel // 2, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.expand = nn.Linear(dim, intermediate)
        self.act = nn.GELU()
        self.project = nn.Linear(intermediate, dim)
        self.gamma = nn.Parameter(torch.full((dim,), layer_scale))

    def forward(self, x: Tensor) -> Tensor:
        """x [B, dim, T] -> [B, dim, T]."""
        y = self.depthwise(x).transpose(1, 2)
        y = self.project(self.act(self.expand(self.norm(y))))
        return x + (self.gamma * y).transpose(1, 2)


class ISTFTHead(nn.Module):
    """Per frame, log-magnitude and phase of every bin, turned into samples by an inverse STFT; with an
    anchor's STFT, the change to its log-magnitude and phase (the layer starts at zero: the anchor itself)."""

    def __init__(self, dim: int, n_fft: int, hop: int, anchored: bool = False):
        super().__init__()
        self.n_fft, self.hop = n_fft, hop
        self.out = nn.Linear(dim, n_fft + 2)
        if anchored:
            nn.init.zeros_(self.out.weight)
            nn.init.zeros_(self.out.bias)
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)

    def stft(self, samples: Tensor) -> Tensor:
        """Complex STFT [B, n_fft // 2 + 1, T] of samples [B, T * hop], on the frames this head writes."""
        spec = torch.stft(
            samples, self.n_fft, self.hop, self.n_fft, self.window, center=True, return_complex=True
        )
        return spec[..., : samples.shape[1] // self.hop]

    def forward(self, x: Tensor, anchor: tuple[Tensor, Tensor] | None = None) -> Tensor:
        """x [B, T, dim] (and the anchor's `stft` as log-magnitude and phase) -> samples [B, T * hop]."""
        log_mag, phase = self.out(x).transpose(1, 2).chunk(2, dim=1)
        if anchor is not None:
            log_mag, phase = log_mag + anchor[0], phase + anchor[1]
        # Clamped so an untrained or diverging head cannot overflow exp.
        mag = torch.exp(log_mag.clamp(max=6.0))
        spec = torch.polar(mag, phase)
        return torch.istft(
            spec,
            self.n_fft,
            self.hop,
            self.n_fft,
            window=self.window,
            center=True,
            length=x.shape[1] * self.hop,
        )


class NeuralDecoder(nn.Module):
    """Normalized codec feature frames [B, T, feature_dim] -> waveform [B, T * hop] at sample_rate; anchored
    (`cfg.world_anchor`), also WORLD's waveform of the same frames at sample_rate [B, T * hop]."""

    def __init__(self, cfg: VocoderConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Conv1d(cfg.feature_dim, cfg.dim, cfg.kernel, padding=cfg.kernel // 2)
        # The anchor's log-magnitude, bin by bin, into the same width as the features.
        self.anchor_embed = nn.Linear(cfg.n_fft // 2 + 1, cfg.dim) if cfg.world_anchor else None
        self.norm = nn.LayerNorm(cfg.dim, eps=1e-6)
        self.blocks = nn.ModuleList(
            ConvNeXtBlock(cfg.dim, cfg.intermediate, cfg.kernel, 1.0 / cfg.layers) for _ in range(cfg.layers)
        )
        self.final_norm = nn.LayerNorm(cfg.dim, eps=1e-6)
        self.head = ISTFTHead(cfg.dim, cfg.n_fft, cfg.hop, anchored=cfg.world_anchor)

    def forward(self, features: Tensor, world: Tensor | None = None) -> Tensor:
        if (world is not None) != self.cfg.world_anchor:
            raise ValueError("an anchored decoder takes WORLD's waveform beside the features, only it does")
        x = self.embed(features.transpose(1, 2))
        anchor = None
        if world is not None:
            spec = self.head.stft(world)
            anchor = (torch.log(spec.abs() + 1e-6), torch.angle(spec))
            x = x + self.anchor_embed(anchor[0].transpose(1, 2)).transpose(1, 2)
        x = self.norm(x.transpose(1, 2)).transpose(1, 2)
        for block in self.blocks:
            x = block(x)
        return self.head(self.final_norm(x.transpose(1, 2)), anchor)

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())


def save_generator(path, model: NeuralDecoder, metadata: dict) -> None:
    """The generator alone (config, fp16 weights, metadata): what the codec loads to decode."""
    state = {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    torch.save(
        {"format": "neural_decoder/1", "config": model.cfg.to_dict(), "state": state, "metadata": metadata},
        path,
    )


def load_generator(path) -> tuple[NeuralDecoder, dict]:
    """A generator written by `save_generator`, in eval mode (fp32), and its metadata."""
    saved = torch.load(path, map_location="cpu", weights_only=True)
    if saved.get("format") != "neural_decoder/1":
        raise ValueError(f"{path} is not a neural decoder export (format {saved.get('format')}).")
    model = NeuralDecoder(VocoderConfig(**saved["config"]))
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in saved["state"].items()})
    return model.eval(), saved.get("metadata", {})
