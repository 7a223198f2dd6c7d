"""bench/prompt_cleanup.py: its noisy versions of a clip and how "auto" at a threshold is read off the rows."""

import numpy as np
import soundfile as sf

from bench import prompt_cleanup
from engine.eval.panel import ClipScores


def _turn(text: str, heard: str) -> ClipScores:
    return ClipScores(text, {"base": heard, "tiny.en": heard}, 3.0, 3.0, {}, None, 1.0)


def test_noisy_versions_have_the_asked_snr(tmp_path):
    rate = 16000
    speech = (0.3 * np.sin(2 * np.pi * 200 * np.arange(2 * rate) / rate)).astype(np.float32)
    sf.write(tmp_path / "clip.wav", speech, rate)
    versions = prompt_cleanup.versions(tmp_path / "clip.wav", 1)
    assert list(versions) == ["as recorded", "pink noise 15 dB"]
    noisy, _ = sf.read(versions["pink noise 15 dB"], dtype="float32")
    snr = 10 * np.log10(np.mean(speech**2) / np.mean((noisy - speech) ** 2))
    assert abs(snr - 15.0) < 0.2, snr


def test_auto_takes_the_cleaned_version_below_the_threshold():
    good, bad = _turn("one two", "one two"), _turn("one two", "nine")
    rows = [
        # A clean clip (estimated 33 dB) that cleaning spoils, a noisy one (12 dB) that cleaning mends.
        {
            "voice": "a",
            "version": "as recorded",
            "cleaned": False,
            "snr_db": 33.0,
            "turns": [good],
            "similarity": 0.8,
        },
        {
            "voice": "a",
            "version": "as recorded",
            "cleaned": True,
            "snr_db": 33.0,
            "turns": [bad],
            "similarity": 0.7,
        },
        {
            "voice": "a",
            "version": "pink noise 15 dB",
            "cleaned": False,
            "snr_db": 12.0,
            "turns": [bad],
            "similarity": 0.6,
        },
        {
            "voice": "a",
            "version": "pink noise 15 dB",
            "cleaned": True,
            "snr_db": 12.0,
            "turns": [good],
            "similarity": 0.75,
        },
    ]
    by_version, auto = prompt_cleanup.summarize(rows)[0].items
    assert by_version.rows[0][:3] == ("as recorded", "as it is", 0.0)
    assert by_version.rows[1][:3] == ("as recorded", "cleaned", 1.0)
    at_25 = [r for r in auto.rows if r[0] == "auto < 25 dB"]
    assert at_25 == [
        ("auto < 25 dB", "as recorded", 0.0, 0.0, 0.8),
        ("auto < 25 dB", "15 dB", 1.0, 0.0, 0.75),
    ]
    at_40 = [r for r in auto.rows if r[0] == "auto < 40 dB"]
    assert [r[2:4] for r in at_40] == [(1.0, 1.0), (1.0, 0.0)]
