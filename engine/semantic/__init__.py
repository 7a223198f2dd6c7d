"""Text-to-semantic: what is said, as one token per codec frame, paced like the prompt's speaker."""

from engine.semantic.t2s import SemanticPlan, TextToSemantic, text_to_semantic
from engine.semantic.tokens import PhoneTokenizer, SemanticTokenizer

__all__ = ["PhoneTokenizer", "SemanticPlan", "SemanticTokenizer", "TextToSemantic", "text_to_semantic"]
