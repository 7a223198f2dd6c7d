"""Decode speed of the codec's two vocoders, WORLD (16 kHz) and the neural decoder (24 kHz), on the same
tokens: real-time factor of `codec.decode` (dequantize, refiner, synthesis) over real clips.

    python -m bench.vocoder_speed [--vocoder-checkpoint PATH] [--threads 1] [--seconds 30]

Without a checkpoint the neural decoder has random weights of the default shape: its speed does not depend
on what it has learned, so the size can be chosen before any training.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from engine.codec.base import load_codec
from engine.codec.neural_codec import NeuralDecodedCodec
from engine.vocoder.generator import NeuralDecoder, VocoderConfig
from engine.vocoder.pairs import load_pairs


def decode_rtf(codec, codes: list[torch.Tensor], repeats: int) -> float:
    """Best-of-`repeats` seconds to decode every clip, over the audio's seconds."""
    audio_s = sum(c.shape[1] for c in codes) / codec.frame_rate
    best = float("inf")
    codec.decode(codes[0])  # warm-up
    for _ in range(repeats):
        t0 = time.perf_counter()
        for c in codes:
            codec.decode(c)
        best = min(best, time.perf_counter() - t0)
    return best / audio_s


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default="/work/vocoder_data", help="training pairs whose tokens are decoded")
    p.add_argument("--vocoder-checkpoint", help="neural decoder export (default: random weights)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seconds", type=float, default=30.0, help="audio to decode per repeat")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    world = load_codec()
    if args.vocoder_checkpoint:
        neural = load_codec(vocoder="neural", vocoder_path=args.vocoder_checkpoint)
    else:
        torch.manual_seed(0)
        neural = NeuralDecodedCodec(world, NeuralDecoder(VocoderConfig(feature_dim=world.layout.dim)))
    codes, total = [], 0.0
    for pair in load_pairs(args.data):
        if total >= args.seconds:
            break
        codes.append(pair.codes)
        total += pair.codes.shape[1] / world.frame_rate
    result = {
        "threads": args.threads,
        "audio_seconds": round(total, 1),
        "neural_parameters": neural.decoder.parameter_count(),
        "rtf_world": round(decode_rtf(world, codes, args.repeats), 4),
        "rtf_neural": round(decode_rtf(neural, codes, args.repeats), 4),
        "weights": args.vocoder_checkpoint or "random",
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
