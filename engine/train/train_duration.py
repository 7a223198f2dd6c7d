"""Train the duration model on the corpus: `python -m engine.train.train_duration --corpus DIR --out DIR`.

Resumes from OUT/resume.pt (model + optimizer, not shipped), logs to OUT/train.log, and keeps the best model on
the valid split in OUT/duration.pt with its config and metadata (command, data, steps, time, figures).
"""

from __future__ import annotations

import datetime
import math
import os
import pickle
import random
import sys
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from engine.data.manifest import load_manifest
from engine.errors import UserInputError
from engine.semantic.duration_data import (
    DurationExample,
    PromptSampler,
    collate,
    measure_prompts,
    utterance_to_example,
)
from engine.semantic.duration_eval import (
    baseline_seconds,
    mean_duration_baseline,
    predict_seconds,
    score,
)
from engine.semantic.duration_model import DurationConfig, DurationModel, save_checkpoint
from engine.semantic.prompt_features import DYNAMICS, DYNAMICS_TEMPO_SLOPES, STYLE_BANDS, PromptFeatures
from engine.train.common import command_line, log, warmup_cosine_lr

CHECKPOINT_NAME = "duration.pt"
RESUME_NAME = "resume.pt"
# Bump the name when prompt_features changes what it measures.
PROMPT_CACHE_NAME = "prompt_features_v2.pkl"


@dataclass(frozen=True)
class TrainConfig:
    """Optimization settings (saved in the checkpoint's metadata)."""

    steps: int = 4000
    batch: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup: int = 100
    total_weight: float = 1.0  # weight of the utterance-length loss next to the per-phone loss
    eval_every: int = 250
    seed: int = 0
    style_bands: int = STYLE_BANDS  # 0: condition on the speaking rate only; otherwise set by style_kind
    style_kind: str = "bands"  # the prompt fingerprint: "bands", "dynamics" or "bands+dynamics"
    style_dropout: float = 0.2
    tempo_log_range: float = 0.5  # tempo factors drawn log-uniformly from exp(-0.5)..exp(0.5)
    # Train utterances per speaker whose audio is measured to make prompts (0: all). Every utterance is still
    # a training example; a few dozen recordings per voice give prompts enough variety, and measuring all
    # 23k took 23 minutes.
    prompt_utterances: int = 0


def _examples(corpus: str, split: str) -> list[DurationExample]:
    examples = [utterance_to_example(u) for u in load_manifest(corpus, split)]
    return [e for e in examples if e is not None]


def _prompt_sources(utterances: list, per_speaker: int) -> list:
    """The first `per_speaker` utterances of each speaker (all of them when per_speaker is 0)."""
    if per_speaker <= 0:
        return list(utterances)
    taken: dict[str, int] = {}
    chosen = []
    for utterance in utterances:
        if taken.get(utterance.speaker, 0) < per_speaker:
            taken[utterance.speaker] = taken.get(utterance.speaker, 0) + 1
            chosen.append(utterance)
    return chosen


def _cached_prompts(utterances: list, out_dir: str) -> dict[str, PromptFeatures]:
    """Prompt features of the utterances, measured once and kept in OUT/prompt_features.pkl (not shipped)."""
    path = os.path.join(out_dir, PROMPT_CACHE_NAME)
    cached: dict[str, PromptFeatures] = {}
    if os.path.exists(path):
        with open(path, "rb") as handle:
            cached = pickle.load(handle)
    missing = [u for u in utterances if u.id not in cached]
    if missing:
        cached.update(measure_prompts(missing))
        with open(path + ".tmp", "wb") as handle:
            pickle.dump(cached, handle)
        os.replace(path + ".tmp", path)
    return {u.id: cached[u.id] for u in utterances if u.id in cached}


