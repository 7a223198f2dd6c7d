"""The product on real human voices: dialogues of held-out sentences in the voices of real people that no
model here trained on, judged by Whisper base (and tiny.en), two speaker encoders, DNSMOS and pace.

    python -m bench.real_voices [--sentences 8] [--seeds 0,1] [--methods group,soundstorm,spans]
    python -m bench --only real_voices          # the same, as part of the suite (also `--only real`)

The real speakers come from `engine.data.real_speech` (built on first use into $REAL_SPEECH_DIR, default
/work/real_speech); beside them the same sentences in the built-in voices and in the synthetic reserved voices
of the corpus ($CORPUS_DIR, default /work/corpus; its eval split suffices: `python -m engine.data.build_corpus
--hours 0.02 --out /work/corpus`), the real clips themselves and the codec's resynthesis of them. Every
generation uses the app's defaults but for the decoder; the default decoder runs under two seeds so that the
move of each figure between seeds is known. Writes `real_voices.json` and a plot into the results folder.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import soundfile as sf

from bench.report import Section, Table, save_figure, section_markdown
from engine.acoustic.decoding import DEFAULT_STEPS
from engine.audio import resample
from engine.data import real_speech
from engine.data.manifest import load_manifest
from engine.data.sentences import load_sentences
from engine.demos import demo_voice_words, demo_voices
from engine.eval.panel import ENCODERS, ClipScores, JudgePanel, cosine, pooled_wer
from engine.eval.speaker_id import equal_error_rate
from engine.pipeline import DialogueSynthesizer

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = os.environ.get("CORPUS_DIR", "/work/corpus")
UNSEEN, BUILT_IN, RESERVED = "unseen real", "built-in", "reserved synthetic"
PACE_TOLERANCE = 0.25  # a turn's pace within 25 % of its speaker's clip (issue 21's target)
SENTENCE_WORDS = (7, 18)
# Sentences per voice: 5 keeps a run of the whole set near 20 minutes on the 2-core machine.
SENTENCES = 4
MAX_REFERENCES = 4  # reference clips judged per speaker (and resynthesized by the codec)


@dataclass(frozen=True)
class VoiceCase:
    """A voice to generate in, and the recordings to judge its turns against.

    Attributes:
        id: short name; group: UNSEEN, BUILT_IN or RESERVED; person: who speaks (shared by two channels of
            one speaker); channel: how the clip was recorded.
        prompt: the voice clip given to the synthesizer, and what it says ("" unknown).
        references: (path, text) of other recordings of the speaker.
        reference_is_prompt: only the prompt exists; it stands in as its own reference.
    """

    id: str
    group: str
    person: str
    channel: str
    prompt: Path
    prompt_text: str
    references: tuple[tuple[Path, str], ...]
    reference_is_prompt: bool = False


@dataclass
class CaseFigures:
    """Judgements of one voice: its prompt, references, their codec resynthesis, and generated turns."""

    case: VoiceCase
    prompt: ClipScores | None = None
    references: list[ClipScores] = field(default_factory=list)
    resynthesis: list[ClipScores] = field(default_factory=list)
    generated: dict[str, list[ClipScores]] = field(default_factory=dict)  # setting -> turns
    tempo: dict[str, float | None] = field(default_factory=dict)  # setting -> tempo the pipeline used
    seconds: dict[str, float] = field(default_factory=dict)  # setting -> generation wall time


def held_out_sentences(n: int, seed: int = 0) -> list[str]:
    """`n` sentences of the corpus's eval split (never trained on), 7-18 words, chosen by `seed`."""
    pool = [
        s.text
        for s in load_sentences()
        if s.split == "eval"
        and SENTENCE_WORDS[0] <= len(s.text.split()) <= SENTENCE_WORDS[1]
        and not any(c in s.text for c in '()[]:;"')
    ]
    return random.Random(seed).sample(sorted(pool), n)


def real_cases(folder: Path) -> list[VoiceCase]:
    """The real speakers of the set (built first if it is not there)."""
    try:
        real = real_speech.load(folder)
    except FileNotFoundError:
        print(f"[real_voices] building the real-speech set in {folder}", file=sys.stderr)
        real = real_speech.build(folder, log=lambda m: print(m, file=sys.stderr))
    return [
        VoiceCase(
            s.id,
            UNSEEN,
            s.person,
            s.channel,
            real.path(s.prompt),
            s.prompt.text,
            tuple((real.path(c), c.text) for c in s.references),
            s.reference_is_prompt,
        )
        for s in real.speakers
    ]


