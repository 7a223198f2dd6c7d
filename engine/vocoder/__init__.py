"""The neural decoder of the codec's tokens (issue 22): a Vocos-style generator from the codec's dequantized
20 ms WORLD frames to 24 kHz audio, its discriminators and losses, and its cached training pairs. The codec
decodes through it with `load_codec(vocoder="neural")` (engine/codec/neural_codec.py)."""
