"""The neural decoder: ConvNeXt blocks over the codec's dequantized 20 ms frames, then an inverse-STFT head
that writes one 24 kHz STFT frame per codec frame (Vocos-style: no upsampling convolutions, so it is cheap).

Frame t of the output STFT is centred on sample t * hop, while codec frame t describes samples
[t * hop, (t + 1) * hop): the half-hop offset is learned from the neighbouring frames the blocks see.
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
    """Per frame, log-magnitude and phase of every bin, turned into samples by an inverse STFT."""

    def __init__(self, dim: int, n_fft: int, hop: int):
        super().__init__()
        self.n_fft, self.hop = n_fft, hop
        self.out = nn.Linear(dim, n_fft + 2)
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        """x [B, T, dim] -> samples [B, T * hop]."""
        log_mag, phase = self.out(x).transpose(1, 2).chunk(2, dim=1)
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
    """Normalized codec feature frames [B, T, feature_dim] -> waveform [B, T * hop] at sample_rate."""

    def __init__(self, cfg: VocoderConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Conv1d(cfg.feature_dim, cfg.dim, cfg.kernel, padding=cfg.kernel // 2)
        self.norm = nn.LayerNorm(cfg.dim, eps=1e-6)
        self.blocks = nn.ModuleList(
            ConvNeXtBlock(cfg.dim, cfg.intermediate, cfg.kernel, 1.0 / cfg.layers) for _ in range(cfg.layers)
        )
        self.final_norm = nn.LayerNorm(cfg.dim, eps=1e-6)
        self.head = ISTFTHead(cfg.dim, cfg.n_fft, cfg.hop)

    def forward(self, features: Tensor) -> Tensor:
        x = self.embed(features.transpose(1, 2))
        x = self.norm(x.transpose(1, 2)).transpose(1, 2)
        for block in self.blocks:
            x = block(x)
        return self.head(self.final_norm(x.transpose(1, 2)))

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