def built_in_cases() -> list[VoiceCase]:
    """The app's built-in voices (training-set voices); their clip is their only reference."""
    words = demo_voice_words()
    return [
        VoiceCase(name, BUILT_IN, name, "built-in", path, words.get(path.resolve(), ""), ((path, ""),), True)
        for name, path in sorted(demo_voices().items())
    ]


def reserved_cases(corpus: str) -> list[VoiceCase]:
    """The synthetic reserved voices: prompt the eval utterance nearest 6 s, references the two nearest 4 s."""
    utterances = load_manifest(corpus, "eval")
    cases = []
    for voice in sorted({u.voice for u in utterances}):
        mine = sorted((u for u in utterances if u.voice == voice), key=lambda u: u.id)
        prompt = min(mine, key=lambda u: abs(u.duration - 6.0))
        others = sorted((u for u in mine if u is not prompt), key=lambda u: abs(u.duration - 4.0))[:2]
        cases.append(
            VoiceCase(
                f"{prompt.engine}-{voice}",
                RESERVED,
                voice,
                "synthetic",
                Path(prompt.wav_path),
                prompt.text,
                tuple((Path(u.wav_path), u.text) for u in others),
            )
        )
    return cases


def _read(path: Path) -> tuple[np.ndarray, int]:
    samples, rate = sf.read(str(path), dtype="float32", always_2d=True)
    return samples.mean(axis=1), int(rate)


def judge_recordings(panel: JudgePanel, synth: DialogueSynthesizer, fig: CaseFigures) -> None:
    """Score the case's prompt, its references and the codec's resynthesis of the references."""
    case, codec = fig.case, synth.codec
    samples, rate = _read(case.prompt)
    fig.prompt = panel.score(samples, rate, case.prompt_text)
    if not case.prompt_text:  # pace of the clip needs its words: what Whisper base heard stands in
        fig.prompt = panel.score(samples, rate, fig.prompt.heard["base"])
    if case.reference_is_prompt:
        fig.references = [fig.prompt]
    else:
        fig.references = [panel.score(*_read(path), text) for path, text in case.references[:MAX_REFERENCES]]
    for path, text in case.references[:MAX_REFERENCES]:
        samples, rate = _read(path)
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
    synth.t2s.guards = True
    fig.generated[setting] = [panel.score(t.audio, result.sample_rate, t.text) for t in result.turns]
    return setting


# Figures ----------------------------------------------------------------------------------------------------

# The figures of a row, in the report's column order (_COLUMNS).
_KEYS = (
    "wer_base",
    "wer_tiny",
    "sim_resemblyzer",
    "sim_dvector",
    "id_resemblyzer",
    "id_dvector",
    "p808",
    "ovrl",
    "pace_ratio_median",
    "pace_within_25",
)


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return float(statistics.fmean(values)) if values else None


def similarity(turns: Sequence[ClipScores], references: Sequence[ClipScores], encoder: str) -> float | None:
    """Mean over turns of the mean cosine to the speaker's references."""
    refs = [r.embeddings[encoder] for r in references]
    return _mean(_mean(cosine(t.embeddings[encoder], r) for r in refs) for t in turns)


def identification(
    turns: Sequence[ClipScores], person: str, pool: Sequence[tuple[str, ClipScores]], encoder: str
) -> float | None:
    """Share of turns whose nearest reference over all speakers of the pool is `person`'s."""
    hits = []
    for turn in turns:
        scored = [(cosine(turn.embeddings[encoder], r.embeddings[encoder]), who) for who, r in pool]
        scored = [(c, who) for c, who in scored if c is not None]
        if turn.embeddings[encoder] is not None and scored:
            hits.append(max(scored)[1] == person)
    return float(np.mean(hits)) if hits else None


def pace_ratios(turns: Sequence[ClipScores], clip: ClipScores | None) -> list[float]:
    """Each turn's pace over the pace measured on the speaker's clip."""
    if clip is None or not clip.pace:
        return []
    return [t.pace / clip.pace for t in turns if t.pace]


