"""The demo registry: demo folders resolve to built-in voice clips, and broken demos are reported."""

import json
from pathlib import Path

import pytest

from engine.demos import Demo, demo_voices, list_demos


def _make_demo(root: Path, name: str, voices: dict[str, str], text: str = "[S1] Hi.\n[S2] Hello.") -> None:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "transcript.txt").write_text(text, encoding="utf-8")
    (folder / "demo.json").write_text(json.dumps({"title": name.title(), "voices": voices}), encoding="utf-8")


def test_demo_folders_resolve_to_voice_clips(tmp_path):
    voices_dir = tmp_path / "voices"
    voices_dir.mkdir()
    for name in ("bob", "amy"):
        (voices_dir / f"{name}.wav").write_bytes(b"RIFF")
    (voices_dir / "voices.json").write_text("{}")  # not a voice
    _make_demo(tmp_path / "demos", "podcast", {"S1": "amy", "S2": "bob"})
    _make_demo(tmp_path / "demos", "game", {"S1": "bob"}, "[S1] Halt!")
    (tmp_path / "demos" / "notes").mkdir()  # a folder without demo.json is not a demo

    assert list(demo_voices(voices_dir)) == ["amy", "bob"]
    demos = list_demos(tmp_path / "demos", voices_dir)
    assert [d.name for d in demos] == ["game", "podcast"]
    podcast = demos[1]
    assert podcast == Demo(
        "podcast",
        "Podcast",
        "[S1] Hi.\n[S2] Hello.\n",
        {"S1": voices_dir / "amy.wav", "S2": voices_dir / "bob.wav"},
    )


def test_demo_with_unknown_voice_names_it(tmp_path):
    (tmp_path / "voices").mkdir()
    _make_demo(tmp_path / "demos", "broken", {"S1": "nobody"})
    with pytest.raises(ValueError, match="nobody"):
        list_demos(tmp_path / "demos", tmp_path / "voices")


def test_missing_demo_folder_gives_no_demos(tmp_path):
    assert list_demos(tmp_path / "absent", tmp_path) == []
