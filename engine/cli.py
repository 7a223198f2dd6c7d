"""Command line: `dialogue-synth check TRANSCRIPT --voice S1=a.wav ...` reports what was understood;
`dialogue-synth generate TRANSCRIPT --voice S1=a.wav --voice S2=b.mp3 -o out.wav` synthesizes the dialogue;
`--demo NAME` takes a ready dialogue of demos/ instead, and `--voice S1=us1-female` a built-in voice; `--stream`
writes the audio chunk by chunk as it is generated."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from engine import denoise
from engine.errors import SynthesisCancelled, UserInputError


def _speaker_pairs(values: Sequence[str], option: str, form: str, example: str, what: str) -> dict[str, str]:
    """Turn `SPEAKER=VALUE` arguments of `option` into {speaker: value}.

    Args:
        values: the arguments as given.
        option, form, example: the option's name, its form and how right ones look, for messages
            ("--voice", "SPEAKER=FILE", "--voice S1=alice.wav").
        what: what one speaker gets once, for messages ("one voice file per speaker").

    Raises:
        UserInputError: an argument without `=` or a value, or a speaker named twice.
    """
    pairs: dict[str, str] = {}
    for value in values:
        speaker, sep, given = value.partition("=")
        speaker, given = speaker.strip(), given.strip()
        if not sep or not speaker or not given:
            raise UserInputError(f"{option} {value!r} is not {form}; write it like {example}.")
        if speaker in pairs:
            raise UserInputError(f"{option} names {speaker} twice; give {what}.")
        pairs[speaker] = given
    return pairs


def parse_voice_args(values: Sequence[str]) -> dict[str, Path]:
    """Turn `--voice S1=a.wav` arguments into {speaker: path} (a built-in voice's name gives its clip)."""
    example = "--voice S1=alice.wav or --voice 'Alice=clips/alice.mp3'"
    pairs = _speaker_pairs(values, "--voice", "SPEAKER=FILE", example, "one voice file per speaker")
    return {speaker: _voice_path(path) for speaker, path in pairs.items()}


def parse_voice_text_args(values: Sequence[str]) -> dict[str, str]:
    """Turn `--voice-text 'S1=what the clip says'` arguments into {speaker: words}."""
    example = "--voice-text 'S1=Hello, this is my voice.' with the words the clip says"
    return _speaker_pairs(values, "--voice-text", "SPEAKER=WORDS", example, "one text per voice clip")


def _voice_path(value: str) -> Path:
    """A file path, or the name of a built-in voice of assets/voices/ ("us1-female") when no such file exists."""
    path = Path(value)
    if path.exists() or path.suffix:
        return path
    from engine.demos import demo_voices

    return demo_voices().get(value, path)


def demo_input(name: str) -> tuple[str, dict[str, Path]]:
    """The transcript and voices of the ready dialogue `name` (a folder of demos/)."""
    from engine.demos import list_demos

    demos = {d.name: d for d in list_demos()}
    if name not in demos:
        raise UserInputError(f"There is no demo {name!r}; the demos are: {', '.join(demos) or 'none'}.")
    return demos[name].transcript, dict(demos[name].voices)


def dialogue_input(args: argparse.Namespace) -> tuple[str, str, dict[str, Path]]:
    """(transcript text, where it came from, voices) from a transcript file or --demo, with --voice on top."""
    if args.demo and args.transcript:
        raise UserInputError("Give a transcript file or --demo NAME, not both.")
    if args.demo:
        transcript, voices = demo_input(args.demo)
        source = f"demo {args.demo}"
    elif args.transcript:
        transcript, voices, source = read_transcript(args.transcript), {}, str(args.transcript)
    else:
        raise UserInputError(
            "Give the dialogue: a transcript file (one turn per line, '[S1] text'), or --demo NAME."
        )
    voices.update(parse_voice_args(args.voice))
    return transcript, source, voices


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


def check(args: argparse.Namespace) -> str:
    """Parse a transcript (file or demo) and its voice clips; return the report of what was understood."""
    from engine.input_report import describe_input

    transcript, source, voices = dialogue_input(args)
    return describe_input(transcript, voices, source)


def generate(args: argparse.Namespace) -> str:
    """Synthesize the dialogue of `args.transcript` into `args.output`, with a progress bar on stderr; with
    `args.stream`, chunk by chunk, each written to the file (or to stdout for "-") as soon as it is ready.

    Returns:
        The report: notes, per-stage timings, real-time factor and the file written.

    Raises:
        UserInputError: bad input (nothing is left written).
        SynthesisCancelled: Ctrl-C during --stream (what was generated so far stays written).
    """
    # OpenMP threads that spin while they wait make torch 10x slower when other processes share the cores
    # (measured here: a d=256x6 forward pass 2.8 s with 2 spinning threads, 0.3 s passive, 0.26 s on 1
    # thread). Only takes effect before torch is imported, hence here.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from tqdm import tqdm

    transcript, _, voices = dialogue_input(args)
    voice_texts = parse_voice_text_args(args.voice_text)
    if str(args.output) == "-" and not args.stream:
        raise UserInputError("-o - (wav on standard output) needs --stream.")
    # Shown at once: importing torch and loading the models takes seconds before the first stage reports.
    bar = tqdm(
        total=1000, desc="starting", bar_format="{l_bar}{bar}| {elapsed}", file=sys.stderr, mininterval=0
    )

    def show(stage: str, fraction: float) -> None:
        bar.set_description_str(stage, refresh=False)
        bar.n = round(fraction * 1000)
        bar.refresh()  # every stage is drawn, however fast it passes

    options = {
        "method": args.method,
        "iterations": args.iterations,
        **({} if args.temperature is None else {"temperature": args.temperature}),
        "guidance": args.guidance,
        "seed": args.seed,
        "rate": args.rate,
        "voice_match": args.voice_match,
        "pace_check": args.pace_check,
        "voice_texts": voice_texts,
        "keep_trace": False,
    }
    try:
        from engine.audio import WRITABLE_FORMATS, AudioInputError
        from engine.pipeline import DialogueSynthesizer

        if str(args.output) != "-" and args.output.suffix.lstrip(".").lower() not in WRITABLE_FORMATS:
            raise AudioInputError(
                f"Cannot write '{args.output.name}': use a name ending in .wav or .mp3 (or .flac, .ogg)."
            )
        if args.threads is not None:
            import torch

            torch.set_num_threads(max(1, args.threads))
        codec = None
        if args.vocoder != "world":
            from engine.codec.base import load_codec

            codec = load_codec(vocoder=args.vocoder, vocoder_path=args.vocoder_checkpoint)
        synth = DialogueSynthesizer(codec=codec, acoustic=args.acoustic, denoise=args.denoise)
        if args.stream:
            return _stream_to(args.output, synth.stream(transcript, voices, show, keep=False, **options), bar)
        result = synth.synthesize(transcript, voices, show, **options)
    except BaseException:
        bar.leave = False  # clear the bar: the error message follows
        raise
    finally:
        bar.close()
    from engine.audio import write_audio

    write_audio(args.output, result.audio, result.sample_rate)
    lines = _report(
        result.notes, result.settings, result.trace.forward_passes, result.timings, result.duration_s
    )
    lines.append(f"wrote {args.output} ({len(result.turns)} turns, {result.duration_s:.1f} s)")
    return "\n".join(lines)


def _stream_to(output: Path, stream, bar) -> str:
    """Write each chunk of `stream` to `output` as it comes; the report of `generate`."""
    from engine.errors import SynthesisCancelled
    from engine.stream_writer import StreamWriter

    writer = None
    try:
        for chunk in stream:
            if writer is None:
                writer = StreamWriter(output, chunk.sample_rate)
            writer.write(chunk.audio)
            a, b = chunk.first_turn + 1, chunk.first_turn + len(chunk.turns)
            bar.write(
                f"chunk {chunk.index + 1}{f'/{chunk.n_chunks}' if chunk.n_chunks else ''}: "
                f"turn{f's {a}-{b}' if b > a else f' {a}'} of "
                f"{chunk.n_turns} written, {chunk.end_s:.1f} s of audio",
                file=sys.stderr,
            )
    except KeyboardInterrupt:
        if writer is None:
            raise SynthesisCancelled("stopped before any audio was written") from None
        writer.close()
        raise SynthesisCancelled(f"stopped; {output} holds the first {writer.seconds:.1f} s") from None
    except BaseException:
        if writer is not None:
            writer.close()
            if str(output) != "-":
                Path(output).unlink(missing_ok=True)  # an error leaves no half-written file behind
        raise
    assert writer is not None
    writer.close()
    timings = stream.timings
    lines = _report(stream.notes, stream.settings, stream.forward_passes, timings, stream.audio_seconds)
    lines.insert(-1, f"first audio after {timings['first_audio']:.2f} s ({stream.n_chunks} chunks)")
    lines.append(
        f"wrote {output} ({stream.n_turns} turns, {stream.audio_seconds:.1f} s, as it was generated)"
    )
    return "\n".join(lines)


def _report(notes, settings, forward_passes: int, timings: dict[str, float], seconds: float) -> list[str]:
    """The lines `generate` prints: notes, settings, tempos, time per stage, the real-time factor."""
    lines = [f"note: {note}" for note in notes]
    lines.append(
        f"{settings.method}, {settings.iterations} iterations ({forward_passes} forward passes), "
        f"temperature {settings.temperature:g}, guidance {settings.guidance:g}, seed {settings.seed}, "
        f"voice matching {settings.voice_match:g}, pace check {'on' if settings.pace_check else 'off'}"
    )
    for pairs, source in (
        (settings.tempos, "words"),
        (settings.heard_tempos, "phones heard by the recognizer"),
    ):
        if pairs:
            tempos = ", ".join(f"{name} x{tempo:.2f}" for name, tempo in pairs)
            lines.append(f"tempo measured on the voice clips' {source}: {tempos}")
    stages = ("parse", "load", "prompts", "t2s", "acoustic", "codec_decode", "assemble")
    lines.append("time per stage: " + ", ".join(f"{s} {timings[s]:.2f} s" for s in stages))
    lines.append(
        f"total {timings['total']:.2f} s for {seconds:.2f} s of audio: "
        f"real-time factor {timings['total'] / max(seconds, 1e-9):.2f}"
    )
    return lines


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dialogue-synth", description="Dialogue speech synthesis with parallel decoding."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check_cmd = commands.add_parser("check", help="parse a transcript and voice clips and report them")
    check_cmd.add_argument(
        "transcript", type=Path, nargs="?", help="text file: one turn per line, '[S1] text' or 'Name: text'"
    )
    check_cmd.add_argument("--demo", help="a ready dialogue of demos/ instead of a transcript file")
    check_cmd.add_argument(
        "--voice", action="append", default=[], metavar="SPEAKER=FILE", help="voice clip for a speaker"
    )
    gen = commands.add_parser("generate", help="synthesize a dialogue into a wav or mp3 file")
    gen.add_argument(
        "transcript", type=Path, nargs="?", help="text file: one turn per line, '[S1] text' or 'Name: text'"
    )
    gen.add_argument("--demo", help="a ready dialogue of demos/ (its transcript and voices)")
    gen.add_argument(
        "--voice",
        action="append",
        default=[],
        metavar="SPEAKER=FILE",
        help="voice clip (3-15 s) of a speaker, or the name of a built-in voice (e.g. us1-female)",
    )
    gen.add_argument(
        "--voice-text",
        action="append",
        default=[],
        metavar="SPEAKER=WORDS",
        help="what a speaker's voice clip says (optional): turns then take as long as that speaker would; "
        "built-in voices need none",
    )
    gen.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path("dialogue.wav"),
        help="output .wav or .mp3 (with --stream, - writes wav to standard output, e.g. for `| aplay`)",
    )
    gen.add_argument(
        "--stream",
        action="store_true",
        help="generate chunk by chunk and write each as soon as it is ready (the first turn within about a "
        "second; memory stays that of one chunk however long the dialogue; Ctrl-C keeps what was written)",
    )
    gen.add_argument("--method", default="group", help="group (default, fastest), soundstorm or spans")
    gen.add_argument("--iterations", type=int, help="main decoding steps, 1-64 (default: the method's)")
    gen.add_argument("--seed", type=int, default=0, help="the same seed gives the same audio")
    gen.add_argument(
        "--temperature", type=float, help="token sampling temperature (0 = greedy; default: the decoders')"
    )
    gen.add_argument("--guidance", type=float, help="classifier-free guidance weight (default: the method's)")
    gen.add_argument("--rate", type=float, default=1.0, help="speaking rate factor, 0.5-2.0")
    gen.add_argument(
        "--voice-match",
        type=float,
        help="0-1: how far each turn is pulled toward its voice clip after the model (0 = off; default "
        "the pipeline's)",
    )
    gen.add_argument(
        "--pace-check",
        action=argparse.BooleanOptionalAction,
        help="make a turn again, once, when it is heard more than 20 %% off its voice clip's pace (every turn "
        "within 25 %% on the real-voice benchmark, about one turn in six decoded twice; on by default, "
        "--no-pace-check turns it off)",
    )
    gen.add_argument(
        "--denoise",
        choices=denoise.MODES,
        default=denoise.DEFAULT_MODE,
        help=f"remove background noise from the voice clips: auto (the noisy ones), on or off (default "
        f"{denoise.DEFAULT_MODE})",
    )
    gen.add_argument(
        "--acoustic", type=Path, help="acoustic checkpoint (default assets/acoustic/acoustic.pt)"
    )
    gen.add_argument(
        "--vocoder",
        choices=("world", "neural"),
        default="world",
        help="what voices the codec's tokens: world (default, 16 kHz) or neural (the trained neural decoder, "
        "24 kHz; needs its export)",
    )
    gen.add_argument(
        "--vocoder-checkpoint", type=Path, help="neural decoder export (default assets/vocoder/vocoder.pt)"
    )
    gen.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's choice)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "check":
            print(check(args))
        elif args.command == "generate":  # with wav on stdout, the report goes to stderr
            print(generate(args), file=sys.stderr if str(args.output) == "-" else sys.stdout)
    except UserInputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except SynthesisCancelled as stop:
        print(f"{stop}", file=sys.stderr)
        return 130
    return 0
