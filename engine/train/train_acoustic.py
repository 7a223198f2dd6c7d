"""Train the parallel acoustic generator (or an autoregressive baseline) on a corpus of codec + semantic tokens.

Resumable (model, optimizer, step and RNG state in the checkpoint; resumes automatically when it exists),
background-friendly (logs JSON lines to a file), DDP-ready (`torchrun --nproc_per_node N -m
engine.train.train_acoustic ...`: one data shard per rank, only rank 0 writes).

    python -m engine.train.train_acoustic --synthetic --steps 300 --out runs/acoustic_toy/ckpt.pt
    nohup python -m engine.train.train_acoustic --data data/acoustic --out runs/acoustic/ckpt.pt \
        --export assets/acoustic/acoustic.pt > runs/acoustic.out 2>&1 &
    # fine-tune the shipped model on augmented data (prepare_acoustic --augment), prompts half degraded:
    python -m engine.train.train_acoustic --data data/acoustic_aug --init assets/acoustic/acoustic.pt \
        --channel-prob 0.5 --out runs/acoustic_ft/ckpt.pt
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from engine.acoustic.baselines import ARBaseline
from engine.acoustic.data import AcousticCorpus, Batch, read_corpora, sample_batch, synthetic_corpus
from engine.acoustic.layout import TokenLayout
from engine.acoustic.masking import make_mask
from engine.acoustic.objective import masked_prediction_loss
from engine.errors import UserInputError
from engine.train.acoustic_config import TrainConfig, lr_at, parse_level_weights, parse_schemes
from engine.train.acoustic_models import build_model, export_model, rebuild_model, save_model
from engine.vocoder.held_out import TRAINABLE_REAL_PERSONS

ARCHS = ("parallel", "flattened", "delay")


class _LossModule(nn.Module):
    """Wraps the model so the whole loss runs inside forward(), as DistributedDataParallel needs."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, batch: Batch, scheme: str, generator: torch.Generator, cfg: TrainConfig):
        if isinstance(self.model, ARBaseline):
            loss = self.model.loss(
                batch.tokens, batch.semantic, batch.frame_mask, batch.prompt, batch.prompt_mask
            )
            return loss, None
        mask = make_mask(
            scheme,
            batch.frame_mask,
            self.model.config.layout,
            generator,
            cfg.drop_prob,
            cfg.span,
            cfg.level_weights,
        )
        out = masked_prediction_loss(
            self.model, batch.tokens, batch.semantic, batch.frame_mask, batch.prompt, batch.prompt_mask, mask
        )
        return out.loss, out


def evaluate(
    model: nn.Module, corpus: AcousticCorpus, indices: list[int], cfg: TrainConfig
) -> dict[str, Any]:
    """Masked-token accuracy per level and scheme (parallel) or loss (baselines) on fixed held-out batches."""
    gen = torch.Generator().manual_seed(1234)
    model.eval()
    result: dict[str, Any] = {}
    with torch.no_grad():
        if isinstance(model, ARBaseline):
            losses = [
                float(model.loss(b.tokens, b.semantic, b.frame_mask, b.prompt, b.prompt_mask))
                for b in (
                    sample_batch(corpus, indices, cfg.batch_size, cfg.crop, cfg.prompt_frames, gen)
                    for _ in range(cfg.eval_batches)
                )
            ]
            result["loss"] = sum(losses) / len(losses)
        else:
            for scheme, _ in cfg.schemes:
                correct = count = 0
                for _ in range(cfg.eval_batches):
                    b = sample_batch(corpus, indices, cfg.batch_size, cfg.crop, cfg.prompt_frames, gen)
                    mask = make_mask(scheme, b.frame_mask, model.config.layout, gen, 0.0, cfg.span)
                    out = masked_prediction_loss(
                        model, b.tokens, b.semantic, b.frame_mask, b.prompt, b.prompt_mask, mask
                    )
                    correct = correct + out.level_correct
                    count = count + out.level_count
                acc = (correct / count.clamp(min=1)).tolist()
                result[scheme] = {
                    "accuracy_per_level": [round(a, 4) for a in acc],
                    "accuracy": round(float(correct.sum() / count.sum().clamp(min=1)), 4),
                }
    model.train()
    return result


