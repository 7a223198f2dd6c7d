"""Running the real-voice benchmark: each voice's recordings judged, its dialogues generated and judged."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import soundfile as sf

from bench.real_voices.cases import (
    BUILT_IN,
    REAL,
    SEEN,
    SENTENCES,
    UNSEEN,
    CaseFigures,
    built_in_cases,
    held_out_sentences,
    real_cases,
    reserved_cases,
)
from bench.real_voices.figures import summarize
from engine.acoustic.decoding import DEFAULT_STEPS
from engine.audio import resample
from engine.data import real_speech
from engine.denoise import DEFAULT_MODE as DEFAULT_DENOISE
from engine.eval.panel import JudgePanel
from engine.pipeline import DEFAULT_PACE_CHECK, DialogueSynthesizer

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CORPUS = os.environ.get("CORPUS_DIR", "/work/corpus")
MAX_REFERENCES = 4  # reference clips judged per speaker (and resynthesized by the codec)


def read_clip(path: Path) -> tuple[np.ndarray, int]:
    samples, rate = sf.read(str(path), dtype="float32", always_2d=True)
    return samples.mean(axis=1), int(rate)


def judge_recordings(panel: JudgePanel, synth: DialogueSynthesizer, fig: CaseFigures) -> None:
    """Score the case's prompt, its references and the codec's resynthesis of the references."""
    case, codec = fig.case, synth.codec
    samples, rate = read_clip(case.prompt)
    fig.prompt = panel.score(samples, rate, case.prompt_text)
    if not case.prompt_text:  # pace of the clip needs its words: what Whisper base heard stands in
        fig.prompt = panel.score(samples, rate, fig.prompt.heard["base"])
    if case.reference_is_prompt:
        fig.references = [fig.prompt]
    else:
        fig.references = [
            panel.score(*read_clip(path), text) for path, text in case.references[:MAX_REFERENCES]
        ]
    for path, text in case.references[:MAX_REFERENCES]:
        samples, rate = read_clip(path)
        wav = resample(samples, rate, codec.sample_rate) if rate != codec.sample_rate else samples
        out = np.asarray(codec.decode(codec.encode(np.ascontiguousarray(wav, dtype=np.float32))))
        fig.resynthesis.append(panel.score(out.reshape(-1), codec.sample_rate, text))


def generate(
    panel: JudgePanel,
    synth: DialogueSynthesizer,
    fig: CaseFigures,
    sentences: Sequence[str],
    method: str,
    seed: int,
    guards: bool = True,
) -> str:
    """One dialogue of `sentences` in the case's voice at the app's defaults; its turns judged. `guards`
    False: without the duration model's range and pace guards (`TextToSemantic.guards`), as before them."""
    setting = f"{method}@{DEFAULT_STEPS[method]} seed {seed}" + ("" if guards else " without guards")
    synth.t2s.guards = guards
    transcript = "\n".join(f"[S1] {s}" for s in sentences)
    words = {"S1": fig.case.prompt_text} if fig.case.group == BUILT_IN else None
    start = time.perf_counter()
    result = synth.synthesize(
        transcript,
        {"S1": str(fig.case.prompt)},
        method=method,
        seed=seed,
        keep_trace=False,
        voice_texts=words,
    )
    fig.seconds[setting] = time.perf_counter() - start
    tempos = dict(result.settings.tempos) | dict(result.settings.heard_tempos)
    fig.tempo[setting] = tempos.get("S1")
    fig.remade[setting] = float(np.mean([t.remade for t in result.turns]))
    fig.acoustic_rtf[setting] = result.timings["acoustic"] / result.duration_s  # remakes included
    synth.t2s.guards = True
    fig.generated[setting] = [panel.score(t.audio, result.sample_rate, t.text) for t in result.turns]
    return setting


# The app's default decoder first (it runs under every seed, on every voice, and without the duration guards on
# the unseen real voices), then the other two, each at its own default iterations, on the unseen real voices.
DEFAULT_METHODS = ("group", "soundstorm", "spans")


