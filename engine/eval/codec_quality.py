"""The codec's quality on the corpus's reserved voices: resynthesis by number of levels against the original
(mel-cepstral distortion, F0 error, Whisper WER, speaker similarity), bitrate, encode/decode speed and token
entropy. The codec trainer stores these figures in the checkpoint's metadata; `bench.codec` reports them.
"""

from __future__ import annotations

import math
import os
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import scipy.fft
import torch

from engine.audio import resample
from engine.codec.feature_cache import read_wav
from engine.codec.group_codec import GroupRVQCodec
from engine.codec.world_features import WorldFrames, _upsample, analyze, synthesize
from engine.errors import UserInputError

TARGETS = {"full_wer_ratio": 1.10, "full_similarity": 0.90, "first_wer_ratio": 1.5, "rtf": 0.05}


def mel_cepstra(x: np.ndarray, sample_rate: int, n: int = 25) -> tuple[np.ndarray, np.ndarray]:
    """Mel-cepstra [n, frames] of the log mel amplitude (5 ms hop) and each frame's peak log mel power.

    Scaled as a real cepstrum (log|X(w)| = c0 + 2 sum c_k cos kw), the convention MCD in dB assumes.
    """
    import librosa

    mel = librosa.feature.melspectrogram(
        y=x.astype(np.float32), sr=sample_rate, n_fft=1024, hop_length=80, win_length=400, n_mels=40
    )
    log_mel = np.log(np.maximum(mel, 1e-10))
    cep = scipy.fft.dct(0.5 * log_mel, axis=0) / (2 * log_mel.shape[0])
    return cep[:n], log_mel.max(0)


def mel_cepstral_distortion(reference: np.ndarray, degraded: np.ndarray, sample_rate: int) -> float:
    """MCD in dB (c1..c24) over the speech frames of the reference (within 12 nepers of its loudest)."""
    a, level = mel_cepstra(reference, sample_rate)
    b, _ = mel_cepstra(degraded, sample_rate)
    t = min(a.shape[1], b.shape[1])
    a, b, level = a[:, :t], b[:, :t], level[:t]
    speech = level > level.max() - 12
    dist = np.sqrt(2 * ((a[1:, speech] - b[1:, speech]) ** 2).sum(0))
    return float(10 / math.log(10) * dist.mean())


def f0_error_cents(reference: np.ndarray, decoded: np.ndarray, codec: GroupRVQCodec) -> float:
    """Mean |log-F0 error| in cents over frames voiced in both feature tracks."""
    s = codec.layout.slices
    voiced = (reference[:, s["voiced"]][:, 0] > 0.5) & (decoded[:, s["voiced"]][:, 0] > 0.5)
    if not voiced.any():
        return float("nan")
    diff = reference[voiced, s["log_f0"]][:, 0] - decoded[voiced, s["log_f0"]][:, 0]
    return float(np.mean(np.abs(diff)) * 1200 / math.log(2))


def level_settings(codec: GroupRVQCodec) -> list[tuple[int, ...]]:
    """Per-group level counts 1, 2, 4 ... up to each group's depth, ending with all levels."""
    depth = max(len(g) for g in codec.groups)
    counts = sorted({min(2**i, depth) for i in range(int(math.log2(depth)) + 2)} | {depth})
    return [tuple(min(n, len(g)) for g in codec.groups) for n in counts]


def token_entropy(codec: GroupRVQCodec, samples: list[np.ndarray]) -> list[float]:
    """Unigram entropy in bits of each level's tokens over the given utterances."""
    codes = torch.cat([codec.encode(x) for x in samples], dim=1)
    out = []
    for q, k in enumerate(codec.codebook_sizes):
        p = torch.bincount(codes[q], minlength=k).double()
        p = p[p > 0] / p.sum()
        out.append(float(-(p * p.log2()).sum()))
    return out


def speed(codec: GroupRVQCodec, audio: list[np.ndarray], repeats: int = 3) -> dict[str, float]:
    """Real-time factors of encoding (analysis + quantization) and decoding all of `audio`, median of runs.

    Args:
        codec: the codec to time.
        audio: float mono utterances at the codec's rate.
        repeats: timed passes over all utterances; each figure is the median over passes.

    Returns:
        encode, decode, total: wall seconds per second of audio; cpu_encode, cpu_decode, cpu_total: this
        process's CPU seconds per second of audio (on a shared machine wall time also counts other jobs);
        load_average: the 1-minute load when timing ended.
    """
    seconds = sum(len(x) for x in audio) / codec.sample_rate
    runs = []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        codes = [codec.encode(x) for x in audio]
        t1, c1 = time.perf_counter(), time.process_time()
        for c in codes:
            codec.decode(c)
        t2, c2 = time.perf_counter(), time.process_time()
        runs.append((t1 - t0, t2 - t1, t2 - t0, c1 - c0, c2 - c1, c2 - c0))
    names = ("encode", "decode", "total", "cpu_encode", "cpu_decode", "cpu_total")
    figures = {n: statistics.median(r[i] for r in runs) / seconds for i, n in enumerate(names)}
    return {**figures, "load_average": os.getloadavg()[0], "repeats": repeats, "seconds": seconds}


