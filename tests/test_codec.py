"""Codec tests: the shipped WORLD group-RVQ codec (or a tiny one fitted here), the loader, EnCodec wrapper."""

import itertools
import subprocess
import sys

import numpy as np
import pytest
import soundfile
import torch

from engine.codec import GroupCodecConfig, GroupRVQCodec, GroupSpec, WorldConfig, load_codec
from engine.codec.base import DEFAULT_CODEC_DIR, Codec
from engine.codec.group_codec import feature_vectors, level_order
from engine.errors import UserInputError
from tests.conftest import espeak_to_wav

SR = 16000


def _speech(tmp_path, text, voice="en-us", pitch=50) -> np.ndarray:
    path = espeak_to_wav(text, tmp_path / f"{voice}_{pitch}.wav", voice=voice, pitch=pitch)
    x, sr = soundfile.read(path, dtype="float32")
    from scipy.signal import resample_poly

    return resample_poly(x, 320, 441).astype(np.float32) if sr == 22050 else x


@pytest.fixture(scope="module")
def tiny_codec(tmp_path_factory) -> GroupRVQCodec:
    """A small group codec fitted on a few espeak-ng sentences (seconds to fit)."""
    tmp = tmp_path_factory.mktemp("fit")
    texts = [
        "She sells sea shells by the sea shore on a sunny day.",
        "How much wood would a woodchuck chuck if it could?",
        "Peter Piper picked a peck of pickled peppers.",
        "Every morning the baker opens the shop at seven.",
    ]
    cfg = GroupCodecConfig(
        world=WorldConfig(n_envelope=24),
        groups=(
            GroupSpec("pitch", ("log_f0", "voiced"), (32,)),
            GroupSpec("spectrum", ("energy", "envelope", "aperiodicity"), (64, 32, 32, 32)),
        ),
        kmeans_iters=8,
    )
    feats = []
    for i, t in enumerate(texts):
        for pitch in (35, 65):
            x = _speech(tmp, t, pitch=pitch)
            feats.append(feature_vectors(x, cfg.world))
    return GroupRVQCodec.fit(cfg, np.concatenate(feats))


@pytest.fixture(scope="module")
def utterance(tmp_path_factory) -> np.ndarray:
    """A held-out sentence (not in the tiny codec's training text)."""
    return _speech(tmp_path_factory.mktemp("utt"), "The quick brown fox jumps over the lazy dog.", pitch=50)


def _codecs(tiny_codec):
    out = [tiny_codec]
    if (DEFAULT_CODEC_DIR / "codec.pt").exists():
        out.append(load_codec())
    return out


def test_level_order_interleaves_groups_coarse_first():
    groups = (GroupSpec("a", ("log_f0",), (8,)), GroupSpec("b", ("envelope",), (8, 8, 8)))
    assert level_order(groups) == ((0,), (1, 2, 3))
    groups = (GroupSpec("a", ("log_f0",), (8, 8)), GroupSpec("b", ("envelope",), (8, 8, 8)))
    assert level_order(groups) == ((0, 2), (1, 3, 4))


def test_encode_decode_shapes_frame_rate_and_token_ranges(tiny_codec, utterance):
    for codec in _codecs(tiny_codec):
        assert isinstance(codec, Codec)
        assert codec.frame_rate == 50.0 and codec.sample_rate == SR
        assert len(codec.codebook_sizes) == codec.n_q == sum(len(g) for g in codec.groups)
        assert sorted(q for g in codec.groups for q in g) == list(range(codec.n_q))
        codes = codec.encode(utterance)
        assert codes.dtype == torch.long and codes.shape == (codec.n_q, int(np.ceil(len(utterance) / 320)))
        for q, k in enumerate(codec.codebook_sizes):
            assert 0 <= int(codes[q].min()) and int(codes[q].max()) < k
        # Coarse levels use many codes: a collapsed codebook would make every frame the same.
        assert len(torch.unique(codes[codec.groups[-1][0]])) > 10
        y = codec.decode(codes)
        assert y.dtype == np.float32 and y.shape == (codes.shape[1] * 320,)
        assert np.isfinite(y).all() and 0.01 < np.abs(y).max() < 2.0


def test_distortion_falls_as_levels_are_added(tiny_codec, utterance):
    for codec in _codecs(tiny_codec):
        raw = codec.features(utterance)
        codes = codec.quantize_features(raw)
        spectrum = codec.layout.columns(("envelope",))
        depth = len(codec.groups[-1])
        errors = []
        for n in range(1, depth + 1):
            levels = [len(g) for g in codec.groups[:-1]] + [n]
            deq = codec.dequantize(codes, levels)
            errors.append(float(np.mean((deq[:, spectrum] - raw[:, spectrum]) ** 2)))
        assert all(b < a for a, b in itertools.pairwise(errors)), errors
        assert errors[-1] < 0.7 * errors[0]


