"""The timing helpers benchmarks use (StageTimer, peak memory) and the benchmark runner and report."""

import gc
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from engine.eval.timing import StageTimer, peak_memory_mb, reset_peak_memory

# --- timing -----------------------------------------------------------------------------------------------


def test_stage_timer_accumulates_and_sums():
    timer = StageTimer()
    for _ in range(2):
        with timer.stage("a"):
            time.sleep(0.02)
    with timer.stage("b"):
        time.sleep(0.01)
    assert timer.calls == {"a": 2, "b": 1}
    assert timer.seconds["a"] >= 0.04 and timer.seconds["b"] >= 0.01
    assert timer.total_seconds == pytest.approx(timer.seconds["a"] + timer.seconds["b"])
    rtf = timer.rtf(audio_seconds=2.0)
    assert rtf["a"] == pytest.approx(timer.seconds["a"] / 2) and rtf["total"] == pytest.approx(
        timer.total_seconds / 2
    )


def test_stage_timer_counts_a_failing_stage_and_reserves_total():
    timer = StageTimer()
    with pytest.raises(RuntimeError), timer.stage("x"):
        raise RuntimeError("boom")
    assert timer.calls["x"] == 1
    with pytest.raises(ValueError), timer.stage("total"):
        pass
    with pytest.raises(ValueError):
        timer.rtf(0)


def test_peak_memory_sees_a_large_allocation():
    # Earlier tests' garbage freed after the reset would leave room under the mark: collect it first.
    gc.collect()
    reset_peak_memory()
    before = peak_memory_mb()
    block = np.ones(100 * 2**20 // 8)  # 100 MiB, touched
    assert peak_memory_mb() >= before + 90
    del block


# --- benchmark report -------------------------------------------------------------------------------------


def test_bench_report_writes_header_tables_and_figures(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bench.report import Section, Table, save_figure, write_part, write_results

    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    figure = save_figure(fig, tmp_path, "curve", caption="a line")
    table = Table(columns=("levels", "WER"), rows=((1, 0.61234), (8, None)))
    write_part(tmp_path, Path.cwd(), "codec", [Section("Codec", "How.", (table, figure))], 12.3)
    path = write_results(tmp_path, Path.cwd(), ["codec", "t2s"], ["note"])
    text = path.read_text()
    assert "- Machine: " in text and "RAM" in text and "- Commit: " in text and "- Date: " in text
    assert "*`codec`: measured " in text and "in 12 s.*" in text and "Not measured yet: t2s." in text
    assert "| levels | WER |" in text and "| 1 | 0.612 |" in text and "| 8 |  |" in text
    assert "![a line](curve.png)" in text and (tmp_path / "curve.png").stat().st_size > 1000
    with pytest.raises(ValueError):
        Table(columns=("a",), rows=((1, 2),))


def test_bench_without_modules_still_writes_the_header(tmp_path, monkeypatch):
    import bench.__main__ as runner

    # The real benchmarks take minutes: pretend none exist yet.
    monkeypatch.setattr(runner, "available", list)
    assert runner.main(["--out", str(tmp_path)]) == 0
    text = (tmp_path / "RESULTS.md").read_text()
    assert "- Machine: " in text and "No benchmark modules yet" in text
    assert all(name in text for name in runner.PLANNED)
    assert runner.main(["--out", str(tmp_path), "--only", "no_such_bench"]) == 1


def test_bench_runs_a_module_and_reports_a_failing_one(tmp_path, monkeypatch):
    import types

    import bench.__main__ as runner
    from bench.report import Section, Table

    good = types.ModuleType("bench.fake_good")
    good.run = lambda out_dir: [Section("Fake", "measured nothing", (Table(("a",), ((1.5,),)),))]
    bad = types.ModuleType("bench.fake_bad")

    def fail(out_dir):
        raise RuntimeError("checkpoint missing")

    bad.run = fail
    monkeypatch.setitem(sys.modules, "bench.fake_good", good)
    monkeypatch.setitem(sys.modules, "bench.fake_bad", bad)
    monkeypatch.setattr(runner, "available", lambda: ["fake_good", "fake_bad"])
    assert runner.main(["--out", str(tmp_path)]) == 1
    text = (tmp_path / "RESULTS.md").read_text()
    assert "## Fake" in text and "| 1.5 |" in text
    assert "**Failed:** RuntimeError: checkpoint missing" in text
    # Re-running one benchmark keeps the other's figures.
    good.run = lambda out_dir: [Section("Fake", "measured again", (Table(("a",), ((2.5,),)),))]
    assert runner.main(["--out", str(tmp_path), "--only", "fake_good"]) == 0
    text = (tmp_path / "RESULTS.md").read_text()
    assert "| 2.5 |" in text and "| 1.5 |" not in text and "checkpoint missing" in text


def test_bench_passes_with_speed_only_to_benchmarks_that_take_it(tmp_path, monkeypatch):
    import types

    import bench.__main__ as runner
    from bench.report import Section

    seen = {}
    timed = types.ModuleType("bench.fake_timed")

    def run_timed(out_dir, with_speed=False):
        seen["timed"] = with_speed
        return [Section("Timed", f"with_speed={with_speed}")]

    timed.run = run_timed
    plain = types.ModuleType("bench.fake_plain")
    plain.run = lambda out_dir: seen.setdefault("plain", True) and [Section("Plain")]
    monkeypatch.setitem(sys.modules, "bench.fake_timed", timed)
    monkeypatch.setitem(sys.modules, "bench.fake_plain", plain)
    monkeypatch.setattr(runner, "available", lambda: ["fake_timed", "fake_plain"])
    assert runner.main(["--out", str(tmp_path), "--with-speed"]) == 0
    assert seen == {"timed": True, "plain": True}
    assert "with_speed=True" in (tmp_path / "RESULTS.md").read_text()
