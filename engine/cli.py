"""Command line: `dialogue-synth check TRANSCRIPT --voice S1=a.wav ...` reports what was understood."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from engine.errors import UserInputError


def parse_voice_args(values: Sequence[str]) -> dict[str, Path]:
    """Turn `--voice S1=a.wav` arguments into {speaker: path}.

    Raises:
        UserInputError: an argument without `=`, or a speaker named twice.
    """
    voices: dict[str, Path] = {}
    for value in values:
        speaker, sep, path = value.partition("=")
        speaker, path = speaker.strip(), path.strip()
        if not sep or not speaker or not path:
            raise UserInputError(
                f"--voice {value!r} is not SPEAKER=FILE; write it like --voice S1=alice.wav "
                "or --voice 'Alice=clips/alice.mp3'."
            )
        if speaker in voices:
            raise UserInputError(f"--voice names {speaker} twice; give one voice file per speaker.")
        voices[speaker] = Path(path)
    return voices


def read_transcript(path: Path) -> str:
    """Read a transcript file as UTF-8, with a readable error when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserInputError(f"Transcript {path} does not exist; check the path.") from None
    except UnicodeDecodeError:
        raise UserInputError(
            f"Transcript {path} is not UTF-8 text; save it as UTF-8 (plain text) and try again."
        ) from None
    except OSError as err:
        raise UserInputError(f"Transcript {path} could not be read ({err.strerror}).") from None


def check(transcript_path: Path, voice_args: Sequence[str]) -> str:
    """Parse a transcript file and its voice clips; return the report of what was understood."""
    from engine.input_report import describe_input

    return describe_input(read_transcript(transcript_path), parse_voice_args(voice_args), str(transcript_path))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dialogue-synth", description="Dialogue speech synthesis with parallel decoding."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check_cmd = commands.add_parser("check", help="parse a transcript and voice clips and report them")
    check_cmd.add_argument("transcript", type=Path, help="text file: one turn per line, '[S1] text' or 'Name: text'")
    check_cmd.add_argument(
        "--voice", action="append", default=[], metavar="SPEAKER=FILE", help="voice clip for a speaker"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "check":
            print(check(args.transcript, args.voice))
    except UserInputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0
