"""What the synthesizer understood of a transcript and its voice clips, as text for the CLI and the app."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def describe_input(transcript: str, voices: Mapping[str, str | Path], source: str = "transcript") -> str:
    """Parse a transcript and load its voices; describe turns, phones, stage directions and voices.

    Args:
        transcript: the dialogue text, one turn per line (`[S1] text` or `Name: text`).
        voices: speaker -> voice clip path; may be empty (then only the text is checked).
        source: how to name the transcript in the report (a file name, "editor").

    Returns:
        A multi-line, human-readable report.

    Raises:
        UserInputError: anything wrong with the transcript or a voice clip, with a message saying how to fix it.
    """
    from engine.audio import load_voice_prompt
    from engine.denoise import clean_up
    from engine.text.normalize import normalize_text
    from engine.text.phonemize import phonemize
    from engine.text.transcript import check_voices, parse_transcript, speakers

    turns = parse_transcript(transcript)
    names = speakers(turns)
    lines = [f"{source}: {len(turns)} turns, {len(names)} speakers ({', '.join(names)})"]
    for number, turn in enumerate(turns, 1):
        normalized = normalize_text(turn.text)
        phones = phonemize(normalized.text)
        shown = " ".join(phones[:24]) + (" ..." if len(phones) > 24 else "")
        lines.append(f"  turn {number} (line {turn.line}) {turn.speaker}: {normalized.text}")
        lines.append(f"      {len(phones)} phones: {shown}")
        lines += [f"      stage direction, not spoken: ({d})" for d in turn.directions]
        lines += [f"      note: {note}" for note in normalized.notes]
    if not voices:
        lines.append("no voices given: give each speaker a voice clip to generate speech")
        return "\n".join(lines)
    lines += [f"warning: {warning}" for warning in check_voices(turns, voices)]
    for speaker, path in voices.items():
        path = Path(path)
        prompt = clean_up(load_voice_prompt(path, name=f"{speaker}'s voice ({path.name})"))
        lines.append(f"  voice {speaker}: {path.name} -> {prompt.duration:.1f} s at {prompt.sample_rate} Hz")
        lines += [f"      {note}" for note in prompt.notes]
    return "\n".join(lines)
