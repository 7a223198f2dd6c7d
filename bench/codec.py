"""Codec benchmark on the reserved evaluation voices: quality by number of levels, bitrate, speed, entropy.

For 1, 2, 4 ... all levels (per group): mel-cepstral distortion and F0 error of the resynthesis against
the original recording, Whisper tiny.en word error rate, resemblyzer speaker similarity; the same for the
unquantized WORLD resynthesis (the ceiling), WORLD at its 5 ms analysis period (what the 20 ms token rate
costs), the 5 ms analysis with the token-rate pitch and voicing (how much of that cost pitch and voicing
make) and the original; the unquantized and all-levels features voiced by the neural decoder (engine/vocoder/), when
one is trained; encode/decode real-time factor; the entropy of each level's tokens on the corpus.
`python -m bench.codec [--corpus DIR] [--codec DIR] [--vocoder-checkpoint PATH]`.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

# Before torch loads: spinning OpenMP threads would count as codec CPU time on the shared cores.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch

from engine.codec.base import load_codec
from engine.codec.feature_cache import read_wav
from engine.codec.group_codec import GroupRVQCodec
from engine.errors import UserInputError
from engine.eval.codec_quality import eval_utterances, measure, speed


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
        "'levels a+b' = a levels of the pitch group, b of the spectrum group; 'neural': the same features "
        "voiced by the neural decoder at 24 kHz (scored at the codec's 16 kHz).",
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


def run(
    out_dir: Path, corpus: str | None = None, codec_dir: str | None = None, vocoder_path: str | None = None
) -> list:
    """Measure the shipped codec (or codec_dir) on its training corpus's eval split (or `corpus`), decoded
    by WORLD and, beside it, by the neural decoder (the shipped one, or `vocoder_path`; left out while
    none is trained).

    Args:
        out_dir: results directory (figures.json written there).
        corpus: corpus directory; default: the one named in the codec's metadata.
        codec_dir: codec to measure; default assets/codec.
        vocoder_path: neural decoder export; default assets/vocoder/vocoder.pt when it exists.

    Returns:
        bench.report Sections.
    """
    from engine.codec.neural_codec import DEFAULT_VOCODER_PATH, with_neural_decoder

    codec = load_codec(codec_dir)
    if vocoder_path is None and DEFAULT_VOCODER_PATH.is_file():
        vocoder_path = str(DEFAULT_VOCODER_PATH)
    neural = with_neural_decoder(codec, vocoder_path) if vocoder_path else None
    if corpus is None:
        manifest = codec.metadata.get("data", {}).get("manifest")
        if not manifest:
            raise UserInputError("The codec's metadata names no corpus; pass --corpus DIR.")
        corpus = str(Path(manifest).parent)
    figures = measure(codec, corpus, neural=neural)
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
    p.add_argument("--vocoder-checkpoint", help="neural decoder export (default assets/vocoder/vocoder.pt)")
    p.add_argument("--speed-only", action="store_true", help="only time encode and decode (median of 5 runs)")
    args = p.parse_args(argv)
    if args.speed_only:
        codec = load_codec(args.codec)
        corpus = args.corpus or str(Path(codec.metadata.get("data", {}).get("manifest", "")).parent)
        torch.set_num_threads(2)
        audio = [read_wav(u.wav_path, codec.sample_rate) for u in eval_utterances(corpus, 10)]
        print(json.dumps(speed(codec, audio, repeats=5), indent=1))
        return
    for section in run(Path(args.out), args.corpus, args.codec, args.vocoder_checkpoint):
        print(section_markdown(section, Path(args.out)))


if __name__ == "__main__":
    main()
