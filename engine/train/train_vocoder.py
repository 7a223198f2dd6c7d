"""Train the neural decoder (engine/vocoder/) on cached (codec tokens, 24 kHz waveform) pairs.

Spectral losses (multi-resolution STFT, log-mel L1) from the first step; the discriminators (multi-period,
multi-resolution) join at `--adversarial-start`. Resumable (both models, both optimizers, step and RNG state
in OUT/resume.pt; resumes automatically), logs JSON lines to OUT/train.log.jsonl, DDP-ready
(`torchrun --nproc_per_node N -m engine.train.train_vocoder ...`: every rank draws its own batches, only
rank 0 writes). At the end `--export PATH` writes the generator alone (fp16, a few MB) with the run's
metadata and its quality measured on held-out pairs; `--steps 0 --export PATH` exports a run as far as it got.

    python -m engine.train.train_vocoder --data /work/vocoder_data --out /work/runs/vocoder \
        --export /work/runs/vocoder/vocoder.pt
"""

from __future__ import annotations

import itertools
import json
import os
import shlex
import sys
import time
import zlib
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from engine.codec.base import load_codec
from engine.codec.group_codec import GroupRVQCodec
from engine.codec.neural_codec import world_anchor
from engine.errors import UserInputError
from engine.train.common import warmup_cosine_lr
from engine.train.vocoder_config import VocoderTrainConfig, build_parser, configs_from
from engine.vocoder.discriminators import DiscriminatorConfig, Discriminators
from engine.vocoder.generator import NeuralDecoder, VocoderConfig, load_generator, save_generator
from engine.vocoder.losses import (
    band_limit,
    discriminator_hinge,
    feature_matching,
    generator_hinge,
    log_spectral_distance_db,
    mel_loss,
    stft_loss,
)
from engine.vocoder.pairs import Pair, file_sha1, load_pairs, read_meta, sample_batch

# What a run's metadata keeps of each earlier stage of its training (another data folder, an export it began from).
HISTORY_KEYS = ("command", "data", "steps")


def split_pairs(pairs: list[Pair]) -> tuple[list[Pair], list[Pair]]:
    """About one pair in 50, chosen by a hash of its id, held out of training (the choice stays when the
    data grows), ordered by taking each source in turn so that any first few of them score every kind of
    audio. Too little data to spare any: every pair serves both."""
    held = [p for p in pairs if zlib.crc32(p.id.encode()) % 50 == 0]
    if not held or len(held) == len(pairs):
        return pairs, pairs
    by_source: dict[str, list[Pair]] = {}
    for p in held:
        by_source.setdefault(p.source, []).append(p)
    rounds = itertools.zip_longest(*by_source.values())
    held_ids = {p.id for p in held}
    return [p for p in pairs if p.id not in held_ids], [p for r in rounds for p in r if p is not None]


@torch.no_grad()
def measure_quality(
    generator: NeuralDecoder, codec: GroupRVQCodec, pairs: list[Pair], step: int
) -> dict[str, Any]:
    """Log-mel distance (dB) to the true 24 kHz clip of the neural decoder and of WORLD, from all levels,
    at training step `step`.

    WORLD decodes at 16 kHz, so the two are compared below 8 kHz (`low_band`); the neural decoder is also
    scored over each clip's whole band (`full_band`).
    """
    generator.eval()
    sr, world_sr = generator.cfg.sample_rate, codec.cfg.world.sample_rate
    neural_low, world_low, neural_full = [], [], []
    for p in pairs:
        raw = codec.dequantize(p.codes)
        z = torch.from_numpy(codec.layout.normalize(raw).astype(np.float32))[None]
        world = torch.from_numpy(world_anchor(codec.synthesize_features(raw), codec, sr))[None]
        neural = generator(z, world if generator.cfg.world_anchor else None)
        n = min(world.shape[1], p.wave.shape[0])
        real = p.samples()[None]
        low = min(p.cutoff_hz, world_sr / 2)
        neural_low.append(log_spectral_distance_db(neural[:, :n], real[:, :n], low, sr))
        world_low.append(log_spectral_distance_db(world[:, :n], real[:, :n], low, sr))
        neural_full.append(log_spectral_distance_db(neural, real, p.cutoff_hz, sr))
    generator.train()
    by_source: dict[str, list[int]] = {}
    for i, p in enumerate(pairs):
        by_source.setdefault(p.source, []).append(i)

    def mean(values: list[float], at: list[int] | None = None) -> float:
        return round(float(np.mean([values[i] for i in at] if at is not None else values)), 3)

    return {
        "step": step,
        "pairs": len(pairs),
        "mel_distance_db_low_band": {"neural": mean(neural_low), "world": mean(world_low)},
        "mel_distance_db_full_band_neural": mean(neural_full),
        "by_source": {
            src: {
                "pairs": len(at),
                "low_band_neural": mean(neural_low, at),
                "low_band_world": mean(world_low, at),
                "full_band_neural": mean(neural_full, at),
            }
            for src, at in by_source.items()
        },
    }