def _split(corpus: AcousticCorpus) -> tuple[list[int], list[int]]:
    """Hold out every 20th utterance when there are enough of them."""
    idx = list(range(len(corpus)))
    if len(idx) < 40:
        return idx, idx
    return [i for i in idx if i % 20 != 19], [i for i in idx if i % 20 == 19]


def train(args: argparse.Namespace) -> dict[str, Any]:
    """Run (or resume) training as configured by the parsed command line; returns the final metadata."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world > 1:
        torch.distributed.init_process_group("gloo")
    torch.set_num_threads(args.threads)
    cfg = TrainConfig(
        steps=args.steps,
        batch_size=args.batch_size,
        crop=args.crop,
        prompt_frames=args.prompt_frames,
        lr=args.lr,
        warmup=args.warmup,
        schemes=parse_schemes(args.schemes),
        drop_prob=args.drop_prob,
        level_weights=parse_level_weights(args.level_weights),
        seed=args.seed,
        log_every=args.log_every,
        save_every=args.save_every,
        eval_batches=args.eval_batches,
        channel_prob=args.channel_prob,
    )
    corpus, data_name, draws = load_training_data(args)
    out = Path(args.out)
    train_idx, eval_idx = _split(corpus)
    train_idx = [i for i in train_idx for _ in range(draws[i])]
    if world > 1:
        sampler = torch.utils.data.DistributedSampler(
            train_idx, num_replicas=world, rank=rank, shuffle=True, seed=cfg.seed
        )
        train_idx = [train_idx[i] for i in sampler]

    state = None
    history: list[dict[str, Any]] = []
    # Real people of the real-voice benchmark this model has heard (the benchmark reports them apart).
    persons = {u.speaker.split("~")[0] for u in corpus.utterances} & TRAINABLE_REAL_PERSONS
    if out.is_file() and not args.fresh:
        state = torch.load(out, map_location="cpu", weights_only=False)
    if state is not None:
        model = rebuild_model(state)
        arch = state.get("arch", "parallel")
    elif args.init:
        # Fine-tuning: the weights of a trained (or shipped) model, a fresh optimizer and schedule.
        init = torch.load(args.init, map_location="cpu", weights_only=False)
        model = rebuild_model(init).float()
        arch = init.get("arch", "parallel")
        meta = init.get("metadata", {})
        history = [
            *meta.get("history", []),
            {k: meta.get(k) for k in ("command", "data", "utterances", "steps")},
        ]
        history[-1]["init_from"] = str(args.init)
        persons.update(meta.get("trained_real_persons", []))
    else:
        arch = args.arch
        torch.manual_seed(cfg.seed)
        model = build_model(arch, corpus.layout, corpus.semantic_vocab, args)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.98))
    step, elapsed = 0, 0.0
    gen = torch.Generator().manual_seed(cfg.seed + 1000 * rank)
    if state is not None:
        opt.load_state_dict(state["optimizer"])
        step, elapsed = int(state["step"]), float(state["metadata"].get("train_seconds", 0.0))
        history = list(state["metadata"].get("history", []))
        if state["metadata"].get("data") != data_name:
            # Continued on other data: keep what the earlier steps were trained on.
            history.append({k: state["metadata"].get(k) for k in ("command", "data", "utterances", "steps")})
        persons.update(state["metadata"].get("trained_real_persons", []))
        gen.set_state(state["rng"]["generator"])
        torch.set_rng_state(state["rng"]["torch"])
    wrapped: nn.Module = _LossModule(model)
    if world > 1:
        wrapped = torch.nn.parallel.DistributedDataParallel(wrapped, find_unused_parameters=True)
    is_main = rank == 0
    log_path = Path(args.log) if args.log else out.with_suffix(".log.jsonl")
    names = [s for s, _ in cfg.schemes]
    weights = torch.tensor([w for _, w in cfg.schemes])
    command = " ".join(
        shlex.quote(a) for a in [sys.executable, "-m", "engine.train.train_acoustic", *args.argv]
    )

    def metadata(quality: dict | None = None) -> dict[str, Any]:
        return {
            "arch": arch,
            "command": command,
            "data": data_name,
            "utterances": len(corpus),
            "frames": corpus.frames(),
            "steps": step,
            "train_seconds": round(elapsed, 1),
            "train_config": {**asdict(cfg), "schemes": [list(s) for s in cfg.schemes]},
            "codec": args.codec,
            "world_size": world,
            "quality": quality or {},
            "history": history,
            "trained_real_persons": sorted(persons),
        }

    def checkpoint(quality: dict | None = None) -> None:
        save_model(
            out,
            model,
            metadata(quality),
            optimizer=opt.state_dict(),
            step=step,
            arch=arch,
            rng={"generator": gen.get_state(), "torch": torch.get_rng_state()},
        )

    model.train()
    sums: dict[str, Tensor | float] = {}
    t_last = time.perf_counter()
    while step < cfg.steps:
        t0 = time.perf_counter()
        batch = sample_batch(
            corpus, train_idx, cfg.batch_size, cfg.crop, cfg.prompt_frames, gen, cfg.channel_prob
        )
        scheme = names[int(torch.multinomial(weights, 1, generator=gen))]
        for group in opt.param_groups:
            group["lr"] = lr_at(step, cfg)
        loss, out_stats = wrapped(batch, scheme, gen, cfg)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        step += 1
        elapsed += time.perf_counter() - t0
        sums["loss"] = sums.get("loss", 0.0) + float(loss.detach())
        sums["n"] = sums.get("n", 0.0) + 1
        if out_stats is not None:
            for k in ("level_loss_sum", "level_correct", "level_count"):
                sums[k] = sums.get(k, 0.0) + getattr(out_stats, k)
        if is_main and (step % cfg.log_every == 0 or step == cfg.steps):
            rec: dict[str, Any] = {
                "step": step,
                "loss": round(float(sums["loss"]) / float(sums["n"]), 4),
                "lr": lr_at(step, cfg),
                "grad_norm": round(float(grad_norm), 3),
                "sec_per_step": round((time.perf_counter() - t_last) / float(sums["n"]), 3),
            }
            if "level_count" in sums:
                cnt = sums["level_count"].clamp(min=1)
                rec["acc_per_level"] = [round(v, 4) for v in (sums["level_correct"] / cnt).tolist()]
                rec["loss_per_level"] = [round(v, 4) for v in (sums["level_loss_sum"] / cnt).tolist()]
            log_path.parent.mkdir(parents=True, exist_ok=True)
            with log_path.open("a") as f:
                f.write(json.dumps(rec) + "\n")
            sums, t_last = {}, time.perf_counter()
        if is_main and (step % cfg.save_every == 0 or step == cfg.steps):
            checkpoint()
    quality = evaluate(model, corpus, eval_idx, cfg) if is_main else {}
    if is_main:
        checkpoint(quality)
        if args.export:
            export_model(Path(args.export), model, metadata(quality), arch)
        with log_path.open("a") as f:
            f.write(json.dumps({"step": step, "eval": quality}) + "\n")
    if world > 1:
        torch.distributed.destroy_process_group()
    return metadata(quality)


def load_training_data(args: argparse.Namespace) -> tuple[AcousticCorpus, str, list[int]]:
    """The corpus named on the command line (--data DIR[,DIR*K] or --synthetic), its name for the metadata and
    each utterance's draw weight."""
    if args.synthetic:
        layout = TokenLayout((32, 64, 64, 64), ((0,), (1, 2, 3)))
        corpus = synthetic_corpus(
            layout, semantic_vocab=16, n_speakers=6, utts_per_speaker=10, seed=args.seed
        )
        return corpus, "synthetic", [1] * len(corpus)
    if args.data:
        corpus, weights = read_corpora(args.data)
        return corpus, str(args.data), weights
    raise UserInputError("Give the training data: --data DIR (an acoustic corpus) or --synthetic.")


