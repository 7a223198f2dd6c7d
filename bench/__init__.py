"""Benchmarks (speed and quality figures, not tests): `python -m bench` writes bench/results/RESULTS.md.

A benchmark is a module `bench/<name>.py` with `run(out_dir: Path) -> list[Section]` (see bench/report.py).
"""
