"""Text frontend: transcript parsing, English normalization and espeak-ng phonemization."""

from engine.text.normalize import NormalizedText, UnsupportedTextError, normalize_for_scoring, normalize_text
from engine.text.phonemize import PHONE_SET, phone_ids, phonemize

__all__ = [
    "PHONE_SET",
    "NormalizedText",
    "UnsupportedTextError",
    "normalize_for_scoring",
    "normalize_text",
    "phone_ids",
    "phonemize",
]
