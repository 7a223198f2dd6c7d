"""Text-to-semantic figures: duration error against the reference recordings of the held-out voices, the
speaking-rate estimator's agreement with true phone rates, and the time per turn.

`python -m bench.t2s [--corpus DIR]` prints them; `run(out_dir)` returns them as report sections. The corpus
is `$CORPUS_DIR` (default /work/corpus); the model is assets/duration/duration.pt.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.report import Section
from bench.t2s.measure import measure
from bench.t2s.tables import sections

__all__ = ["measure", "run", "sections"]


def run(out_dir: Path) -> list[Section]:
    """Measure and return the report sections; the raw figures go to out_dir/t2s.json."""
    figures = measure()
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    (Path(out_dir) / "t2s.json").write_text(json.dumps(figures, indent=1, default=float))
    return sections(figures)
