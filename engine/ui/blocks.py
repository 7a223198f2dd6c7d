"""The Gradio page: dialogue (as text or turn by turn), voice slots, decoding settings, generate, the
decoding views, compare iterations, download; and how it is served (`launch_options`)."""

from __future__ import annotations

from typing import Any

import gradio as gr

from engine.acoustic.decoding import DEFAULT_GUIDANCE, DEFAULT_STEPS, DEFAULT_TEMPERATURE
from engine.demos import DEMOS_DIR, VOICES_DIR, demo_voices, list_demos
from engine.pipeline import DEFAULT_PACE_CHECK, DEFAULT_VOICE_MATCH
from engine.semantic.t2s import MAX_RATE, MIN_RATE
from engine.ui import handlers, stopping
from engine.ui.api_events import api_events
from engine.ui.editor import turn_editor_tab
from engine.ui.handlers import COMPARE_ITERATIONS, OPENING_VOICES
from engine.ui.memory import limit_malloc_arenas
from engine.ui.reports import FORMAT_HELP, reading_summary
from engine.ui.speakers import SHOWN_SLOTS, SLOTS, plan_speakers, slot_heading

EXAMPLE = "[S1] Hi, did you get the 3 tickets for Saturday?\n[S2] (laughs) I did, and they cost $42.50!"
METHOD_LABELS = {"group": "SoundGroup G-IPD", "soundstorm": "SoundStorm MaskGIT", "spans": "MAGNeT spans"}
SYNTHESIS_QUEUE = "synthesis"  # generate and compare share it; synthesis.LINE runs one synthesis at a time
# Synthesis events gradio lets in at once: beyond the running one, they wait in synthesis.LINE, which tells
# each how long (gradio's own estimate averages every past run, whatever its length).
SYNTHESIS_EVENTS = 4
MAX_UPLOAD = "50mb"  # a 30 s clip is at most 12 MB even as 48 kHz stereo float wav
QUEUE_SIZE = 32
CSS = """
#transcript-status, [id^=voice-status-], #run-status { min-height: 1.4em; }
.slot-row { align-items: flex-start; }
.turn-row { align-items: center; gap: 6px; }
.turn-row button { min-width: 36px !important; }
#downloads .filename, #downloads .filename .stem {
  overflow: visible !important; text-overflow: clip !important; white-space: nowrap !important;
  max-width: none !important; min-width: max-content;
}
"""


def launch_options(host: str = "127.0.0.1", port: int = 7860) -> dict[str, Any]:
    """How the page is served (app.py and the tests launch it the same way): the built-in voices reachable
    wherever the app starts, uploads capped at MAX_UPLOAD, the page's style, and gradio's /cancel watched
    so that Stop and an API cancel stop the synthesis itself (engine/ui/stopping.py)."""
    from starlette.middleware import Middleware

    return {
        "server_name": host,
        "server_port": port,
        "allowed_paths": [str(VOICES_DIR), str(DEMOS_DIR)],
        "max_file_size": MAX_UPLOAD,
        "css": CSS,
        "app_kwargs": {"middleware": [Middleware(stopping.CancelWatch)]},
    }


def _defaults_for(method: str) -> tuple[gr.Slider, gr.Slider]:
    """The iterations and guidance a decoder starts from when it is picked."""
    return gr.Slider(value=DEFAULT_STEPS[method]), gr.Slider(value=DEFAULT_GUIDANCE.get(method, 1.0))


def _figure(label: str, elem_id: str) -> gr.Image:
    """An output image for a matplotlib figure (drawn to PNG by the handlers)."""
    return gr.Image(
        label=label,
        type="numpy",
        interactive=False,
        show_label=False,
        format="png",
        elem_id=elem_id,
        buttons=["download", "fullscreen"],
    )


