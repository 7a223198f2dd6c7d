"""The Gradio page: dialogue editor, voices, decoding settings, generate, the decoding trace, compare, download."""

from __future__ import annotations

import gradio as gr

from engine.acoustic.decoding import DEFAULT_GUIDANCE, DEFAULT_STEPS, DEFAULT_TEMPERATURE
from engine.demos import demo_voices, list_demos
from engine.pipeline import DEFAULT_VOICE_MATCH
from engine.semantic.t2s import MAX_RATE, MIN_RATE
from engine.ui import handlers
from engine.ui.handlers import COMPARE_ITERATIONS, SPEAKERS

EXAMPLE = "[S1] Hi, did you get the 3 tickets for Saturday?\n[S2] (laughs) I did, and they cost $42.50!"
METHOD_LABELS = {"group": "SoundGroup G-IPD", "soundstorm": "SoundStorm MaskGIT", "spans": "MAGNeT spans"}
SYNTHESIS_QUEUE = "synthesis"  # generate and compare share it: one synthesis at a time on the 2 cores


def _defaults_for(method: str) -> tuple[gr.Slider, gr.Slider]:
    """The iterations and guidance a decoder starts from when it is picked."""
    return gr.Slider(value=DEFAULT_STEPS[method]), gr.Slider(value=DEFAULT_GUIDANCE.get(method, 1.0))


def _figure(label: str, elem_id: str) -> gr.Image:
    """An output image for a matplotlib figure (drawn to PNG by the handlers)."""
    return gr.Image(
        label=label, type="numpy", interactive=False, show_label=False, format="png", elem_id=elem_id
    )


