"""The duration model: phones and a speaking rate -> seconds per phone, all phones at once (non-autoregressive).

A stack of residual dilated 1-D convolutions over phone embeddings (dilations 1, 2, 4 repeated: each phone sees
14 neighbours either side, enough for clusters, syllable context and phrase-final lengthening before a pause),
scaled and shifted per channel (FiLM) by the prompt's speaking rate and, optionally, its timing-style
fingerprint (`prompt_features`), predicting log-duration.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from engine.semantic.tokens import FRAME_RATE, frame_boundaries
from engine.text.phone_inventory import PHONE_SET

MIN_SECONDS = 0.01  # training targets are floored here: below half a frame the exact value does not matter


@dataclass(frozen=True)
class DurationConfig:
    """Shape of the duration model and the normalization of its rate input (saved inside the checkpoint).

    Attributes:
        n_phones: size of the phone vocabulary (`PHONE_SET`).
        dim: channels.
        layers: residual convolution blocks; block i is dilated by dilations[i % len(dilations)].
        kernel: convolution width in phones.
        dilations: the dilation cycle.
        dropout: dropout inside the blocks while training.
        log_rate_mean, log_rate_std: statistics of log(nuclei per second) over the training prompts.
        style_bands: size of the style fingerprint the model is conditioned on (0: speaking rate only).
        style_kind: which fingerprint (`PromptFeatures.style_vector`): "bands", "dynamics" or both.
    """

    n_phones: int = len(PHONE_SET)
    dim: int = 96
    layers: int = 6
    kernel: int = 3
    dilations: tuple[int, ...] = (1, 2, 4)
    dropout: float = 0.1
    log_rate_mean: float = math.log(4.0)
    log_rate_std: float = 0.3
    style_bands: int = 0
    style_kind: str = "bands"

    @property
    def uses_dynamics(self) -> bool:
        """Whether the fingerprint holds the spectral dynamics (as its last `DYNAMICS` columns)."""
        return bool(self.style_bands) and "dynamics" in self.style_kind


class _ConvBlock(nn.Module):
    def __init__(self, config: DurationConfig, dilation: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(
            config.dim, config.dim, config.kernel, padding=dilation * (config.kernel // 2), dilation=dilation
        )
        self.norm = nn.LayerNorm(config.dim)
        self.film = nn.Linear(1 + config.style_bands, 2 * config.dim)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor, condition: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.conv((x * mask).transpose(1, 2)).transpose(1, 2)
        scale, shift = self.film(condition).unsqueeze(1).chunk(2, dim=-1)
        h = torch.relu(self.norm(h) * (1 + scale) + shift)
        return x + self.dropout(h)


class DurationModel(nn.Module):
    """Phones + speaking rate -> log seconds per phone."""

    def __init__(self, config: DurationConfig) -> None:
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.n_phones, config.dim, padding_idx=0)
        self.blocks = nn.ModuleList(
            _ConvBlock(config, config.dilations[i % len(config.dilations)]) for i in range(config.layers)
        )
        self.out = nn.Linear(config.dim, 1)
        # Set after training on the valid split (see `calibrate`) so utterance lengths are unbiased: per-phone
        # L1 in the log domain predicts medians, and the sum of medians falls short of the total.
        self.register_buffer("log_bias", torch.zeros(()))
        if config.style_bands:  # statistics of the fingerprint over the training prompts (set when training)
            self.register_buffer("style_mean", torch.zeros(config.style_bands))
            self.register_buffer("style_std", torch.ones(config.style_bands))

    def normalized_rate(self, rate_per_second: torch.Tensor) -> torch.Tensor:
        """Nuclei per second [B] -> the model's standardized log-rate input [B, 1]."""
        log_rate = torch.log(rate_per_second.clamp(min=0.1))
        return ((log_rate - self.config.log_rate_mean) / self.config.log_rate_std).unsqueeze(-1)

    def forward(
        self, phone_ids: torch.Tensor, rate_per_second: torch.Tensor, style: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Predict log-durations.

        Args:
            phone_ids: LongTensor [B, N], 0 = padding.
            rate_per_second: [B] speaking rate of each item's prompt (`SpeakingRate.per_second`).
            style: [B, style_bands] prompt fingerprints (`PromptFeatures.style`); None = an average voice.

        Returns:
            [B, N] natural log of seconds per phone (padding positions are meaningless).
        """
        mask = (phone_ids != 0).unsqueeze(-1).float()
        condition = self.normalized_rate(rate_per_second)
        if self.config.style_bands:
            if style is None:
                normalized = torch.zeros(len(phone_ids), self.config.style_bands)
            else:
                normalized = (style.float() - self.style_mean) / self.style_std
            condition = torch.cat([condition, normalized], dim=-1)
        x = self.embed(phone_ids)
        for block in self.blocks:
            x = block(x, condition, mask)
        return self.out(x).squeeze(-1) + self.log_bias

    @torch.no_grad()
    def calibrate(self, predicted_totals: np.ndarray, reference_totals: np.ndarray) -> float:
        """Shift log_bias so the median ratio of predicted to reference utterance length is 1.

        Args:
            predicted_totals: seconds per utterance predicted with the current bias.
            reference_totals: the references' seconds.

        Returns:
            The new log_bias.
        """
        shift = -float(np.median(np.log(np.asarray(predicted_totals) / np.asarray(reference_totals))))
        self.log_bias += shift
        return float(self.log_bias)


def seconds_to_frames(seconds: np.ndarray, frame_rate: int = FRAME_RATE, min_frames: int = 1) -> np.ndarray:
    """Seconds per phone -> whole frames per phone, rounding cumulative time so the total stays exact.

    Args:
        seconds: predicted seconds per phone (pauses included: a pause at punctuation is never dropped).
        frame_rate: frames per second.
        min_frames: the least number of frames any phone gets, so no phone is skipped.

    Returns:
        int64 frames per phone.
    """
    seconds = np.maximum(np.asarray(seconds, dtype=np.float64), min_frames / frame_rate)
    frames = np.diff(frame_boundaries(np.cumsum(seconds), frame_rate), prepend=0)
    # Rounding can still leave a phone below the floor (it started late in a frame): lend it a frame from its
    # longer neighbour, so the total is unchanged.
    for index in np.flatnonzero(frames < min_frames):
        neighbours = [i for i in (index - 1, index + 1) if 0 <= i < len(frames)]
        donor = max(neighbours, key=lambda i: frames[i], default=None)
        if donor is not None and frames[donor] > min_frames:
            frames[donor] -= 1
            frames[index] += 1
    return frames


def save_checkpoint(path: str, model: DurationModel, extra: dict) -> None:
    """Write the model, its config and `extra` (training state, metadata) to `path`."""
    torch.save({"config": asdict(model.config), "model": model.state_dict(), **extra}, path)


def load_duration_model(path: str) -> tuple[DurationModel, dict]:
    """Load a duration checkpoint in eval mode.

    Args:
        path: a file written by `save_checkpoint`.

    Returns:
        (model, the whole checkpoint dict, e.g. its "metadata").
    """
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    config = checkpoint["config"]
    model = DurationModel(DurationConfig(**{**config, "dilations": tuple(config["dilations"])}))
    model.load_state_dict(checkpoint["model"])
    model.eval()
    return model, checkpoint
