"""Phonemization with libespeak-ng: known words, pauses, the fixed inventory, speed and thread safety."""

import threading
import time

import pytest

from engine.errors import UserInputError
from engine.text import espeak_lib
from engine.text.normalize import normalize_text
from engine.text.phone_inventory import NEIGHBOURS, PAUSE_NAMES, SILENT_NAMES, SPECIALS
from engine.text.phone_survey import SOUND_TYPES, read_phoneme_table
from engine.text.phonemize import (
    PHONE_SET,
    espeak_names_to_phones,
    phone_ids,
    phonemize,
    split_espeak_phonemes,
    unknown_name_counts,
)

VARIED = (
    "Hello, world. She sells seashells by the seashore; the judge thought it was an odd choice! Who's there? "
    "The button, the butter and the cotton: nothing usual, really. Bach wrote a fugue in nineteen oh five. "
    "Fire, hour, near, pure, care, car, boy, joy, measure, vision, thin, this, sing, think, yes, zoo, bath."
)


def test_known_words():
    assert phonemize("hello") == ["h", "@", "l", "oU", "_."]
    assert phonemize("Hello, world.") == ["h", "@", "l", "oU", "_", "w", "3:", "l", "d", "_."]
    assert phonemize("the thin judge") == ["D", "@2", "T", "I", "n", "dZ", "V", "dZ", "_."]
    assert phonemize("butter") == ["b", "V", "t#", "3", "_."]  # en-us flap and r-coloured schwa


@pytest.mark.parametrize("mark", [",", ";", ":", " -", " \u2014"])
def test_short_pause_at_clause_punctuation(mark):
    assert phonemize(f"yes{mark} no") == ["j", "E", "s", "_", "n", "oU", "_."]


@pytest.mark.parametrize("mark", [".", "?", "!", "...", "?!"])
def test_long_pause_at_sentence_end(mark):
    assert phonemize(f"yes{mark} no{mark}") == ["j", "E", "s", "_.", "n", "oU", "_."]


def test_pauses_never_double_or_lead():
    phones = phonemize(", yes, . no")
    assert phones == ["j", "E", "s", "_.", "n", "oU", "_."]
    assert phonemize("well-known") == phonemize("well known")  # a hyphen inside a word is no pause


def test_every_output_is_in_phone_set():
    phones = phonemize(normalize_text(VARIED + " Dr. Smith paid $5.50 at 3:30 pm on May 1st.").text)
    assert set(phones) <= set(PHONE_SET)
    assert "<unk>" not in phones and "<pad>" not in phones
    assert phones.count("_.") == 7 and phones[-1] == "_."


def test_phone_ids_round_trip():
    phones = phonemize("The quick brown fox.")
    ids = phone_ids(phones)
    assert [PHONE_SET[i] for i in ids] == phones
    assert all(len(SPECIALS) <= i < len(PHONE_SET) for i, p in zip(ids, phones) if p not in ("_", "_."))
    with pytest.raises(ValueError, match="not in PHONE_SET"):
        phone_ids(["h", "oops"])


def test_inventory_is_fixed_and_ordered():
    assert PHONE_SET[:4] == ("<pad>", "_", "_.", "<unk>")
    assert len(set(PHONE_SET)) == len(PHONE_SET) == 71
    assert not any(stress in phone for phone in PHONE_SET[4:] for stress in "',%=")


def test_inventory_covers_the_installed_espeak_table():
    table = read_phoneme_table("en-us")
    sounds = {name for name, kind in table.items() if kind in SOUND_TYPES}
    assert len(sounds) > 100
    placed = set(PHONE_SET) | NEIGHBOURS.keys()
    assert sounds - placed == set()  # every sound espeak en-us can emit has a phone or a neighbour
    others = {name for name, kind in table.items() if kind not in SOUND_TYPES}
    assert others - PAUSE_NAMES - SILENT_NAMES == set()
    assert all(set(phones) <= set(PHONE_SET) for phones in NEIGHBOURS.values())


def test_espeak_strings_split_and_map():
    assert split_espeak_phonemes("h@l'oU w'3:ld") == ["h", "@", "l", "'", "oU", "w", "'", "3:", "l", "d"]
    assert split_espeak_phonemes("h|@|l|'oU") == ["h", "@", "l", "'", "oU"]
    assert split_espeak_phonemes("(en)D@ dZ'VdZ(de)") == ["D", "@", "dZ", "'", "V", "dZ"]
    assert espeak_names_to_phones(["'", "aU@", "_:", "o", "r/", ":"]) == ["aU", "3", "_", "oU", "r"]


def test_unknown_names_become_unk_and_are_counted():
    before = unknown_name_counts().get("\u00a7", 0)
    assert espeak_names_to_phones(["h", "\u00a7"]) == ["h", "<unk>"]
    assert unknown_name_counts()["\u00a7"] == before + 1


def test_nothing_to_say_is_an_error():
    with pytest.raises(UserInputError, match="nothing to say.*write the words"):
        phonemize(", . ?")


def test_speed():
    sentence = "The quick brown fox jumps over the lazy dog, and then it runs away."
    phonemize(sentence)  # initialisation is not part of the figure
    start = time.perf_counter()
    for _ in range(50):
        phonemize(sentence)
    per_sentence = (time.perf_counter() - start) / 50
    assert per_sentence < 0.02  # measured ~0.4 ms on the 2-core dev machine


def test_thread_safe():
    sentences = [f"Sentence number {word}, said twice." for word in ("one", "two", "three", "four")] * 5
    expected = [phonemize(s) for s in sentences]
    results: list = [None] * len(sentences)

    def work(index: int) -> None:
        results[index] = phonemize(sentences[index])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(sentences))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == expected


def test_voice_switched_by_other_code_is_restored():
    expected = phonemize("the judge")
    with espeak_lib.ESPEAK_LOCK:
        espeak_lib._lib.espeak_SetVoiceByName(b"de")  # as a synthesis module in the same process might
    assert phonemize("the judge") == expected


def test_missing_espeak_names_install_script(monkeypatch):
    monkeypatch.setattr(espeak_lib, "_lib", None)
    monkeypatch.setattr(espeak_lib, "_voice", None)
    monkeypatch.setattr(espeak_lib.ctypes.util, "find_library", lambda name: "/nonexistent/libespeak-ng.so")
    with pytest.raises(espeak_lib.EspeakMissingError, match="bash install.sh"):
        espeak_lib.text_to_phoneme_clauses("hello")