def _save(path: Path, state: dict) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)  # an interrupted save never leaves a torn checkpoint


def train(args) -> dict[str, Any]:
    """Run (or resume) training as configured by the parsed command line; returns the final metadata."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world_size > 1:
        torch.distributed.init_process_group("gloo")
    torch.set_num_threads(args.threads)
    cfg, shape = configs_from(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    resume_path = out / "resume.pt"
    state = (
        torch.load(resume_path, map_location="cpu", weights_only=False)
        if resume_path.is_file() and not args.fresh
        else None
    )
    if state is not None:  # the run's own settings win over the command line's defaults
        cfg = VocoderTrainConfig(**{**state["train_config"], "steps": args.steps})
        shape = VocoderConfig(**state["vocoder_config"])
    init = load_generator(args.init) if state is None and args.init else None
    if init is not None:
        shape = init[0].cfg

    data_meta = read_meta(args.data)
    codec_dir = Path(args.codec) if args.codec else Path(data_meta["codec"]).parent
    if file_sha1(codec_dir / "codec.pt") != data_meta["codec_sha1"]:
        raise UserInputError(f"The pairs in {args.data} are tokens of another codec than {codec_dir}.")
    codec = load_codec(codec_dir)
    if shape.feature_dim != codec.layout.dim or shape.hop * codec.frame_rate != shape.sample_rate:
        raise UserInputError(f"The decoder's shape {shape} does not fit the codec in {codec_dir}.")
    pairs = load_pairs(args.data)
    train_pairs, held_pairs = split_pairs(pairs)
    eval_pairs = held_pairs[: cfg.eval_pairs]  # during training; the final figures use all of them
    summary_path = Path(args.data) / "summary.json"
    data_summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}

    torch.manual_seed(cfg.seed)
    generator = NeuralDecoder(shape)
    disc_cfg = (
        DiscriminatorConfig.from_dict(state["discriminator_config"])
        if state is not None
        else DiscriminatorConfig()
    )
    discriminators = Discriminators(disc_cfg)
    opt_g = torch.optim.AdamW(
        generator.parameters(), lr=cfg.lr, betas=(0.8, 0.99), weight_decay=cfg.weight_decay
    )
    opt_d = torch.optim.AdamW(
        discriminators.parameters(), lr=cfg.lr, betas=(0.8, 0.99), weight_decay=cfg.weight_decay
    )
    gen = torch.Generator().manual_seed(cfg.seed + 1000 * rank)
    step, elapsed, history = 0, 0.0, []
    if state is not None:
        generator.load_state_dict(state["generator"])
        discriminators.load_state_dict(state["discriminators"])
        opt_g.load_state_dict(state["opt_g"])
        opt_d.load_state_dict(state["opt_d"])
        step, elapsed = int(state["step"]), float(state["metadata"]["train_seconds"])
        history = list(state["metadata"].get("history", []))
        if state["metadata"]["data"]["folder"] != str(args.data):
            history.append({k: state["metadata"][k] for k in HISTORY_KEYS})
        gen.set_state(state["rng"]["generator"])
        torch.set_rng_state(state["rng"]["torch"])
    warm_from = 0  # the step the warmup counts from: a new optimizer warms up again
    if init is not None:
        generator.load_state_dict(init[0].state_dict())
        step, elapsed = int(init[1]["steps"]), float(init[1]["train_seconds"])
        history = [
            *init[1].get("history", []),
            {**{k: init[1][k] for k in HISTORY_KEYS}, "export": str(args.init)},
        ]
        warm_from = step
    g_model: nn.Module = generator
    d_model: nn.Module = discriminators
    if world_size > 1:
        g_model = nn.parallel.DistributedDataParallel(generator)
        d_model = nn.parallel.DistributedDataParallel(discriminators)
    is_main = rank == 0
    command = " ".join(
        shlex.quote(a) for a in [sys.executable, "-m", "engine.train.train_vocoder", *args.argv]
    )
    trained_by = state["metadata"]["command"] if state is not None else command
    first_step = step

    def metadata(quality: dict | None) -> dict[str, Any]:
        # An export that trains no further (`--steps 0`) keeps the command that trained the weights.
        trained = step > first_step
        return {
            "command": command if trained else trained_by,
            **({} if trained or not args.export else {"export_command": command}),
            "data": {
                "folder": str(args.data),
                "pairs": len(pairs),
                "held_out_pairs": len(held_pairs),
                **data_summary,
            },
            "codec": {"dir": str(codec_dir), "sha1": data_meta["codec_sha1"]},
            "steps": step,
            "train_seconds": round(elapsed, 1),
            "parameters": generator.parameter_count(),
            "world_size": world_size,
            "quality": quality or {},
            "history": history,
        }

    def checkpoint(quality: dict | None = None) -> None:
        _save(
            resume_path,
            {
                "generator": generator.state_dict(),
                "discriminators": discriminators.state_dict(),
                "opt_g": opt_g.state_dict(),
                "opt_d": opt_d.state_dict(),
                "step": step,
                "rng": {"generator": gen.get_state(), "torch": torch.get_rng_state()},
                "train_config": asdict(cfg),
                "vocoder_config": shape.to_dict(),
                "discriminator_config": disc_cfg.to_dict(),
                "metadata": metadata(quality),
            },
        )

    log_path = out / "train.log.jsonl"
    quality = state["metadata"].get("quality", {}) if state is not None else {}
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}  # per term: the adversarial ones start mid-window
    t_last = time.perf_counter()
    sr = shape.sample_rate
    while step < cfg.steps:
        t0 = time.perf_counter()
        feats, real, cutoff, world = sample_batch(
            train_pairs, codec, cfg.batch_size, cfg.crop, shape.hop, gen, shape.world_anchor
        )
        lr = warmup_cosine_lr(step, cfg.lr, cfg.warmup, cfg.steps)
        lr *= min(1.0, (step - warm_from + 1) / cfg.warmup) if warm_from else 1.0
        for opt in (opt_g, opt_d):
            for group in opt.param_groups:
                group["lr"] = lr
        fake = g_model(feats, world)
        terms = {
            "mel": mel_loss(fake, real, cutoff, sr),
            "stft": stft_loss(fake, real, cutoff, sr),
        }
        loss = cfg.mel_weight * terms["mel"] + cfg.stft_weight * terms["stft"]
        if step >= cfg.adversarial_start:
            # The discriminators cost ten times the generator here: they hear one aligned stretch of each item.
            span = min(cfg.adversarial_crop, cfg.crop) * shape.hop
            at = int(torch.randint(0, cfg.crop - span // shape.hop + 1, (), generator=gen)) * shape.hop
            real_b = band_limit(real[:, at : at + span], cutoff, sr)
            fake_b = band_limit(fake[:, at : at + span], cutoff, sr)
            b = real.shape[0]
            logits, _ = d_model(torch.cat([real_b, fake_b.detach()]))
            terms["disc"] = discriminator_hinge([x[:b] for x in logits], [x[b:] for x in logits])
            opt_d.zero_grad(set_to_none=True)
            terms["disc"].backward()
            nn.utils.clip_grad_norm_(discriminators.parameters(), cfg.grad_clip)
            opt_d.step()
            logits, maps = d_model(torch.cat([real_b, fake_b]))
            terms["adv"] = generator_hinge([x[b:] for x in logits])
            terms["fm"] = feature_matching(
                [[m[:b] for m in ms] for ms in maps], [[m[b:] for m in ms] for ms in maps]
            )
            loss = loss + cfg.adversarial_weight * terms["adv"] + cfg.feature_match_weight * terms["fm"]
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = nn.utils.clip_grad_norm_(generator.parameters(), cfg.grad_clip)
        opt_g.step()
        step += 1
        elapsed += time.perf_counter() - t0
        for k, v in {"loss": loss, **terms}.items():
            sums[k] = sums.get(k, 0.0) + float(v.detach())
            counts[k] = counts.get(k, 0) + 1
        if is_main and (step % cfg.log_every == 0 or step == cfg.steps):
            n = counts["loss"]
            rec = {
                "step": step,
                **{k: round(v / counts[k], 4) for k, v in sums.items()},
                "lr": lr,
                "grad_norm": round(float(grad_norm), 3),
                "sec_per_step": round((time.perf_counter() - t_last) / n, 3),
            }
            with log_path.open("a") as f:
                f.write(json.dumps(rec) + "\n")
            sums, counts, t_last = {}, {}, time.perf_counter()
        if is_main and step % cfg.eval_every == 0 and step < cfg.steps:
            quality = measure_quality(generator, codec, eval_pairs, step)
            with log_path.open("a") as f:
                f.write(json.dumps({"step": step, "eval": quality}) + "\n")
        if is_main and step % cfg.save_every == 0 and step < cfg.steps:
            checkpoint(quality)
    quality = measure_quality(generator, codec, held_pairs, step) if is_main else {}
    if is_main:
        if step > first_step:  # `--steps 0 --export` exports without rewriting the checkpoint
            checkpoint(quality)
        with log_path.open("a") as f:
            f.write(json.dumps({"step": step, "eval": quality}) + "\n")
        if args.export:
            Path(args.export).parent.mkdir(parents=True, exist_ok=True)
            save_generator(Path(args.export), generator, metadata(quality))
    if world_size > 1:
        torch.distributed.destroy_process_group()
    return metadata(quality)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        meta = train(args)
    except UserInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps({k: meta[k] for k in ("steps", "train_seconds", "parameters", "quality")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
