"""Train the phone recognizer on the corpus: `python -m engine.train.train_recognizer --corpus DIR --out DIR`.

CTC on the aligned recordings (targets: each recording's phones, pauses inside it included). Features are
computed once into OUT/features.pkl (not shipped). Resumes from OUT/resume.pt, logs to OUT/train.log, and keeps
the best model on the valid split in OUT/recognizer.pt with its metadata (command, data, steps, time, phone
error rates on the valid split and on the reserved voices).
"""

from __future__ import annotations

import datetime
import math
import os
import pickle
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch

from engine.data.manifest import Utterance, load_manifest
from engine.data.wavio import read_wav
from engine.errors import UserInputError
from engine.semantic.phone_recognizer import (
    BLANK,
    PhoneRecognizer,
    RecognizerConfig,
    decode_greedy,
    edit_distance,
    recognizer_features,
    save_recognizer,
    targets,
)
from engine.text.phone_inventory import PHONE_ID, PHONE_SET
from engine.train.common import command_line, log, warmup_cosine_lr

CHECKPOINT_NAME = "recognizer.pt"
RESUME_NAME = "resume.pt"
FEATURES_NAME = "features.pkl"


@dataclass(frozen=True)
class TrainConfig:
    """Optimization settings (saved in the checkpoint's metadata)."""

    steps: int = 1500
    batch_frames: int = 4000  # 10 ms input frames per batch (40 s of audio)
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup: int = 100
    eval_every: int = 100
    seed: int = 0
    train_utterances: int = 16000  # spread evenly over the train split
    valid_utterances: int = 400
    # Each training recording's mel bands shifted by up to this many (a longer or shorter vocal tract), so
    # voices the corpus lacks are less of a surprise.
    band_shift: int = 2


def _spread(utterances: list[Utterance], count: int) -> list[Utterance]:
    """`count` utterances evenly spaced over the whole list (all of them when `count` is 0 or not below its
    length). A whole-number stride cut at `count` would leave the end of the list out (38,034 utterances,
    16,000 wanted: stride 2, the last 6,034 never used), and a grown corpus's new speakers sit at its end."""
    if count <= 0 or count >= len(utterances):
        return utterances
    return [utterances[i] for i in np.linspace(0, len(utterances) - 1, count).round().astype(int)]


def _cached_features(utterances: Sequence[Utterance], out_dir: str) -> dict[str, tuple[np.ndarray, list[int]]]:
    """id -> (float16 features [T, mels], CTC targets), computed once and kept in OUT/features.pkl."""
    path = os.path.join(out_dir, FEATURES_NAME)
    cached: dict[str, tuple[np.ndarray, list[int]]] = {}
    if os.path.exists(path):
        with open(path, "rb") as handle:
            cached = pickle.load(handle)
    missing = [u for u in utterances if u.id not in cached]
    for index, utterance in enumerate(missing):
        audio, sample_rate = read_wav(utterance.wav_path)
        features = recognizer_features(audio.astype(np.float32) / 32768.0, sample_rate)
        cached[utterance.id] = (features.astype(np.float16), targets(utterance.phones))
        if (index + 1) % 2000 == 0:
            log(out_dir, f"features: {index + 1} of {len(missing)}")
    if missing:
        with open(path + ".tmp", "wb") as handle:
            pickle.dump(cached, handle)
        os.replace(path + ".tmp", path)
    return {u.id: cached[u.id] for u in utterances}


def _batches(items: list[tuple[np.ndarray, list[int]]], batch_frames: int, rng: random.Random) -> list[list[int]]:
    """Indices grouped by similar length, each group under `batch_frames` padded frames, shuffled."""
    order = sorted(range(len(items)), key=lambda i: len(items[i][0]) + rng.random())
    batches, current, longest = [], [], 0
    for index in order:
        frames = len(items[index][0])
        if current and max(longest, frames) * (len(current) + 1) > batch_frames:
            batches.append(current)
            current, longest = [], 0
        current.append(index)
        longest = max(longest, frames)
    if current:
        batches.append(current)
    rng.shuffle(batches)
    return batches


def _shift_bands(features: np.ndarray, shift: int) -> np.ndarray:
    """Mel bands moved up (shift > 0) or down by `shift`, the edge band repeated into the gap."""
    if shift == 0:
        return features
    index = np.clip(np.arange(features.shape[1]) - shift, 0, features.shape[1] - 1)
    return features[:, index]


def _collate(
    items: Sequence[tuple[np.ndarray, list[int]]], shifts: Sequence[int] | None = None
) -> tuple[torch.Tensor, ...]:
    lengths = torch.tensor([len(f) for f, _ in items])
    features = torch.zeros(len(items), int(lengths.max()), items[0][0].shape[1])
    for row, (f, _) in enumerate(items):
        shifted = f if shifts is None else _shift_bands(f, shifts[row])
        features[row, : len(f)] = torch.from_numpy(shifted.astype(np.float32))
    labels = torch.tensor([t for _, ts in items for t in ts], dtype=torch.long)
    label_lengths = torch.tensor([len(ts) for _, ts in items])
    return features, lengths, labels, label_lengths


def ctc_loss(
    model: PhoneRecognizer, items: Sequence[tuple[np.ndarray, list[int]]], shifts: Sequence[int] | None = None
) -> torch.Tensor:
    """Mean CTC loss per target phone of a batch (each recording's mel bands moved by `shifts`)."""
    features, lengths, labels, label_lengths = _collate(items, shifts)
    log_probs = model(features).transpose(0, 1)  # [T, B, C]
    return torch.nn.functional.ctc_loss(
        log_probs, labels, model.output_lengths(lengths), label_lengths, blank=BLANK,
        reduction="sum", zero_infinity=True,
    ) / label_lengths.sum()


