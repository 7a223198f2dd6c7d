"""Does removing a voice clip's background noise (engine/denoise.py) help the dialogue made from it?

    python -m bench.prompt_cleanup [--sentences 2] [--out DIR]     # or: python -m bench --only prompt_cleanup

For every unseen real voice of the real-voice benchmark, its clip as it is and with noise mixed in (15 dB
below the speech; the kind of noise turns with the voice: pink, white, brown, hum), each used as it is
and cleaned (`clean_up(..., "on")`). Every version generates the same dialogue (held-out sentences other than the
benchmark's: a setting is chosen here), judged by Whisper base (WER, pooled) and resemblyzer (similarity to
the speaker's clean references). The network's speech-to-noise estimate of each version then says what
"auto" at a threshold would do: clean the clips estimated below it, leave the others.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import zlib
from pathlib import Path

import numpy as np
import soundfile as sf

from bench.real_voices.cases import held_out_sentences, real_cases
from bench.real_voices.figures import mean_of, similarity
from bench.real_voices.measure import MAX_REFERENCES, read_clip
from bench.report import Section, Table, section_markdown
from engine.audio import load_voice_prompt
from engine.data import real_speech
from engine.data.channel import NOISES, mix_noise
from engine.denoise import denoise, with_noise_removed
from engine.eval.panel import JudgePanel, pooled_wer
from engine.pipeline import DialogueSynthesizer

NOISE_SNRS_DB = (15.0,)
THRESHOLDS_DB = (15.0, 20.0, 25.0, 30.0, 40.0)
SENTENCE_SEED = 2  # not the benchmark's sentences (seed 0), nor those its settings were chosen on (seed 1)


def versions(path: Path, index: int) -> dict[str, Path]:
    """The clip as it is and with noise mixed in, as wav files in a temporary folder."""
    samples, rate = read_clip(path)
    folder = Path(tempfile.mkdtemp(prefix="prompt_cleanup_"))
    out = {"as recorded": path}
    kind = NOISES[index % len(NOISES)]
    for snr in NOISE_SNRS_DB:
        rng = np.random.default_rng(zlib.crc32(f"{path.name}:{snr}".encode()))
        noisy = mix_noise(samples.astype(np.float64), rate, kind, snr, rng)
        noisy *= min(1.0, 0.95 / (np.abs(noisy).max() + 1e-9))
        file = folder / f"{kind}{snr:.0f}.wav"
        sf.write(file, noisy.astype(np.float32), rate)
        out[f"{kind} noise {snr:.0f} dB"] = file
    return out


def run(
    out_dir: Path, n_sentences: int = 2, real_dir: Path = real_speech.DEFAULT_DIR, acoustic: str | None = None
) -> list[Section]:
    """Generate and judge every version of every unseen real voice's clip; the figures go to
    `out_dir/prompt_cleanup.json`."""
    panel, synth = JudgePanel(), DialogueSynthesizer(acoustic=acoustic, denoise="off")
    sentences = held_out_sentences(n_sentences, SENTENCE_SEED)
    transcript = "\n".join(f"[S1] {s}" for s in sentences)
    rows = []  # one per voice, version and cleaning
    cases = real_cases(real_dir)
    for index, case in enumerate(cases):
        print(f"[prompt_cleanup] {index + 1}/{len(cases)} {case.id}", flush=True)
        refs = [panel.score(*read_clip(path), text) for path, text in case.references[:MAX_REFERENCES]]
        for version, path in versions(case.prompt, index).items():
            prompt = load_voice_prompt(path, sample_rate=synth.codec.sample_rate)
            denoised = denoise(prompt.samples, prompt.sample_rate)  # what clean_up(prompt, "on") does
            snr = denoised.snr_db
            for cleaned, clip in ((False, prompt), (True, with_noise_removed(prompt, denoised))):
                result = synth.synthesize(transcript, {"S1": clip}, seed=0, keep_trace=False)
                turns = [panel.score(t.audio, result.sample_rate, t.text) for t in result.turns]
                rows.append(
                    {
                        "voice": case.id,
                        "version": version,
                        "cleaned": cleaned,
                        "snr_db": snr,
                        "turns": turns,
                        "similarity": similarity(turns, refs, "resemblyzer"),
                    }
                )
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    figures = [{k: v for k, v in r.items() if k != "turns"} | {"wer": pooled_wer(r["turns"])} for r in rows]
    (Path(out_dir) / "prompt_cleanup.json").write_text(
        json.dumps({"sentences": sentences, "rows": figures}, indent=1)
    )
    return summarize(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sentences", type=int, default=2)
    p.add_argument("--real", type=Path, default=real_speech.DEFAULT_DIR)
    p.add_argument("--acoustic", help="acoustic checkpoint (default: the shipped one)")
    p.add_argument("--out", type=Path, default=Path("bench/results"))
    args = p.parse_args(argv)
    for section in run(args.out, args.sentences, args.real, args.acoustic):
        print(section_markdown(section, args.out))
    return 0


def summarize(rows: list[dict]) -> list[Section]:
    """WER and similarity by kind of version, cleaned or not; then "auto" at each threshold."""

    def figures(chosen: list[dict]) -> tuple:
        turns = [t for r in chosen for t in r["turns"]]
        return (
            pooled_wer(turns),
            mean_of(r["similarity"] for r in chosen),
            mean_of(r["snr_db"] for r in chosen),
        )

    def level(version: str) -> str:
        return version if version == "as recorded" else version.split(" noise ")[1]

    by_version = []
    for name in dict.fromkeys(level(r["version"]) for r in rows):
        for cleaned in (False, True):
            chosen = [r for r in rows if level(r["version"]) == name and r["cleaned"] == cleaned]
            by_version.append((name, "cleaned" if cleaned else "as it is", *figures(chosen)))
    auto = []
    for threshold in THRESHOLDS_DB:
        for name in dict.fromkeys(level(r["version"]) for r in rows):
            chosen = [
                r for r in rows if level(r["version"]) == name and r["cleaned"] == (r["snr_db"] < threshold)
            ]
            share = mean_of(float(r["cleaned"]) for r in chosen)
            auto.append((f"auto < {threshold:g} dB", name, share, *figures(chosen)[:2]))
    return [
        Section(
            "Voice-clip noise removal",
            __doc__.split("\n\n", 2)[2].replace("\n", " "),
            (
                Table(
                    ("clip", "clip used", "WER base", "similarity", "estimated SNR dB"),
                    tuple(by_version),
                    "every unseen real voice, one dialogue each",
                ),
                Table(
                    ("rule", "clip", "share cleaned", "WER base", "similarity"),
                    tuple(auto),
                    "what 'auto' would give at each threshold of the estimated SNR",
                ),
            ),
        )
    ]


if __name__ == "__main__":
    raise SystemExit(main())
