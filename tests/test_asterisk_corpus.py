"""engine/data/asterisk: Allison's Asterisk prompts as training speech, without the clips the benchmark plays."""

import gzip
import itertools
import json

import numpy as np

from engine.data import asterisk
from engine.vocoder.held_out import benchmark_speech


def test_edge_phones_give_the_silence_around_the_speech_to_the_pauses():
    rate = 16000
    audio = np.zeros(2 * rate)
    audio[int(0.3 * rate) : int(1.2 * rate)] = np.random.default_rng(0).normal(0, 0.3, int(0.9 * rate))
    aligned = [("_", 0.0, 0.1), ("k", 0.1, 0.5), ("a", 0.5, 0.9), ("d", 0.9, 1.8), ("_.", 1.8, 2.0)]
    snapped = asterisk.snap_edges(aligned, audio, rate)
    assert [p for p, _, _ in snapped] == ["_", "k", "a", "d", "_."]
    assert snapped[0][2] == snapped[1][1] == 0.3 and snapped[3][2] == snapped[4][1] == 1.2
    assert snapped[1:4] != aligned[1:4] and snapped[2] == aligned[2]
    assert all(a[2] == b[1] for a, b in itertools.pairwise(snapped))  # still contiguous
    assert not asterisk.well_aligned(aligned) and asterisk.well_aligned(snapped)
    inside = [("_", 0.0, 0.35), ("k", 0.35, 0.5), ("a", 0.5, 0.9), ("d", 0.9, 1.1), ("_.", 1.1, 2.0)]
    assert asterisk.snap_edges(inside, audio, rate) == inside  # edges already within the pauses


def test_training_prompts_leave_out_what_the_benchmark_plays(tmp_path):
    sounds = tmp_path / "downloads" / asterisk.G722_PACKAGE / asterisk.SOUNDS
    for name in ("agent-pass", "added", "digits/1"):
        (sounds / name).parent.mkdir(parents=True, exist_ok=True)
        (sounds / f"{name}.g722").write_bytes(b"\0" * 16)
    clip = {"wav": "a/x.wav", "text": "", "origin": f"deb/{asterisk.SOUNDS}/agent-pass.g722", "seconds": 1.0}
    speaker = {"id": "asterisk-allison", "person": asterisk.PERSON, "prompt": clip, "prompt_parts": [clip]}
    (tmp_path / "real_speech.json").write_text(json.dumps({"speakers": [{**speaker, "references": [clip]}]}))
    names = [name for name, _ in asterisk.training_prompts(benchmark_speech(tmp_path))]
    assert names == ["added", "digits/1"]


def test_prompt_texts_skip_descriptions_of_sounds(tmp_path):
    doc = tmp_path / asterisk.TEXTS
    doc.parent.mkdir(parents=True)
    lines = ["; Core Asterisk Sounds", "", "added: Added.", "beep: [this is a beep]", "digits/1: one"]
    with gzip.open(doc, "wt") as f:
        f.write("\n".join(lines))
    assert asterisk.prompt_texts(tmp_path) == {"added": "Added.", "digits/1": "one"}