def held_out_quality(
    model: nn.Module, corpus: AcousticCorpus, train_config: dict[str, Any]
) -> dict[str, Any]:
    """Masked-token accuracy on the held-out part of `corpus` (every 20th utterance), with the masks of the
    training run whose `TrainConfig` is stored in a checkpoint's metadata as `train_config`."""
    stored = dict(train_config)
    stored["schemes"] = tuple(tuple(s) for s in stored["schemes"])
    if stored.get("level_weights") is not None:
        stored["level_weights"] = tuple(stored["level_weights"])
    return evaluate(model, corpus, _split(corpus)[1], TrainConfig(**stored))


def export(args: argparse.Namespace) -> dict[str, Any]:
    """Write the model of the training checkpoint `args.out` (as far as it got) to `args.export` without the
    optimizer state, with the training run's metadata and an evaluation on the held-out part of the data."""
    out = Path(args.out)
    if not out.is_file():
        raise UserInputError(f"There is no training checkpoint at {out} to export; train first.")
    state = torch.load(out, map_location="cpu", weights_only=False)
    torch.set_num_threads(args.threads)
    model = rebuild_model(state)
    corpus, _, _ = load_training_data(args)
    quality = held_out_quality(model, corpus, state["metadata"]["train_config"])
    meta = {**state["metadata"], "quality": quality, "exported_from": str(out)}
    export_model(Path(args.export), model, meta, state.get("arch", "parallel"))
    return meta


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    d = TrainConfig()
    p.add_argument(
        "--data",
        help="acoustic corpus directory (meta.json + shard-*.pt); several joined by commas, DIR*K drawn K times "
        "as often",
    )
    p.add_argument("--synthetic", action="store_true", help="train on a learnable toy corpus (smoke test)")
    p.add_argument("--out", required=True, help="training checkpoint; resumed from when it exists")
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint and start over")
    p.add_argument(
        "--init", help="start from this model's weights (fine-tuning; e.g. assets/acoustic/acoustic.pt)"
    )
    p.add_argument(
        "--channel-prob",
        type=float,
        default=d.channel_prob,
        help="share of voice prompts heard through a degraded channel (data from prepare_acoustic --augment)",
    )
    p.add_argument(
        "--export", help="also write the final model (no optimizer state) here, e.g. assets/acoustic.pt"
    )
    p.add_argument(
        "--export-only",
        action="store_true",
        help="do not train: export the checkpoint --out as far as it got to --export (evaluated on --data)",
    )
    p.add_argument("--log", help="JSON-lines log (default: next to --out)")
    p.add_argument("--arch", choices=ARCHS, default="parallel")
    p.add_argument("--steps", type=int, default=d.steps)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--crop", type=int, default=d.crop)
    p.add_argument("--prompt-frames", type=int, default=d.prompt_frames)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--warmup", type=int, default=d.warmup)
    p.add_argument("--schemes", default="soundstorm:1,group:1,spans:1", help="masking schemes and weights")
    p.add_argument("--drop-prob", type=float, default=d.drop_prob, help="condition dropout of span masking")
    p.add_argument(
        "--level-weights",
        help="how often each level (in decoding order) is trained by the level-by-level schemes, e.g. "
        "'3,3,1,1,1,1,1,1' (default: uniform)",
    )
    p.add_argument("--codec", help="tie the model to this Group-RVQ codec's codebooks (e.g. assets/codec)")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--log-every", type=int, default=d.log_every)
    p.add_argument("--save-every", type=int, default=d.save_every)
    p.add_argument("--eval-batches", type=int, default=d.eval_batches)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--d-model", type=int, default=256)
    p.add_argument("--layers", type=int, default=6)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--ff-mult", type=int, default=2)
    p.add_argument("--conv-kernel", type=int, default=15)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--prompt-mode", choices=("cross", "prefix"), default="cross")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        if args.export_only and not args.export:
            raise UserInputError("--export-only needs --export PATH: where to write the model.")
        meta = export(args) if args.export_only else train(args)
    except UserInputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps({k: meta[k] for k in ("steps", "train_seconds", "quality")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
