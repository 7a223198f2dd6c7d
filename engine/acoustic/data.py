"""Training data of the acoustic model: an on-disk corpus of (codec tokens, semantic tokens, speaker), a
learnable synthetic stand-in for smoke tests, and random cropped batches with a same-speaker prompt.

On-disk format (a directory):
    meta.json      {"codebook_sizes": [...], "groups": [[...], ...], "semantic_vocab": [...], "frame_rate": 50}
    shard-*.pt     torch.save'd list of {"codes": int [Q, T], "semantic": int [T] or [T, F], "speaker": str,
                   "utt": str, optionally "prompt_codes": int [Q, T]}; codes and semantic have the same number
                   of frames T. prompt_codes are the same speech heard through a degraded channel (a voice
                   prompt as a real clip would give it; see engine.train.prepare_acoustic --augment).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from engine.acoustic.layout import TokenLayout
from engine.errors import UserInputError


@dataclass
class Utterance:
    codes: Tensor  # [Q, T] long
    semantic: Tensor  # [T] or [T, F] long
    speaker: str
    utt: str = ""
    prompt_codes: Tensor | None = None  # [Q, T] long: the codes of this speech through a degraded channel


@dataclass
class AcousticCorpus:
    """Utterances in memory (50 frames/s x Q int16 codes is ~3 MB per hour) with their layout."""

    layout: TokenLayout
    semantic_vocab: tuple[int, ...]
    utterances: list[Utterance]
    frame_rate: float = 50.0
    source: str = ""
    by_speaker: dict[str, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.utterances:
            raise UserInputError(f"The acoustic corpus {self.source or '(in memory)'} holds no utterances.")
        groups: dict[str, list[int]] = defaultdict(list)
        for i, u in enumerate(self.utterances):
            if u.codes.shape[0] != self.layout.n_q or u.codes.shape[1] != u.semantic.shape[0]:
                raise UserInputError(
                    f"Utterance {u.utt or i} has codes {tuple(u.codes.shape)} and semantic "
                    f"{tuple(u.semantic.shape)}; codes must be [{self.layout.n_q}, T] with T semantic frames."
                )
            if u.prompt_codes is not None and u.prompt_codes.shape != u.codes.shape:
                raise UserInputError(
                    f"Utterance {u.utt or i} has prompt codes {tuple(u.prompt_codes.shape)}; they must be the "
                    f"shape of its codes {tuple(u.codes.shape)}."
                )
            groups[u.speaker].append(i)
        self.by_speaker = dict(groups)

    def __len__(self) -> int:
        return len(self.utterances)

    def frames(self) -> int:
        return sum(int(u.codes.shape[1]) for u in self.utterances)


def write_corpus(
    directory: str | Path,
    corpus_layout: TokenLayout,
    semantic_vocab: tuple[int, ...],
    utterances: list[Utterance],
    frame_rate: float = 50.0,
    shard_size: int = 2000,
) -> None:
    """Write utterances in the on-disk format (see the module docstring)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    meta = {**corpus_layout.to_dict(), "semantic_vocab": list(semantic_vocab), "frame_rate": frame_rate}
    (directory / "meta.json").write_text(json.dumps(meta, indent=1))
    # int16 halves the files; ids that do not fit stay int32.
    small = max(*corpus_layout.codebook_sizes, *semantic_vocab) <= 2**15
    dtype = torch.int16 if small else torch.int32
    for k in range(0, len(utterances), shard_size):
        items = []
        for u in utterances[k : k + shard_size]:
            item = {
                "codes": torch.as_tensor(u.codes).to(dtype),
                "semantic": torch.as_tensor(u.semantic).to(dtype),
                "speaker": u.speaker,
                "utt": u.utt,
            }
            if u.prompt_codes is not None:
                item["prompt_codes"] = torch.as_tensor(u.prompt_codes).to(dtype)
            items.append(item)
        torch.save(items, directory / f"shard-{k // shard_size:05d}.pt")


