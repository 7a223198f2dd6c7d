"""The pretrained EnCodec 24 kHz codec (pip `encodec`) behind the Codec protocol, loaded offline.

Its checkpoint is not shipped and cannot be downloaded at run time: put `encodec_24khz-d7cc33bc.th` in
`$TORCH_HOME/hub/checkpoints/` (default ~/.cache/torch/hub/checkpoints/). A plain RVQ: one group, 75 Hz.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from engine.codec.base import check_codes, resolve_levels
from engine.codec.torchaudio_standin import ensure_torchaudio
from engine.errors import UserInputError

CHECKPOINT_NAME = "encodec_24khz-d7cc33bc.th"
# Target bandwidth (kbps) -> number of RVQ levels of the 24 kHz model (75 frames/s x 10 bits per level).
BANDWIDTH_LEVELS = {1.5: 2, 3.0: 4, 6.0: 8, 12.0: 16, 24.0: 32}


def checkpoint_dir() -> Path:
    """Where torch hub keeps checkpoints: $TORCH_HOME/hub/checkpoints."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def import_encodec():
    """`import encodec`, serving its torchaudio imports from the stand-in when torchaudio is broken."""
    ensure_torchaudio()
    try:
        import encodec
    except ImportError as err:
        raise UserInputError(
            "The `encodec` package is not installed; install it with `pip install --no-deps encodec==0.1.1` "
            "(--no-deps keeps out the CUDA torchaudio it would pull in)."
        ) from err
    return encodec


class EncodecCodec:
    """EnCodec 24 kHz: `n_q` RVQ levels of 1024 codes at 75 frames/s (n_q from the bandwidth)."""

    def __init__(self, bandwidth: float = 6.0, model: torch.nn.Module | None = None):
        """Load the pretrained model from disk (or wrap `model`, e.g. a randomly initialised one in tests).

        Args:
            bandwidth: 1.5, 3, 6, 12 or 24 kbps (2, 4, 8, 16 or 32 levels).
            model: an `encodec.EncodecModel` to use instead of the pretrained checkpoint.
        """
        if float(bandwidth) not in BANDWIDTH_LEVELS:
            raise UserInputError(
                f"EnCodec bandwidth {bandwidth} kbps is not offered; choose one of {sorted(BANDWIDTH_LEVELS)}."
            )
        encodec = import_encodec()
        if model is None:
            path = checkpoint_dir() / CHECKPOINT_NAME
            if not path.is_file():
                raise UserInputError(
                    f"The EnCodec 24 kHz checkpoint {CHECKPOINT_NAME} is not on this machine (looked for {path}). "
                    f"Download it elsewhere from https://dl.fbaipublicfiles.com/encodec/v0/{CHECKPOINT_NAME} "
                    f"and copy it into {path.parent}/ (or set TORCH_HOME to the folder holding hub/checkpoints/), "
                    "or use the built-in codec (load_codec())."
                )
            model = encodec.EncodecModel.encodec_model_24khz(pretrained=True, repository=path.parent)
        model.set_target_bandwidth(float(bandwidth))
        self.model = model.eval()
        self.sample_rate = int(model.sample_rate)
        self.frame_rate = self.sample_rate / float(np.prod(model.encoder.ratios))
        self.n_q = BANDWIDTH_LEVELS[float(bandwidth)]
        self.codebook_sizes = (int(model.quantizer.bins),) * self.n_q
        self.codebook_size = self.codebook_sizes[0]
        self.groups = (tuple(range(self.n_q)),)

    @torch.no_grad()
    def encode(self, samples: np.ndarray) -> torch.LongTensor:
        """Tokens [n_q, T] of float32 mono samples at 24 kHz."""
        x = torch.as_tensor(np.asarray(samples, dtype=np.float32)).reshape(1, 1, -1)
        if x.shape[-1] == 0:
            raise UserInputError("Cannot encode empty audio; give at least a fraction of a second.")
        frames = self.model.encode(x)
        return torch.cat([codes for codes, _ in frames], dim=-1)[0].long()

    @torch.no_grad()
    def decode(self, codes: torch.LongTensor, levels: Sequence[int] | None = None) -> np.ndarray:
        """Float32 mono samples at 24 kHz of codes [n_q, T], from the first levels[0] levels."""
        codes = check_codes(codes, self.codebook_sizes)
        (n,) = resolve_levels(self.groups, levels)
        wav = self.model.decode([(codes[:n][None], None)])
        return wav[0, 0].numpy().astype(np.float32)
