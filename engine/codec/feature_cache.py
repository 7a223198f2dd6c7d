"""WORLD features of corpus utterances, cached one .npy per utterance id, shared by the codec trainer and the
acoustic data preparation so the corpus is analysed once."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from math import gcd
from pathlib import Path

import numpy as np

from engine.codec.group_codec import FeatureLayout
from engine.codec.world_features import WorldConfig, analyze


def read_wav(path: str, sample_rate: int) -> np.ndarray:
    """Mono float32 samples of a wav file, resampled to sample_rate if needed."""
    import soundfile

    x, sr = soundfile.read(path, dtype="float32", always_2d=True)
    x = x.mean(1)
    if sr != sample_rate:
        from scipy.signal import resample_poly

        g = gcd(sr, sample_rate)
        x = resample_poly(x, sample_rate // g, sr // g).astype(np.float32)
    return x


def analyze_to_cache(args: tuple[str, str, WorldConfig]) -> None:
    """Analyse one wav (path, cache file, analysis settings) into its cache file; a Pool's worker."""
    path, cache, world = args
    feats = FeatureLayout.flatten(analyze(read_wav(path, world.sample_rate), world))
    tmp = cache[: -len(".npy")] + ".tmp.npy"
    np.save(tmp, feats)
    Path(tmp).rename(cache)  # atomic: an interrupted run never leaves a torn cache file


def feature_cache_dir(work: Path, world: WorldConfig) -> Path:
    """Where features made with these analysis settings are cached, one .npy per utterance id."""
    return work / f"features_{hashlib.sha1(json.dumps(asdict(world)).encode()).hexdigest()[:10]}"
