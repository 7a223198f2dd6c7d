"""Measurement: intelligibility (Whisper WER), speaker similarity (resemblyzer) and speed (RTF, memory).

The Whisper and resemblyzer tools are optional (the `eval` extra); they are imported only when used.
"""

from engine.eval.timing import StageTimer, peak_memory_mb, reset_peak_memory

# How to get the optional measurement tools; every import error of them ends with this.
EVAL_INSTALL_HINT = "run `bash install.sh --dev` (or pip install -e '.[eval]')"

__all__ = ["EVAL_INSTALL_HINT", "StageTimer", "peak_memory_mb", "reset_peak_memory"]