def row_figures(fig: CaseFigures, turns: Sequence[ClipScores], pool) -> dict:
    """The figures of one voice for one set of clips (generated turns, or its recordings)."""
    case = fig.case
    ratios = pace_ratios(turns, fig.prompt)
    own_refs = fig.references if case.group != BUILT_IN else [fig.prompt]
    out = {
        "wer_base": pooled_wer(turns, "base"),
        "wer_tiny": pooled_wer(turns, "tiny.en"),
        "p808": _mean(t.p808 for t in turns),
        "ovrl": _mean(t.ovrl for t in turns),
        "pace_ratio_median": float(np.median(ratios)) if ratios else None,
        "pace_within_25": float(np.mean([abs(r - 1) <= PACE_TOLERANCE for r in ratios])) if ratios else None,
    }
    for enc in ENCODERS:
        out[f"sim_{enc}"] = similarity(turns, own_refs, enc)
        usable = pool.get(case.group) and not case.reference_is_prompt
        out[f"id_{enc}"] = identification(turns, case.person, pool[case.group], enc) if usable else None
    return out


def reference_pools(figs: Sequence[CaseFigures]) -> dict[str, list[tuple[str, ClipScores]]]:
    """Per group, every speaker's references labelled by person (the identification's candidates)."""
    pools: dict[str, list] = {}
    for fig in figs:
        if fig.case.group != BUILT_IN:
            pools.setdefault(fig.case.group, []).extend((fig.case.person, r) for r in fig.references)
    return pools


def encoder_eer(figs: Sequence[CaseFigures], encoder: str) -> tuple[float, int, int]:
    """Equal error rate of an encoder on the real clips: same-person pairs against different-person pairs."""
    clips = []
    for fig in figs:
        if fig.case.group == UNSEEN and fig.case.person == fig.case.id:  # one channel per person
            mine = [fig.prompt] + ([] if fig.case.reference_is_prompt else fig.references)
            clips += [
                (fig.case.person, c.embeddings[encoder]) for c in mine if c.embeddings[encoder] is not None
            ]
    same, different = [], []
    for i in range(len(clips)):
        for j in range(i + 1, len(clips)):
            (a, ea), (b, eb) = clips[i], clips[j]
            (same if a == b else different).append(float(np.dot(ea, eb)))
    return equal_error_rate(same, different), len(same), len(different)


def summarize(figs: Sequence[CaseFigures], settings: Sequence[str], default: str) -> dict:
    """All figures: per voice and setting, and per group the means over voices."""
    pools = reference_pools(figs)
    per_voice = {}
    for fig in figs:
        rows = {
            s: row_figures(fig, fig.generated[s], pools) | {"tempo": fig.tempo.get(s)}
            for s in settings
            if s in fig.generated  # the synthetic voices run the default setting only
        }
        rows["real clips"] = row_figures(fig, fig.references, {}) if fig.case.group != BUILT_IN else {}
        rows["codec resynthesis"] = row_figures(fig, fig.resynthesis, {}) if fig.resynthesis else {}
        if rows["real clips"]:
            rows["real clips"]["sim_resemblyzer"] = (
                _mean(
                    cosine(fig.prompt.embeddings["resemblyzer"], r.embeddings["resemblyzer"])
                    for r in fig.references
                )
                if not fig.case.reference_is_prompt
                else None
            )
            rows["real clips"]["sim_dvector"] = (
                _mean(
                    cosine(fig.prompt.embeddings["dvector"], r.embeddings["dvector"]) for r in fig.references
                )
                if not fig.case.reference_is_prompt
                else None
            )
        per_voice[fig.case.id] = {
            "group": fig.case.group,
            "person": fig.case.person,
            "channel": fig.case.channel,
            "reference_is_prompt": fig.case.reference_is_prompt,
            "clip_pace": fig.prompt.pace if fig.prompt else None,
            "clip_text_known": bool(fig.case.prompt_text),
            "rows": rows,
        }
    groups = {}
    for group in (UNSEEN, BUILT_IN, RESERVED):
        members = [v for v in per_voice.values() if v["group"] == group]
        if not members:
            continue
        groups[group] = {
            row: {key: _mean(m["rows"].get(row, {}).get(key) for m in members) for key in _KEYS}
            for row in [*settings, "real clips", "codec resynthesis"]
        }
    eer = {
        enc: dict(zip(("eer", "same_pairs", "different_pairs"), encoder_eer(figs, enc))) for enc in ENCODERS
    }
    return {"per_voice": per_voice, "groups": groups, "encoders": eer, "default": default}


