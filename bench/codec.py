"""Codec benchmark on the reserved evaluation voices: quality by number of levels, bitrate, speed, entropy.

For 1, 2, 4 ... all levels (per group): mel-cepstral distortion and F0 error of the resynthesis against
the original recording, Whisper tiny.en word error rate, resemblyzer speaker similarity; the same for the
unquantized WORLD resynthesis (the ceiling), WORLD at its 5 ms analysis period (what the 20 ms token rate
costs), the 5 ms analysis with the token-rate pitch and voicing (how much of that cost pitch and voicing
make) and the original; encode/decode real-time factor; the entropy of each level's tokens on the corpus.
`python -m bench.codec [--corpus DIR] [--codec DIR]`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

# Before torch loads: spinning OpenMP threads would count as codec CPU time on the shared cores.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import scipy.fft
import torch

from engine.codec.base import load_codec
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


def _token_rate_pitch(fine: WorldFrames, coarse: WorldFrames, hop: int) -> WorldFrames:
    """5 ms frames with the pitch and voicing of the token-rate frames, upsampled as `synthesize` does it:
    log-F0 interpolated between frame centres, voicing held for the frame."""
    n = fine.n_frames
    log_f0 = _upsample(coarse.log_f0.astype(np.float64), hop, n).astype(np.float32)
    voiced = np.pad(np.repeat(coarse.voiced, hop), (0, n), mode="edge")[:n]
    return replace(fine, log_f0=log_f0, voiced=voiced)


def _eval_utterances(corpus: str, per_voice: int | None) -> list:
    from engine.data.manifest import load_manifest

    utts = load_manifest(corpus, "eval")
    if not utts:
        raise UserInputError(f"The corpus at {corpus} has no eval utterances; build it with its eval split.")
    by_voice: dict[str, list] = defaultdict(list)
    for u in sorted(utts, key=lambda u: u.id):
        by_voice[f"{u.engine}/{u.voice}"].append(u)
    return [u for v in sorted(by_voice) for u in by_voice[v][:per_voice]]


def measure(
    codec: GroupRVQCodec,
    corpus: str,
    per_voice: int | None = 10,
    entropy_utterances: int = 300,
    log: Callable[[str], None] = print,
) -> dict:
    """All figures of the codec on the corpus's eval split (reserved voices).

    Args:
        codec: the WORLD group-RVQ codec to measure.
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
    from engine.train.train_codec import read_wav

    sr = codec.sample_rate
    utts = _eval_utterances(corpus, per_voice)
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
                    _token_rate_pitch(analyze(x, fine), codec.layout.unflatten(r), codec.cfg.world.hop), fine
                )
                for x, r in zip(audio, raws)
            ]
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
            row["similarity"] = float(
                np.mean([speaker.similarity(a, sr, y, sr) for a, y in zip(audio, outs)])
            )
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

    split = "valid" if load_manifest(corpus, "valid") else "train"
    ent_utts = sorted(load_manifest(corpus, split), key=lambda u: u.id)
    step = max(1, len(ent_utts) // entropy_utterances)
    entropy = token_entropy(codec, [read_wav(u.wav_path, sr) for u in ent_utts[::step][:entropy_utterances]])
    log("bench: entropy per level " + " ".join(f"{e:.2f}" for e in entropy))

    names = [n for n, levels in settings if levels is not None]
    first, full = rows[names[0]], rows[names[-1]]
    orig_wer = max(rows["original"]["wer"], 1e-9)
    rtf = timing["total"]
    checks = {
        "full_wer_ratio": (full["wer"] / orig_wer, full["wer"] / orig_wer <= TARGETS["full_wer_ratio"]),
        "full_similarity": (full["similarity"], full["similarity"] >= TARGETS["full_similarity"]),
        "first_wer_ratio": (first["wer"] / orig_wer, first["wer"] / orig_wer <= TARGETS["first_wer_ratio"]),
        "rtf": (rtf, rtf <= TARGETS["rtf"]),
    }
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
        "targets": {k: {"value": v, "target": TARGETS[k], "met": bool(ok)} for k, (v, ok) in checks.items()},
    }


