"""The end-to-end pipeline: transcript + one voice clip per speaker -> the dialogue's audio.

parse -> voice prompts (loaded, encoded by the codec once per clip) -> text-to-semantic for all turns in one
pass -> ONE batched acoustic decode of every turn (padded to the longest) -> codec decode per turn (with the
WORLD codec, matched to the prompt's voice: engine/codec/voice_match.py) -> assembly.
The models are loaded once per `DialogueSynthesizer` and reused by every call.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.acoustic.decoding import DECODERS, DEFAULT_GUIDANCE, DEFAULT_STEPS, DEFAULT_TEMPERATURE, pad_turns
from engine.acoustic.model import AcousticModel, load_model
from engine.acoustic.trace import DecodeResult, DecodeTrace
from engine.assemble import AssemblyConfig, assemble_turns
from engine.audio import VoicePrompt, load_voice_prompt, resample
from engine.codec.base import Codec, load_codec
from engine.codec.group_codec import GroupRVQCodec
from engine.codec.voice_match import DEFAULT_STRENGTH as DEFAULT_VOICE_MATCH
from engine.codec.voice_match import VoiceProfile, match_voice, voice_profile
from engine.demos import demo_voice_words
from engine.errors import UserInputError
from engine.semantic.t2s import DEFAULT_CHECKPOINT as DEFAULT_DURATION_CHECKPOINT
from engine.semantic.t2s import SemanticPlan, TextToSemantic, check_rate
from engine.text.transcript import Turn, check_voices, parse_transcript, speakers

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ACOUSTIC_CHECKPOINT = REPO_ROOT / "assets" / "acoustic" / "acoustic.pt"
TRAIN_ACOUSTIC_COMMAND = (
    "python -m engine.train.prepare_acoustic --corpus /work/corpus --out /work/acoustic_data && "
    "python -m engine.train.train_acoustic --data /work/acoustic_data --out runs/acoustic/ckpt.pt "
    "--export assets/acoustic/acoustic.pt"
)
METHODS = tuple(DECODERS)
MAX_ITERATIONS = 64
DEFAULT_PROMPT_SECONDS = 6.0
MIN_PROMPT_SECONDS, MAX_PROMPT_SECONDS = 1.0, 10.0
_PROMPT_CACHE_SIZE = 16
# One batch holds every turn padded to the longest: these bound its memory (logits of B x T x 4096 codes).
MAX_TURN_SECONDS = 60.0
MAX_BATCH_SECONDS = 1800.0

Progress = Callable[[str, float], None]
VoiceSource = str | Path | bytes | VoicePrompt

# Where each stage's progress lies on the 0..1 bar; the acoustic decode dominates the time.
_BAR = {"prompts": (0.02, 0.12), "t2s": (0.12, 0.17), "acoustic": (0.17, 0.85), "codec": (0.85, 0.97)}


@dataclass(frozen=True)
class SynthesisSettings:
    """What a synthesis was run with (iterations and guidance resolved from the method's defaults).

    Attributes:
        method: "soundstorm", "group" or "spans".
        iterations: the decoder's main step count (first level / each group's coarse level).
        temperature: sampling temperature of candidate tokens.
        guidance: classifier-free guidance weight (1 = off).
        seed: seed of the token sampling and of the pause jitter.
        rates: (speaker, speed factor) pairs.
        prompt_seconds: the longest stretch of each voice clip given to the acoustic model.
        voice_match: strength of voice matching to the prompts (0 = off, or no WORLD codec).
        tempos: (speaker, tempo) pairs for speakers whose clip's words were given (`TextToSemantic.tempo`).
        heard_tempos: (speaker, tempo) pairs for the others: tempo measured on the phones heard in the clip.
    """

    method: str
    iterations: int
    temperature: float
    guidance: float
    seed: int
    rates: tuple[tuple[str, float], ...]
    prompt_seconds: float
    voice_match: float = 0.0
    tempos: tuple[tuple[str, float], ...] = ()
    heard_tempos: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, eq=False)
class EncodedPrompt:
    """A voice clip ready for synthesis.

    Attributes:
        prompt: the prepared clip (whole: the speaking rate is measured on it).
        tokens: codec tokens [Q, P] of its last `prompt_seconds`.
        profile: what voice matching uses of the whole clip; None without a WORLD codec or voiced speech.
    """

    prompt: VoicePrompt
    tokens: torch.Tensor
    profile: VoiceProfile | None


@dataclass(frozen=True, eq=False)
class TurnAudio:
    """One generated turn.

    Attributes:
        speaker: who speaks.
        text: the normalized text that was spoken.
        audio: the turn's samples as placed in the dialogue (trimmed, leveled, faded).
        start_s, end_s: where the turn sits in the dialogue's audio.
        n_frames: codec frames generated for the turn (its length in the decode trace).
        notes: what text normalization read out or dropped.
    """

    speaker: str
    text: str
    audio: np.ndarray
    start_s: float
    end_s: float
    n_frames: int
    notes: tuple[str, ...] = ()


@dataclass(eq=False)
class DialogueResult:
    """A generated dialogue.

    Attributes:
        audio: float32 mono samples of the whole dialogue.
        sample_rate: samples per second.
        turns: per turn: speaker, text, audio, placement and frame count.
        trace: the acoustic decode of the whole batch; `trace.lengths[i]` is turn i's frame count.
        tokens: generated codec tokens [turns, Q, T] (UNKNOWN on each turn's padding).
        timings: seconds per stage: parse, prompts, t2s, acoustic, codec_decode, assemble, total.
        settings: what the synthesis was run with.
        notes: warnings and remarks for the user (unused voices, prompt clean-up, normalization).
    """

    audio: np.ndarray
    sample_rate: int
    turns: list[TurnAudio]
    trace: DecodeTrace
    tokens: torch.Tensor
    timings: dict[str, float]
    settings: SynthesisSettings
    notes: list[str] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        """Length of the dialogue's audio in seconds."""
        return len(self.audio) / self.sample_rate

    @property
    def real_time_factor(self) -> float:
        """Seconds of computing per second of audio (below 1 is faster than real time)."""
        return self.timings["total"] / max(self.duration_s, 1e-9)


def resolve_iterations(method: str, iterations: int | None) -> int:
    """The decoder's main step count: `iterations`, or the method's default.

    Raises:
        UserInputError: an unknown method, or iterations outside 1..MAX_ITERATIONS.
    """
    if method not in DECODERS:
        raise UserInputError(
            f"Decoding method {method!r} is unknown; choose one of {', '.join(METHODS)} "
            f"(group is the fastest)."
        )
    if iterations is None:
        return DEFAULT_STEPS[method]
    if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)):
        raise UserInputError(
            f"Iterations must be a whole number from 1 to {MAX_ITERATIONS}, not {iterations!r}."
        )
    if not 1 <= int(iterations) <= MAX_ITERATIONS:
        raise UserInputError(
            f"Iterations {iterations} is out of range; choose 1 to {MAX_ITERATIONS} "
            f"({DEFAULT_STEPS[method]} is the default for {method})."
        )
    return int(iterations)