def token_rate_pitch(fine: WorldFrames, coarse: WorldFrames, hop: int) -> WorldFrames:
    """5 ms frames with the pitch and voicing of the token-rate frames, upsampled as `synthesize` does it:
    log-F0 interpolated between frame centres, voicing held for the frame."""
    n = fine.n_frames
    log_f0 = _upsample(coarse.log_f0.astype(np.float64), hop, n).astype(np.float32)
    voiced = np.pad(np.repeat(coarse.voiced, hop), (0, n), mode="edge")[:n]
    return replace(fine, log_f0=log_f0, voiced=voiced)


def eval_utterances(corpus: str, per_voice: int | None) -> list:
    from engine.data.manifest import load_manifest

    utts = load_manifest(corpus, "eval")
    if not utts:
        raise UserInputError(f"The corpus at {corpus} has no eval utterances; build it with its eval split.")
    by_voice: dict[str, list] = defaultdict(list)
    for u in sorted(utts, key=lambda u: u.id):
        by_voice[f"{u.engine}/{u.voice}"].append(u)
    return [u for v in sorted(by_voice) for u in by_voice[v][:per_voice]]


def _similarity(speaker: Any, original: np.ndarray, resynthesis: np.ndarray, sr: int) -> float:
    """Speaker similarity of a resynthesis to its original; 0 where it has too little speech to embed (an
    untrained decoder's near-silence resembles no one)."""
    try:
        return speaker.similarity(original, sr, resynthesis, sr)
    except UserInputError:
        return 0.0


