"""Train the WORLD group-RVQ codec on a corpus: `python -m engine.train.train_codec --corpus DIR --out DIR`.

Stages, each resumable from the work directory: WORLD analysis of the training split (feature shards),
k-means of every group's levels (one file per level), then the codec bench on the eval split, whose
figures go into the checkpoint's metadata. Progress is logged to OUT/train.log.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import sys
import time
from dataclasses import asdict, replace
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import torch

from engine.codec.feature_cache import analyze_to_cache, feature_cache_dir
from engine.codec.group_codec import FeatureLayout, GroupCodecConfig, GroupRVQCodec, GroupSpec
from engine.codec.refiner import ContextRefiner, RefinerConfig, train_refiner
from engine.codec.rvq import ResidualKMeansVQ, kmeans, nearest
from engine.codec.world_features import WorldConfig
from engine.errors import UserInputError


class Log:
    """Prints and appends to a log file."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    def __call__(self, msg: str) -> None:
        line = f"{time.strftime('%H:%M:%S')} {msg}"
        print(line, flush=True)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(line + "\n")


def extract_features(utts: list, world: WorldConfig, work: Path, jobs: int, log: Log) -> np.ndarray:
    """WORLD feature vectors of all utterances, [N_frames, dim], utterances concatenated.

    Each utterance's features are cached under work/ by id, so a rerun (or a grown corpus) only analyses
    what is new.
    """
    cache_dir = feature_cache_dir(work, world)
    cache_dir.mkdir(parents=True, exist_ok=True)
    caches = [str(cache_dir / f"{u.id}.npy") for u in utts]
    todo = [(u.wav_path, c, world) for u, c in zip(utts, caches) if not Path(c).exists()]
    log(f"features: {len(utts) - len(todo)} cached, {len(todo)} to analyse")
    t0 = time.time()
    with Pool(jobs) as pool:
        for i, _ in enumerate(pool.imap_unordered(analyze_to_cache, todo, chunksize=4)):
            if (i + 1) % 500 == 0:
                log(f"features: {i + 1}/{len(todo)} analysed ({time.time() - t0:.0f} s)")
    return np.concatenate([np.load(c) for c in caches])


def fit_codec(cfg: GroupCodecConfig, raw: np.ndarray, work: Path, log: Log) -> GroupRVQCodec:
    """Normalization plus every group's residual k-means; each finished level is saved and reused."""
    layout = FeatureLayout.fit(cfg, raw)
    z = torch.from_numpy(layout.normalize(raw).astype(np.float32))
    cfg_key = hashlib.sha1(json.dumps(asdict(cfg)).encode()).hexdigest()[:10]
    level_dir = work / f"levels_{cfg_key}_{len(raw)}"
    level_dir.mkdir(parents=True, exist_ok=True)
    quantizers = []
    for gi, spec in enumerate(cfg.groups):
        residual = z[:, layout.columns(spec.features)].contiguous()
        books = []
        for level, k in enumerate(spec.codebook_sizes):
            f = level_dir / f"group{gi}_level{level}.pt"
            if f.exists():
                cb = torch.load(f, weights_only=True)
                log(f"group {spec.name} level {level}: reused {f.name}")
            else:
                t0 = time.time()
                log(
                    f"group {spec.name} level {level}: k-means {k} codes on {len(residual)} x {residual.shape[1]}"
                )
                cb = kmeans(
                    residual,
                    k,
                    iters=cfg.kmeans_iters,
                    seed=cfg.seed + 1000 * gi + level,
                    log=log,
                    max_points=cfg.kmeans_points,
                )
                torch.save(cb, f)
                log(f"group {spec.name} level {level}: done in {time.time() - t0:.0f} s")
            idx = nearest(residual, cb)
            residual -= cb[idx]
            log(f"group {spec.name} level {level}: residual mse {residual.pow(2).sum(1).mean():.4f}")
            books.append(cb)
        quantizers.append(ResidualKMeansVQ(books))
    return GroupRVQCodec(cfg, layout, quantizers)