def duration_loss(
    model: DurationModel,
    ids: torch.Tensor,
    log_seconds: torch.Tensor,
    rates: torch.Tensor,
    styles: torch.Tensor,
    total_weight: float,
) -> tuple[torch.Tensor, dict[str, float]]:
    """L1 on log seconds per phone, plus L1 on the log of the utterance's total length.

    The per-phone L1 alone predicts medians, whose sum falls short of the total for skewed durations; the
    total term keeps the sum (what the listener hears as tempo) right.
    """
    mask = (ids != 0).float()
    predicted = model(ids, rates, styles)
    phone_loss = ((predicted - log_seconds).abs() * mask).sum() / mask.sum()
    neg = torch.finfo(predicted.dtype).min
    log_total = torch.logsumexp(predicted.masked_fill(mask == 0, neg), dim=1)
    ref_total = torch.logsumexp(log_seconds.masked_fill(mask == 0, neg), dim=1)
    total_loss = (log_total - ref_total).abs().mean()
    loss = phone_loss + total_weight * total_loss
    return loss, {"phone": phone_loss.item(), "total": total_loss.item()}


def train(corpus: str, out_dir: str, train_config: TrainConfig, threads: int = 1) -> dict:
    """Train (or resume) and return the metadata of the best checkpoint."""
    torch.set_num_threads(threads)
    os.makedirs(out_dir, exist_ok=True)
    started = time.time()
    train_set, valid_set = _examples(corpus, "train"), _examples(corpus, "valid")
    if not train_set or not valid_set:
        raise UserInputError(f"{corpus!r} has no train or no valid utterances yet; build more of the corpus first.")
    sources = _prompt_sources(load_manifest(corpus, "train"), train_config.prompt_utterances)
    features = _cached_prompts(sources + load_manifest(corpus, "valid"), out_dir)
    train_prompts, valid_prompts = PromptSampler(train_set, features), PromptSampler(valid_set, features)
    train_set = [e for e in train_set if train_prompts.has_prompt(e)]
    valid_set = [e for e in valid_set if valid_prompts.has_prompt(e)]
    valid_prompt_list = [valid_prompts.draw(e) for e in valid_set]
    log(out_dir, f"data: {len(train_set)} train, {len(valid_set)} valid utterances; "
         f"prompts measured in {time.time() - started:.0f} s")

    resume_path = os.path.join(out_dir, RESUME_NAME)
    if os.path.exists(resume_path):
        state = torch.load(resume_path, map_location="cpu", weights_only=False)
        config = DurationConfig(**{**state["config"], "dilations": tuple(state["config"]["dilations"])})
        if asdict(train_config) != state["train_config"]:
            log(out_dir, f"resuming with new settings {asdict(train_config)} (was {state['train_config']})")
    else:
        measured = [features[e.id] for e in train_set if e.id in features]
        log_rates = np.log([f.rate.per_second for f in measured])
        config = DurationConfig(
            log_rate_mean=float(log_rates.mean()), log_rate_std=float(log_rates.std()),
            style_bands=len(measured[0].style_vector(train_config.style_kind)) * bool(train_config.style_bands),
            style_kind=train_config.style_kind,
        )
        state = None
    torch.manual_seed(train_config.seed)
    model = DurationModel(config)
    if config.style_bands and state is None:  # a resumed model brings its statistics in its state_dict
        styles = np.stack([f.style_vector(config.style_kind) for f in measured])
        model.style_mean.copy_(torch.tensor(styles.mean(axis=0)))
        model.style_std.copy_(torch.tensor(styles.std(axis=0) + 1e-3))
    optimizer = torch.optim.AdamW(model.parameters(), lr=train_config.lr, weight_decay=train_config.weight_decay)
    step, seconds_before, best, best_metadata = 0, 0.0, math.inf, {}
    rng = random.Random(train_config.seed)
    generator = torch.Generator().manual_seed(train_config.seed)
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step, seconds_before, best = state["step"], state["train_seconds"], state["best"]
        best_metadata = state.get("best_metadata", {})
        rng.setstate(state["rng"])
        generator.set_state(state["generator"])
        log(out_dir, f"resumed at step {step}")

    baseline = score(valid_set, baseline_seconds(mean_duration_baseline(train_set), valid_set))
    n_params = sum(p.numel() for p in model.parameters())
    log(out_dir, f"model: {n_params} parameters; valid baseline (mean per phone): "
         f"{baseline.phone_mae_ms:.1f} ms/phone, {baseline.total_within_10:.1%} within 10%")
    loop_start = time.time()
    running: list[float] = []
    while step < train_config.steps:
        model.train()
        batch = rng.sample(train_set, min(train_config.batch, len(train_set)))
        ids, log_seconds, prompt_rates, prompt_styles = collate(
            batch, [train_prompts.draw(e, rng) for e in batch], config.style_kind
        )
        # Tempo augmentation: the same speaker f times slower has f times longer phones and a prompt rate f
        # times lower. The corpus's voices span a narrow range of rates; this teaches the whole 0.6-1.6 range.
        spread = torch.empty(len(batch)).uniform_(-1, 1, generator=generator)
        tempo = torch.exp(spread * train_config.tempo_log_range)
        log_seconds = log_seconds + torch.log(tempo).unsqueeze(1) * (ids != 0)
        prompt_rates = prompt_rates / tempo
        if config.uses_dynamics:
            slopes = torch.tensor(DYNAMICS_TEMPO_SLOPES)
            prompt_styles[:, -DYNAMICS:] -= slopes * torch.log(tempo).unsqueeze(1)
        # Now and then the style is withheld (the average voice stands in), so a rate alone still works and
        # the model cannot lean on the fingerprint to recognize the training voices.
        if config.style_bands:
            withheld = torch.tensor([rng.random() < train_config.style_dropout for _ in batch])
            prompt_styles[withheld] = model.style_mean
        for group in optimizer.param_groups:
            group["lr"] = warmup_cosine_lr(step, train_config.lr, train_config.warmup, train_config.steps)
        loss, parts = duration_loss(
            model, ids, log_seconds, prompt_rates, prompt_styles, train_config.total_weight
        )
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
        running.append(parts["phone"] + parts["total"])
        if step % train_config.eval_every == 0 or step == train_config.steps:
            # Calibrate a copy of the length bias for the checkpoint; training itself runs without it.
            predicted = predict_seconds(model, valid_set, valid_prompt_list)
            model.calibrate(np.array([p.sum() for p in predicted]), np.array([sum(e.seconds) for e in valid_set]))
            figures = score(valid_set, predict_seconds(model, valid_set, valid_prompt_list))
            train_seconds = seconds_before + time.time() - loop_start
            log(out_dir, f"step {step} loss {np.mean(running):.4f} | valid {figures.phone_mae_ms:.1f} ms/phone, "
                 f"{figures.total_within_10:.1%} within 10% | {train_seconds:.0f} s")
            running = []
            if figures.phone_mae_ms < best:
                best = figures.phone_mae_ms
                best_metadata = {
                    "command": " ".join([os.path.basename(sys.executable), "-m", "engine.train.train_duration",
                                         *sys.argv[1:]]),
                    "corpus": os.path.abspath(corpus),
                    "train_utterances": len(train_set),
                    "valid_utterances": len(valid_set),
                    "train_speakers": len({e.speaker for e in train_set}),
                    "step": step,
                    "train_seconds": round(train_seconds, 1),
                    "parameters": n_params,
                    "train_config": asdict(train_config),
                    "valid": asdict(figures),
                    "valid_baseline": asdict(baseline),
                    "saved": f"{datetime.datetime.now(datetime.UTC):%Y-%m-%dT%H:%M:%SZ}",
                    "torch": torch.__version__,
                }
                save_checkpoint(os.path.join(out_dir, CHECKPOINT_NAME), model, {"metadata": best_metadata})
            model.log_bias.zero_()
            torch.save({
                "config": asdict(config), "train_config": asdict(train_config), "model": model.state_dict(),
                "optimizer": optimizer.state_dict(), "step": step, "train_seconds": train_seconds, "best": best,
                "best_metadata": best_metadata, "rng": rng.getstate(),
                "generator": generator.get_state(),
            }, resume_path)
    log(out_dir, f"done: best valid {best:.1f} ms/phone at step {best_metadata.get('step')}")
    return best_metadata


def main(argv: list[str] | None = None) -> None:
    command_line(__doc__.splitlines()[0], TrainConfig(), train, "assets/duration", 1, argv)


if __name__ == "__main__":
    main()
