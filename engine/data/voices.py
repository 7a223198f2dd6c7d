"""The corpus speakers: an engine voice held at one rate/pitch setting. Reserved voices speak only the eval split.

Rule-based engines (espeak, mbrola, flite, festival) and neural ones that sound like people (kokoro: mixes of
Kokoro-82M's style vectors; piper: the CC0 voice joe; rhvoice: HTS voices of CMU ARCTIC-style recordings).
"""

from __future__ import annotations

from dataclasses import dataclass

ENGINES = ("espeak", "mbrola", "flite", "festival", "kokoro", "piper", "rhvoice")
# Never in train/valid: evaluation measures how the model copes with voices it never heard.
RESERVED_VOICES = frozenset(
    {
        ("mbrola", "us3"),
        ("mbrola", "de6"),
        ("mbrola", "fr4"),
        ("flite", "awb"),
        ("flite", "awb_time"),
        ("festival", "ked_diphone"),
        ("festival", "us3_mbrola"),  # mbrola us3 driven by festival
        ("kokoro", "jf_tebukuro"),  # also never part of a training mix (engine.data.kokoro.MIX_VOICES)
        ("rhvoice", "clb"),
    }
)


@dataclass(frozen=True)
class Speaker:
    """One corpus speaker.

    engine: one of ENGINES. voice: the engine's voice (espeak-ng voice name; mbrola database; flite voice;
    festival voice; Kokoro voice or "mix<N>"; Piper voice; RHVoice voice). driver: for mbrola, the espeak-ng voice that writes its .pho (e.g. "mb-de4-en").
    rate: speed relative to the engine's default (1.1 = 10 % faster). pitch: relative base pitch.
    """

    engine: str
    voice: str
    rate: float = 1.0
    pitch: float = 1.0
    driver: str = ""

    @property
    def id(self) -> str:
        name = self.voice.replace("+", "-")
        return f"{self.engine}-{name}-r{round(self.rate * 100)}-p{round(self.pitch * 100)}"

    @property
    def reserved(self) -> bool:
        return (self.engine, self.voice.split("+")[0]) in RESERVED_VOICES


_MBROLA_TRAIN = (
    ("us1", "mb-us1"),
    ("us2", "mb-us2"),
    ("en1", "mb-en1"),
    ("de4", "mb-de4-en"),
    ("de5", "mb-de5-en"),
    ("fr1", "mb-fr1-en"),
    ("hu1", "mb-hu1-en"),
    ("nl2", "mb-nl2-en"),
    ("pl1", "mb-pl1-en"),
    ("sw1", "mb-sw1-en"),
    ("sw2", "mb-sw2-en"),
    ("af1", "mb-af1-en"),
    ("de1", "mb-de1-en"),
    ("de2", "mb-de2-en"),
    ("de3", "mb-de3-en"),
    ("gr2", "mb-gr2-en"),
    ("ro1", "mb-ro1-en"),
    # Databases without an espeak-ng driver of their own, driven by another database's of the same language
    # (on 30 corpus sentences at most 0.14 missed diphones per 100 phones; de8 and nl1 missed about half, nl3 9).
    ("de7", "mb-de3-en"),
    ("fr2", "mb-fr1-en"),
    ("fr3", "mb-fr1-en"),
    ("fr5", "mb-fr1-en"),
    ("fr6", "mb-fr1-en"),
    ("fr7", "mb-fr1-en"),
)
# Two settings per mbrola voice: a slower, higher one and a faster, lower one.
_MBROLA_SETTINGS = ((0.92, 1.12), (1.08, 0.88))
# espeak-ng voices: American and British English with the bundled voice variants, one setting each.
_ESPEAK_TRAIN = (
    ("en-us+m1", 1.0, 1.0),
    ("en-us+m2", 0.9, 0.9),
    ("en-us+m3", 1.1, 1.0),
    ("en-us+m4", 1.0, 1.15),
    ("en-us+m5", 0.95, 0.85),
    ("en-us+m6", 1.05, 1.1),
    ("en-us+m7", 1.0, 0.95),
    ("en-us+f1", 1.0, 1.0),
    ("en-us+f2", 0.9, 1.1),
    ("en-us+f3", 1.1, 0.9),
    ("en-us+f4", 1.0, 1.05),
    ("en-us+f5", 0.95, 1.0),
    ("en-us+klatt", 1.0, 1.0),
    ("en-us+klatt3", 1.05, 0.9),
    ("en+m3", 1.0, 1.0),
    ("en+f2", 1.05, 1.05),
    ("en-us+Annie", 1.0, 1.0),
    ("en-us+belinda", 0.95, 1.0),
)
_FLITE_TRAIN = (
    ("kal16", 1.0, 1.0),
    ("kal16", 0.9, 1.2),
    ("slt", 1.0, 1.0),
    ("slt", 1.1, 0.9),
    ("rms", 1.0, 1.0),
    ("rms", 0.9, 1.0),
)
# festival voices with the US radio phone set. Festival's own prosody (the f2b duration tree, its pauses)
# reaches mbrola us1/us2 timbres too; pitch stays the voice's own (festival takes only a rate here).
_FESTIVAL_TRAIN = (
    ("kal_diphone", 1.0),
    ("kal_diphone", 0.9),
    ("us1_mbrola", 1.0),
    ("us2_mbrola", 1.1),
    ("cmu_us_slt_arctic_hts", 1.0),
)