def read_corpus(directory: str | Path) -> AcousticCorpus:
    """Load a corpus directory written by `write_corpus` (or by the data pipeline)."""
    directory = Path(directory)
    meta_path = directory / "meta.json"
    if not meta_path.is_file():
        raise UserInputError(
            f"{directory} is not an acoustic corpus (no meta.json); build one with the data pipeline or "
            "train on toy data with --synthetic."
        )
    meta: dict[str, Any] = json.loads(meta_path.read_text())
    utterances = []
    for shard in sorted(directory.glob("shard-*.pt")):
        for item in torch.load(shard, map_location="cpu", weights_only=False):
            prompt = item.get("prompt_codes")
            utterances.append(
                Utterance(
                    item["codes"].long(),
                    item["semantic"].long(),
                    str(item["speaker"]),
                    item.get("utt", ""),
                    None if prompt is None else prompt.long(),
                )
            )
    return AcousticCorpus(
        TokenLayout.from_dict(meta),
        tuple(meta["semantic_vocab"]),
        utterances,
        float(meta.get("frame_rate", 50.0)),
        str(directory),
    )


def read_corpora(spec: str) -> tuple[AcousticCorpus, list[int]]:
    """Several corpus directories joined into one: `spec` is "DIR" or "DIR1,DIR2*K", where "*K" draws that
    directory's utterances K times as often (a small corpus mixed into a large one).

    Returns:
        (the joined corpus, each utterance's draw weight: how often its index enters the training list).

    Raises:
        UserInputError: a part is not a corpus, K is not a positive whole number, or the parts were made with
            different codecs or phone sets.
    """

    def made_alike(c: AcousticCorpus) -> tuple:
        return c.layout, c.semantic_vocab, c.frame_rate

    parts, weights = [], []
    for item in (x.strip() for x in spec.split(",") if x.strip()):
        directory, _, times = item.partition("*")
        if times and not (times.isdigit() and int(times) > 0):
            raise UserInputError(
                f"In --data {item!r}, the weight after '*' must be a whole number from 1, e.g. DIR*3."
            )
        corpus = read_corpus(directory)
        if parts and made_alike(corpus) != made_alike(parts[0]):
            raise UserInputError(
                f"{directory} was made with another codec or phone set than {parts[0].source}; prepare both "
                "with the same codec (prepare_acoustic --codec)."
            )
        parts.append(corpus)
        weights += [int(times or 1)] * len(corpus)
    if not parts:
        raise UserInputError("--data names no corpus directory.")
    if len(parts) == 1:
        return parts[0], weights
    first = parts[0]
    utterances = [u for c in parts for u in c.utterances]
    joined = AcousticCorpus(first.layout, first.semantic_vocab, utterances, first.frame_rate, spec)
    return joined, weights


def synthetic_corpus(
    corpus_layout: TokenLayout,
    semantic_vocab: int = 16,
    n_speakers: int = 4,
    utts_per_speaker: int = 8,
    frames: tuple[int, int] = (40, 120),
    seed: int = 0,
) -> AcousticCorpus:
    """A learnable toy corpus: level q's token is a fixed function of the phone, the level and the speaker.

    Phones come in runs of 2-6 frames. Token (q, t) = (a_q * phone_t + b_q + c_q * offset_speaker) mod K_q, so
    a model must read the phone from the semantic tokens and the speaker offset from the prompt.
    """
    g = torch.Generator().manual_seed(seed)
    sizes = torch.tensor(corpus_layout.codebook_sizes)
    n_q = len(sizes)
    a = torch.randint(1, 7, (n_q,), generator=g) * 2 + 1
    b = torch.randint(0, 1000, (n_q,), generator=g)
    c = torch.randint(1, 5, (n_q,), generator=g)
    offsets = torch.randperm(max(n_speakers, 2) * 3, generator=g)[:n_speakers]
    utterances = []
    for s in range(n_speakers):
        for k in range(utts_per_speaker):
            n = int(torch.randint(frames[0], frames[1] + 1, (1,), generator=g))
            runs = []
            while sum(len(r) for r in runs) < n:
                ph = int(torch.randint(0, semantic_vocab, (1,), generator=g))
                runs.append(torch.full((int(torch.randint(2, 7, (1,), generator=g)),), ph))
            phones = torch.cat(runs)[:n]
            codes = (a[:, None] * phones[None] + b[:, None] + c[:, None] * offsets[s]) % sizes[:, None]
            utterances.append(Utterance(codes.long(), phones.long(), f"spk{s}", f"spk{s}-{k}"))
    return AcousticCorpus(corpus_layout, (semantic_vocab,), utterances, source="synthetic")


