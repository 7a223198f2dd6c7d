"""dialogue-synth: dialogue speech synthesis with parallel decoding of codec tokens, on CPU."""

__version__ = "0.1.0"
