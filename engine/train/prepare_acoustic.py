"""Turn the corpus into the acoustic generator's training data: codec tokens and frame-aligned phone tokens.

    python -m engine.train.prepare_acoustic --corpus /work/corpus --out /work/acoustic_data

WORLD features come from the codec trainer's per-utterance cache (same analysis settings) and what is
analysed here is added to it, so the corpus is analysed once and a rerun only repeats the quantization.
"""

from __future__ import annotations

import argparse
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import torch

from engine.acoustic.data import Utterance as TokenUtterance
from engine.acoustic.data import write_corpus
from engine.acoustic.layout import TokenLayout
from engine.codec.base import load_codec
from engine.codec.feature_cache import analyze_to_cache, feature_cache_dir
from engine.codec.group_codec import GroupRVQCodec
from engine.data.manifest import Utterance, load_manifest
from engine.semantic.tokens import PhoneTokenizer

_codec: GroupRVQCodec | None = None
_tokenizer = PhoneTokenizer()


def _init(codec_path: str) -> None:
    global _codec
    torch.set_num_threads(1)
    _codec = load_codec(codec_path)


def _tokens(job: tuple[Utterance, str]) -> TokenUtterance:
    utt, cache = job
    assert _codec is not None
    if not Path(cache).exists():
        analyze_to_cache((utt.wav_path, cache, _codec.cfg.world))
    features = np.load(cache)
    codes = _codec.quantize_features(features)
    semantic = _tokenizer.from_alignment(utt.phones, codes.shape[1])
    return TokenUtterance(codes, semantic, utt.speaker, utt.id)


def select(utts: list[Utterance], cache_dir: Path, max_hours: float | None, seed: int = 0) -> list[Utterance]:
    """A seeded subset of at most `max_hours`, the same share of it for every speaker.

    Within a speaker, utterances already analysed come first (they cost nothing). An even share keeps a
    speaker added to a grown corpus from being drowned by the earlier ones' cached utterances.
    """
    if max_hours is None:
        return utts
    by_speaker: dict[str, list[Utterance]] = {}
    for u in utts:
        by_speaker.setdefault(u.speaker, []).append(u)
    share = max_hours * 3600 / len(by_speaker)
    rng = np.random.default_rng(seed)
    chosen = []
    for speaker in sorted(by_speaker):
        own = by_speaker[speaker]
        order = rng.permutation(len(own))
        cached = np.array([(cache_dir / f"{own[i].id}.npy").exists() for i in order], dtype=bool)
        seconds = 0.0
        for i in np.concatenate([order[cached], order[~cached]]):
            if seconds >= share:
                break
            chosen.append(own[i])
            seconds += own[i].duration
    return chosen


def prepare(
    corpus: Path,
    codec_path: Path,
    out: Path,
    splits: list[str],
    work: Path,
    jobs: int,
    max_hours: float | None,
) -> None:
    codec = load_codec(codec_path)
    cache_dir = feature_cache_dir(work, codec.cfg.world)
    layout = TokenLayout.from_codec(codec)
    cache_dir.mkdir(parents=True, exist_ok=True)
    for split in splits:
        utts = select(load_manifest(str(corpus), split), cache_dir, max_hours if split == "train" else None)
        jobs_list = [(u, str(cache_dir / f"{u.id}.npy")) for u in utts]
        started, done = time.time(), []
        with Pool(jobs, initializer=_init, initargs=(str(codec_path),)) as pool:
            for i, item in enumerate(pool.imap(_tokens, jobs_list, chunksize=16)):
                done.append(item)
                if (i + 1) % 1000 == 0 or i + 1 == len(jobs_list):
                    print(
                        f"{split}: {i + 1}/{len(jobs_list)} utterances ({time.time() - started:.0f} s)",
                        flush=True,
                    )
        write_corpus(out / split, layout, (_tokenizer.vocab_size,), done, frame_rate=codec.frame_rate)
        frames = sum(int(u.codes.shape[1]) for u in done)
        print(
            f"{split}: wrote {len(done)} utterances, {frames / codec.frame_rate / 3600:.2f} h to {out / split}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, required=True, help="corpus directory (manifest.jsonl)")
    parser.add_argument("--codec", type=Path, default=Path("assets/codec"), help="codec directory")
    parser.add_argument("--out", type=Path, required=True, help="output directory (one subfolder per split)")
    parser.add_argument("--splits", default="train,valid,eval")
    parser.add_argument(
        "--work",
        type=Path,
        default=Path.home() / ".cache" / "dialogue_synth" / "codec_work",
        help="the codec trainer's work directory (its WORLD feature cache is reused)",
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--max-hours", type=float, default=None, help="at most this much of the train split")
    args = parser.parse_args(argv)
    prepare(args.corpus, args.codec, args.out, args.splits.split(","), args.work, args.jobs, args.max_hours)


if __name__ == "__main__":
    main()