def test_decode_with_truncated_levels_ignores_finer_levels(tiny_codec, utterance):
    codec = tiny_codec
    codes = codec.encode(utterance)
    first = [1] * len(codec.groups)
    y1 = codec.decode(codes, levels=first)
    scrambled = codes.clone()
    for g in codec.groups:
        for q in g[1:]:
            scrambled[q] = torch.randint(codec.codebook_sizes[q], (codes.shape[1],))
    assert np.allclose(codec.decode(scrambled, levels=first), y1)
    assert not np.allclose(codec.decode(scrambled), codec.decode(codes))
    assert y1.shape == codec.decode(codes).shape


def test_bad_input_is_a_user_error(tiny_codec, utterance):
    codes = tiny_codec.encode(utterance)
    with pytest.raises(UserInputError, match="one count per group"):
        tiny_codec.decode(codes, levels=[1])
    with pytest.raises(UserInputError, match="levels"):
        tiny_codec.decode(codes, levels=[1, 99])
    with pytest.raises(UserInputError, match="outside the codebooks"):
        tiny_codec.decode(codes + 10_000)
    with pytest.raises(UserInputError, match="mono"):
        tiny_codec.encode(np.zeros((2, 16000), dtype=np.float32))
    with pytest.raises(UserInputError, match="No codec checkpoint"):
        load_codec("/nonexistent/codec_dir")


def test_save_and_load_round_trip(tiny_codec, utterance, tmp_path):
    tiny_codec.metadata = {"command": "test"}
    tiny_codec.save(tmp_path / "c")
    loaded = load_codec(tmp_path / "c")
    assert loaded.cfg == tiny_codec.cfg and loaded.metadata == {"command": "test"}
    assert torch.equal(loaded.encode(utterance), tiny_codec.encode(utterance))


def test_shipped_codec_metadata():
    if not (DEFAULT_CODEC_DIR / "codec.pt").exists():
        pytest.skip("no shipped codec in assets/codec yet")
    codec = load_codec()
    meta = codec.metadata
    assert meta["command"].startswith("python -m engine.train.train_codec")
    assert meta["data"]["hours"] > 0 and meta["data"]["speakers"]
    assert codec.groups[0] == (0,) and codec.codebook_sizes[1] >= 4096
    quality = meta["quality"]["settings"]
    # Measured figures, not placeholders: WER falls from the first levels to all levels.
    first, full = quality[next(k for k in quality if k.startswith("levels"))], list(quality.values())[-1]
    assert full["wer"] < first["wer"] and full["mcd_db"] < first["mcd_db"]


def test_encodec_imports_without_torchaudio_and_says_where_the_checkpoint_goes(tmp_path):
    # In a fresh interpreter: torchaudio is absent or broken here, the stand-in must make encodec import.
    script = (
        "import os, sys\n"
        f"os.environ['TORCH_HOME'] = {str(tmp_path)!r}\n"
        "from engine.codec.encodec_codec import EncodecCodec, import_encodec\n"
        "from engine.errors import UserInputError\n"
        "import_encodec()\n"
        "import torchaudio\n"
        "print('standin', getattr(torchaudio, '__is_standin__', False))\n"
        "try:\n"
        "    EncodecCodec()\n"
        "except UserInputError as e:\n"
        "    print('error', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert "encodec_24khz-d7cc33bc.th" in out and str(tmp_path / "hub" / "checkpoints") in out
    assert "error" in out


def test_torchaudio_standin_resample_and_spectrogram():
    from engine.codec.torchaudio_standin import build_module

    ta = build_module()
    t = torch.arange(24000) / 24000
    wav = torch.sin(2 * np.pi * 440 * t)[None]
    down = ta.transforms.Resample(24000, 16000)(wav)
    assert down.shape == (1, 16000)
    spec = ta.transforms.Spectrogram(n_fft=512, hop_length=128, power=1)(down)
    assert spec.shape[:2] == (1, 257)
    peak_bin = int(spec[0].mean(-1).argmax())
    assert abs(peak_bin * 16000 / 512 - 440) < 32


def test_encodec_wrapper_round_trip_with_random_model():
    from engine.codec.encodec_codec import EncodecCodec, import_encodec

    encodec = import_encodec()
    model = encodec.EncodecModel.encodec_model_24khz(pretrained=False)
    codec = EncodecCodec(bandwidth=3.0, model=model)
    x = (0.1 * np.random.randn(24000)).astype(np.float32)
    codes = codec.encode(x)
    assert codes.shape == (4, 75) and codec.frame_rate == 75.0 and codec.groups == ((0, 1, 2, 3),)
    y = codec.decode(codes, levels=[2])
    assert y.shape == (24000,) and np.isfinite(y).all()
    with pytest.raises(UserInputError, match="bandwidth"):
        EncodecCodec(bandwidth=5.0, model=model)
