"""The product on real human voices: dialogues of held-out sentences in the voices of real people that no
model here trained on, judged by Whisper base (and tiny.en), two speaker encoders, DNSMOS and pace.

    python -m bench.real_voices [--sentences 8] [--seeds 0,1] [--methods group,soundstorm,spans]
    python -m bench --only real_voices          # the same, as part of the suite (also `--only real`)

The real speakers come from `engine.data.real_speech` (built on first use into $REAL_SPEECH_DIR, default
/work/real_speech); beside them the same sentences in the built-in voices and in the synthetic reserved voices
of the corpus ($CORPUS_DIR, default /work/corpus; its eval split suffices: `python -m engine.data.build_corpus
--hours 0.02 --out /work/corpus`), the real clips themselves and the codec's resynthesis of them. Every
generation uses the app's defaults but for the decoder; the default decoder runs under two seeds so that the
move of each figure between seeds is known. Writes `real_voices.json` and a plot into the results folder.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from pathlib import Path

from bench.real_voices.cases import BUILT_IN, SEEN, UNSEEN, CaseFigures, VoiceCase
from bench.real_voices.figures import identification, pace_ratios, row_figures
from bench.real_voices.measure import measure
from bench.real_voices.tables import sections
from bench.report import Section

__all__ = [
    "BUILT_IN",
    "SEEN",
    "UNSEEN",
    "CaseFigures",
    "VoiceCase",
    "identification",
    "measure",
    "pace_ratios",
    "row_figures",
    "run",
    "sections",
]


def run(out_dir: Path) -> list[Section]:
    summary, settings = measure(out_dir)
    return sections(summary, settings, out_dir)
