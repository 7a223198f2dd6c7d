"""The `check` command: what it reports, and readable errors instead of tracebacks."""

from engine.cli import main
from tests.conftest import espeak_to_wav


def test_check_reports_turns_voices_and_notes(tmp_path, capsys):
    transcript = tmp_path / "dialogue.txt"
    transcript.write_text("[S1] Did you get the 3 tickets?\n[S2] (laughs) Yes, for $5.\n", encoding="utf-8")
    voice = espeak_to_wav("This is a short voice prompt for the test.", tmp_path / "v.wav")

    assert main(["check", str(transcript), "--voice", f"S1={voice}", "--voice", f"S2={voice}"]) == 0

    out = capsys.readouterr().out
    assert "2 turns, 2 speakers (S1, S2)" in out
    assert "three tickets" in out
    assert "five dollars" in out
    assert "stage direction, not spoken: (laughs)" in out
    assert "voice S2: v.wav" in out and "16000 Hz" in out


def test_missing_voice_is_a_readable_error(tmp_path, capsys):
    transcript = tmp_path / "dialogue.txt"
    transcript.write_text("[S1] Hello.\n[S2] Hi.\n", encoding="utf-8")
    voice = espeak_to_wav("This is a short voice prompt for the test.", tmp_path / "v.wav")

    assert main(["check", str(transcript), "--voice", f"S1={voice}"]) == 2

    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert "S2" in err and "--voice S2=" in err
    assert "Traceback" not in err


def test_bad_voice_argument_and_missing_transcript(tmp_path, capsys):
    transcript = tmp_path / "dialogue.txt"
    transcript.write_text("[S1] Hello.\n", encoding="utf-8")
    assert main(["check", str(transcript), "--voice", "S1"]) == 2
    assert "SPEAKER=FILE" in capsys.readouterr().err

    assert main(["check", str(tmp_path / "nope.txt")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_non_utf8_transcript(tmp_path, capsys):
    transcript = tmp_path / "dialogue.txt"
    transcript.write_bytes("[S1] caf\xe9\n".encode("latin-1"))
    assert main(["check", str(transcript)]) == 2
    assert "UTF-8" in capsys.readouterr().err


def test_demo_and_built_in_voice_names(capsys):
    from engine.demos import list_demos

    demo = list_demos()[0]
    assert main(["check", "--demo", demo.name]) == 0
    out = capsys.readouterr().out
    assert f"demo {demo.name}" in out and all(p.name in out for p in demo.voices.values())
    # A built-in voice name overrides the demo's voice of that speaker.
    speaker = min(demo.voices)
    assert main(["check", "--demo", demo.name, "--voice", f"{speaker}=us2-male"]) == 0
    assert "us2-male.wav" in capsys.readouterr().out
    assert main(["check", "--demo", "no-such-demo"]) == 2
    assert "the demos are: " in capsys.readouterr().err
    assert main(["check"]) == 2
    assert "--demo NAME" in capsys.readouterr().err