# Kokoro: four of its five voices as they are and 28 seeded mixes of them (engine.data.kokoro.mixed_style),
# each at one speed; Kokoro takes no pitch setting.
_KOKORO_RATES = (1.0, 0.92, 1.08, 0.96, 1.04)
_STANDARD_MIXES = 28
_KOKORO_TRAIN = (("jf_alpha", 1.0), ("jf_gongitsune", 1.0), ("jf_nezumi", 1.0), ("jm_kumo", 1.0)) + tuple(
    (f"mix{k}", _KOKORO_RATES[k % len(_KOKORO_RATES)]) for k in range(1, _STANDARD_MIXES + 1)
)


def extra_kokoro_speakers(count: int) -> tuple[Speaker, ...]:
    """`count` Kokoro mixes beyond the standard training voices (mix29, mix30, ...), each at one speed: a
    wider voice space for `build_corpus --kokoro-mixes N`."""
    first = _STANDARD_MIXES + 1
    return tuple(
        Speaker("kokoro", f"mix{k}", _KOKORO_RATES[k % len(_KOKORO_RATES)]) for k in range(first, first + count)
    )


_PIPER_TRAIN = (("joe", 1.0), ("joe", 0.9))
# RHVoice: the voices whose licence allows it (engine.data.rhvoice), two settings each; clb is reserved.
_RHVOICE_TRAIN = (
    ("alan", 1.0, 1.0),
    ("alan", 0.9, 1.1),
    ("bdl", 1.0, 1.0),
    ("bdl", 1.1, 0.9),
    ("slt", 1.0, 1.0),
    ("slt", 0.9, 1.1),
)

TRAIN_SPEAKERS: tuple[Speaker, ...] = (
    tuple(
        Speaker("mbrola", db, rate, pitch, driver)
        for db, driver in _MBROLA_TRAIN
        for rate, pitch in _MBROLA_SETTINGS
    )
    + tuple(Speaker("espeak", voice, rate, pitch) for voice, rate, pitch in _ESPEAK_TRAIN)
    + tuple(Speaker("flite", voice, rate, pitch) for voice, rate, pitch in _FLITE_TRAIN)
    + tuple(Speaker("festival", voice, rate) for voice, rate in _FESTIVAL_TRAIN)
    + tuple(Speaker("kokoro", voice, rate) for voice, rate in _KOKORO_TRAIN)
    + tuple(Speaker("piper", voice, rate) for voice, rate in _PIPER_TRAIN)
    + tuple(Speaker("rhvoice", voice, rate, pitch) for voice, rate, pitch in _RHVOICE_TRAIN)
)
EVAL_SPEAKERS: tuple[Speaker, ...] = (
    Speaker("mbrola", "us3", driver="mb-us3"),
    Speaker("mbrola", "de6", driver="mb-de6-en"),
    Speaker("mbrola", "fr4", driver="mb-fr4-en"),
    Speaker("flite", "awb"),
    Speaker("festival", "ked_diphone"),
    Speaker("kokoro", "jf_tebukuro"),
    Speaker("rhvoice", "clb"),
)
