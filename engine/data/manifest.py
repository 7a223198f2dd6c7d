"""The corpus manifest: one JSON object per utterance in DIR/manifest.jsonl, appended as utterances finish."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from engine.errors import UserInputError

MANIFEST_NAME = "manifest.jsonl"


@dataclass(frozen=True)
class Utterance:
    """One corpus utterance. `wav` is relative to `root`; `phones` are (symbol, start_s, end_s) over the audio."""

    id: str
    speaker: str
    engine: str
    voice: str
    split: str
    text: str
    wav: str
    sample_rate: int
    duration: float
    phones: tuple[tuple[str, float, float], ...]
    root: str = ""

    @property
    def wav_path(self) -> str:
        """Absolute path of the utterance's wav file."""
        return os.path.join(self.root, self.wav)


def entry_to_utterance(entry: dict, root: str) -> Utterance:
    """An Utterance from one manifest JSON object (extra keys such as "source" are ignored)."""
    return Utterance(
        id=entry["id"],
        speaker=entry["speaker"],
        engine=entry["engine"],
        voice=entry["voice"],
        split=entry["split"],
        text=entry["text"],
        wav=entry["wav"],
        sample_rate=int(entry["sample_rate"]),
        duration=float(entry["duration"]),
        phones=tuple((str(p), float(s), float(e)) for p, s, e in entry["phones"]),
        root=root,
    )


def read_entries(directory: str) -> dict[str, dict]:
    """Manifest entries by id (a later line for the same id wins; a torn last line from a crash is skipped).

    Args:
        directory: corpus folder holding manifest.jsonl (a missing manifest reads as empty).
    """
    path = os.path.join(directory, MANIFEST_NAME)
    entries: dict[str, dict] = {}
    if not os.path.exists(path):
        return entries
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            entries[entry["id"]] = entry
    return entries


def drop_torn_tail(directory: str) -> None:
    """Cut a half-written last line (a build killed mid-write) so the next appended line starts clean."""
    path = os.path.join(directory, MANIFEST_NAME)
    if not os.path.exists(path):
        return
    with open(path, "rb+") as handle:
        data = handle.read()
        if data and not data.endswith(b"\n"):
            handle.truncate(data.rfind(b"\n") + 1)


def append_entry(directory: str, entry: dict) -> None:
    """Append one utterance to the manifest in a single write, so concurrent readers see whole lines."""
    with open(os.path.join(directory, MANIFEST_NAME), "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, separators=(",", ":")) + "\n")
        handle.flush()


def load_manifest(directory: str, split: str | None = None) -> list[Utterance]:
    """The corpus utterances, in manifest order, optionally of one split.

    Args:
        directory: corpus folder (as given to `build_corpus --out`).
        split: "train", "valid" or "eval"; None for all.

    Returns:
        Utterances whose wav file exists (the manifest may be read while the build still runs).

    Raises:
        UserInputError: no manifest in `directory`, or an unknown split name.
    """
    if split not in (None, "train", "valid", "eval"):
        raise UserInputError(f"Unknown split {split!r}; use 'train', 'valid' or 'eval'.")
    if not os.path.exists(os.path.join(directory, MANIFEST_NAME)):
        raise UserInputError(
            f"No {MANIFEST_NAME} in {directory!r}; build a corpus with "
            f"`python -m engine.data.build_corpus --hours 1 --out {directory}`."
        )
    root = os.path.abspath(directory)
    utterances = [entry_to_utterance(entry, root) for entry in read_entries(directory).values()]
    return [u for u in utterances if (split is None or u.split == split) and os.path.exists(u.wav_path)]
