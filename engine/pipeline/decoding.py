"""Decoding a batch of planned turns: all through the acoustic decoder at once, then each turn's codec tokens
back to audio (with the WORLD codec, pulled toward its prompt's voice: engine/codec/voice_match.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from engine.acoustic.decoding import DECODERS, pad_turns
from engine.acoustic.model import AcousticModel
from engine.acoustic.trace import DecodeResult
from engine.codec.base import Codec
from engine.codec.group_codec import GroupRVQCodec
from engine.codec.voice_match import VoiceProfile, match_voice
from engine.semantic.t2s import SemanticPlan


def decode_acoustic(
    model: AcousticModel,
    plans: Sequence[SemanticPlan],
    prompt_tokens: Sequence[torch.Tensor],
    method: str,
    steps: int,
    temperature: float,
    guidance: float,
    seed: int,
    on_iteration: Callable[[int, int], None],
    keep_trace: bool,
) -> DecodeResult:
    """The turns through the acoustic decoder in one batch, turn i conditioned on `prompt_tokens[i]`;
    `on_iteration(done, total)` after every iteration (it may raise to stop the decode)."""
    semantic, lengths = pad_turns([plan.tokens for plan in plans])
    prompt, prompt_lengths = pad_turns(list(prompt_tokens))
    return DECODERS[method](
        model,
        semantic,
        lengths,
        prompt,
        prompt_lengths,
        steps=steps,
        temperature=float(temperature),
        guidance=guidance,
        seed=int(seed),
        callback=on_iteration,
        keep_trace=keep_trace,
    )


def decode_turns(
    codec: Codec,
    result: DecodeResult,
    profiles: Sequence[VoiceProfile | None],
    voice_match: float,
    on_turn: Callable[[int, int], None],
) -> list[np.ndarray]:
    """Each turn's generated tokens (cut to its length) as audio; turn i matched to `profiles[i]` by the
    strength `voice_match` when it is above 0, the profile exists and the codec is the WORLD one.
    `on_turn(i, n)` before turn i (it may raise to stop)."""
    waves = []
    for i, profile in enumerate(profiles):
        on_turn(i, len(profiles))
        tokens = result.tokens[i, :, : int(result.lengths[i])]
        if voice_match > 0 and profile is not None and isinstance(codec, GroupRVQCodec):
            raw = match_voice(codec.dequantize(tokens), profile, codec.layout, voice_match)
            waves.append(codec.synthesize_features(raw))
        else:
            waves.append(codec.decode(tokens))
    return waves