def fit_refiner(
    codec: GroupRVQCodec, raw: np.ndarray, rcfg: RefinerConfig, work: Path, log: Log
) -> ContextRefiner:
    """Train (or reuse from work/) the context refiner on the training frames."""
    key = hashlib.sha1(json.dumps([asdict(codec.cfg), asdict(rcfg), len(raw)]).encode()).hexdigest()[:10]
    f = work / f"refiner_{key}.pt"
    model = ContextRefiner(codec.layout.dim, len(codec.groups), rcfg)
    if f.exists():
        model.load_state_dict(torch.load(f, weights_only=True))
        log(f"refiner: reused {f.name}")
        return model.eval()
    z = torch.from_numpy(codec.layout.normalize(raw).astype(np.float32))
    codes = codec.quantize_features(raw)
    t0 = time.time()
    model = train_refiner(codec, z, codes, rcfg, log=log)
    torch.save(model.state_dict(), f)
    log(f"refiner: {rcfg.steps} steps in {time.time() - t0:.0f} s")
    return model


def build_config(args: argparse.Namespace) -> GroupCodecConfig:
    """The codec config from the command line."""
    world = WorldConfig(n_envelope=args.n_envelope)
    if args.plain:
        groups = (
            GroupSpec(
                "joint",
                ("log_f0", "voiced", "energy", "envelope", "aperiodicity"),
                (args.plain_size,) * args.levels,
            ),
        )
    else:
        spec_sizes = (args.first_codes,) + (args.residual_codes,) * (args.levels - 1)
        # Loudness (c0) goes with pitch ("prosody") or with the spectral shape.
        with_pitch = args.energy_with_pitch
        groups = (
            GroupSpec(
                "prosody" if with_pitch else "pitch",
                ("log_f0", "voiced", "energy") if with_pitch else ("log_f0", "voiced"),
                (args.pitch_codes,),
            ),
            GroupSpec(
                "spectrum",
                ("envelope", "aperiodicity") if with_pitch else ("energy", "envelope", "aperiodicity"),
                spec_sizes,
            ),
        )
    return replace(
        GroupCodecConfig(),
        world=world,
        groups=groups,
        low_order_weight=args.low_order_weight,
        energy_weight=args.energy_weight,
        kmeans_iters=args.iters,
        kmeans_points=args.kmeans_points,
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m engine.train.train_codec", description=__doc__)
    p.add_argument("--corpus", required=True, help="corpus directory holding manifest.jsonl")
    p.add_argument(
        "--out", default="assets/codec", help="output directory (codec.pt, config.json, metadata.json)"
    )
    p.add_argument(
        "--work",
        default=None,
        help="cache directory for features and levels (default: ~/.cache/dialogue_synth/codec_work)",
    )
    p.add_argument("--max-hours", type=float, default=None, help="use at most this much training audio")
    p.add_argument("--jobs", type=int, default=2, help="analysis processes")
    p.add_argument("--n-envelope", type=int, default=40, help="coded envelope dimensions")
    p.add_argument("--pitch-codes", type=int, default=256)
    p.add_argument("--first-codes", type=int, default=4096, help="codes of the spectrum group's first level")
    p.add_argument("--residual-codes", type=int, default=1024)
    p.add_argument("--levels", type=int, default=7, help="levels of the spectrum group (or of the plain RVQ)")
    p.add_argument("--energy-with-pitch", action="store_true", help="code loudness in the pitch group")
    p.add_argument("--plain", action="store_true", help="one joint RVQ instead of groups")
    p.add_argument("--plain-size", type=int, default=1024)
    p.add_argument("--low-order-weight", type=float, default=GroupCodecConfig.low_order_weight)
    p.add_argument("--energy-weight", type=float, default=GroupCodecConfig.energy_weight)
    p.add_argument(
        "--iters", type=int, default=GroupCodecConfig.kmeans_iters, help="k-means iterations per level"
    )
    p.add_argument(
        "--kmeans-points", type=int, default=GroupCodecConfig.kmeans_points, help="frames k-means iterates on"
    )
    p.add_argument(
        "--refiner-steps", type=int, default=3000, help="training steps of the context refiner (0: none)"
    )
    p.add_argument("--no-bench", action="store_true", help="skip measuring the codec on the eval split")
    args = p.parse_args(argv)

    torch.set_num_threads(2)
    out = Path(args.out)
    work = Path(args.work) if args.work else Path.home() / ".cache" / "dialogue_synth" / "codec_work"
    log = Log(out / "train.log")
    command = "python -m engine.train.train_codec " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    log(f"start: {command}")
    t_start = time.time()

    from engine.data.manifest import load_manifest

    utts = load_manifest(args.corpus, "train")
    if not utts:
        raise UserInputError(
            f"The corpus at {args.corpus} has no training utterances yet; build or wait for it."
        )
    utts = sorted(utts, key=lambda u: u.id)
    cfg = build_config(args)
    if args.max_hours is not None:
        # A random sample spreads the budget over every speaker; utterances already analysed (by an
        # interrupted or earlier run on a smaller corpus) come first, so a rerun reuses their features.
        rng = np.random.default_rng(0)
        cached = feature_cache_dir(work, cfg.world)
        is_cached = np.array([(cached / f"{u.id}.npy").exists() for u in utts])
        perm = rng.permutation(len(utts))
        order = np.concatenate([perm[is_cached[perm]], perm[~is_cached[perm]]])
        kept, total = [], 0.0
        for i in order:
            if total >= args.max_hours * 3600:
                break
            kept.append(utts[i])
            total += utts[i].duration
        utts = sorted(kept, key=lambda u: u.id)
    hours = sum(u.duration for u in utts) / 3600
    speakers = sorted({u.speaker for u in utts})
    log(f"data: {len(utts)} utterances, {hours:.2f} h, {len(speakers)} speakers")

    raw = extract_features(utts, cfg.world, work, args.jobs, log)
    log(f"features: {raw.shape[0]} frames x {raw.shape[1]} dims")
    codec = fit_codec(cfg, raw, work, log)
    if args.refiner_steps > 0:
        codec.refiner = fit_refiner(codec, raw, RefinerConfig(steps=args.refiner_steps), work, log)
    codec.metadata = {
        "command": command,
        "data": {
            "manifest": str(Path(args.corpus).resolve() / "manifest.jsonl"),
            "split": "train",
            "utterances": len(utts),
            "hours": round(hours, 3),
            "frames": int(raw.shape[0]),
            "speakers": speakers,
        },
        "iterations": {
            "kmeans_iters_per_level": cfg.kmeans_iters,
            "levels": list(codec.codebook_sizes),
            "refiner_steps": args.refiner_steps,
        },
        "train_seconds": round(time.time() - t_start, 1),
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "bitrate_bps": codec_bitrate(codec),
    }
    codec.save(out)
    log(f"saved {out / 'codec.pt'} ({(out / 'codec.pt').stat().st_size / 1e6:.1f} MB)")
    if not args.no_bench:
        from engine.eval.codec_quality import measure

        log("bench: measuring on the eval split")
        figures = measure(codec, args.corpus, log=log)
        codec.metadata["quality"] = figures
        codec.save(out)
        log("saved metadata with measured quality")
    log(f"done in {time.time() - t_start:.0f} s")
    return 0


def codec_bitrate(codec: GroupRVQCodec) -> float:
    """Bits per second at full depth: frame rate x sum of log2(codebook size) over levels."""
    return float(codec.frame_rate * sum(np.log2(k) for k in codec.codebook_sizes))


if __name__ == "__main__":
    sys.exit(main())
