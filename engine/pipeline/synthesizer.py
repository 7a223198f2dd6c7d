"""`DialogueSynthesizer`: loads the codec, text-to-semantic and acoustic models once, checks they fit
together, keeps the encoded voice clips, and runs a dialogue's stages (engine/pipeline/streaming.py) whole
(`synthesize`) or chunk by chunk (`stream`)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from engine.acoustic.model import AcousticModel, load_model
from engine.assemble import AssemblyConfig
from engine.audio import VoicePrompt, load_voice_prompt
from engine.codec.base import Codec, load_codec
from engine.denoise import DEFAULT_MODE as DEFAULT_DENOISE
from engine.denoise import check_mode, clean_up
from engine.errors import UserInputError
from engine.pipeline.progress import Progress
from engine.pipeline.prompts import (
    DEFAULT_PROMPT_SECONDS,
    MAX_PROMPT_SECONDS,
    MIN_PROMPT_SECONDS,
    EncodedPrompt,
    PromptCache,
    VoiceSource,
    encode_prompt,
    prompt_key,
)
from engine.pipeline.results import DialogueResult
from engine.pipeline.settings import DEFAULT_PACE_CHECK, DEFAULT_VOICE_MATCH, check_voice_match
from engine.pipeline.streaming import DialogueStream, StreamRequest
from engine.semantic.t2s import DEFAULT_CHECKPOINT as DEFAULT_DURATION_CHECKPOINT
from engine.semantic.t2s import TextToSemantic

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ACOUSTIC_CHECKPOINT = REPO_ROOT / "assets" / "acoustic" / "acoustic.pt"
TRAIN_ACOUSTIC_COMMAND = (
    "python -m engine.train.prepare_acoustic --corpus /work/corpus --out /work/acoustic_data && "
    "python -m engine.train.train_acoustic --data /work/acoustic_data --out runs/acoustic/ckpt.pt "
    "--export assets/acoustic/acoustic.pt"
)


class DialogueSynthesizer:
    """Loads the codec, text-to-semantic and acoustic models once and synthesizes dialogues with them.

    Every component is given as a path (loaded on first use) or as an object already built (tests inject a
    small model); None means the shipped asset.
    """

    def __init__(
        self,
        codec: Codec | str | Path | None = None,
        acoustic: AcousticModel | str | Path | None = None,
        t2s: TextToSemantic | str | Path | None = None,
        prompt_seconds: float | None = None,
        assembly: AssemblyConfig | None = None,
        voice_match: float = DEFAULT_VOICE_MATCH,
        denoise: str = DEFAULT_DENOISE,
        pace_check: bool = DEFAULT_PACE_CHECK,
    ) -> None:
        """
        Args:
            codec: a Codec, or the directory / .pt of one (default assets/codec/).
            acoustic: an AcousticModel, or its checkpoint (default assets/acoustic/acoustic.pt).
            t2s: a TextToSemantic, or a duration checkpoint (default assets/duration/duration.pt).
            prompt_seconds: the longest stretch (the clip's end) of a voice clip the acoustic model is
                conditioned on; None: the prompt length the checkpoint was trained with, else 6 s.
            assembly: pauses and loudness of the joined dialogue (None: `AssemblyConfig()`).
            voice_match: default strength (0-1) of matching each turn's voice to its prompt after the
                acoustic model (engine/codec/voice_match.py; WORLD codec only); 0 turns it off.
            denoise: background-noise removal of the voice clips read from files or bytes
                (engine/denoise.py): "auto" (the noisy ones), "on" or "off".
            pace_check: default of making a turn again when its sound is heard more than 20 % off its clip's
                pace (engine/pipeline/pace_check.py; `DEFAULT_PACE_CHECK`).
        """
        if prompt_seconds is not None and not MIN_PROMPT_SECONDS <= prompt_seconds <= MAX_PROMPT_SECONDS:
            raise UserInputError(
                f"prompt_seconds {prompt_seconds} is out of range; use {MIN_PROMPT_SECONDS:g} to "
                f"{MAX_PROMPT_SECONDS:g} s (5-8 s works well)."
            )
        self._codec_source = codec
        self._acoustic_source = acoustic
        self._t2s_source = t2s
        self._prompt_seconds = prompt_seconds
        self.voice_match = check_voice_match(voice_match)
        self.denoise = check_mode(denoise)
        self.pace_check = bool(pace_check)
        self.assembly = assembly or AssemblyConfig()
        self.acoustic_metadata: dict[str, Any] = {}
        self._codec: Codec | None = codec if not isinstance(codec, (str, Path, type(None))) else None
        self._acoustic: AcousticModel | None = acoustic if isinstance(acoustic, AcousticModel) else None
        self._t2s: TextToSemantic | None = t2s if isinstance(t2s, TextToSemantic) else None
        self._checked = False
        self._load_lock = threading.Lock()
        self._prompts = PromptCache()

    # Components, loaded on first use -------------------------------------------------------------------

    @property
    def codec(self) -> Codec:
        """The codec (loaded on first use)."""
        self.load()
        assert self._codec is not None
        return self._codec

    @property
    def acoustic(self) -> AcousticModel:
        """The acoustic model (loaded on first use)."""
        self.load()
        assert self._acoustic is not None
        return self._acoustic

    @property
    def t2s(self) -> TextToSemantic:
        """The text-to-semantic stage (loaded on first use)."""
        self.load()
        assert self._t2s is not None
        return self._t2s

    @property
    def prompt_seconds(self) -> float:
        """Seconds of each voice clip (its end) the acoustic model is conditioned on."""
        if self._prompt_seconds is not None:
            return self._prompt_seconds
        self.load()  # the checkpoint's metadata says what it was trained with
        frames = self.acoustic_metadata.get("train_config", {}).get("prompt_frames")
        if frames:
            return float(np.clip(frames / self.codec.frame_rate, MIN_PROMPT_SECONDS, MAX_PROMPT_SECONDS))
        return DEFAULT_PROMPT_SECONDS

    @property
    def loaded(self) -> bool:
        """Whether every component is loaded and checked (after the first `load` or `synthesize`)."""
        return self._checked

    def load(self) -> None:
        """Load every component not loaded yet and check they fit together (done once; thread-safe).

        Raises:
            UserInputError: a checkpoint is missing (the message names it and how to make it), or the
                acoustic model was trained for another codec or phone set.
        """
        if self._checked:
            return
        with self._load_lock:
            if self._checked:
                return
            if self._acoustic is None:  # first: a missing checkpoint is the likeliest problem
                self._acoustic, self.acoustic_metadata = self._load_acoustic()
            if self._codec is None:
                self._codec = load_codec(self._codec_source)
            if self._t2s is None:
                path = (
                    Path(self._t2s_source)
                    if self._t2s_source is not None
                    else Path(DEFAULT_DURATION_CHECKPOINT)
                )
                try:
                    self._t2s = TextToSemantic(str(path))
                except FileNotFoundError as err:
                    raise UserInputError(str(err)) from None
            self._check_compatible(self._codec, self._acoustic, self._t2s)
            self._checked = True

    def _load_acoustic(self) -> tuple[AcousticModel, dict[str, Any]]:
        path = (
            Path(self._acoustic_source) if self._acoustic_source is not None else DEFAULT_ACOUSTIC_CHECKPOINT
        )
        if not path.is_file():
            where = "The shipped acoustic model" if self._acoustic_source is None else "The acoustic model"
            raise UserInputError(
                f"{where} {path} is missing, so no speech can be generated yet. Train it with "
                f"`{TRAIN_ACOUSTIC_COMMAND}`, or pass the path of an existing checkpoint."
            )
        model, metadata = load_model(path)
        if metadata.get("arch", "parallel") != "parallel":
            raise UserInputError(
                f"{path} holds an autoregressive baseline ({metadata['arch']}); give a parallel acoustic model."
            )
        return model, metadata

    @staticmethod
    def _check_compatible(codec: Codec, model: AcousticModel, t2s: TextToSemantic) -> None:
        cfg = model.config
        if tuple(cfg.codebook_sizes) != tuple(codec.codebook_sizes) or cfg.groups != tuple(codec.groups):
            raise UserInputError(
                f"The acoustic model was trained for a codec with codebooks {cfg.codebook_sizes} in groups "
                f"{cfg.groups}, but the codec has {tuple(codec.codebook_sizes)} in {tuple(codec.groups)}; "
                "retrain the acoustic model on this codec's tokens, or use the codec it was trained with."
            )
        if (
            cfg.semantic_vocab[0] < t2s.tokenizer.vocab_size
            or int(codec.frame_rate) != t2s.tokenizer.frame_rate
        ):
            raise UserInputError(
                f"The acoustic model reads {cfg.semantic_vocab[0]} semantic tokens but the text-to-semantic "
                f"stage makes {t2s.tokenizer.vocab_size} at {t2s.tokenizer.frame_rate} frames/s (codec: "
                f"{codec.frame_rate}); retrain the acoustic model with the current phone set."
            )

    # Voice prompts ---------------------------------------------------------------------------------------

    def encode_prompt(
        self, source: VoiceSource, name: str | None = None, loaded: VoicePrompt | None = None
    ) -> EncodedPrompt:
        """Load a voice clip, encode its last `prompt_seconds` with the codec and profile it for voice
        matching (the whole clip); cached per clip.

        Args:
            source: a file path, the file's bytes, or a VoicePrompt.
            name: how to call the clip in error messages.
            loaded: the clip as `load_prompt` already read it from `source` (saves reading it again).

        Returns:
            The prepared clip, its codec tokens [Q, P] and its voice profile.

        Raises:
            AudioInputError: the clip cannot be used (missing, silent, too short or too long...).
        """
        key = self._prompt_key(source)
        encoded = self._prompts.get(key)
        if encoded is None:
            encoded = encode_prompt(
                self.codec, loaded or self._read_prompt(source, name), self.prompt_seconds
            )
            self._prompts.put(key, encoded)
        return encoded

    def load_prompt(self, source: VoiceSource, name: str | None = None) -> VoicePrompt:
        """A voice clip read, checked and cleaned of noise as `denoise` says (from the cache when it was
        encoded before), not encoded yet. A VoicePrompt is taken as it is.

        Raises:
            AudioInputError: the clip cannot be used (missing, silent, too short or too long...).
        """
        encoded = self._prompts.get(self._prompt_key(source))
        return encoded.prompt if encoded is not None else self._read_prompt(source, name)

    def _read_prompt(self, source: VoiceSource, name: str | None) -> VoicePrompt:
        if isinstance(source, VoicePrompt):
            return source
        return clean_up(
            load_voice_prompt(source, sample_rate=self.codec.sample_rate, name=name), self.denoise
        )

    def _prompt_key(self, source: VoiceSource) -> tuple | None:
        key = prompt_key(source, self.prompt_seconds)
        return None if key is None else (*key, self.denoise)

    # Synthesis -----------------------------------------------------------------------------------------------

    def synthesize(
        self,
        transcript: str,
        voices: Mapping[str, VoiceSource],
        progress: Progress | None = None,
        cancel: Callable[[], bool] | None = None,
        **options: Any,
    ) -> DialogueResult:
        """Generate a dialogue: every turn in the voice of its speaker, the turns in acoustic batches of up
        to CHUNK_SECONDS of padded audio (a short dialogue is one batch; `stream` gives each batch's audio
        as soon as it is ready).

        Args:
            transcript: one turn per line, `[S1] text` or `Name: text` (see engine.text.transcript).
            voices: speaker -> voice clip (path, file bytes or VoicePrompt); keys match speakers ignoring case.
            progress: called as progress(stage, fraction in 0..1) with non-decreasing fractions, first
                before any work; during the decode the stage names the turns worked on, the step ("acoustic
                iteration i/n", "codec decode, turn j") and the time left.
            cancel: asked between decoder iterations and turns; when it returns True the synthesis stops
                with SynthesisCancelled.
            **options: how to synthesize (`StreamRequest`; each has a default):
                method: "group" (G-IPD, fastest), "soundstorm" (level by level) or "spans" (MAGNeT).
                iterations: the main step count (each group's coarse level for "group", the first level
                    otherwise), 1..64; None: the method's default.
                temperature: sampling temperature of candidate tokens (0 = greedy).
                guidance: classifier-free guidance weight, annealed to 1; None: the method's default.
                seed: the same seed gives the same audio.
                rate: speed factor 0.5-2.0, for everyone or per speaker ({"S1": 1.2}).
                keep_trace: record every decoding iteration (default here True: the app's fill-in view
                    needs it).
                voice_match: strength (0-1) of matching each turn to its prompt's voice after the acoustic
                    model; None: the synthesizer's default.
                voice_texts: speaker -> what their voice clip says (optional, keys like `voices`): the
                    speaker's tempo is then measured on those words (`TextToSemantic.tempo`), so turns last
                    as long as the speaker would take. The built-in voices' words are known.
                chunk_seconds: the most padded audio decoded in one batch (it bounds the memory).
                pace_check: make a turn again when it is heard more than 20 % off its clip's pace; None:
                    the synthesizer's default.

        Returns:
            The dialogue's audio, its turns, the decode trace, per-stage timings and the settings used.

        Raises:
            UserInputError: anything wrong with the transcript, a voice clip or a setting, or a missing model;
                the message says how to fix it.
            SynthesisCancelled: `cancel` said to stop.
        """
        options.setdefault("keep_trace", True)
        stream = self.stream(transcript, voices, progress, cancel, first_small=False, keep=True, **options)
        for _ in stream:
            pass
        return stream.result()

    def stream(
        self,
        transcript: str,
        voices: Mapping[str, VoiceSource],
        progress: Progress | None = None,
        cancel: Callable[[], bool] | None = None,
        first_small: bool = True,
        keep: bool = True,
        pause: Callable[[], None] | None = None,
        **options: Any,
    ) -> DialogueStream:
        """Generate a dialogue chunk by chunk: iterate the returned stream for each stretch of audio as soon
        as it is decoded (the first is the first turn alone), then take `result()` for the whole.

        Args:
            first_small: the first chunk is the first turn alone, the next ones grow to `chunk_seconds`
                (False: every chunk as large as allowed, as `synthesize` does); the other turns are planned
                once the first chunk is out, so its `n_chunks` is None.
            keep: keep every chunk's audio and decode for `result()`; False holds one chunk at a time.
            pause: called after a voice clip was encoded, where the caller may let others run first (the
                app's line gives way there as it does between chunks).
            Other arguments as `synthesize` (keep_trace defaults to False here); nothing runs until the
            stream is iterated, and the errors come from the iteration.
        """
        request = StreamRequest(transcript, voices, first_small=first_small, keep=keep, **options)
        return DialogueStream(self, request, progress, cancel, pause)
