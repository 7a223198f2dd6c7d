"""The README's command-line and Python examples run as written (issue 23, point 8; its API example runs in
tests/test_api.py against the app): the shell lines in a folder holding a clip named my_voice.wav, the
Python block from the project folder."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.app_server import ROOT
from tests.conftest import espeak_to_wav

README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    start = README.index(f"### {title}\n")
    return README[start : README.index("\n#", start + 1)]  # to the next heading


def test_the_readme_command_lines_run(tmp_path):
    lines = [
        line.strip()
        for line in section("Command line").splitlines()
        if line.startswith("    ") and line.strip()
    ]
    assert lines[0].startswith("python3 -m engine --help") and any("generate --demo" in ln for ln in lines)
    espeak_to_wav("This is my own voice, recorded for the dialogue test.", tmp_path / "my_voice.wav")
    shell = "set -e\n" + "\n".join(lines)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PATH": os.path.dirname(sys.executable) + ":" + os.environ["PATH"],
    }
    done = subprocess.run(
        ["bash", "-c", shell], check=False, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "podcast.mp3").stat().st_size > 10_000 and (
        tmp_path / "out.wav"
    ).stat().st_size > 10_000
    assert "S2" in done.stdout and "my_voice.wav" in done.stdout  # check says which clip each speaker has


def test_the_readme_python_example_runs(monkeypatch):
    code = re.search(r"```python\n(.*?)```", section("Python"), re.DOTALL).group(1)
    monkeypatch.chdir(ROOT)  # its voice paths are the project's
    namespace: dict = {}
    exec(compile(code, "README.md (Python example)", "exec"), namespace)  # noqa: S102  (the README's own code)
    result = namespace["result"]
    assert [turn.speaker for turn in result.turns] == ["S1", "S2"] and result.duration_s > 1.0
    assert len(result.audio) == round(result.duration_s * result.sample_rate)