def build_app() -> gr.Blocks:
    """The page with its events wired to engine.ui.handlers (models load on the first generation)."""
    demos = list_demos()
    voice_names = list(demo_voices())
    # Every generation leaves audio, images and downloads in gradio's cache: drop them after two hours.
    with gr.Blocks(title="dialogue-synth", delete_cache=(3600, 7200)) as app:
        gr.Markdown(
            "# dialogue-synth\nWrite a dialogue, give each speaker a voice clip (3-15 s: upload, record, or pick "
            "a built-in voice), and generate it. The acoustic tokens are filled in parallel over a few "
            "iterations; below the audio you can watch them being filled in."
        )
        demo_select = gr.Dropdown(
            [(demo.title, demo.name) for demo in demos],
            value=None,
            label="Load a demo dialogue",
            info="Fills in the transcript and the voices.",
            elem_id="demo-select",
        )
        transcript = gr.Dialogue(
            value=EXAMPLE,
            type="text",
            speakers=list(SPEAKERS),
            label="Dialogue",
            info="One turn per line: [S1] text, or Name: text (names take voices S1-S4 in order of first "
            "appearance). (stage directions) are not spoken.",
            max_lines=16,
            elem_id="transcript",
        )
        voices, demo_voice_inputs, voice_texts, rates = [], [], [], []
        with gr.Row():
            for speaker in SPEAKERS:
                with gr.Column(min_width=220):
                    voices.append(
                        gr.Audio(
                            sources=["upload", "microphone"],
                            type="filepath",
                            label=f"Voice of {speaker}",
                            elem_id=f"voice-{speaker}",
                        )
                    )
                    demo_voice_inputs.append(
                        gr.Dropdown(
                            voice_names,
                            value=None,
                            label=f"or a built-in voice for {speaker}",
                            elem_id=f"demo-voice-{speaker}",
                        )
                    )
                    voice_texts.append(
                        gr.Textbox(
                            label=f"What {speaker}'s clip says (optional)",
                            placeholder="The words spoken in the clip",
                            info=f"Makes {speaker}'s timing match the clip (without it, the timing is "
                            "measured on the sounds heard in it). Built-in voices fill it in.",
                            lines=2,
                            max_lines=4,
                            elem_id=f"voice-text-{speaker}",
                        )
                    )
                    rates.append(
                        gr.Slider(
                            MIN_RATE,
                            MAX_RATE,
                            value=1.0,
                            step=0.05,
                            label=f"Speaking rate of {speaker}",
                            elem_id=f"rate-{speaker}",
                        )
                    )
        with gr.Row():
            method = gr.Radio(
                [(label, name) for name, label in METHOD_LABELS.items()],
                value="group",
                label="Decoder",
                elem_id="method",
                scale=3,
            )
            seed = gr.Number(value=0, precision=0, minimum=0, label="Seed", elem_id="seed", scale=1)
        with gr.Row():
            iterations = gr.Slider(
                1,
                16,
                value=DEFAULT_STEPS["group"],
                step=1,
                label="Iterations",
                info="Steps of each group's coarse level (G-IPD) or of the first level (SoundStorm, spans).",
                elem_id="iterations",
            )
            temperature = gr.Slider(
                0.0,
                2.0,
                value=DEFAULT_TEMPERATURE,
                step=0.05,
                label="Temperature",
                info="Sampling temperature of the candidate tokens; 0 is greedy.",
                elem_id="temperature",
            )
            guidance = gr.Slider(
                1.0,
                10.0,
                value=DEFAULT_GUIDANCE["group"],
                step=0.5,
                label="Guidance (CFG weight)",
                info="Classifier-free guidance, annealed to 1; used by MAGNeT spans (3 by default). "
                "Above 1 it doubles the forward passes.",
                elem_id="guidance",
            )
            voice_match = gr.Slider(
                0.0,
                1.0,
                value=DEFAULT_VOICE_MATCH,
                step=0.1,
                label="Voice matching",
                info="After the model: pull each turn's pitch and spectrum toward its voice clip's own frames "
                "(more like the clip, less clear at high values); 0 plays the model's output as it is.",
                elem_id="voice-match",
            )
        with gr.Row():
            check = gr.Button("Check", elem_id="check-btn")
            generate = gr.Button("Generate", variant="primary", elem_id="generate-btn")
            compare = gr.Button("Compare 1, 2, 4, 8, 16 iterations", elem_id="compare-btn")
        with gr.Row():
            audio = gr.Audio(
                label="Dialogue", type="numpy", interactive=False, elem_id="dialogue-audio", scale=3
            )
            downloads = gr.File(
                label="Download (wav, mp3)",
                file_count="multiple",
                interactive=False,
                elem_id="downloads",
                scale=1,
            )
        report = gr.Markdown(label="Report", elem_id="report")
        trace = gr.State(None)
        with gr.Accordion("How the tokens were filled in", open=True):
            fill_in = _figure("Token fill-in (levels x frames)", "fill-in")
            fill_in_iteration = gr.Slider(
                1,
                16,
                value=1,
                step=1,
                label="Iteration",
                interactive=False,
                info="Move to see the grid and the confidence after each decoding iteration.",
                elem_id="fill-in-iteration",
            )
            confidence = _figure("Confidence", "confidence-heatmap")
            spectrogram = _figure("Spectrogram", "spectrogram")
        with gr.Accordion("Compare iterations", open=True):
            with gr.Row(elem_id="compare-results"):
                compare_players = [
                    gr.Audio(
                        label=f"{n} iteration{'s' * (n > 1)}",
                        type="numpy",
                        interactive=False,
                        elem_id=f"compare-{n}",
                        min_width=160,
                    )
                    for n in COMPARE_ITERATIONS
                ]
            compare_table = gr.Markdown(label="Times", elem_id="compare-table")

        speaker_inputs = [*voices, *demo_voice_inputs, *voice_texts, *rates]
        check.click(handlers.check_dialogue, [transcript, *speaker_inputs], report, api_name="check")
        generate.click(
            handlers.generate_dialogue,
            [transcript, method, iterations, temperature, guidance, seed, voice_match, *speaker_inputs],
            [audio, report, fill_in, fill_in_iteration, confidence, spectrogram, downloads, trace],
            api_name="generate",
            concurrency_id=SYNTHESIS_QUEUE,
            concurrency_limit=1,
        )
        compare.click(
            handlers.compare_iterations,
            [transcript, method, temperature, guidance, seed, voice_match, *speaker_inputs],
            [*compare_players, compare_table],
            api_name="compare",
            concurrency_id=SYNTHESIS_QUEUE,
            concurrency_limit=1,
        )
        fill_in_iteration.input(
            handlers.redraw_trace,
            [trace, fill_in_iteration],
            [fill_in, confidence],
            trigger_mode="always_last",
            show_progress="hidden",
            api_visibility="private",
        )
        method.input(_defaults_for, method, [iterations, guidance], api_visibility="private", queue=False)
        demo_select.change(
            handlers.load_demo,
            demo_select,
            [transcript, *voices, *demo_voice_inputs, *voice_texts],
            api_visibility="private",
        )
        for voice, choice, text in zip(voices, demo_voice_inputs, voice_texts, strict=True):
            choice.input(handlers.pick_demo_voice, choice, [voice, text], api_visibility="private")
            # A cleared clip must not fall back to a built-in voice picked earlier, nor keep its words.
            voice.clear(lambda: (None, ""), None, [choice, text], api_visibility="private", queue=False)
    return app
