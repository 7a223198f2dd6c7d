"""Make the built-in demo voices in assets/voices/ from Debian TTS voices: `python -m engine.data.demo_voices`.

Each clip is one engine command followed by one sox command; both are written to assets/voices/voices.json
beside the clips, with the text spoken.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from engine.demos import VOICES_DIR


@dataclass(frozen=True)
class DemoVoice:
    """One built-in voice: the clip's name, who it sounds like, and the engine command that speaks it."""

    name: str
    description: str
    engine: tuple[str, ...]  # the command, with {text} and {wav} to fill in
    text: str


# Default rate and pitch for each, so the voices sound as their makers meant them. All are Debian packages:
# mbrola-us1/us2/en1 (contrib/non-free, through espeak-ng's mb-* voices) and flite.
VOICES = (
    DemoVoice(
        "us1-female",
        "American English, female (mbrola us1 through espeak-ng)",
        ("espeak-ng", "-v", "mb-us1", "-s", "150", "-w", "{wav}", "{text}"),
        "Good morning! I am recording this short clip so that my voice can be used in a dialogue.",
    ),
    DemoVoice(
        "us2-male",
        "American English, male (mbrola us2 through espeak-ng)",
        ("espeak-ng", "-v", "mb-us2", "-s", "150", "-w", "{wav}", "{text}"),
        "Hello there. This is a sample of how I sound when I read a few sentences out loud.",
    ),
    DemoVoice(
        "en1-male",
        "British English, male (mbrola en1 through espeak-ng)",
        ("espeak-ng", "-v", "mb-en1", "-s", "150", "-w", "{wav}", "{text}"),
        "Right then, let me say something clearly, so the machine can copy the way I speak.",
    ),
    DemoVoice(
        "slt-female",
        "American English, female (flite slt)",
        ("flite", "-voice", "slt", "-t", "{text}", "-o", "{wav}"),
        "Thanks for listening. My voice will read one part of the story, and you will hear the rest.",
    ),
    DemoVoice(
        "rms-male",
        "American English, male, deeper (flite rms)",
        ("flite", "-voice", "rms", "-t", "{text}", "-o", "{wav}"),
        "Welcome back to the show. Today we have a lot to talk about, so let us begin.",
    ),
    DemoVoice(
        "kal-male",
        "American English, male (flite kal16)",
        ("flite", "-voice", "kal16", "-t", "{text}", "-o", "{wav}"),
        "Could you tell me the way to the station? I think I took a wrong turn somewhere.",
    ),
)
# -R: repeatable (no random dither), so the same engines give the same bytes. Then 16 kHz mono 16-bit, silence
# trimmed at the start and (reversed) at the end, peak at -3 dBFS.
SOX = "sox -R {raw} -c 1 -b 16 {out} rate 16000 silence 1 0.05 1% reverse silence 1 0.05 1% reverse norm -3"


def _fill(command: tuple[str, ...], values: dict[str, str]) -> list[str]:
    return [part.format(**values) for part in command]


def make_voice(voice: DemoVoice, out_dir: Path) -> dict[str, object]:
    """Speak `voice.text` with its engine and write `out_dir/<name>.wav`.

    Returns:
        The clip's record for voices.json: description, text, the two commands, duration in seconds.
    """
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        engine_cmd = _fill(voice.engine, {"text": voice.text, "wav": str(raw)})
        subprocess.run(engine_cmd, check=True, capture_output=True)
        out = out_dir / f"{voice.name}.wav"
        subprocess.run(
            _fill(tuple(SOX.split()), {"raw": str(raw), "out": str(out)}), check=True, capture_output=True
        )
    seconds = float(
        subprocess.run(["soxi", "-D", str(out)], check=True, capture_output=True, text=True).stdout
    )
    shown_engine = _fill(voice.engine, {"text": voice.text, "wav": "raw.wav"})
    return {
        "file": out.name,
        "description": voice.description,
        "text": voice.text,
        "commands": [
            shlex.join(shown_engine),
            SOX.format(raw="raw.wav", out=out.name),
        ],
        "seconds": round(seconds, 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=VOICES_DIR, help="folder for the clips and voices.json")
    args = parser.parse_args(argv)
    missing = [tool for tool in ("espeak-ng", "flite", "sox", "soxi") if shutil.which(tool) is None]
    if missing:
        raise SystemExit(f"Missing {', '.join(missing)}: run `bash install.sh --corpus` first.")
    args.out.mkdir(parents=True, exist_ok=True)
    records = {}
    for voice in VOICES:
        records[voice.name] = make_voice(voice, args.out)
        print(f"{voice.name}: {records[voice.name]['seconds']:.2f} s")
    (args.out / "voices.json").write_text(json.dumps(records, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