def measure(
    out_dir: Path,
    n_sentences: int = SENTENCES,
    seeds: Sequence[int] = (0, 1),
    methods: Sequence[str] = DEFAULT_METHODS,
    corpus: str = DEFAULT_CORPUS,
    real_dir: Path = real_speech.DEFAULT_DIR,
    acoustic: str | None = None,
    unguarded: bool = True,
    vocoder: str = "world",
    vocoder_path: str | Path | None = None,
    sentence_seed: int = 0,
    denoise: str = DEFAULT_DENOISE,
    pace_check: bool = DEFAULT_PACE_CHECK,
) -> tuple[dict, list[str]]:
    """Generate and judge everything; returns the summary and the settings measured. `vocoder` decodes
    the codec's tokens, of the resynthesis and of the generated turns alike ("world" or "neural", the
    export at `vocoder_path`): the same tokens as the other one gets at the same seed. `sentence_seed`
    draws other held-out sentences (0 is the benchmark's own; another one picks a setting on sentences the
    benchmark does not judge it on). `denoise`: the voice clips' noise removal (engine/denoise.py).
    `pace_check`: turns heard off their clip's pace made again (engine/pipeline/pace_check.py)."""
    from engine.codec.base import load_codec

    codec = load_codec(vocoder=vocoder, vocoder_path=vocoder_path)
    panel = JudgePanel()
    synth = DialogueSynthesizer(codec=codec, acoustic=acoustic, denoise=denoise, pace_check=pace_check)
    sentences = held_out_sentences(n_sentences, sentence_seed)
    heard = set(getattr(codec, "decoder_metadata", {}).get("data", {}).get("trained_real_persons", []))
    synth.load()
    heard |= set(synth.acoustic_metadata.get("trained_real_persons", []))
    cases = [
        dataclasses.replace(c, group=SEEN) if c.group == UNSEEN and c.person in heard else c
        for c in real_cases(Path(real_dir))
    ]
    cases += built_in_cases()
    try:
        cases += reserved_cases(corpus)
    except Exception as err:  # noqa: BLE001 - the synthetic rows are optional beside the real ones
        print(f"[real_voices] no reserved voices ({err})", file=sys.stderr)
    figs = [CaseFigures(c) for c in cases]
    default = f"{methods[0]}@{DEFAULT_STEPS[methods[0]]} seed {seeds[0]}"
    settings: list[str] = []
    for i, fig in enumerate(figs):
        print(f"[real_voices] {i + 1}/{len(figs)} {fig.case.id}", file=sys.stderr, flush=True)
        judge_recordings(panel, synth, fig)
        runs = [(methods[0], s, True) for s in seeds] + [(m, seeds[0], True) for m in methods[1:]]
        runs += [(methods[0], seeds[0], False)] if unguarded else []
        if fig.case.group not in REAL:  # built-in and reserved voices: the default decoder under every seed
            runs = [(methods[0], s, True) for s in seeds]
        for method, seed, guards in runs:
            setting = generate(panel, synth, fig, sentences, method, seed, guards)
            if setting not in settings:
                settings.append(setting)
    summary = summarize(figs, settings, default)
    summary["sentences"], summary["sentence_seed"] = sentences, sentence_seed
    summary["denoise"], summary["pace_check"] = denoise, pace_check
    summary["turn_texts"] = {
        f.case.id: {s: [t.heard["base"] for t in turns] for s, turns in f.generated.items()} for f in figs
    }
    summary["generation_seconds"] = {f.case.id: f.seconds for f in figs}
    summary["vocoder"] = vocoder if vocoder == "world" else f"{vocoder} ({vocoder_path or 'shipped'})"
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    summary["commit"], summary["date"] = commit, datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    (Path(out_dir) / "real_voices.json").write_text(json.dumps(summary, indent=1, default=float))
    return summary, settings
