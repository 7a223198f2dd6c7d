"""Turn the corpus into the acoustic generator's training data: codec tokens and frame-aligned phone tokens.

    python -m engine.train.prepare_acoustic --corpus /work/corpus --out /work/acoustic_data [--augment 4]

With --augment K, every training utterance also gets (a) prompt tokens of its audio passed through a random
real-world channel (engine.data.channel: room, microphone, noise, band limit, lossy codec, level), which the
trainer uses as the voice prompt in place of the clean tokens some of the time, and (b) a copy in one of
K transformed voices of its speaker (engine.data.voice_transform; speaker name "<speaker>~v<k>"), with its
own channel prompt. The targets stay clean. All draws are seeded by the utterance and speaker names.

WORLD features come from the codec trainer's per-utterance cache (same analysis settings) and what is
analysed here is added to it, so the corpus is analysed once and a rerun only repeats the quantization.
"""

from __future__ import annotations

import argparse
import time
import zlib
from dataclasses import replace
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import torch

from engine.acoustic.data import Utterance as TokenUtterance
from engine.acoustic.data import write_corpus
from engine.acoustic.layout import TokenLayout
from engine.codec.base import load_codec
from engine.codec.feature_cache import analyze_to_cache, feature_cache_dir, read_wav
from engine.codec.group_codec import FeatureLayout, GroupRVQCodec
from engine.codec.world_features import analyze, synthesize
from engine.data.channel import simulate_channel
from engine.data.manifest import Utterance, load_manifest
from engine.data.voice_transform import VoiceTransform
from engine.semantic.tokens import PhoneTokenizer

_codec: GroupRVQCodec | None = None
_tokenizer = PhoneTokenizer()


def _init(codec_path: str) -> None:
    global _codec
    torch.set_num_threads(1)
    _codec = load_codec(codec_path)


def _seeded(*names: str) -> np.random.Generator:
    return np.random.default_rng([zlib.crc32(n.encode()) for n in names])


def _as_arrays(utt: TokenUtterance) -> TokenUtterance:
    """The utterance with numpy arrays in place of tensors, to send from a worker: a tensor would travel as a
    shared-memory file descriptor that the parent holds open, and thousands of them exhaust its descriptors."""
    prompt = utt.prompt_codes
    return replace(
        utt,
        codes=utt.codes.numpy(),
        semantic=utt.semantic.numpy(),
        prompt_codes=None if prompt is None else prompt.numpy(),
    )


def _as_tensors(utt: TokenUtterance) -> TokenUtterance:
    prompt = utt.prompt_codes
    return replace(
        utt,
        codes=torch.from_numpy(utt.codes),
        semantic=torch.from_numpy(utt.semantic),
        prompt_codes=None if prompt is None else torch.from_numpy(prompt),
    )


def _tokens_from_worker(job: tuple[Utterance, str, int]) -> list[TokenUtterance]:
    return [_as_arrays(u) for u in _tokens(job)]


def _tokens(job: tuple[Utterance, str, int]) -> list[TokenUtterance]:
    """The utterance's tokens; with `variants` > 0 also its channel prompt and one transformed voice."""
    utt, cache, variants = job
    assert _codec is not None
    world = _codec.cfg.world
    if not Path(cache).exists():
        analyze_to_cache((utt.wav_path, cache, world))
    features = np.load(cache)
    audio = read_wav(utt.wav_path, world.sample_rate) if variants else None
    if audio is not None and len(features) != -(-len(audio) // world.samples_per_frame):
        # A cache made from an earlier build of the corpus, whose utterance of this id was another length.
        analyze_to_cache((utt.wav_path, cache, world))
        features = np.load(cache)
    codes = _codec.quantize_features(features)
    semantic = _tokenizer.from_alignment(utt.phones, codes.shape[1])
    if not variants:
        return [TokenUtterance(codes, semantic, utt.speaker, utt.id)]

    def through_channel(audio: np.ndarray, name: str) -> torch.Tensor:
        degraded, _ = simulate_channel(audio, world.sample_rate, _seeded("channel", name))
        prompt = _codec.quantize_features(FeatureLayout.flatten(analyze(degraded, world)))
        assert prompt.shape[1] == codes.shape[1], (prompt.shape, codes.shape)
        return prompt

    clean = TokenUtterance(
        codes,
        semantic,
        utt.speaker,
        utt.id,
        through_channel(audio, utt.id),
    )
    k = zlib.crc32(utt.id.encode()) % variants
    speaker = f"{utt.speaker}~v{k}"
    frames = VoiceTransform.draw(_seeded("voice", speaker)).apply(_codec.layout.unflatten(features), world)
    moved = FeatureLayout.flatten(frames)
    variant_id = f"{utt.id}~v{k}"
    variant = TokenUtterance(
        _codec.quantize_features(moved),
        semantic,
        speaker,
        variant_id,
        through_channel(synthesize(frames, world), variant_id),
    )
    return [clean, variant]


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
    augment: int = 0,
) -> None:
    codec = load_codec(codec_path)
    cache_dir = feature_cache_dir(work, codec.cfg.world)
    layout = TokenLayout.from_codec(codec)
    cache_dir.mkdir(parents=True, exist_ok=True)
    for split in splits:
        utts = select(load_manifest(str(corpus), split), cache_dir, max_hours if split == "train" else None)
        variants = augment if split == "train" else 0
        jobs_list = [(u, str(cache_dir / f"{u.id}.npy"), variants) for u in utts]
        started, done = time.time(), []
        with Pool(jobs, initializer=_init, initargs=(str(codec_path),)) as pool:
            for i, items in enumerate(pool.imap(_tokens_from_worker, jobs_list, chunksize=16)):
                done.extend(_as_tensors(u) for u in items)
                if (i + 1) % 250 == 0 or i + 1 == len(jobs_list):
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
    parser.add_argument(
        "--augment",
        type=int,
        default=0,
        metavar="K",
        help="add channel-degraded prompts and K transformed voices per speaker to the train split",
    )
    args = parser.parse_args(argv)
    prepare(
        args.corpus,
        args.codec,
        args.out,
        args.splits.split(","),
        args.work,
        args.jobs,
        args.max_hours,
        args.augment,
    )


if __name__ == "__main__":
    main()
