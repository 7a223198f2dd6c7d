"""Training pairs of the neural decoder, cached on disk: the codec's tokens of a clip and the clip at 24 kHz,
aligned frame by frame (T frames of tokens, T * hop samples).

    DIR/meta.json      the codec the tokens are of (path and sha1), how the pairs were made
    DIR/pairs.jsonl    one line per pair: id, source, person, seconds, cutoff_hz, file
    DIR/<source>/<id>.npz   codes int16 [n_q, T], wave int16 [T * hop]

Tokens, not features, are stored: a training batch dequantizes them at a random depth (as the acoustic
model's decoders will ask for), and the codec's dequantizer is cheap.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from engine.codec.group_codec import GroupRVQCodec
from engine.codec.neural_codec import world_anchor
from engine.errors import UserInputError

PAIRS = "pairs.jsonl"
META = "meta.json"
CONTEXT_FRAMES = 4  # dequantized around a crop so the codec's refiner sees the crop's neighbours


def file_sha1(path: Path) -> str:
    return hashlib.sha1(Path(path).read_bytes()).hexdigest()


@dataclass(frozen=True)
class Pair:
    id: str
    source: str  # the voice source (asterisk, kokoro, piper, corpus): the folder it is stored in
    person: str
    codes: torch.Tensor  # [n_q, T] long
    wave: torch.Tensor  # [T * hop] int16, as stored (half the memory of float32)
    cutoff_hz: float  # the clip has no content above this (half its original sample rate)

    def samples(self, start: int = 0, stop: int | None = None) -> torch.Tensor:
        """float32 samples [start:stop] in [-1, 1)."""
        return self.wave[start:stop].float() / 32768.0


class PairWriter:
    """Appends pairs to DIR; ids already there are skipped, so an interrupted preparation resumes."""

    def __init__(self, folder: Path, codec_path: Path, hop: int, sample_rate: int) -> None:
        self.folder, self.hop, self.sample_rate = Path(folder), hop, sample_rate
        self.folder.mkdir(parents=True, exist_ok=True)
        sha1 = file_sha1(codec_path)
        meta_path = self.folder / META
        if meta_path.is_file():
            meta = json.loads(meta_path.read_text())
            if meta["codec_sha1"] != sha1:
                raise UserInputError(
                    f"{self.folder} holds tokens of another codec ({meta['codec']}); use a new folder."
                )
        else:
            meta_path.write_text(
                json.dumps(
                    {"codec": str(codec_path), "codec_sha1": sha1, "hop": hop, "sample_rate": sample_rate}
                )
                + "\n"
            )
        self.done = {json.loads(line)["id"] for line in self._lines()}

    def _lines(self) -> list[str]:
        path = self.folder / PAIRS
        if not path.is_file():
            return []
        return [line for line in path.read_text().splitlines() if line.endswith("}")]

    def add(
        self, pair_id: str, source: str, person: str, codes: torch.Tensor, wave: np.ndarray, cutoff_hz: float
    ) -> None:
        """Store one pair; `wave` (at the decoder's rate) is cut or zero-padded to codes' frames x hop."""
        n = codes.shape[1] * self.hop
        wave = np.pad(wave[:n], (0, max(0, n - len(wave))))
        pcm = np.clip(np.round(wave * 32767), -32768, 32767).astype(np.int16)
        rel = Path(source) / f"{pair_id}.npz"
        (self.folder / source).mkdir(exist_ok=True)
        tmp = self.folder / source / f"{pair_id}.tmp.npz"
        np.savez(tmp, codes=codes.numpy().astype(np.int16), wave=pcm)
        tmp.rename(self.folder / rel)
        line = {
            "id": pair_id,
            "source": source,
            "person": person,
            "seconds": round(n / self.sample_rate, 3),
            "cutoff_hz": cutoff_hz,
            "file": str(rel),
        }
        with open(self.folder / PAIRS, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(line) + "\n")
        self.done.add(pair_id)


def read_meta(folder: Path) -> dict:
    path = Path(folder) / META
    if not path.is_file():
        raise UserInputError(
            f"No decoder training pairs in {folder}: make them with `python -m engine.train.prepare_vocoder "
            f"--out {folder}`."
        )
    return json.loads(path.read_text())


def load_pairs(folder: Path) -> list[Pair]:
    """Every pair of DIR, in file order, in memory (an hour of 24 kHz int16 is 170 MB)."""
    folder = Path(folder)
    read_meta(folder)
    pairs = []
    for line in (folder / PAIRS).read_text().splitlines():
        if not line.endswith("}"):
            continue  # a torn last line of an interrupted preparation
        entry = json.loads(line)
        data = np.load(folder / entry["file"])
        pairs.append(
            Pair(
                entry["id"],
                entry["source"],
                entry["person"],
                torch.from_numpy(data["codes"].astype(np.int64)),
                torch.from_numpy(data["wave"].astype(np.int16)),
                float(entry["cutoff_hz"]),
            )
        )
    return pairs


def draw_levels(groups: Sequence[Sequence[int]], generator: torch.Generator) -> tuple[int, ...]:
    """Per-group depth for one batch: half the batches use every level, the rest a random depth."""
    if torch.rand((), generator=generator) < 0.5:
        return tuple(len(g) for g in groups)
    return tuple(int(torch.randint(1, len(g) + 1, (), generator=generator)) for g in groups)


def sample_batch(
    pairs: Sequence[Pair],
    codec: GroupRVQCodec,
    batch: int,
    crop: int,
    hop: int,
    generator: torch.Generator,
    world: bool = False,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Random crops of `crop` frames: normalized features [B, crop, dim], waves [B, crop * hop], cutoffs [B],
    and with `world` WORLD's synthesis of the same features at the waves' rate [B, crop * hop] (synthesized
    with the crop's neighbouring frames, so it starts and ends as it would in a whole clip), else None.

    Only clips of at least `crop` frames are drawn: padding would pair silence with features. One depth of
    the codec per batch.
    """
    long_enough = [p for p in pairs if p.codes.shape[1] >= crop]
    if not long_enough:
        raise UserInputError(f"No training pair is {crop} frames long; give a shorter crop or longer clips.")
    levels = draw_levels(codec.groups, generator)
    rate = hop * int(codec.frame_rate)  # the waves'
    feats, waves, cutoffs, worlds = [], [], [], []
    for i in torch.randint(0, len(long_enough), (batch,), generator=generator).tolist():
        p = long_enough[i]
        frames = p.codes.shape[1]
        start = int(torch.randint(0, frames - crop + 1, (), generator=generator))
        lo, hi = max(0, start - CONTEXT_FRAMES), min(frames, start + crop + CONTEXT_FRAMES)
        context = codec.dequantize(p.codes[:, lo:hi], levels)
        raw = context[start - lo :][:crop]
        feats.append(torch.from_numpy(codec.layout.normalize(raw).astype(np.float32)))
        waves.append(p.samples(start * hop, (start + crop) * hop))
        cutoffs.append(p.cutoff_hz)
        if world:
            voiced = world_anchor(codec.synthesize_features(context), codec, rate)
            worlds.append(torch.from_numpy(voiced[(start - lo) * hop :][: crop * hop]))
    anchors = torch.stack(worlds) if world else None
    return torch.stack(feats), torch.stack(waves), torch.tensor(cutoffs), anchors