# Report -----------------------------------------------------------------------------------------------------

_COLUMNS = (
    "WER base",
    "WER tiny.en",
    "sim resemblyzer",
    "sim d-vector",
    "speaker ID (R)",
    "speaker ID (d)",
    "DNSMOS P.808",
    "DNSMOS OVRL",
    "pace / clip",
    "turns within 25 %",
)


def tables(summary: dict, settings: Sequence[str]) -> list[Table]:
    default = summary["default"]
    rows = []
    for group, by_row in summary["groups"].items():
        for row in ["real clips", "codec resynthesis", *settings]:
            figures = by_row.get(row, {})
            if any(v is not None for v in figures.values()):
                rows.append((group, row, *(figures.get(k) for k in _KEYS)))
    overview = Table(
        ("voices", "clips", *_COLUMNS),
        tuple(rows),
        caption="Means over the voices of each group (speaker ID over that group's speakers)",
    )
    per_speaker = []
    for vid, v in summary["per_voice"].items():
        gen = v["rows"].get(default, {})
        real = v["rows"]["real clips"]
        resyn = v["rows"]["codec resynthesis"]
        per_speaker.append(
            (
                vid,
                v["group"],
                v["channel"],
                gen.get("tempo"),
                real.get("wer_base"),
                resyn.get("wer_base"),
                gen.get("wer_base"),
                gen.get("wer_tiny"),
                gen.get("sim_resemblyzer"),
                gen.get("sim_dvector"),
                gen.get("id_resemblyzer"),
                gen.get("id_dvector"),
                real.get("p808"),
                gen.get("p808"),
                v["clip_pace"],
                gen.get("pace_ratio_median"),
                gen.get("pace_within_25"),
            )
        )
    speaker_table = Table(
        (
            "voice",
            "group",
            "channel",
            "tempo used",
            "WER real clips",
            "WER resynthesis",
            "WER",
            "WER tiny.en",
            "sim R",
            "sim d",
            "ID R",
            "ID d",
            "P.808 real",
            "P.808",
            "clip syll/s",
            "pace / clip",
            "within 25 %",
        ),
        tuple(per_speaker),
        caption=f"Per voice, generated at the defaults ({default})",
    )
    seeds = [s for s in settings if s.split(" seed ")[0] == default.split(" seed ")[0]]
    seed_rows = []
    if len(seeds) >= 2 and UNSEEN in summary["groups"]:
        a, b = (summary["groups"][UNSEEN][s] for s in seeds[:2])
        for key, name in zip(_KEYS, _COLUMNS):
            if a[key] is not None and b[key] is not None:
                seed_rows.append((name, a[key], b[key], abs(a[key] - b[key])))
    seed_table = Table(
        ("figure (unseen real voices, mean)", seeds[0], seeds[1] if len(seeds) > 1 else "", "|difference|"),
        tuple(seed_rows),
        caption="How much a figure moves between two seeds",
    )
    eer = Table(
        ("speaker encoder", "equal error rate on the real clips", "same-speaker pairs", "different pairs"),
        tuple((k, v["eer"], v["same_pairs"], v["different_pairs"]) for k, v in summary["encoders"].items()),
    )
    return [overview, speaker_table, seed_table, eer]