@torch.inference_mode()
def phone_error_rate(model: PhoneRecognizer, items: Sequence[tuple[np.ndarray, list[int]]]) -> dict[str, float]:
    """Greedy-decoded phone error rate, and recognized / true phone count (what a tempo measure needs)."""
    model.eval()
    errors = count = recognized = 0
    for features, labels in items:
        scores = model(torch.from_numpy(features.astype(np.float32)).unsqueeze(0))[0]
        hypothesis = [PHONE_ID[p] for p in decode_greedy(scores)]
        errors += edit_distance(labels, hypothesis)
        count += len(labels)
        recognized += len(hypothesis)
    model.train()
    return {"per": errors / count, "count_ratio": recognized / count}


def train(corpus: str, out_dir: str, train_config: TrainConfig, threads: int = 2) -> dict:
    """Train (or resume) and return the metadata of the best checkpoint."""
    torch.set_num_threads(threads)
    os.makedirs(out_dir, exist_ok=True)
    started = time.time()
    splits = {s: load_manifest(corpus, s) for s in ("train", "valid", "eval")}
    if not splits["train"] or not splits["valid"]:
        raise UserInputError(f"{corpus!r} has no train or no valid utterances yet; build more of the corpus first.")
    chosen = {
        "train": _spread(splits["train"], train_config.train_utterances),
        "valid": _spread(splits["valid"], train_config.valid_utterances),
        "eval": splits["eval"],
    }
    features = _cached_features([u for us in chosen.values() for u in us], out_dir)
    data = {s: [features[u.id] for u in us if features[u.id][1]] for s, us in chosen.items()}
    hours = sum(len(f) for f, _ in data["train"]) / 360000
    log(out_dir, f"data: {len(data['train'])} train ({hours:.1f} h), {len(data['valid'])} valid, "
         f"{len(data['eval'])} eval utterances; features in {time.time() - started:.0f} s")

    resume_path = os.path.join(out_dir, RESUME_NAME)
    state = torch.load(resume_path, map_location="cpu", weights_only=False) if os.path.exists(resume_path) else None
    config = RecognizerConfig() if state is None else RecognizerConfig(
        **{**state["config"], "dilations": tuple(state["config"]["dilations"])}
    )
    torch.manual_seed(train_config.seed)
    model = PhoneRecognizer(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=train_config.lr, weight_decay=train_config.weight_decay)
    step, seconds_before, best, best_metadata = 0, 0.0, math.inf, {}
    rng = random.Random(train_config.seed)
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step, seconds_before, best = state["step"], state["train_seconds"], state["best"]
        best_metadata = state["best_metadata"]
        rng.setstate(state["rng"])
        log(out_dir, f"resumed at step {step}")
    n_params = sum(p.numel() for p in model.parameters())
    log(out_dir, f"model: {n_params} parameters, {len(PHONE_SET)} outputs")
    loop_start = time.time()
    running: list[float] = []
    queue: list[list[int]] = []
    while step < train_config.steps:
        if not queue:
            queue = _batches(data["train"], train_config.batch_frames, rng)
        batch = [data["train"][i] for i in queue.pop()]
        for group in optimizer.param_groups:
            group["lr"] = warmup_cosine_lr(step, train_config.lr, train_config.warmup, train_config.steps)
        shifts = [rng.randint(-train_config.band_shift, train_config.band_shift) for _ in batch]
        loss = ctc_loss(model, batch, shifts)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
        running.append(loss.item())
        if step % train_config.eval_every == 0 or step == train_config.steps:
            valid = phone_error_rate(model, data["valid"])
            train_seconds = seconds_before + time.time() - loop_start
            log(out_dir, f"step {step} loss {np.mean(running):.3f} | valid PER {valid['per']:.3f}, "
                 f"count ratio {valid['count_ratio']:.3f} | {train_seconds:.0f} s")
            running = []
            if valid["per"] < best:
                best = valid["per"]
                best_metadata = {
                    "command": " ".join([os.path.basename(sys.executable), "-m", "engine.train.train_recognizer",
                                         *sys.argv[1:]]),
                    "corpus": os.path.abspath(corpus),
                    "train_utterances": len(data["train"]),
                    "train_hours": round(hours, 2),
                    "train_speakers": len({u.speaker for u in chosen["train"]}),
                    "step": step,
                    "train_seconds": round(train_seconds, 1),
                    "parameters": n_params,
                    "train_config": asdict(train_config),
                    "valid": valid,
                    "eval_reserved_voices": phone_error_rate(model, data["eval"]) if data["eval"] else None,
                    "saved": f"{datetime.datetime.now(datetime.UTC):%Y-%m-%dT%H:%M:%SZ}",
                    "torch": torch.__version__,
                }
                save_recognizer(os.path.join(out_dir, CHECKPOINT_NAME), model, best_metadata)
            torch.save({
                "config": asdict(config), "train_config": asdict(train_config), "model": model.state_dict(),
                "optimizer": optimizer.state_dict(), "step": step, "train_seconds": train_seconds, "best": best,
                "best_metadata": best_metadata, "rng": rng.getstate(),
            }, resume_path)
    log(out_dir, f"done: best valid PER {best:.3f} at step {best_metadata.get('step')}")
    return best_metadata


def main(argv: list[str] | None = None) -> None:
    command_line(__doc__.splitlines()[0], TrainConfig(), train, "runs/recognizer", 2, argv)


if __name__ == "__main__":
    main()
