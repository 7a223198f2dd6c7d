"""What a benchmark returns (sections of tables, figures and notes) and how RESULTS.md is written from it."""

import os
import platform
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

Cell = str | int | float | None


@dataclass(frozen=True)
class Table:
    """A table of figures; floats are printed with `float_format`, None as an empty cell."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    caption: str = ""
    float_format: str = ".3g"

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"Row {row!r} has {len(row)} cells for {len(self.columns)} columns.")


@dataclass(frozen=True)
class Figure:
    """A PNG saved in the results directory (use `save_figure`)."""

    path: Path
    caption: str = ""


@dataclass(frozen=True)
class Section:
    """One heading of RESULTS.md: a paragraph of text (how it was measured), then tables and figures."""

    title: str
    text: str = ""
    items: tuple[Table | Figure, ...] = field(default_factory=tuple)


def save_figure(fig: Any, out_dir: Path, name: str, caption: str = "") -> Figure:
    """Save a matplotlib figure as `out_dir/name.png`, close it, and return it as a Figure item.

    Args:
        fig: a matplotlib Figure.
        out_dir: the results directory given to the benchmark's `run`.
        name: file stem, unique within the run (e.g. "codec_wer_by_levels").
        caption: shown under the image.
    """
    import matplotlib.pyplot as plt

    path = Path(out_dir) / f"{name}.png"
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return Figure(path=path, caption=caption)


def _format_cell(value: Cell, float_format: str) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return format(value, float_format)
    return str(value).replace("|", "\\|").replace("\n", " ")


def table_markdown(table: Table) -> str:
    """The table as GitHub markdown."""
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += [
        "| " + " | ".join(_format_cell(c, table.float_format) for c in row) + " |" for row in table.rows
    ]
    if table.caption:
        lines = [f"*{table.caption}*", ""] + lines
    return "\n".join(lines)


def section_markdown(section: Section, out_dir: Path) -> str:
    """A section as markdown; figure paths are written relative to `out_dir`, where RESULTS.md lives."""
    parts = [f"## {section.title}"]
    if section.text:
        parts.append(section.text.strip())
    for item in section.items:
        if isinstance(item, Table):
            parts.append(table_markdown(item))
        else:
            rel = os.path.relpath(item.path, out_dir)
            parts.append(
                f"![{item.caption or item.path.stem}]({rel})"
                + (f"\n\n*{item.caption}*" if item.caption else "")
            )
    return "\n\n".join(parts)


def _read_proc(path: str, key: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def machine_lines(repo: Path) -> list[str]:
    """Where and when the figures were measured: CPU, cores, RAM, Python/torch, git commit, date (UTC)."""
    cpu = _read_proc("/proc/cpuinfo", "model name") or platform.processor() or "unknown CPU"
    mem_kb = _read_proc("/proc/meminfo", "MemTotal")
    ram = f"{int(mem_kb.split()[0]) / 2**20:.1f} GiB" if mem_kb else "unknown"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        import torch

        torch_line = f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    except ImportError:
        torch_line = "torch not installed"
    commit = _git(repo, "rev-parse", "--short", "HEAD") or "unknown (not a git checkout)"
    if _git(repo, "status", "--porcelain", "--untracked-files=no"):
        commit += " (with uncommitted changes)"
    return [
        f"- Machine: {cpu}, {os.cpu_count()} logical cores ({usable} usable), {ram} RAM",
        f"- Software: Python {platform.python_version()}, {torch_line}, {platform.system()} {platform.release()}",
        f"- Commit: {commit}",
        f"- Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
    ]


def _git(repo: Path, *args: str) -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(repo), *args], check=False, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def write_part(out_dir: Path, repo: Path, name: str, sections: list[Section], seconds: float) -> Path:
    """Write one benchmark's sections to `out_dir/parts/<name>.md`, stamped with its own commit and date,
    so that re-running one benchmark (`python -m bench --only NAME`) keeps the others' figures.

    Returns:
        The path of the part.
    """
    parts_dir = Path(out_dir) / "parts"
    parts_dir.mkdir(parents=True, exist_ok=True)
    stamp = {line.split(":", 1)[0][2:]: line.split(":", 1)[1].strip() for line in machine_lines(repo)}
    head = f"*`{name}`: measured {stamp['Date']} at commit {stamp['Commit']}, in {seconds:.0f} s.*"
    body = "\n\n".join(section_markdown(s, Path(out_dir)) for s in sections)
    path = parts_dir / f"{name}.md"
    path.write_text(head + "\n\n" + body + "\n")
    return path


def write_results(out_dir: Path, repo: Path, names: list[str], notes: list[str]) -> Path:
    """Write `out_dir/RESULTS.md`: the machine header, `notes`, then the part of every benchmark in `names`
    (in that order) written so far by `write_part`; a benchmark never measured is listed as such.

    Returns:
        The path of RESULTS.md.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    parts = ["# Benchmark results", "\n".join(machine_lines(repo))]
    missing = [n for n in names if not (out_dir / "parts" / f"{n}.md").is_file()]
    if missing:
        notes = [*notes, f"Not measured yet: {', '.join(missing)}."]
    if notes:
        parts.append("\n".join(f"- {n}" for n in notes))
    parts += [(out_dir / "parts" / f"{n}.md").read_text().strip() for n in names if n not in missing]
    path = out_dir / "RESULTS.md"
    path.write_text("\n\n".join(parts) + "\n")
    return path
