"""bench/t2s/ turns measured figures into report tables, including the prompt-length table."""

import json
from dataclasses import asdict

import numpy as np

from bench import t2s as bench_t2s
from bench.report import Table
from engine.semantic.duration_data import DurationExample
from engine.semantic.duration_eval import score


def _figures() -> dict:
    examples = [
        DurationExample("a", "v1", ("h", "@", "_."), (1, 2, 3), (0.05, 0.10, 0.20)),
        DurationExample("b", "v2", ("s", "i:", "_."), (1, 2, 3), (0.10, 0.10, 0.20)),
    ]
    exact = [np.array(e.seconds) for e in examples]
    slow = [1.5 * np.array(e.seconds) for e in examples]
    pair = {"model": asdict(score(examples, exact)), "baseline": asdict(score(examples, slow))}
    lengths = {
        seconds: {
            "all reserved voices": asdict(score(examples, predicted)),
            "mbrola v1": asdict(score(examples[:1], predicted[:1])),
        }
        for seconds, predicted in ((5.0, slow), (10.0, exact))
    }
    words = {
        seconds: {
            "tempo_range": (0.9, 1.1),
            "by_voice": {"all reserved voices": lengths[seconds]["all reserved voices"]},
            "from_text": {"utterances": 2, "within_10": within},
            "heard": {  # the other way round: exact at 5 s, 1.5 x too long at 10 s
                "phone_error_rate": 0.25,
                "tempo_range": (0.8, 1.2),
                "by_voice": {"all reserved voices": lengths[other]["all reserved voices"]},
            },
        }
        for seconds, within, other in ((5.0, 0.5, 10.0), (10.0, 1.0, 5.0))
    }
    rate = {"r_utterance": 0.8, "r_speaker": 0.9, "speakers": 5, "utterances": 10}
    return json.loads(json.dumps({  # as read back from t2s.json: prompt lengths become string keys
        "corpus": "/corpus",
        "checkpoint": {"parameters": 10, "step": 1, "train_seconds": 60, "train_utterances": 2},
        "all": pair,
        "by_voice": {"mbrola v1": pair},
        "by_prompt_seconds": lengths,
        "with_prompt_words": words,
        "frame_mae_ms": {"model": 1.0, "baseline": 2.0},
        "from_text": {"utterances": 2, "within_10": 1.0, "mean_abs_rel_error": 0.0},
        "rate_estimator": {"eval": rate, "train": rate},
        "timing": {
            "median_ms": 5.0, "p90_ms": 6.0, "turns": 2, "words_per_turn": 12, "prompt_rate_ms": 20.0, "prompt_tempo_ms": 30.0,
            "prompt_seconds": 4.0,
        },
        "position_bucket_r2": {"1": 0.6, "2": 0.61},
    }))


def test_prompt_length_table_has_every_voice_and_length():
    section = bench_t2s.sections(_figures())[0]
    tables = [item for item in section.items if isinstance(item, Table)]
    by_length = next(t for t in tables if "longer prompts" in t.caption)
    assert by_length.columns[1].startswith("5 s prompt") and by_length.columns[2].startswith("10 s prompt")
    rows = {row[0]: row[1:] for row in by_length.rows}
    assert set(rows) == {"all reserved voices", "mbrola v1"}
    # 1.5x too long everywhere at 5 s (0% within 10%), exact at 10 s (100%, 0 ms error).
    everyone = rows["all reserved voices"]
    assert everyone[0].startswith("0.0%") and everyone[1] == "100.0% / 0.0"


def test_prompt_words_table_gives_lengths_text_path_and_tempos():
    section = bench_t2s.sections(_figures())[0]
    table = next(t for t in section.items if isinstance(t, Table) and t.caption.startswith("With the prompt's"))
    rows = {row[0]: row[1:] for row in table.rows}
    assert rows["all reserved voices"] == ("0.0% / 62.5", "100.0% / 0.0")  # 1.5 x too long, then exact
    assert rows["from the raw texts (phonemizer on both sides), within 10%"] == ("50.0% of 2", "100.0% of 2")
    assert rows["tempo measured, lowest - highest"] == ("0.90 - 1.10", "0.90 - 1.10")


def test_heard_phones_table_gives_lengths_tempos_and_the_recognizers_errors():
    section = bench_t2s.sections(_figures())[0]
    table = next(t for t in section.items if isinstance(t, Table) and t.caption.startswith("Without the prompt's"))
    rows = {row[0]: row[1:] for row in table.rows}
    assert rows["all reserved voices"] == ("100.0% / 0.0", "0.0% / 62.5")
    assert rows["tempo measured, lowest - highest"] == ("0.80 - 1.20", "0.80 - 1.20")
    assert rows["recognizer's phone error rate on these recordings"] == ("25.0%", "25.0%")
