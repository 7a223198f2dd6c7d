"""The end-to-end pipeline: transcript + one voice clip per speaker -> the dialogue's audio.

parse -> voice clips (loaded and checked; encoded by the codec once per clip: prompts.py) -> text-to-semantic
for all turns in one pass (planning.py) -> the turns cut into chunks of consecutive turns (chunks.py); per
chunk, one batched acoustic decode of its turns, padded to the longest, then a codec decode per turn, with the
WORLD codec matched to the prompt's voice (decoding.py), and the turns joined on (streaming.py).
`DialogueSynthesizer` (synthesizer.py) loads the models once and reuses them for every call; `synthesize`
returns the whole dialogue, `stream` each chunk as soon as it is ready.
"""

from engine.acoustic.decoding import DECODERS
from engine.pipeline.chunks import CHUNK_SECONDS
from engine.pipeline.planning import MAX_TURN_SECONDS, DialoguePlan
from engine.pipeline.progress import Progress
from engine.pipeline.prompts import (
    DEFAULT_PROMPT_SECONDS,
    MAX_PROMPT_SECONDS,
    MIN_PROMPT_SECONDS,
    EncodedPrompt,
    VoiceSource,
)
from engine.pipeline.results import DialogueResult, TurnAudio
from engine.pipeline.settings import (
    DEFAULT_PACE_CHECK,
    DEFAULT_VOICE_MATCH,
    MAX_ITERATIONS,
    METHODS,
    SynthesisSettings,
    check_voice_match,
    resolve_iterations,
)
from engine.pipeline.streaming import DialogueChunk, DialogueStream
from engine.pipeline.synthesizer import (
    DEFAULT_ACOUSTIC_CHECKPOINT,
    REPO_ROOT,
    TRAIN_ACOUSTIC_COMMAND,
    DialogueSynthesizer,
)

__all__ = [
    "CHUNK_SECONDS",
    "DECODERS",
    "DEFAULT_ACOUSTIC_CHECKPOINT",
    "DEFAULT_PACE_CHECK",
    "DEFAULT_PROMPT_SECONDS",
    "DEFAULT_VOICE_MATCH",
    "MAX_ITERATIONS",
    "MAX_PROMPT_SECONDS",
    "MAX_TURN_SECONDS",
    "METHODS",
    "MIN_PROMPT_SECONDS",
    "REPO_ROOT",
    "TRAIN_ACOUSTIC_COMMAND",
    "DialogueChunk",
    "DialoguePlan",
    "DialogueResult",
    "DialogueStream",
    "DialogueSynthesizer",
    "EncodedPrompt",
    "Progress",
    "SynthesisSettings",
    "TurnAudio",
    "VoiceSource",
    "check_voice_match",
    "resolve_iterations",
]
