"""Group-RVQ codec over WORLD features: each group of features has its own residual k-means levels.

Token order (level index -> group, depth): levels are interleaved coarse-first across groups, so the
first G levels are the first level of every group, the next ones every group's second level, and so on
(groups that run out of levels are skipped). With the default groups, pitch (log-F0 + voicing, 1 level
of 256) and spectrum (envelope + aperiodicity, 1 level of 4096 then residual levels of 1024):
level 0 = pitch/0, level 1 = spectrum/0, levels 2.. = spectrum/1... `groups` lists each group's level
indices. A plain RVQ (one group over the joint vector) is the same class with one GroupSpec.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from engine.codec.base import check_codes, resolve_levels
from engine.codec.refiner import ContextRefiner, RefinerConfig
from engine.codec.rvq import ResidualKMeansVQ
from engine.codec.world_features import WorldConfig, WorldFrames, analyze, synthesize
from engine.errors import UserInputError

# "energy" is the envelope's c0 (mean log level), kept apart so a group can code loudness with pitch.
FEATURE_NAMES = ("log_f0", "voiced", "energy", "envelope", "aperiodicity")


@dataclass(frozen=True)
class GroupSpec:
    """One group: which WORLD features it codes and its codebook size per level (coarse to fine)."""

    name: str
    features: tuple[str, ...]
    codebook_sizes: tuple[int, ...]


@dataclass(frozen=True)
class GroupCodecConfig:
    """Everything needed to rebuild the codec: analysis settings, groups and distance weights."""

    world: WorldConfig = field(default_factory=WorldConfig)
    groups: tuple[GroupSpec, ...] = (
        GroupSpec("pitch", ("log_f0", "voiced"), (256,)),
        GroupSpec(
            "spectrum", ("energy", "envelope", "aperiodicity"), (4096, 1024, 1024, 1024, 1024, 1024, 1024)
        ),
    )
    # k-means distance weights, in units of each feature's spread on the training data.
    voiced_weight: float = 3.0
    aperiodicity_weight: float = 0.5
    # Cepstral envelope weights: c0 (loudness) and a lift of the low orders that carry the formants.
    energy_weight: float = 1.0
    low_order_weight: float = 1.0
    low_orders: int = 12
    kmeans_iters: int = 12
    kmeans_points: int = 120_000  # rows k-means iterates on per level (a random subset of the frames)
    seed: int = 0

    @staticmethod
    def from_dict(d: dict) -> GroupCodecConfig:
        d = dict(d)
        d["world"] = WorldConfig(**d["world"])
        d["groups"] = tuple(
            GroupSpec(g["name"], tuple(g["features"]), tuple(g["codebook_sizes"])) for g in d["groups"]
        )
        return GroupCodecConfig(**d)


def level_order(groups: tuple[GroupSpec, ...]) -> tuple[tuple[int, ...], ...]:
    """Token level indices of each group under the coarse-first interleaved order."""
    out: list[list[int]] = [[] for _ in groups]
    index = 0
    for depth in range(max(len(g.codebook_sizes) for g in groups)):
        for gi, g in enumerate(groups):
            if depth < len(g.codebook_sizes):
                out[gi].append(index)
                index += 1
    return tuple(tuple(x) for x in out)


class FeatureLayout:
    """Where each feature sits in the flat frame vector, and its normalization (mean, scale)."""

    def __init__(self, cfg: GroupCodecConfig, mean: np.ndarray, scale: np.ndarray):
        self.cfg = cfg
        n_env, n_ap = cfg.world.n_envelope, cfg.world.n_aperiodicity
        sizes = {"log_f0": 1, "voiced": 1, "energy": 1, "envelope": n_env - 1, "aperiodicity": n_ap}
        self.slices: dict[str, slice] = {}
        start = 0
        for name in FEATURE_NAMES:
            self.slices[name] = slice(start, start + sizes[name])
            start += sizes[name]
        self.dim = start
        self.mean, self.scale = mean.astype(np.float32), scale.astype(np.float32)

    @staticmethod
    def flatten(frames: WorldFrames) -> np.ndarray:
        """[T, dim] raw feature vectors."""
        return np.concatenate(
            [
                frames.log_f0[:, None],
                frames.voiced[:, None].astype(np.float32),
                frames.envelope,  # c0 first: the energy column, then the envelope's shape
                frames.aperiodicity,
            ],
            axis=1,
        ).astype(np.float32)

    def unflatten(self, x: np.ndarray) -> WorldFrames:
        s = self.slices
        return WorldFrames(
            log_f0=x[:, s["log_f0"]][:, 0],
            voiced=x[:, s["voiced"]][:, 0] > 0.5,
            envelope=np.ascontiguousarray(np.concatenate([x[:, s["energy"]], x[:, s["envelope"]]], axis=1)),
            aperiodicity=np.ascontiguousarray(x[:, s["aperiodicity"]]),
        )

    @classmethod
    def fit(cls, cfg: GroupCodecConfig, raw: np.ndarray) -> FeatureLayout:
        """Normalization from training vectors: distances become weighted, unit-free and comparable."""
        layout = cls(cfg, np.zeros(raw.shape[1]), np.ones(raw.shape[1]))
        s = layout.slices
        mean = raw.mean(0)
        std = raw.std(0) + 1e-6
        scale = np.ones(raw.shape[1], dtype=np.float64)
        voiced = raw[:, s["voiced"]][:, 0] > 0.5
        f0_std = raw[voiced, s["log_f0"]].std() + 1e-6 if voiced.any() else std[s["log_f0"]][0]
        scale[s["log_f0"]] = 1.0 / f0_std
        mean[s["voiced"]] = 0.5
        scale[s["voiced"]] = 2.0 * cfg.voiced_weight
        # One scale for the whole cepstrum keeps Euclidean distance a log-spectral (MCD-like) distance;
        # per-dimension standardizing would inflate the high orders that matter least.
        env = s["envelope"]
        env_scale = 1.0 / np.sqrt(raw[:, env].var(0).mean() + 1e-8)
        lift = np.ones(cfg.world.n_envelope - 1)
        lift[: cfg.low_orders] = cfg.low_order_weight
        scale[env] = env_scale * lift
        scale[s["energy"]] = env_scale * cfg.energy_weight
        scale[s["aperiodicity"]] = cfg.aperiodicity_weight / std[s["aperiodicity"]]
        return cls(cfg, mean, scale)

    def normalize(self, raw: np.ndarray) -> np.ndarray:
        return (raw - self.mean) * self.scale

    def denormalize(self, z: np.ndarray) -> np.ndarray:
        return z / self.scale + self.mean

    def columns(self, features: tuple[str, ...]) -> np.ndarray:
        return np.concatenate([np.arange(self.dim)[self.slices[f]] for f in features])


def feature_vectors(samples: np.ndarray, world: WorldConfig) -> np.ndarray:
    """Raw WORLD feature vectors [T, dim] (FEATURE_NAMES order) of float mono samples at world.sample_rate."""
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 2 and 1 in x.shape:
        x = x.reshape(-1)
    if x.ndim != 1:
        raise UserInputError(f"The codec encodes mono audio; got an array of shape {x.shape}. Mix to mono.")
    if len(x) < world.samples_per_frame:
        raise UserInputError(
            f"Audio of {len(x)} samples is shorter than one {world.frame_ms:g} ms frame; "
            "give at least a fraction of a second of speech."
        )
    if not np.isfinite(x).all():
        raise UserInputError("The audio holds NaN or infinite samples; check how it was loaded.")
    return FeatureLayout.flatten(analyze(x, world))


class GroupRVQCodec:
    """WORLD-feature codec: one residual k-means VQ per feature group (see the module docstring)."""

    def __init__(
        self,
        cfg: GroupCodecConfig,
        layout: FeatureLayout,
        quantizers: list[ResidualKMeansVQ],
        metadata: dict | None = None,
        refiner: ContextRefiner | None = None,
    ):
        self.cfg = cfg
        self.refiner = refiner
        self.layout = layout
        self.quantizers = quantizers
        self.metadata = metadata or {}
        self.sample_rate = cfg.world.sample_rate
        self.frame_rate = cfg.world.frame_rate
        self.groups = level_order(cfg.groups)
        self.n_q = sum(len(g) for g in self.groups)
        sizes = [0] * self.n_q
        for spec, idx in zip(cfg.groups, self.groups):
            for k, q in zip(spec.codebook_sizes, idx):
                sizes[q] = k
        self.codebook_sizes = tuple(sizes)
        self.codebook_size = max(sizes)
        self._columns = [layout.columns(g.features) for g in cfg.groups]

    # --- features <-> tokens --------------------------------------------------------------------
    def features(self, samples: np.ndarray) -> np.ndarray:
        """Raw WORLD feature vectors [T, dim] of mono samples."""
        return feature_vectors(samples, self.cfg.world)

    def quantize_features(self, raw: np.ndarray) -> torch.LongTensor:
        """Codes [n_q, T] of raw feature vectors [T, dim]."""
        z = torch.from_numpy(self.layout.normalize(raw).astype(np.float32))
        codes = torch.zeros(self.n_q, len(raw), dtype=torch.long)
        for vq, cols, idx in zip(self.quantizers, self._columns, self.groups):
            codes[list(idx)] = vq.encode(z[:, cols])
        return codes

    def dequantize_normalized(self, codes: torch.Tensor, counts: Sequence[int]) -> torch.Tensor:
        """Normalized vectors [T, dim] summed from counts[g] levels of group g (before any refiner)."""
        z = torch.zeros(codes.shape[1], self.layout.dim)
        for vq, cols, idx, n in zip(self.quantizers, self._columns, self.groups, counts):
            z[:, cols] = vq.decode(codes[list(idx)], n)
        return z

    @torch.no_grad()
    def dequantize(self, codes: torch.Tensor, levels: Sequence[int] | None = None) -> np.ndarray:
        """Raw feature vectors [T, dim] from codes, using levels[g] levels of group g."""
        codes = check_codes(codes, self.codebook_sizes)
        counts = resolve_levels(self.groups, levels)
        z = self.dequantize_normalized(codes, counts)
        if self.refiner is not None and len(z):
            depth = torch.tensor([[n / len(g) for n, g in zip(counts, self.groups)]])
            z = self.refiner(z[None], depth)[0]
        return self.layout.denormalize(z.numpy())

    # --- the Codec protocol ---------------------------------------------------------------------
    def encode(self, samples: np.ndarray) -> torch.LongTensor:
        """Tokens [n_q, T] of float32 mono samples at sample_rate (T = ceil(len / frame samples))."""
        return self.quantize_features(self.features(samples))

    def decode(self, codes: torch.LongTensor, levels: Sequence[int] | None = None) -> np.ndarray:
        """Float32 mono samples (T x frame samples) of codes [n_q, T]; levels[g] levels of group g."""
        return self.synthesize_features(self.dequantize(codes, levels))

    def synthesize_features(self, raw: np.ndarray) -> np.ndarray:
        """Float32 mono samples of raw feature vectors [T, dim] (T x frame samples)."""
        if len(raw) == 0:
            return np.zeros(0, dtype=np.float32)
        return synthesize(self.layout.unflatten(raw), self.cfg.world)

    # --- training and persistence ---------------------------------------------------------------
    @classmethod
    def fit(
        cls,
        cfg: GroupCodecConfig,
        raw: np.ndarray,
        log: Callable[[str], None] | None = None,
    ) -> GroupRVQCodec:
        """Fit normalization and every group's residual k-means on training vectors [N, dim]."""
        layout = FeatureLayout.fit(cfg, raw)
        z = torch.from_numpy(layout.normalize(raw).astype(np.float32))
        quantizers = []
        for spec in cfg.groups:
            if log is not None:
                log(f"group {spec.name}: features {spec.features}, levels {spec.codebook_sizes}")
            cols = layout.columns(spec.features)
            quantizers.append(
                ResidualKMeansVQ.fit(
                    z[:, cols].contiguous(),
                    spec.codebook_sizes,
                    iters=cfg.kmeans_iters,
                    seed=cfg.seed,
                    log=log,
                    max_points=cfg.kmeans_points,
                )
            )
        return cls(cfg, layout, quantizers)

    def save(self, out_dir: str | Path) -> Path:
        """Write codec.pt (config, normalization, codebooks, metadata) and readable config/metadata JSON."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        state = {
            "format": "group_rvq_world/1",
            "config": asdict(self.cfg),
            "mean": torch.from_numpy(self.layout.mean),
            "scale": torch.from_numpy(self.layout.scale),
            "codebooks": [list(q.codebooks) for q in self.quantizers],
            "metadata": self.metadata,
        }
        if self.refiner is not None:
            state["refiner"] = {"config": asdict(self.refiner.cfg), "state": self.refiner.state_dict()}
        torch.save(state, out / "codec.pt")
        (out / "config.json").write_text(json.dumps(asdict(self.cfg), indent=2) + "\n")
        (out / "metadata.json").write_text(json.dumps(self.metadata, indent=2) + "\n")
        return out / "codec.pt"

    @classmethod
    def load(cls, path: str | Path) -> GroupRVQCodec:
        """Rebuild a codec saved by `save` (path to codec.pt)."""
        state = torch.load(Path(path), map_location="cpu", weights_only=True)
        if state.get("format") != "group_rvq_world/1":
            raise UserInputError(
                f"{path} is not a WORLD group-RVQ codec checkpoint (format {state.get('format')})."
            )
        cfg = GroupCodecConfig.from_dict(state["config"])
        layout = FeatureLayout(cfg, state["mean"].numpy(), state["scale"].numpy())
        quantizers = [ResidualKMeansVQ([cb.float() for cb in books]) for books in state["codebooks"]]
        refiner = None
        if "refiner" in state:
            rcfg = RefinerConfig(**state["refiner"]["config"])
            refiner = ContextRefiner(layout.dim, len(cfg.groups), rcfg)
            refiner.load_state_dict(state["refiner"]["state"])
            refiner.eval()
        return cls(cfg, layout, quantizers, state.get("metadata", {}), refiner)
