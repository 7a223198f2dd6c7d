"""Benchmarks (speed and quality figures, not tests): `python -m bench [--only codec,t2s]` runs those present
and writes bench/results/RESULTS.md (plus PNGs) headed by the machine, commit and date.

A benchmark is a module `bench/<name>.py` exposing `run(out_dir: Path) -> list[Section]` (bench/report.py):

    from bench.report import Section, Table, save_figure

    def run(out_dir):
        rows = [(n, wer_at(n)) for n in (1, 2, 4, 8)]
        fig = plot(rows)  # a matplotlib Figure
        return [Section("Codec: WER by levels", "10 held-out sentences per voice, Whisper tiny.en.",
                        (Table(("levels", "WER"), tuple(rows)), save_figure(fig, out_dir, "codec_wer")))]
"""
