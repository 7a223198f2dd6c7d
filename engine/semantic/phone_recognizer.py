"""Phones of a voice clip from its sound: a small CTC recognizer trained on the corpus's aligned recordings.

It serves the speaker's tempo when the clip's words are not given (`TextToSemantic.tempo`): the duration
model predicts the recognized phones and the clip's spoken time is divided by that prediction, as it is for
typed words. The network is a stack of dilated 1-D convolutions over log-mel frames (10 ms input, 20 ms
output, 0.6 s of context either side); its output scores every phone of the inventory, with the padding id
as the CTC blank. Trained by `python -m engine.train.train_recognizer`; shipped in assets/recognizer/.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from engine.audio import resample
from engine.semantic.prompt_features import log_mel
from engine.semantic.speaking_rate import ANALYSIS_RATE
from engine.text.phone_inventory import LONG_PAUSE, PAD, PHONE_ID, PHONE_SET, SHORT_PAUSE

ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets" / "recognizer"
DEFAULT_CHECKPOINT = ASSETS_DIR / "recognizer.pt"
BLANK = PHONE_ID[PAD]
_HALF_HOP = ANALYSIS_RATE // 100  # 10 ms: two log-mel passes half a 20 ms frame apart, interleaved


def recognizer_features(samples: np.ndarray, sample_rate: int, n_mels: int = 40) -> np.ndarray:
    """Log-mel frames every 10 ms [T, n_mels], each band's mean and spread over the clip taken out.

    Args:
        samples: mono float audio in [-1, 1].
        sample_rate: its rate; resampled to 16 kHz.
    """
    audio = resample(np.asarray(samples).reshape(-1), sample_rate, ANALYSIS_RATE)
    even = log_mel(audio, n_mels=n_mels)
    odd = log_mel(audio[_HALF_HOP:], n_frames=len(even), n_mels=n_mels)
    frames = np.stack([even, odd], axis=1).reshape(-1, n_mels)
    frames = frames - frames.mean(axis=0)
    return (frames / (frames.std(axis=0) + 1e-3)).astype(np.float32)


def targets(phones: tuple[tuple[str, float, float], ...]) -> list[int]:
    """CTC targets of an aligned recording: its phone ids without the pauses at either end."""
    names = [p for p, _, _ in phones]
    return [PHONE_ID[p] for p in _strip_edge_pauses(names)]


def _strip_edge_pauses(phones: list[str]) -> list[str]:
    pauses = (SHORT_PAUSE, LONG_PAUSE)
    start, end = 0, len(phones)
    while start < end and phones[start] in pauses:
        start += 1
    while end > start and phones[end - 1] in pauses:
        end -= 1
    return phones[start:end]


@dataclass(frozen=True)
class RecognizerConfig:
    """Network shape (saved in the checkpoint)."""

    n_mels: int = 40
    width: int = 256
    kernel: int = 5
    dilations: tuple[int, ...] = (1, 2, 4, 1, 2, 4)


class _Block(nn.Module):
    def __init__(self, width: int, kernel: int, dilation: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(width, width, kernel, dilation=dilation, padding=dilation * (kernel - 1) // 2)
        self.norm = nn.LayerNorm(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [B, width, T]."""
        y = nn.functional.gelu(self.conv(x))
        return x + self.norm(y.transpose(1, 2)).transpose(1, 2)


class PhoneRecognizer(nn.Module):
    """Frame-wise phone scores (CTC, blank = the padding id) from `recognizer_features`."""

    def __init__(self, config: RecognizerConfig) -> None:
        super().__init__()
        self.config = config
        self.front = nn.Conv1d(config.n_mels, config.width, config.kernel, stride=2, padding=config.kernel // 2)
        self.blocks = nn.ModuleList(_Block(config.width, config.kernel, d) for d in config.dilations)
        self.out = nn.Linear(config.width, len(PHONE_SET))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Log-probabilities [B, ceil(T / 2), phones] of features [B, T, n_mels]."""
        x = nn.functional.gelu(self.front(features.transpose(1, 2)))
        for block in self.blocks:
            x = block(x)
        return torch.log_softmax(self.out(x.transpose(1, 2)), dim=-1)

    @staticmethod
    def output_lengths(lengths: torch.Tensor) -> torch.Tensor:
        """Output frames for inputs of these lengths (the front convolution halves the rate)."""
        return (lengths + 1) // 2

    @torch.inference_mode()
    def recognize(self, samples: np.ndarray, sample_rate: int) -> tuple[str, ...]:
        """The phones heard in a clip (greedy CTC), pauses at either end left out."""
        features = torch.from_numpy(recognizer_features(samples, sample_rate, self.config.n_mels))
        return decode_greedy(self(features.unsqueeze(0))[0])


def decode_greedy(log_probs: torch.Tensor) -> tuple[str, ...]:
    """Phones of one clip's scores [T, phones]: the best per frame, repeats merged, blanks and the pauses at
    either end dropped."""
    best = log_probs.argmax(dim=-1).tolist()
    phones = [PHONE_SET[i] for k, i in enumerate(best) if i != BLANK and (k == 0 or best[k - 1] != i)]
    return tuple(_strip_edge_pauses(phones))


def edit_distance(a: Sequence, b: Sequence) -> int:
    """Insertions, deletions and substitutions turning sequence a into b."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


def save_recognizer(path: str | Path, model: PhoneRecognizer, metadata: dict) -> None:
    """Write a float16 copy of the weights with the config and metadata."""
    weights = {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    torch.save({"config": asdict(model.config), "model": weights, "metadata": metadata}, path)


def load_recognizer(path: str | Path = DEFAULT_CHECKPOINT) -> PhoneRecognizer:
    """The recognizer of a checkpoint written by `save_recognizer` (float32, eval mode)."""
    state = torch.load(path, map_location="cpu", weights_only=False)
    config = RecognizerConfig(**{**state["config"], "dilations": tuple(state["config"]["dilations"])})
    model = PhoneRecognizer(config)
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state["model"].items()})
    model.metadata = state["metadata"]
    return model.eval()
