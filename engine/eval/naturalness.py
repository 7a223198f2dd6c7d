"""Naturalness: DNSMOS P.808 and P.835 (signal, background, overall) from pip `speechmos`, whose ONNX models
ship inside the package and run offline. Real clips score 3.3-4.0 here, WORLD resynthesis about 0.4 lower."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import UserInputError
from engine.eval import EVAL_INSTALL_HINT
from engine.eval.wer import WHISPER_SAMPLE_RATE, to_mono_16k

DNSMOS_SAMPLE_RATE = WHISPER_SAMPLE_RATE  # both models hear 16 kHz
# DNSMOS reads 9 s windows (speechmos loops shorter clips to fill one); below this there is nothing to loop.
MIN_SECONDS = 0.1
# The machine's 2 cores are shared with the synthesizer and the other judges; onnxruntime would take them all.
ONNX_THREADS = 2


@dataclass(frozen=True)
class Dnsmos:
    """Mean opinion scores (1-5) predicted by DNSMOS."""

    p808: float  # P.808 overall quality
    ovrl: float  # P.835 overall
    sig: float  # P.835 speech signal
    bak: float  # P.835 background noise (high = quiet background)


class DnsmosJudge:
    """The two DNSMOS ONNX sessions (P.835 and P.808), loaded once (≈0.1 s) on few threads."""

    def __init__(self, threads: int = ONNX_THREADS) -> None:
        """Open the models shipped in pip `speechmos`.

        Args:
            threads: onnxruntime intra-op threads.
        """
        try:
            import onnxruntime as ort
            from speechmos import dnsmos as speechmos_dnsmos  # it imports `requests`, unused offline
        except ImportError as err:
            raise ImportError(f"DNSMOS needs the eval tools: {EVAL_INSTALL_HINT}. ({err})") from err
        models = Path(speechmos_dnsmos.__file__).parent / "dnsmos_models"
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # speechmos.dnsmos.DNSMOS opens its sessions with default (all-core) options; build the object without
        # its __init__ and hand it ours, keeping its feature and scoring code as is.
        self._model = speechmos_dnsmos.DNSMOS.__new__(speechmos_dnsmos.DNSMOS)
        self._model.primary_model_path = str(models / "sig_bak_ovr.onnx")
        self._model.onnx_sess = self._session(ort, models / "sig_bak_ovr.onnx", options)
        self._model.p808_onnx_sess = self._session(ort, models / "model_v8.onnx", options)

    @staticmethod
    def _session(ort, path: Path, options):
        if not path.is_file():
            raise FileNotFoundError(
                f"DNSMOS model {path} is missing; reinstall it: pip install --force-reinstall speechmos"
            )
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def score(self, samples: np.ndarray, sample_rate: int) -> Dnsmos:
        """DNSMOS of one recording; clips shorter than 9 s are looped by speechmos, as DNSMOS expects.

        Args:
            samples: mono float waveform (any sample rate; resampled to 16 kHz and clipped to [-1, 1]).
            sample_rate: its sample rate in Hz.

        Returns:
            The four scores, each about 1 (bad) to 5 (excellent).

        Raises:
            UserInputError: the recording is empty or silent.
        """
        wav = to_mono_16k(samples, sample_rate)
        if not np.isfinite(wav).all():
            raise UserInputError("The recording holds NaN or infinite samples; DNSMOS cannot score it.")
        wav = np.clip(wav, -1.0, 1.0)  # speechmos refuses anything outside [-1, 1]
        if wav.size < MIN_SECONDS * DNSMOS_SAMPLE_RATE or float(np.max(np.abs(wav))) < 1e-4:
            raise UserInputError(
                f"DNSMOS needs at least {MIN_SECONDS} s of audible sound; the recording is empty or silent."
            )
        scores = self._model(wav, DNSMOS_SAMPLE_RATE, False)  # False: the plain, not personalized, DNSMOS
        return Dnsmos(
            p808=float(scores["p808_mos"]),
            ovrl=float(scores["ovrl_mos"]),
            sig=float(scores["sig_mos"]),
            bak=float(scores["bak_mos"]),
        )


_judge: DnsmosJudge | None = None


def dnsmos(samples: np.ndarray, sample_rate: int) -> Dnsmos:
    """DNSMOS of one recording with a judge shared by the process (see `DnsmosJudge.score`).

    Args:
        samples: mono float waveform.
        sample_rate: its sample rate in Hz.

    Returns:
        The four scores.
    """
    global _judge
    if _judge is None:
        _judge = DnsmosJudge()
    return _judge.score(samples, sample_rate)


def p808_scores(clips: Sequence[np.ndarray], sample_rate: int) -> list[float | None]:
    """DNSMOS P.808 of each clip; None for a clip it cannot judge (silent, empty or not finite)."""
    scores: list[float | None] = []
    for clip in clips:
        try:
            scores.append(float(dnsmos(clip, sample_rate).p808))
        except UserInputError:
            scores.append(None)
    return scores