def measure(
    codec: GroupRVQCodec,
    corpus: str,
    per_voice: int | None = 10,
    entropy_utterances: int = 300,
    log: Callable[[str], None] = print,
    neural: GroupRVQCodec | None = None,
) -> dict:
    """All figures of the codec on the corpus's eval split (reserved voices).

    Args:
        codec: the WORLD group-RVQ codec to measure.
        neural: the same codec decoding through the neural decoder (engine/codec/neural_codec.py): adds
            its rows ("neural, unquantized", "neural, all levels"), resampled to the codec's rate to be
            compared, and its target figures beside WORLD's.
        corpus: corpus directory (manifest.jsonl with an eval split; a valid split for entropy if present).
        per_voice: eval utterances per voice (None: all).
        entropy_utterances: utterances of the valid (else train) split for token entropy.
        log: progress sink.

    Returns:
        A JSON-ready dict: per setting (original, unquantized, levels ...) MCD, F0 error, WER, similarity,
        per voice WER; bitrate; RTF; entropy per level; targets and whether each is met.
    """
    from engine.data.manifest import load_manifest
    from engine.eval.similarity import SpeakerEncoder
    from engine.eval.wer import Transcriber, speech_wer

    sr = codec.sample_rate
    utts = eval_utterances(corpus, per_voice)
    voices = [f"{u.engine}/{u.voice}" for u in utts]
    audio = [read_wav(u.wav_path, sr) for u in utts]
    texts = [u.text for u in utts]
    seconds = sum(len(x) for x in audio) / sr
    log(f"bench: {len(utts)} eval utterances ({seconds:.0f} s) from {len(set(voices))} voices")

    # Speed first, on the whole set: analysis + quantization, and synthesis from all levels.
    torch.set_num_threads(2)
    timing = speed(codec, audio)
    raws = [codec.features(x) for x in audio]
    codes = [codec.quantize_features(r) for r in raws]

    transcriber, speaker = Transcriber(), SpeakerEncoder()
    settings: list[tuple[str, tuple[int, ...] | None]] = [
        ("original", None),
        ("unquantized", None),
        ("unquantized 5 ms", None),
        ("5 ms, 20 ms pitch", None),
    ]
    settings += [("levels " + "+".join(map(str, s)), s) for s in level_settings(codec)]
    full_levels = level_settings(codec)[-1]
    if neural is not None:
        settings += [("neural, unquantized", None), ("neural, all levels", full_levels)]
    fine = replace(codec.cfg.world, frame_ms=codec.cfg.world.analysis_period_ms)
    rows = {}
    for name, levels in settings:
        t0 = time.perf_counter()
        if name == "original":
            outs, decoded = audio, raws
        elif name == "unquantized":
            decoded = raws
            outs = [synthesize(codec.layout.unflatten(r), codec.cfg.world) for r in raws]
        elif name == "unquantized 5 ms":
            decoded = None  # no F0 error: the 5 ms track is not on the token grid
            outs = [synthesize(analyze(x, fine), fine) for x in audio]
        elif name == "5 ms, 20 ms pitch":
            decoded = None
            outs = [
                synthesize(
                    token_rate_pitch(analyze(x, fine), codec.layout.unflatten(r), codec.cfg.world.hop), fine
                )
                for x, r in zip(audio, raws)
            ]
        elif name.startswith("neural"):
            decoded = raws if levels is None else [codec.dequantize(c, levels) for c in codes]
            outs = [resample(neural.synthesize_features(d), neural.sample_rate, sr) for d in decoded]
        else:
            decoded = [codec.dequantize(c, levels) for c in codes]
            outs = [synthesize(codec.layout.unflatten(d), codec.cfg.world) for d in decoded]
        result = speech_wer(outs, sr, texts, transcriber)
        per_voice_wer = {}
        for v in sorted(set(voices)):
            idx = [i for i, vv in enumerate(voices) if vv == v]
            words = [len(texts[i].split()) for i in idx]
            per_voice_wer[v] = float(np.average([result.per_utterance[i] for i in idx], weights=words))
        row = {"wer": result.wer, "wer_by_voice": per_voice_wer}
        if name != "original":
            row["mcd_db"] = float(np.mean([mel_cepstral_distortion(a, y, sr) for a, y in zip(audio, outs)]))
            if decoded is not None:
                row["f0_error_cents"] = float(
                    np.nanmean([f0_error_cents(r, d, codec) for r, d in zip(raws, decoded)])
                )
            row["similarity"] = float(np.mean([_similarity(speaker, a, y, sr) for a, y in zip(audio, outs)]))
        if levels is not None:
            bits = sum(
                math.log2(codec.codebook_sizes[q]) for g, n in zip(codec.groups, levels) for q in g[:n]
            )
            row["levels"], row["bitrate_bps"] = list(levels), codec.frame_rate * bits
        rows[name] = row
        log(
            f"bench: {name}: "
            + ", ".join(f"{k} {v:.3f}" for k, v in row.items() if isinstance(v, float))
            + f" ({time.perf_counter() - t0:.0f} s)"
        )

    # The valid split when there is one; a corpus of the reserved voices alone has its eval split only.
    split = next((s for s in ("valid", "train") if load_manifest(corpus, s)), "eval")
    ent_utts = sorted(load_manifest(corpus, split), key=lambda u: u.id)
    step = max(1, len(ent_utts) // entropy_utterances)
    entropy = token_entropy(codec, [read_wav(u.wav_path, sr) for u in ent_utts[::step][:entropy_utterances]])
    log("bench: entropy per level " + " ".join(f"{e:.2f}" for e in entropy))

    names = [n for n, levels in settings if levels is not None and not n.startswith("neural")]
    first, full = rows[names[0]], rows[names[-1]]
    orig_wer = max(rows["original"]["wer"], 1e-9)
    rtf = timing["total"]
    checks = {
        "full_wer_ratio": (full["wer"] / orig_wer, full["wer"] / orig_wer <= TARGETS["full_wer_ratio"]),
        "full_similarity": (full["similarity"], full["similarity"] >= TARGETS["full_similarity"]),
        "first_wer_ratio": (first["wer"] / orig_wer, first["wer"] / orig_wer <= TARGETS["first_wer_ratio"]),
        "rtf": (rtf, rtf <= TARGETS["rtf"]),
    }
    if neural is not None:
        ratio, similarity = (
            rows["neural, all levels"]["wer"] / orig_wer,
            rows["neural, all levels"]["similarity"],
        )
        checks["neural_full_wer_ratio"] = (ratio, ratio <= TARGETS["full_wer_ratio"])
        checks["neural_full_similarity"] = (similarity, similarity >= TARGETS["full_similarity"])
    return {
        "eval": {"utterances": len(utts), "seconds": round(seconds, 1), "voices": sorted(set(voices))},
        "settings": rows,
        "rtf": timing,
        "entropy_bits": {
            "split": split,
            "utterances": len(ent_utts[::step][:entropy_utterances]),
            "per_level": entropy,
            "max_bits": [math.log2(k) for k in codec.codebook_sizes],
        },
        "targets": {
            k: {"value": v, "target": TARGETS[k.removeprefix("neural_")], "met": bool(ok)}
            for k, (v, ok) in checks.items()
        },
    }
