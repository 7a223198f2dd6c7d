"""The acoustic generator: fills in codec tokens in parallel from semantic tokens and a voice prompt."""

from engine.acoustic.decoding import DECODERS, decode_group, decode_soundstorm, decode_spans, pad_turns
from engine.acoustic.layout import TokenLayout
from engine.acoustic.model import AcousticConfig, AcousticModel, load_model, save_checkpoint
from engine.acoustic.trace import UNKNOWN, DecodeResult, DecodeTrace, TraceStep

__all__ = [
    "DECODERS",
    "UNKNOWN",
    "AcousticConfig",
    "AcousticModel",
    "DecodeResult",
    "DecodeTrace",
    "TokenLayout",
    "TraceStep",
    "decode_group",
    "decode_soundstorm",
    "decode_spans",
    "load_model",
    "pad_turns",
    "save_checkpoint",
]
