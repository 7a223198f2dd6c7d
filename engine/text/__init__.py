"""Text frontend: transcript parsing, English normalization and espeak-ng phonemization."""

from engine.text.normalize import NormalizedText, UnsupportedTextError, normalize_for_scoring, normalize_text
from engine.text.phonemize import PHONE_SET, phone_ids, phonemize
from engine.text.transcript import TranscriptError, Turn, check_voices, parse_transcript, speakers

__all__ = [
    "PHONE_SET",
    "NormalizedText",
    "TranscriptError",
    "Turn",
    "UnsupportedTextError",
    "check_voices",
    "normalize_for_scoring",
    "normalize_text",
    "parse_transcript",
    "phone_ids",
    "phonemize",
    "speakers",
]
