"""The demo registry: demo folders resolve to built-in voice clips, and broken demos are reported."""

import json
import shutil
from pathlib import Path

import pytest
import soundfile as sf

from engine.data.demo_voices import VOICES, make_voice
from engine.demos import VOICES_DIR, Demo, demo_voice_words, demo_voices, list_demos
from engine.text.transcript import check_voices, parse_transcript, speakers


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


def test_shipped_voices_are_short_distinct_clips():
    voices = demo_voices()
    records = json.loads((VOICES_DIR / "voices.json").read_text(encoding="utf-8"))
    assert 4 <= len(voices) <= 6 and set(voices) == set(records)
    total_bytes = 0
    for name, path in voices.items():
        info = sf.info(str(path))
        assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16"), name
        assert 4.0 <= info.duration <= 8.0, (name, info.duration)
        assert records[name]["commands"][0].split()[0] in ("espeak-ng", "flite"), name
        total_bytes += path.stat().st_size
    assert total_bytes < 1_000_000


@pytest.mark.skipif(
    shutil.which("espeak-ng") is None
    or not Path("/usr/share/mbrola/us1").exists()
    or shutil.which("sox") is None,
    reason="needs espeak-ng, mbrola-us1 and sox (bash install.sh --dev)",
)
def test_voice_script_remakes_a_shipped_clip_exactly(tmp_path):
    voice = next(v for v in VOICES if v.name == "us1-female")
    record = make_voice(voice, tmp_path)
    assert record == json.loads((VOICES_DIR / "voices.json").read_text(encoding="utf-8"))[voice.name]
    assert (tmp_path / "us1-female.wav").read_bytes() == (VOICES_DIR / "us1-female.wav").read_bytes()


def test_shipped_demos_parse_and_have_a_voice_per_speaker():
    demos = list_demos()
    assert len(demos) >= 3
    built_in = set(demo_voices().values())
    for demo in demos:
        turns = parse_transcript(demo.transcript)
        assert 3 <= len(turns) <= 8, demo.name
        assert 2 <= len(speakers(turns)) <= 3, demo.name
        assert set(speakers(turns)) == set(demo.voices), demo.name
        assert set(demo.voices.values()) <= built_in
        assert check_voices(turns, demo.voices) == []
        assert demo.title and demo.title != demo.name


def test_every_built_in_voice_has_its_words(tmp_path):
    words = demo_voice_words()
    assert set(words) == set(demo_voices().values())
    assert all(len(text.split()) >= 5 for text in words.values())
    assert demo_voice_words(tmp_path) == {}  # no voices.json: no words, no error
