"""The app's API endpoints: /check, /generate (the whole dialogue), /stream (chunk by chunk), /compare and
/stop; the same handlers' work as the page's, where a mistake is an error for the client."""

from __future__ import annotations

from typing import Any

import gradio as gr

from engine.ui import handlers, stopping


def api_events(
    transcript: gr.Textbox,
    settings: list[Any],
    speaker_inputs: list[Any],
    generate_outputs: list[Any],
    compare_outputs: list[Any],
    synthesis: dict[str, Any],
) -> None:
    """Wire the endpoints inside the page's Blocks.

    Args:
        transcript: the dialogue box.
        settings: method, iterations, temperature, guidance, seed, voice matching, pace check (the page's
            fields).
        speaker_inputs: every slot's clip, built-in voice, clip words and rate.
        generate_outputs: the player, the report, the four decoding views and the downloads.
        compare_outputs: the five compare players and the table.
        synthesis: the queue settings the syntheses share (one line, engine/ui/waiting.py).
    """
    report = generate_outputs[1]
    api_check, api_generate, api_compare, api_stream, api_stop = (
        gr.Button(visible=False, render=True) for _ in range(5)
    )
    # /stream's outputs: each chunk's wav, then the whole as downloads, and a line or the report.
    chunk_file = gr.File(visible=False, elem_id="api-chunk")
    stream_files = gr.File(file_count="multiple", visible=False, elem_id="api-stream-files")
    stream_text = gr.Markdown(visible=False, elem_id="api-stream-text")
    api_check.click(handlers.check_dialogue, [transcript, *speaker_inputs], report, api_name="check")
    api_generate.click(
        handlers.generate_dialogue,
        [transcript, *settings, *speaker_inputs],
        generate_outputs,
        api_name="generate",
        show_progress_on=generate_outputs[:1],
        **synthesis,
    )
    api_stream.click(
        handlers.stream_dialogue,
        [transcript, *settings, *speaker_inputs],
        [chunk_file, stream_files, stream_text],
        api_name="stream",
        show_progress_on=[stream_text],
        **synthesis,
    )
    method, _, *rest = settings  # a comparison sets the iterations itself
    api_compare.click(
        handlers.compare_iterations,
        [transcript, method, *rest, *speaker_inputs],
        compare_outputs,
        api_name="compare",
        show_progress_on=compare_outputs[-1:],
        **synthesis,
    )
    api_stop.click(stopping.stop_synthesis, None, stream_text, api_name="stop", queue=False)