def check_voice_match(strength: float) -> float:
    """A voice matching strength, checked: a number from 0 (off) to 1."""
    try:
        value = float(strength)
    except (TypeError, ValueError):
        value = float("nan")
    if not 0.0 <= value <= 1.0:
        raise UserInputError(
            f"Voice matching strength {strength!r} is out of range; use a number from 0 (off) to 1 "
            f"(default {DEFAULT_VOICE_MATCH:g})."
        )
    return value


def _check_settings(temperature: float, guidance: float, seed: int) -> None:
    if not 0.0 <= float(temperature) <= 5.0:
        raise UserInputError(
            f"Temperature {temperature} is out of range; choose 0 (greedy) to 5, 1.0 samples the model as trained."
        )
    if not 1.0 <= float(guidance) <= 10.0:
        raise UserInputError(f"Guidance {guidance} is out of range; choose 1 (off) to 10; 3 is typical.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**63:
        raise UserInputError(f"Seed {seed!r} must be a whole number from 0 up; e.g. seed 0.")


def _check_lengths(turns: Sequence[Turn], plans: Sequence[SemanticPlan]) -> None:
    """Refuse turns too long for one batch, naming the turn and how to fix it."""
    longest = max(range(len(plans)), key=lambda i: plans[i].seconds)
    seconds = plans[longest].seconds
    turn = turns[longest]
    if seconds > MAX_TURN_SECONDS:
        raise UserInputError(
            f"Turn {longest + 1} (line {turn.line}, {turn.speaker}) would last {seconds:.0f} s; a turn can last "
            f"at most {MAX_TURN_SECONDS:.0f} s. Split it into several turns of the same speaker."
        )
    if seconds * len(plans) > MAX_BATCH_SECONDS:
        raise UserInputError(
            f"The dialogue is too long to generate at once: {len(plans)} turns padded to the longest "
            f"({seconds:.0f} s) make {seconds * len(plans) / 60:.0f} minutes. Generate it in parts of "
            f"at most {int(MAX_BATCH_SECONDS // seconds)} turns."
        )


def _rates_for(names: Sequence[str], rate: float | Mapping[str, float]) -> dict[str, float]:
    """Speed factor per speaker (keys matched ignoring case); speakers not named get 1.0."""
    if isinstance(rate, Mapping):
        given = {str(k).strip().casefold(): v for k, v in rate.items()}
        unknown = [k for k in rate if str(k).strip().casefold() not in {n.casefold() for n in names}]
        if unknown:
            raise UserInputError(
                f"A speaking rate was given for {', '.join(map(str, unknown))}, who never speaks "
                f"(speakers: {', '.join(names)}); check the name."
            )
        return {n: check_rate(given.get(n.casefold(), 1.0)) for n in names}
    return {n: check_rate(rate) for n in names}


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
        self._cache_lock = threading.Lock()
        self._prompt_cache: OrderedDict[tuple, EncodedPrompt] = OrderedDict()

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
        key = self._prompt_key(source)
        with self._cache_lock:
            if key is not None and key in self._prompt_cache:
                self._prompt_cache.move_to_end(key)
                return self._prompt_cache[key]
        codec = self.codec
        if isinstance(source, VoicePrompt):
            prompt = source
        else:
            prompt = load_voice_prompt(source, sample_rate=codec.sample_rate, name=name)
        samples = prompt.samples
        if prompt.sample_rate != codec.sample_rate:
            samples = resample(samples, prompt.sample_rate, codec.sample_rate)
        keep = round(self.prompt_seconds * codec.sample_rate)
        profile = None
        if isinstance(codec, GroupRVQCodec):
            # One WORLD analysis serves both: the profile reads the whole clip, the tokens its last frames.
            # The clip's start is cut to a whole number of frames so those frames fall where an analysis of
            # the last `prompt_seconds` alone would put them.
            hop = round(codec.sample_rate / codec.frame_rate)
            raw = codec.features(np.asarray(samples[len(samples) % hop :], dtype=np.float32))
            frames = math.ceil(min(keep, len(samples)) / hop)
            tokens = codec.quantize_features(raw[-frames:]).long()
            profile = voice_profile(raw, codec.layout)
        else:
            tokens = codec.encode(np.ascontiguousarray(samples[-keep:], dtype=np.float32)).long()
        encoded = EncodedPrompt(prompt, tokens, profile)
        with self._cache_lock:
            if key is not None:
                self._prompt_cache[key] = encoded
                while len(self._prompt_cache) > _PROMPT_CACHE_SIZE:
                    self._prompt_cache.popitem(last=False)
        return encoded

    def _prompt_key(self, source: VoiceSource) -> tuple | None:
        """What identifies a clip for the cache: its bytes, its file and change time, or its samples."""
        if isinstance(source, VoicePrompt):
            digest = hashlib.sha1(np.ascontiguousarray(source.samples).tobytes()).hexdigest()
            return ("samples", digest, source.sample_rate, self.prompt_seconds)
        if isinstance(source, (bytes, bytearray)):
            return ("bytes", hashlib.sha1(source).hexdigest(), self.prompt_seconds)
        try:
            stat = Path(source).stat()
        except OSError:
            return None  # load_voice_prompt says what is wrong
        return ("file", str(Path(source).resolve()), stat.st_mtime_ns, stat.st_size, self.prompt_seconds)

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
        report = _ProgressReporter(progress)
        report("starting", 0.0)
        start = time.perf_counter()
        timings: dict[str, float] = {}
        steps = resolve_iterations(method, iterations)
        guidance = DEFAULT_GUIDANCE[method] if guidance is None else float(guidance)
        _check_settings(temperature, guidance, seed)
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
        rates = _rates_for(names, rate)
        timings["parse"] = time.perf_counter() - clock

        clock = time.perf_counter()
        if not self._checked:
            report("loading models", 0.01)
        self.load()
        timings["load"] = time.perf_counter() - clock

        clock = time.perf_counter()
        by_key = {str(key).strip().casefold(): source for key, source in voices.items()}
        prompts: dict[str, EncodedPrompt] = {}
        lo, hi = _BAR["prompts"]
        for n, name in enumerate(names):
            report(f"voice prompts: {name}", lo + (hi - lo) * n / len(names))
            source = by_key[name.casefold()]
            label = f"{name}'s voice" + (f" ({Path(source).name})" if isinstance(source, (str, Path)) else "")
            prompts[name] = self.encode_prompt(source, name=label)
            notes += [f"voice {name}: {note}" for note in prompts[name].prompt.notes]
        timings["prompts"] = time.perf_counter() - clock

        clock = time.perf_counter()
        report("text to semantic", _BAR["t2s"][0])
        words = {str(key).strip().casefold(): text for key, text in (voice_texts or {}).items() if text}
        built_in = demo_voice_words()
        for name in names:  # the built-in voices' words are known
            source = by_key[name.casefold()]
            if name.casefold() not in words and isinstance(source, (str, Path)):
                words[name.casefold()] = built_in.get(Path(source).resolve(), "")
        tempos = {
            name: self.t2s.tempo(
                prompts[name].prompt, words.get(name.casefold()) or "", f"{name}'s voice clip"
            )
            for name in names
        }
        plans = self.t2s.plan_batch(
            [turn.text for turn in turns],
            [prompts[t.speaker].prompt for t in turns],
            [rates[t.speaker] for t in turns],
            [tempos[t.speaker] for t in turns],
            [not words.get(t.speaker.casefold()) for t in turns],
        )
        for name in names:
            notes += [f"voice {name}: {note}" for note in self.t2s.condition_notes(prompts[name].prompt)]
            scales = [p.pace_scale for p, t in zip(plans, turns) if t.speaker == name and p.pace_scale != 1.0]
            if scales:
                notes.append(
                    f"voice {name}: the pace of {len(scales)} turn(s) was held within 15 % of the clip's "
                    f"(durations x{min(scales):.2f}-{max(scales):.2f}); give the clip's words for an exact tempo"
                )
        _check_lengths(turns, plans)
        timings["t2s"] = time.perf_counter() - clock

        clock = time.perf_counter()
        result = self._decode(
            turns, plans, prompts, method, steps, temperature, guidance, seed, report, keep_trace
        )
        timings["acoustic"] = time.perf_counter() - clock

        clock = time.perf_counter()
        lo, hi = _BAR["codec"]
        waves = []
        for i, turn in enumerate(turns):
            report(f"codec decode: turn {i + 1}/{len(turns)}", lo + (hi - lo) * i / len(turns))
            tokens = result.tokens[i, :, : int(result.lengths[i])]
            profile = prompts[turn.speaker].profile
            if match > 0 and profile is not None and isinstance(self.codec, GroupRVQCodec):
                raw = match_voice(self.codec.dequantize(tokens), profile, self.codec.layout, match)
                waves.append(self.codec.synthesize_features(raw))
            else:
                waves.append(self.codec.decode(tokens))
        timings["codec_decode"] = time.perf_counter() - clock

        clock = time.perf_counter()
        report("assembling turns", _BAR["codec"][1])
        sample_rate = int(self.codec.sample_rate)
        dialogue = assemble_turns(waves, [t.speaker for t in turns], sample_rate, self.assembly, int(seed))
        timings["assemble"] = time.perf_counter() - clock

        turn_audio = [
            TurnAudio(
                speaker=turn.speaker,
                text=plan.text,
                audio=audio,
                start_s=span[0] / sample_rate,
                end_s=span[1] / sample_rate,
                n_frames=int(n_frames),
                notes=plan.notes,
            )
            for turn, plan, audio, span, n_frames in zip(
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
            tempos=tuple((name, tempo) for name, tempo in tempos.items() if words.get(name.casefold())),
            heard_tempos=tuple(
                (name, tempo)
                for name, tempo in tempos.items()
                if self.t2s.recognizer is not None and not words.get(name.casefold())
            ),
        )
        return DialogueResult(
            dialogue.audio, sample_rate, turn_audio, result.trace, result.tokens, timings, settings, notes
        )

    def _decode(
        self,
        turns: Sequence[Turn],
        plans: Sequence[SemanticPlan],
        prompts: Mapping[str, EncodedPrompt],
        method: str,
        steps: int,
        temperature: float,
        guidance: float,
        seed: int,
        report: _ProgressReporter,
        keep_trace: bool,
    ) -> DecodeResult:
        """All turns through the acoustic decoder in one batch, each conditioned on its speaker's prompt."""
        semantic, lengths = pad_turns([plan.tokens for plan in plans])
        prompt, prompt_lengths = pad_turns([prompts[turn.speaker].tokens for turn in turns])
        lo, hi = _BAR["acoustic"]
        report("acoustic: encoding the voice prompts", lo)

        def on_iteration(done: int, total: int) -> None:
            report(f"acoustic: iteration {done}/{total}", lo + (hi - lo) * done / total)

        return DECODERS[method](
            self.acoustic,
            semantic,
            lengths,
            prompt,
            prompt_lengths,
            steps=steps,
            temperature=float(temperature),
            guidance=guidance,
            seed=int(seed),
            callback=on_iteration,
            keep_trace=keep_trace,
        )


class _ProgressReporter:
    """Forwards progress to the user's callback with fractions clipped to 0..1 and never going back."""

    def __init__(self, callback: Progress | None) -> None:
        self.callback = callback
        self.fraction = 0.0

    def __call__(self, stage: str, fraction: float) -> None:
        self.fraction = max(self.fraction, min(1.0, float(fraction)))
        if self.callback is not None:
            self.callback(stage, self.fraction)