def sections(figures: dict, codec: GroupRVQCodec) -> list:
    """RESULTS.md sections (bench.report) of the figures from `measure`."""
    from bench.report import Section, Table

    rows = []
    for name, r in figures["settings"].items():
        rows.append(
            (
                name,
                r.get("bitrate_bps"),
                r.get("mcd_db"),
                r.get("f0_error_cents"),
                r["wer"],
                r.get("similarity"),
            )
        )
    quality = Table(
        columns=("setting", "bitrate (bps)", "MCD (dB)", "F0 error (cents)", "WER", "similarity"),
        rows=tuple(rows),
        caption="Resynthesis against the original recording, reserved voices. "
        "'levels a+b' = a levels of the pitch group, b of the spectrum group.",
    )
    voice_names = figures["eval"]["voices"]
    by_voice = Table(
        columns=("setting", *voice_names),
        rows=tuple((n, *[r["wer_by_voice"][v] for v in voice_names]) for n, r in figures["settings"].items()),
        caption="WER by voice.",
    )
    level_names = [
        f"{q}: {spec.name}/{depth} ({codec.codebook_sizes[q]})"
        for spec, g in zip(codec.cfg.groups, codec.groups)
        for depth, q in enumerate(g)
    ]
    ent = figures["entropy_bits"]
    order = sorted(range(codec.n_q))
    entropy = Table(
        columns=("level: group/depth (codes)", "entropy (bits)", "max (bits)"),
        rows=tuple(
            (next(n for n in level_names if n.startswith(f"{q}:")), ent["per_level"][q], ent["max_bits"][q])
            for q in order
        ),
        caption=f"Unigram token entropy on {ent['utterances']} utterances of the {ent['split']} split.",
    )
    t = figures["targets"]
    targets = Table(
        columns=("target", "value", "bound", "met"),
        rows=tuple((k, v["value"], v["target"], "yes" if v["met"] else "no") for k, v in t.items()),
        caption="Issue targets (WER ratios against the original recording; RTF = encode+decode time / audio).",
    )
    rtf = figures["rtf"]
    text = (
        f"{figures['eval']['utterances']} eval utterances ({figures['eval']['seconds']} s) of the reserved "
        f"voices. Encode RTF {rtf['encode']:.4f}, decode RTF {rtf['decode']:.4f}, "
        f"total {rtf['total']:.4f} wall time (2 threads, load average {rtf['load_average']:.1f} on 2 cores); "
        f"CPU time per audio second: encode {rtf['cpu_encode']:.4f}, decode {rtf['cpu_decode']:.4f}. "
        "MCD: c1..c24 of a 40-band mel cepstrum (5 ms hop) over speech frames. F0 error: on frames voiced "
        "in both feature tracks. 'unquantized': the token-rate (20 ms) features, interpolated to 5 ms for the "
        "vocoder; 'unquantized 5 ms': WORLD analysed and resynthesized at 5 ms, what the token rate costs; "
        "'5 ms, 20 ms pitch': the same with the token-rate log-F0 (interpolated) and voicing (held per "
        "frame), what the token rate costs through pitch and voicing alone."
    )
    return [Section(title="Codec", text=text, items=(quality, by_voice, entropy, targets))]


def run(out_dir: Path, corpus: str | None = None, codec_dir: str | None = None) -> list:
    """Measure the shipped codec (or codec_dir) on its training corpus's eval split (or `corpus`).

    Args:
        out_dir: results directory (figures.json written there).
        corpus: corpus directory; default: the one named in the codec's metadata.
        codec_dir: codec to measure; default assets/codec.

    Returns:
        bench.report Sections.
    """
    codec = load_codec(codec_dir)
    if corpus is None:
        manifest = codec.metadata.get("data", {}).get("manifest")
        if not manifest:
            raise UserInputError("The codec's metadata names no corpus; pass --corpus DIR.")
        corpus = str(Path(manifest).parent)
    figures = measure(codec, corpus)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "codec_figures.json").write_text(json.dumps(figures, indent=2) + "\n")
    return sections(figures, codec)


def main(argv: list[str] | None = None) -> None:
    from bench.report import section_markdown

    p = argparse.ArgumentParser(prog="python -m bench.codec", description=__doc__)
    p.add_argument("--corpus", default=None, help="corpus directory (default: the codec's training corpus)")
    p.add_argument("--codec", default=None, help="codec directory (default: assets/codec)")
    p.add_argument("--out", default="bench/results", help="where codec_figures.json goes")
    p.add_argument("--speed-only", action="store_true", help="only time encode and decode (median of 5 runs)")
    args = p.parse_args(argv)
    if args.speed_only:
        from engine.train.train_codec import read_wav

        codec = load_codec(args.codec)
        corpus = args.corpus or str(Path(codec.metadata.get("data", {}).get("manifest", "")).parent)
        torch.set_num_threads(2)
        audio = [read_wav(u.wav_path, codec.sample_rate) for u in _eval_utterances(corpus, 10)]
        print(json.dumps(speed(codec, audio, repeats=5), indent=1))
        return
    for section in run(Path(args.out), args.corpus, args.codec):
        print(section_markdown(section, Path(args.out)))


if __name__ == "__main__":
    main()
