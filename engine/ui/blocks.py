"""The Gradio page: dialogue editor, one voice per speaker, and what the synthesizer understood."""

from __future__ import annotations

import gradio as gr

from engine.errors import UserInputError
from engine.input_report import describe_input

SPEAKERS = ("S1", "S2", "S3", "S4")
EXAMPLE = "[S1] Hi, did you get the 3 tickets for Saturday?\n[S2] (laughs) I did, and they cost $42.50!"


def check_dialogue(transcript: str, *voice_files: str | None) -> str:
    """Gradio handler: report the parsed dialogue, or show a readable error in the page."""
    voices = {speaker: path for speaker, path in zip(SPEAKERS, voice_files) if path}
    try:
        return "```\n" + describe_input(transcript or "", voices, source="dialogue") + "\n```"
    except UserInputError as err:
        raise gr.Error(str(err)) from None


def build_app() -> gr.Blocks:
    with gr.Blocks(title="dialogue-synth") as app:
        gr.Markdown("# dialogue-synth\nWrite a dialogue, give each speaker a voice clip (3-15 s), check it.")
        transcript = gr.Dialogue(
            value=EXAMPLE, type="text", speakers=list(SPEAKERS), label="Dialogue",
            info="One turn per line: [S1] text, or Name: text. (stage directions) are not spoken.",
        )
        with gr.Row():
            voices = [
                gr.Audio(sources=["upload", "microphone"], type="filepath", label=f"Voice of {speaker}")
                for speaker in SPEAKERS
            ]
        check = gr.Button("Check", variant="primary")
        report = gr.Markdown(label="What was understood")
        check.click(check_dialogue, inputs=[transcript, *voices], outputs=report)
    return app