def build_app() -> gr.Blocks:
    """The page with its events wired to engine.ui.handlers (models load on the first generation)."""
    limit_malloc_arenas()  # the handlers run on many threads: see engine/ui/memory.py
    demos = list_demos()
    voice_names = list(demo_voices())
    opening = plan_speakers(EXAMPLE, filled=set(OPENING_VOICES))
    private = {"api_visibility": "private"}  # the page's own events; the API has its own (below)
    quiet = {"show_progress": "hidden", **private}
    # Every generation leaves audio, images and downloads in gradio's cache: drop them after two hours.
    with gr.Blocks(title="dialogue-synth", delete_cache=(3600, 7200)) as app:
        gr.Markdown(
            "# dialogue-synth\nWrite a dialogue, give each speaker a voice clip (3-15 s: upload, record, or pick "
            "a built-in voice), and generate it. The page opens on an example with two built-in voices: press "
            "Generate. The acoustic tokens are filled in parallel over a few steps; the views under the audio "
            "show how."
        )
        demo_select = gr.Dropdown(
            [(demo.title, demo.name) for demo in demos],
            value=None,
            label="Load a demo dialogue",
            info="Fills in the transcript and the voices.",
            elem_id="demo-select",
        )
        with gr.Tabs(elem_id="transcript-tabs"):
            with gr.Tab("Text", id="text-tab", elem_id="text-tab"):
                transcript = gr.Textbox(
                    value=EXAMPLE,
                    label="Dialogue",
                    info=FORMAT_HELP,
                    lines=4,
                    max_lines=16,
                    elem_id="transcript",
                )
            turns_tab, editor_turns, editor_version = turn_editor_tab(transcript)

        transcript_status = gr.Markdown(reading_summary(opening), elem_id="transcript-status")

        voices, demo_voice_inputs, voice_texts, rates, headings, groups, voice_statuses = (
            [] for _ in range(7)
        )
        for i, slot in enumerate(SLOTS):
            with gr.Group(visible=i < SHOWN_SLOTS, elem_id=f"slot-{slot}") as group:
                headings.append(gr.Markdown(slot_heading(opening, slot), elem_id=f"slot-heading-{slot}"))
                with gr.Row(elem_classes=["slot-row"]):
                    voices.append(
                        gr.Audio(
                            sources=["upload", "microphone"],
                            type="filepath",
                            label=f"Voice of {slot}",
                            elem_id=f"voice-{slot}",
                            scale=3,
                        )
                    )
                    with gr.Column(scale=2, min_width=200):
                        demo_voice_inputs.append(
                            gr.Dropdown(
                                voice_names,
                                value=None,
                                label=f"or a built-in voice for {slot}",
                                elem_id=f"demo-voice-{slot}",
                            )
                        )
                        rates.append(
                            gr.Slider(
                                MIN_RATE,
                                MAX_RATE,
                                value=1.0,
                                step=0.05,
                                label=f"Speaking rate of {slot}",
                                elem_id=f"rate-{slot}",
                            )
                        )
                    voice_texts.append(
                        gr.Textbox(
                            label=f"What {slot}'s clip says (optional)",
                            placeholder="The words spoken in the clip",
                            info=f"Makes {slot}'s timing match the clip (without it, the timing is measured on "
                            "the sounds heard in it). Built-in voices fill it in.",
                            lines=2,
                            max_lines=4,
                            elem_id=f"voice-text-{slot}",
                            scale=3,
                        )
                    )
                voice_statuses.append(gr.Markdown(elem_id=f"voice-status-{slot}"))
            groups.append(group)

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
            pace_check = gr.Checkbox(
                value=DEFAULT_PACE_CHECK,
                label="Pace check",
                info="After the model: a turn heard more than 20 % faster or slower than its voice clip is "
                "made again once at the clip's pace (with real clips about one turn in six; each costs its "
                "decode again).",
                elem_id="pace-check",
            )
        run_status = gr.Markdown(elem_id="run-status")
        with gr.Row():
            check = gr.Button("Check", elem_id="check-btn")
            generate = gr.Button("Generate", variant="primary", elem_id="generate-btn")
            stop = gr.Button("Stop", variant="stop", elem_id="stop-btn", min_width=80)
            compare = gr.Button("Compare 1, 2, 4, 8, 16 iterations", elem_id="compare-btn")

        with gr.Tabs(elem_id="output-tabs") as output_tabs:
            with gr.Tab("Dialogue", id="dialogue-tab", elem_id="dialogue-tab"):
                live = gr.Audio(
                    label="Playing as it is generated",
                    streaming=True,
                    autoplay=True,
                    interactive=False,
                    elem_id="live-audio",
                )
                with gr.Row():
                    audio = gr.Audio(
                        label=handlers.AUDIO_LABEL,
                        type="numpy",
                        interactive=False,
                        elem_id="dialogue-audio",
                        scale=3,
                    )
                    downloads = gr.File(
                        label="Download (wav, mp3)",
                        file_count="multiple",
                        interactive=False,
                        elem_id="downloads",
                        scale=2,
                        min_width=380,  # room for whole names: dialogue-soundstorm-16it-seed12345.wav
                    )
                report = gr.Markdown(label="Report", elem_id="report")
                with gr.Accordion("How the tokens were filled in", open=True, elem_id="decoding-views"):
                    window = gr.Dropdown(
                        [],
                        value=None,
                        label="Show",
                        info="The whole dialogue, one turn, or a stretch of it (the same seconds as the player).",
                        interactive=False,
                        elem_id="view-window",
                    )
                    fill_in = _figure("Which step fixed each token", "fill-in")
                    step = gr.Slider(
                        1,
                        16,
                        value=1,
                        step=1,
                        label="Decoder step",
                        interactive=False,
                        info="Move it to see the grid and the confidence after each step of the decoder.",
                        elem_id="decoder-step",
                    )
                    confidence = _figure("Confidence", "confidence-heatmap")
                    steps = _figure("What each step fixed", "steps-chart")
                    spectrogram = _figure("Spectrogram", "spectrogram")
            with gr.Tab("Compare iterations", id="compare-tab", elem_id="compare-tab"):
                compare_status = gr.Markdown(
                    "Press *Compare 1, 2, 4, 8, 16 iterations*: each player appears as soon as its run is done.",
                    elem_id="compare-status",
                )
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

        fresh = gr.State(None)  # the generation just made, for its views to be drawn
        kept = gr.State(None)  # the generation the views show, for redrawing them
        speaker_inputs = [*voices, *demo_voice_inputs, *voice_texts, *rates]
        settings = [method, iterations, temperature, guidance, seed, voice_match, pace_check]
        status_outputs = [transcript_status, *voice_statuses, run_status]
        synthesis = {"concurrency_id": SYNTHESIS_QUEUE, "concurrency_limit": SYNTHESIS_EVENTS}

        # The page's own events: messages in place, outputs kept when something is wrong.
        check.click(
            handlers.page_check,
            [transcript, *speaker_inputs],
            [report, *status_outputs],
            show_progress_on=[report],
            **private,
        )
        generating = generate.click(
            handlers.page_generate,
            [report, kept, transcript, *settings, *speaker_inputs],
            [audio, downloads, report, fresh, *status_outputs, live],
            show_progress_on=[audio],
            **synthesis,
            **private,
        )
        generating.then(
            handlers.page_draw,
            [fresh, run_status],
            [fill_in, step, confidence, steps, spectrogram, window, kept, run_status],
            show_progress_on=[fill_in],
            **private,
        )
        comparing = compare.click(
            handlers.page_compare,
            [transcript, method, temperature, guidance, seed, voice_match, pace_check, *speaker_inputs],
            [output_tabs, *compare_players, compare_table, compare_status, *status_outputs],
            show_progress_on=[compare_status],
            **synthesis,
            **private,
        )
        step.input(
            handlers.redraw_step,
            [kept, step, window],
            [fill_in, confidence, steps],
            trigger_mode="always_last",
            show_progress="hidden",
            **private,
        )
        window.input(
            handlers.redraw_window,
            [kept, step, window],
            [fill_in, confidence, spectrogram],
            trigger_mode="always_last",
            show_progress_on=[fill_in],
            **private,
        )
        method.input(_defaults_for, method, [iterations, guidance], queue=False, **private)
        # Stop: gradio ends the events for the page; its /cancel request, seen by stopping.CancelWatch, and
        # this handler both stop the synthesis itself, within a second.
        stop.click(
            stopping.stop_synthesis, None, run_status, cancels=[generating, comparing], queue=False, **private
        )

        # The API: the same work; a mistake is an error for the client, not a message in a page.
        api_events(
            transcript,
            settings,
            speaker_inputs,
            [audio, report, fill_in, confidence, steps, spectrogram, downloads],
            [*compare_players, compare_table],
            synthesis,
        )

        # Voice slots: who speaks with each, clips checked as they arrive.
        slot_state = [transcript, *voices, *demo_voice_inputs]
        speaker_view = [transcript_status, *headings, *groups]
        show = {"trigger_mode": "always_last", "queue": False, "show_progress": "hidden", **private}
        transcript.change(handlers.show_speakers, slot_state, speaker_view, **show)
        for voice, choice, text, status in zip(
            voices, demo_voice_inputs, voice_texts, voice_statuses, strict=True
        ):
            voice.change(handlers.show_speakers, slot_state, speaker_view, **show)
            choice.change(handlers.show_speakers, slot_state, speaker_view, **show)
            voice.upload(handlers.check_upload, voice, status, show_progress_on=[status], **private)
            voice.stop_recording(handlers.check_upload, voice, status, show_progress_on=[status], **private)
            choice.input(
                handlers.pick_demo_voice, choice, [voice, text, status], show_progress_on=[status], **private
            )
            # A cleared clip must not fall back to a built-in voice picked earlier, nor keep its words.
            voice.clear(lambda: (None, "", ""), None, [choice, text, status], queue=False, **quiet)

        # Turn editor: read from the text when its tab opens, a demo loads, or the page opens.
        sync = (
            handlers.sync_editor,
            [transcript, editor_version, *voices, *demo_voice_inputs],
            [editor_turns, editor_version],
        )
        turns_tab.select(*sync, **quiet)
        slot_outputs = [transcript, *voices, *demo_voice_inputs, *voice_texts, *voice_statuses]
        demo_select.change(
            handlers.load_demo, demo_select, slot_outputs, show_progress_on=[transcript], **private
        ).then(*sync, **quiet)
        app.load(handlers.opening_voices, None, slot_outputs, **quiet).then(*sync, **quiet)
    stopping.watch(app)
    return app
