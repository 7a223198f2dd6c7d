"""The Gradio page: dialogue editor, one voice per speaker, decoding settings, generate and listen."""

from __future__ import annotations

import gradio as gr

from engine.errors import UserInputError
from engine.input_report import describe_input

SPEAKERS = ("S1", "S2", "S3", "S4")
EXAMPLE = "[S1] Hi, did you get the 3 tickets for Saturday?\n[S2] (laughs) I did, and they cost $42.50!"
METHOD_LABELS = {"group": "SoundGroup G-IPD", "soundstorm": "SoundStorm MaskGIT", "spans": "MAGNeT spans"}

_synthesizer = None


def synthesizer():
    """The one DialogueSynthesizer of this process: models load on first use and stay loaded."""
    global _synthesizer
    if _synthesizer is None:
        from engine.pipeline import DialogueSynthesizer

        _synthesizer = DialogueSynthesizer()
    return _synthesizer


def _voices(voice_files: tuple[str | None, ...]) -> dict[str, str]:
    return {speaker: path for speaker, path in zip(SPEAKERS, voice_files) if path}


def check_dialogue(transcript: str, *voice_files: str | None) -> str:
    """Gradio handler: report the parsed dialogue, or show a readable error in the page."""
    try:
        return "```\n" + describe_input(transcript or "", _voices(voice_files), source="dialogue") + "\n```"
    except UserInputError as err:
        raise gr.Error(str(err)) from None


def generate_dialogue(
    transcript: str, method: str, iterations: int, seed: int, *voice_files: str | None,
    progress: gr.Progress = gr.Progress(),  # noqa: B008  (gradio injects the page's progress bar this way)
):
    """Gradio handler: synthesize the dialogue; returns (sample_rate, audio) and a timing summary."""

    def report(stage: str, fraction: float) -> None:
        progress(fraction, desc=stage)

    try:
        result = synthesizer().synthesize(
            transcript or "", _voices(voice_files), method=method, iterations=int(iterations),
            seed=int(seed), progress=report,
        )
    except UserInputError as err:
        raise gr.Error(str(err)) from None
    timings = ", ".join(f"{stage} {seconds:.2f} s" for stage, seconds in result.timings.items())
    summary = (
        f"{len(result.turns)} turns, {result.duration_s:.1f} s of audio; real-time factor "
        f"{result.real_time_factor:.2f}.  \n{timings}"
    )
    return (result.sample_rate, result.audio), summary


def build_app() -> gr.Blocks:
    with gr.Blocks(title="dialogue-synth") as app:
        gr.Markdown(
            "# dialogue-synth\nWrite a dialogue, give each speaker a voice clip (3-15 s), and generate it. "
            "The acoustic tokens are filled in parallel over a few iterations."
        )
        transcript = gr.Dialogue(
            value=EXAMPLE, type="text", speakers=list(SPEAKERS), label="Dialogue",
            info="One turn per line: [S1] text, or Name: text. (stage directions) are not spoken.",
        )
        with gr.Row():
            voices = [
                gr.Audio(sources=["upload", "microphone"], type="filepath", label=f"Voice of {speaker}")
                for speaker in SPEAKERS
            ]
        with gr.Row():
            method = gr.Radio(
                [(label, name) for name, label in METHOD_LABELS.items()], value="group", label="Decoding"
            )
            iterations = gr.Slider(1, 16, value=2, step=1, label="Iterations (coarse level of each group)")
            seed = gr.Number(value=0, precision=0, label="Seed")
        with gr.Row():
            check = gr.Button("Check")
            generate = gr.Button("Generate", variant="primary")
        audio = gr.Audio(label="Dialogue", type="numpy", interactive=False)
        report = gr.Markdown()
        check.click(check_dialogue, inputs=[transcript, *voices], outputs=report)
        generate.click(
            generate_dialogue, inputs=[transcript, method, iterations, seed, *voices], outputs=[audio, report]
        )
    return app