@dataclass
class Batch:
    """Attributes: tokens [B, Q, T], semantic [B, T(, F)], frame_mask [B, T], prompt [B, Q, P], prompt_mask [B, P]."""

    tokens: Tensor
    semantic: Tensor
    frame_mask: Tensor
    prompt: Tensor
    prompt_mask: Tensor


def _crop(length: int, size: int, g: torch.Generator) -> tuple[int, int]:
    if length <= size:
        return 0, length
    start = int(torch.randint(0, length - size + 1, (1,), generator=g))
    return start, start + size


def _pad_stack(items: list[Tensor], length: int, value: int = 0) -> Tensor:
    out = torch.full((len(items), *items[0].shape[:-1], length), value, dtype=torch.long)
    for i, x in enumerate(items):
        out[i, ..., : x.shape[-1]] = x
    return out


def sample_batch(
    corpus: AcousticCorpus,
    indices: list[int],
    batch_size: int,
    crop: int,
    prompt_frames: int,
    generator: torch.Generator,
    channel_prob: float = 0.0,
) -> Batch:
    """Random crops of random utterances (from `indices`); each prompt is a crop of another utterance of the
    same speaker (of another region of the same utterance when the speaker has only one).

    Args:
        corpus: the corpus.
        indices: utterance indices this process may draw from (its DDP shard).
        batch_size, crop, prompt_frames: batch shape; turns shorter than `crop` are padded.
        generator: seeded random source.
        channel_prob: how often a prompt is taken from its utterance's degraded-channel codes, where it has
            them (the target always stays clean).

    Returns:
        The padded batch.
    """
    pick = torch.randint(0, len(indices), (batch_size,), generator=generator)
    toks, sems, proms = [], [], []
    for i in pick.tolist():
        u = corpus.utterances[indices[i]]
        s, e = _crop(u.codes.shape[1], crop, generator)
        toks.append(u.codes[:, s:e])
        sems.append(u.semantic[s:e].T if u.semantic.dim() == 2 else u.semantic[s:e])
        same = corpus.by_speaker[u.speaker]
        others = [j for j in same if j != indices[i]]
        v = (
            corpus.utterances[others[int(torch.randint(0, len(others), (1,), generator=generator))]]
            if others
            else u
        )
        ps, pe = _crop(v.codes.shape[1], prompt_frames, generator)
        source = v.codes
        degradable = channel_prob > 0 and v.prompt_codes is not None
        if degradable and float(torch.rand((), generator=generator)) < channel_prob:
            source = v.prompt_codes
        proms.append(source[:, ps:pe])
    t = max(x.shape[-1] for x in toks)
    p = max(x.shape[-1] for x in proms)
    lengths = torch.tensor([x.shape[-1] for x in toks])
    plengths = torch.tensor([x.shape[-1] for x in proms])
    semantic = _pad_stack(sems, t)
    if semantic.dim() == 3:
        semantic = semantic.transpose(1, 2)
    return Batch(
        tokens=_pad_stack(toks, t),
        semantic=semantic,
        frame_mask=torch.arange(t)[None] < lengths[:, None],
        prompt=_pad_stack(proms, p),
        prompt_mask=torch.arange(p)[None] < plengths[:, None],
    )
