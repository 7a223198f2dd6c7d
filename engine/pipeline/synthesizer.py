"""`DialogueSynthesizer`: loads the codec, text-to-semantic and acoustic models once, checks they fit
together, and runs the stages (prompts, planning, decoding, assembly) for each dialogue."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from engine.acoustic.decoding import DEFAULT_GUIDANCE, DEFAULT_TEMPERATURE
from engine.acoustic.model import AcousticModel, load_model
from engine.assemble import AssemblyConfig, assemble_turns
from engine.codec.base import Codec, load_codec
from engine.codec.group_codec import GroupRVQCodec
from engine.errors import UserInputError
from engine.pipeline.decoding import decode_acoustic, decode_turns
from engine.pipeline.planning import plan_turns, rates_for
from engine.pipeline.progress import BAR, Progress, ProgressReporter
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
from engine.pipeline.results import DialogueResult, TurnAudio
from engine.pipeline.settings import (
    DEFAULT_VOICE_MATCH,
    SynthesisSettings,
    check_settings,
    check_voice_match,
    resolve_iterations,
)
from engine.semantic.t2s import DEFAULT_CHECKPOINT as DEFAULT_DURATION_CHECKPOINT
from engine.semantic.t2s import TextToSemantic
from engine.text.transcript import check_voices, parse_transcript, speakers

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

    def encode_prompt(self, source: VoiceSource, name: str | None = None) -> EncodedPrompt:
        """Load a voice clip, encode its last `prompt_seconds` with the codec and profile it for voice
        matching (the whole clip); cached per clip.

        Args:
            source: a file path, the file's bytes, or a VoicePrompt.
            name: how to call the clip in error messages.

        Returns:
            The prepared clip, its codec tokens [Q, P] and its voice profile.

        Raises:
            AudioInputError: the clip cannot be used (missing, silent, too short or too long...).
        """
        key = prompt_key(source, self.prompt_seconds)
        encoded = self._prompts.get(key)
        if encoded is None:
            encoded = encode_prompt(self.codec, source, self.prompt_seconds, name)
            self._prompts.put(key, encoded)
        return encoded

    # Synthesis -----------------------------------------------------------------------------------------------

    def synthesize(
        self,
        transcript: str,
        voices: Mapping[str, VoiceSource],
        method: str = "group",
        iterations: int | None = None,
        temperature: float = DEFAULT_TEMPERATURE,
        guidance: float | None = None,
        seed: int = 0,
        rate: float | Mapping[str, float] = 1.0,
        progress: Progress | None = None,
        keep_trace: bool = True,
        voice_match: float | None = None,
        voice_texts: Mapping[str, str] | None = None,
    ) -> DialogueResult:
        """Generate a dialogue: every turn in the voice of its speaker, all turns in one acoustic batch.

        Args:
            transcript: one turn per line, `[S1] text` or `Name: text` (see engine.text.transcript).
            voices: speaker -> voice clip (path, file bytes or VoicePrompt); keys match speakers ignoring case.
            method: "group" (G-IPD, fastest), "soundstorm" (level by level) or "spans" (MAGNeT).
            iterations: the main step count (each group's coarse level for "group", the first level
                otherwise), 1..64; None: the method's default.
            temperature: sampling temperature of candidate tokens (0 = greedy).
            guidance: classifier-free guidance weight, annealed to 1; None: the method's default.
            seed: the same seed gives the same audio.
            rate: speed factor 0.5-2.0, for everyone or per speaker ({"S1": 1.2}).
            progress: called as progress(stage, fraction in 0..1) with non-decreasing fractions, first
                before any work; during the acoustic decode the stage reads "acoustic: iteration i/n".
            keep_trace: record every decoding iteration (the app's fill-in view needs it).
            voice_match: strength (0-1) of matching each turn to its prompt's voice after the acoustic
                model; None: the synthesizer's default.
            voice_texts: speaker -> what their voice clip says (optional, keys like `voices`): the speaker's
                tempo is then measured on those words (`TextToSemantic.tempo`), so turns last as long as the
                speaker would take. The built-in voices' words are known and need not be given.

        Returns:
            The dialogue's audio, its turns, the decode trace, per-stage timings and the settings used.

        Raises:
            UserInputError: anything wrong with the transcript, a voice clip or a setting, or a missing model;
                the message says how to fix it.
        """
        report = ProgressReporter(progress)
        report("starting", 0.0)
        start = time.perf_counter()
        timings: dict[str, float] = {}
        steps = resolve_iterations(method, iterations)
        guidance = DEFAULT_GUIDANCE[method] if guidance is None else float(guidance)
        check_settings(temperature, guidance, seed)
        match = self.voice_match if voice_match is None else check_voice_match(voice_match)
        if not isinstance(transcript, str):
            raise UserInputError(
                "The transcript must be text; write one turn per line, e.g. '[S1] Hello there.'"
            )
        voices = voices or {}

        clock = time.perf_counter()
        turns = parse_transcript(transcript)
        notes = check_voices(turns, voices)
        names = speakers(turns)
        rates = rates_for(names, rate)
        timings["parse"] = time.perf_counter() - clock

        clock = time.perf_counter()
        if not self._checked:
            report("loading models", 0.01)
        self.load()
        timings["load"] = time.perf_counter() - clock

        clock = time.perf_counter()
        by_key = {str(key).strip().casefold(): source for key, source in voices.items()}
        sources = {name: by_key[name.casefold()] for name in names}
        prompts: dict[str, EncodedPrompt] = {}
        lo, hi = BAR["prompts"]
        for n, name in enumerate(names):
            report(f"voice prompts: {name}", lo + (hi - lo) * n / len(names))
            source = sources[name]
            label = f"{name}'s voice" + (f" ({Path(source).name})" if isinstance(source, (str, Path)) else "")
            prompts[name] = self.encode_prompt(source, name=label)
            notes += [f"voice {name}: {note}" for note in prompts[name].prompt.notes]
        timings["prompts"] = time.perf_counter() - clock

        clock = time.perf_counter()
        report("text to semantic", BAR["t2s"][0])
        plan = plan_turns(
            self.t2s, turns, {name: p.prompt for name, p in prompts.items()}, sources, rates, voice_texts
        )
        notes += plan.notes
        plans = plan.plans
        timings["t2s"] = time.perf_counter() - clock

        clock = time.perf_counter()
        result = decode_acoustic(
            self.acoustic,
            plans,
            [prompts[turn.speaker].tokens for turn in turns],
            method,
            steps,
            temperature,
            guidance,
            seed,
            report,
            keep_trace,
        )
        timings["acoustic"] = time.perf_counter() - clock

        clock = time.perf_counter()
        waves = decode_turns(
            self.codec, result, [prompts[turn.speaker].profile for turn in turns], match, report
        )
        timings["codec_decode"] = time.perf_counter() - clock

        clock = time.perf_counter()
        report("assembling turns", BAR["codec"][1])
        sample_rate = int(self.codec.sample_rate)
        dialogue = assemble_turns(waves, [t.speaker for t in turns], sample_rate, self.assembly, int(seed))
        timings["assemble"] = time.perf_counter() - clock

        turn_audio = [
            TurnAudio(
                speaker=turn.speaker,
                text=turn_plan.text,
                audio=audio,
                start_s=span[0] / sample_rate,
                end_s=span[1] / sample_rate,
                n_frames=int(n_frames),
                notes=turn_plan.notes,
            )
            for turn, turn_plan, audio, span, n_frames in zip(
                turns, plans, dialogue.turns, dialogue.spans, result.lengths, strict=True
            )
        ]
        timings["total"] = time.perf_counter() - start
        report("done", 1.0)
        settings = SynthesisSettings(
            method=method,
            iterations=steps,
            temperature=float(temperature),
            guidance=guidance,
            seed=int(seed),
            rates=tuple(rates.items()),
            prompt_seconds=self.prompt_seconds,
            voice_match=match if isinstance(self.codec, GroupRVQCodec) else 0.0,
            tempos=tuple((name, tempo) for name, tempo in plan.tempos.items() if name in plan.known_words),
            heard_tempos=tuple(
                (name, tempo)
                for name, tempo in plan.tempos.items()
                if self.t2s.recognizer is not None and name not in plan.known_words
            ),
        )
        return DialogueResult(
            dialogue.audio, sample_rate, turn_audio, result.trace, result.tokens, timings, settings, notes
        )
