"""Speed of the parallel decoders against the autoregressive baselines of the same size, in one run.

Random weights (speed does not depend on them), d=256 x 6 blocks, the codec's token layout (pitch 256 |
spectrum 4096 + 6 x 1024), a 3 s prompt, one turn of 10 s and 30 s (500 / 1500 frames at 50 Hz).

    python -m bench.acoustic_speed [--threads 2] [--repeats 3] [--frames 500 1500]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import torch

from engine.acoustic.baselines import ARBaseline, ARConfig
from engine.acoustic.decoding import DEFAULT_STEPS, decode_group, decode_soundstorm, decode_spans
from engine.acoustic.layout import TokenLayout
from engine.acoustic.model import AcousticConfig, AcousticModel

FRAME_RATE = 50
CODEC_LAYOUT = TokenLayout((256, 4096) + (1024,) * 6, ((0,), (1, 2, 3, 4, 5, 6, 7)))
SEMANTIC_VOCAB = (214,)


def _time(fn: Callable[[], int], repeats: int) -> tuple[list[float], int]:
    times, count = [], 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        count = fn()
        times.append(time.perf_counter() - t0)
    return times, count


def _one_pass(model: AcousticModel, tokens: torch.Tensor, semantic: torch.Tensor, mem) -> int:
    model(tokens, semantic, mem, levels=[1])
    return 1


def _methods(
    parallel: AcousticModel, delay: ARBaseline, flat: ARBaseline, semantic: torch.Tensor, prompt: torch.Tensor
) -> dict[str, Callable[[], int]]:
    """Each method at default settings (plus G-IPD at 4 iterations per group), returning its passes / steps."""

    def passes(decode: Callable, **kw) -> Callable[[], int]:
        return lambda: decode(parallel, semantic, prompt=prompt, keep_trace=False, **kw).trace.forward_passes

    return {
        f"soundstorm ({DEFAULT_STEPS['soundstorm']},1,..)": passes(decode_soundstorm),
        f"group G-IPD ({DEFAULT_STEPS['group']}/group, default)": passes(decode_group),
        "group G-IPD (4/group)": passes(decode_group, steps=4),
        f"spans MAGNeT ({DEFAULT_STEPS['spans']},1,..; CFG)": passes(decode_spans),
        "AR delay pattern": lambda: delay.generate(semantic, prompt=prompt).steps,
        "AR flattened": lambda: flat.generate(semantic, prompt=prompt).steps,
    }


def measure(
    frames: tuple[int, ...] = (500, 1500),
    repeats: int = 3,
    flattened_repeats: int = 1,
    layout: TokenLayout = CODEC_LAYOUT,
    d_model: int = 256,
    n_layers: int = 6,
    prompt_frames: int = 150,
    turns: int = 1,
    log: Callable[[str], None] = print,
    parallel: AcousticModel | None = None,
) -> tuple[list[dict], dict]:
    """Time every decoder and baseline at each length; `turns` > 1 splits the frames into a batch of turns
    (a dialogue is generated as one batch), each with its own copy of the prompt. `parallel` times that
    model (e.g. the shipped one, whose layout and size then set the baselines'), else a random one.

    Returns:
        One row per (method, frames) with the median time, passes/steps and speed-ups, and model sizes.
    """
    torch.manual_seed(0)
    vocab = SEMANTIC_VOCAB
    if parallel is not None:
        cfg = parallel.config
        layout, d_model, n_layers, vocab = cfg.layout, cfg.d_model, cfg.n_layers, cfg.semantic_vocab
    common = {
        "codebook_sizes": layout.codebook_sizes,
        "groups": layout.groups,
        "semantic_vocab": vocab,
        "d_model": d_model,
        "n_layers": n_layers,
    }
    if parallel is None:
        parallel = AcousticModel(AcousticConfig(**common)).eval()
    flat = ARBaseline(ARConfig(**common, pattern="flattened")).eval()
    delay = ARBaseline(ARConfig(**common, pattern="delay")).eval()
    sizes = {
        "parallel": parallel.num_parameters(),
        "flattened": flat.num_parameters(),
        "delay": delay.num_parameters(),
    }
    prompt = torch.stack([torch.randint(0, k, (turns, prompt_frames)) for k in layout.codebook_sizes], 1)
    rows = []
    for t in frames:
        semantic = torch.randint(0, vocab[0], (turns, t // turns))
        with torch.inference_mode():
            mem = parallel.encode_prompt(prompt)
            tokens = torch.zeros(turns, layout.n_q, t // turns, dtype=torch.long)
            fwd, _ = _time(partial(_one_pass, parallel, tokens, semantic, mem), repeats)
        log(f"{t} frames in {turns} turn(s): one forward pass {statistics.median(fwd):.3f} s")
        methods = _methods(parallel, delay, flat, semantic, prompt)
        # Round-robin over the methods, so a change in the machine's load hits them all alike.
        times: dict[str, list[float]] = {name: [] for name in methods}
        counts: dict[str, int] = {}
        for rep in range(repeats):
            for name, fn in methods.items():
                if name == "AR flattened" and rep >= flattened_repeats:
                    continue
                took, counts[name] = _time(fn, 1)
                times[name] += took
                log(f"{t} frames: {name}: {took[0]:.2f} s, {counts[name]} passes/steps")
        results = {name: (statistics.median(v), counts[name], len(v)) for name, v in times.items()}
        t_flat, t_delay = results["AR flattened"][0], results["AR delay pattern"][0]
        for name, (sec, count, n) in results.items():
            rows.append(
                {
                    "method": name,
                    "frames": t,
                    "turns": turns,
                    "audio_s": t / FRAME_RATE,
                    "passes_or_steps": count,
                    "runs": n,
                    "median_s": sec,
                    "rtf": sec / (t / FRAME_RATE),
                    "x_vs_flattened": t_flat / sec,
                    "x_vs_delay": t_delay / sec,
                }
            )
    return rows, sizes


def _table(rows: list[dict]):
    from bench.report import Table

    cols = (
        "method",
        "frames",
        "turns",
        "audio_s",
        "passes_or_steps",
        "runs",
        "median_s",
        "rtf",
        "x_vs_flattened",
        "x_vs_delay",
    )
    return Table(cols, tuple(tuple(r[c] for c in cols) for r in rows))


def run(out_dir: Path):
    """Entry point of `python -m bench`."""
    from bench.report import Section

    rows, sizes = measure()
    text = (
        f"Random-weight models, d=256 x 6, codec layout {CODEC_LAYOUT.codebook_sizes}, groups "
        f"{CODEC_LAYOUT.groups}, 3 s prompt, one turn; torch threads {torch.get_num_threads()}. Parameters: "
        + ", ".join(f"{k} {v / 1e6:.1f} M" for k, v in sizes.items())
        + ". Medians of 3 runs (flattened AR: 1 run); speed-ups are ratios of medians in the same run."
    )
    return [
        Section("Acoustic generator: parallel decoding vs autoregressive baselines", text, (_table(rows),))
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--flattened-repeats", type=int, default=1)
    p.add_argument("--frames", type=int, nargs="+", default=[500, 1500])
    p.add_argument("--turns", type=int, default=1, help="split the frames into a batch of this many turns")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows, sizes = measure(tuple(args.frames), args.repeats, args.flattened_repeats, turns=args.turns)
    print("parameters: " + ", ".join(f"{k} {v / 1e6:.2f} M" for k, v in sizes.items()))
    print(
        f"{'method':32s} {'frames':>6s} {'turns':>5s} {'passes':>7s} {'median s':>9s} {'RTF':>6s} {'x flat':>7s} {'x delay':>7s}"
    )
    for r in rows:
        print(
            f"{r['method']:32s} {r['frames']:6d} {r['turns']:5d} {r['passes_or_steps']:7d} {r['median_s']:9.2f} {r['rtf']:6.3f} "
            f"{r['x_vs_flattened']:7.1f} {r['x_vs_delay']:7.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