def plot(summary: dict, out_dir: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    default = summary["default"]
    voices = [(k, v) for k, v in summary["per_voice"].items() if v["group"] != BUILT_IN]
    x = np.arange(len(voices))
    fig, ax = plt.subplots(figsize=(max(8, len(voices) * 0.7), 4))
    for offset, (row, label) in zip(
        (-0.27, 0, 0.27),
        (
            ("real clips", "real clip"),
            ("codec resynthesis", "codec resynthesis"),
            (default, f"generated ({default})"),
        ),
    ):
        values = [v["rows"].get(row, {}).get("wer_base") for _, v in voices]
        ax.bar(x + offset, [np.nan if w is None else w for w in values], width=0.27, label=label)
    built_in = summary["groups"].get(BUILT_IN, {}).get(default, {}).get("wer_base")
    if built_in is not None:
        ax.axhline(built_in, color="k", ls="--", lw=1, label=f"built-in voices, generated ({built_in:.2f})")
    ax.set_xticks(x, [k for k, _ in voices], rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("WER (Whisper base)")
    ax.legend(fontsize=8)
    return save_figure(fig, out_dir, "real_voices_wer", "Whisper base WER per voice")


def measure(
    out_dir: Path,
    n_sentences: int = SENTENCES,
    seeds: Sequence[int] = (0, 1),
    methods: Sequence[str] = ("group",),
    corpus: str = DEFAULT_CORPUS,
    real_dir: Path = real_speech.DEFAULT_DIR,
    acoustic: str | None = None,
    unguarded: bool = True,
) -> tuple[dict, list[str]]:
    """Generate and judge everything; returns the summary and the settings measured."""
    panel, synth = JudgePanel(), DialogueSynthesizer(acoustic=acoustic)
    sentences = held_out_sentences(n_sentences)
    cases = real_cases(Path(real_dir)) + built_in_cases()
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
        if fig.case.group != UNSEEN:
            runs = [(methods[0], seeds[0], True)]
        for method, seed, guards in runs:
            setting = generate(panel, synth, fig, sentences, method, seed, guards)
            if setting not in settings:
                settings.append(setting)
    summary = summarize(figs, settings, default)
    summary["sentences"] = sentences
    summary["turn_texts"] = {
        f.case.id: {s: [t.heard["base"] for t in turns] for s, turns in f.generated.items()} for f in figs
    }
    summary["generation_seconds"] = {f.case.id: f.seconds for f in figs}
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    summary["commit"], summary["date"] = commit, datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    (Path(out_dir) / "real_voices.json").write_text(json.dumps(summary, indent=1, default=float))
    return summary, settings


def sections(summary: dict, settings: Sequence[str], out_dir: Path) -> list[Section]:
    groups = summary["groups"]
    text = (
        f"{len(summary['sentences'])} held-out sentences per voice, one dialogue per voice and setting, at the "
        "app's defaults (voice matching, tempo from the clip) but for the decoder; "
        f"{sum(v['group'] == UNSEEN for v in summary['per_voice'].values())} real voices no model trained on "
        "(`engine/data/real_speech/`). WER pools all turns of a voice; similarity is the mean cosine of each "
        "turn to the speaker's other recordings (the ARCTIC speakers and built-in voices: to their prompt, "
        "marked by an empty ID); speaker ID: share of turns whose nearest reference among all speakers of the "
        "group is their own; pace: syllables (espeak-ng vowels) per second of speech, turn over clip "
        "(a clip without a transcript is timed on what Whisper base heard in it)."
    )
    if UNSEEN in groups and BUILT_IN in groups:
        d = summary["default"]
        real, built = groups[UNSEEN][d]["wer_base"], groups[BUILT_IN][d]["wer_base"]
        if real is not None and built:
            text += f" At the defaults: unseen real voices WER {real:.3f}, built-in {built:.3f} ({real / built:.2f} x)."
    return [Section("Real voices", text, (*tables(summary, settings), plot(summary, out_dir)))]


def run(out_dir: Path) -> list[Section]:
    summary, settings = measure(out_dir)
    return sections(summary, settings, out_dir)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sentences", type=int, default=SENTENCES)
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument(
        "--methods",
        default="group",
        help="decoders, the first one the default (e.g. "
        "group,soundstorm,spans: each at its default iterations, on the real voices)",
    )
    parser.add_argument("--corpus", default=DEFAULT_CORPUS)
    parser.add_argument("--real", type=Path, default=real_speech.DEFAULT_DIR)
    parser.add_argument("--acoustic", help="acoustic checkpoint (default assets/acoustic/acoustic.pt)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(2)
    summary, settings = measure(
        args.out,
        args.sentences,
        [int(s) for s in args.seeds.split(",")],
        args.methods.split(","),
        args.corpus,
        args.real,
        args.acoustic,
    )
    for section in sections(summary, settings, args.out):
        print(section_markdown(section, args.out))


if __name__ == "__main__":
    main()
