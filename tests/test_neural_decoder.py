"""The neural decoder (engine/vocoder/), its training pairs and trainer, and the codec decoding through it:
shapes and hop alignment, a few training steps lowering the loss, resume, and held-out speakers refused."""

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from engine.audio import resample
from engine.codec.base import DEFAULT_CODEC_DIR, load_codec
from engine.codec.neural_codec import NeuralDecodedCodec
from engine.errors import UserInputError
from engine.train import train_vocoder
from engine.train.prepare_vocoder import Clip, prepare
from engine.vocoder.generator import NeuralDecoder, VocoderConfig, load_generator, save_generator
from engine.vocoder.held_out import HeldOutSpeakerError, benchmark_speech, check_trainable
from engine.vocoder.pairs import Pair, load_pairs
from tests.conftest import espeak_to_wav

pytestmark = [
    pytest.mark.usefixtures("one_thread"),
    pytest.mark.skipif(not (DEFAULT_CODEC_DIR / "codec.pt").exists(), reason="needs the shipped codec"),
]
TINY = ("--dim", "32", "--intermediate", "64", "--layers", "2")


@pytest.fixture(scope="module")
def codec():
    return load_codec()


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    """A real-speech manifest of one benchmark speaker with one clip, 'bench-clip'."""
    folder = tmp_path_factory.mktemp("real_speech")
    clip = {
        "wav": "bench-person/bench-clip.wav",
        "text": "",
        "origin": "pkg/bench-clip.wav",
        "seconds": 1.0,
        "sample_rate": 16000,
    }
    speaker = {
        "id": "bench-person",
        "person": "bench-person",
        "channel": "studio",
        "licence": "test",
        "prompt": clip,
        "prompt_parts": [clip],
        "references": [clip],
        "reference_is_prompt": True,
    }
    (folder / "real_speech.json").write_text(json.dumps({"speakers": [speaker]}))
    return benchmark_speech(folder)


def _espeak_clip(folder: Path, name: str, text: str, pitch: int) -> Clip:
    path = espeak_to_wav(text, folder / f"{name}.wav", pitch=pitch)

    def read(p=path):
        x, sr = soundfile.read(p, dtype="float32")
        return x, sr

    return Clip(name, "espeak", f"espeak-test-p{pitch}", path, read)


@pytest.fixture(scope="module")
def pairs_dir(tmp_path_factory, bench):
    folder = tmp_path_factory.mktemp("clips")
    clips = [
        _espeak_clip(folder, f"utt{k}", text, pitch)
        for k, (text, pitch) in enumerate(
            [
                ("The quick brown fox jumps over the lazy dog.", 40),
                ("Every morning the baker opens the shop.", 70),
            ]
        )
    ]
    out = tmp_path_factory.mktemp("pairs")
    prepare(out, iter(clips), bench, log=lambda _: None)
    return out


def test_generator_output_is_hop_aligned(codec):
    cfg = VocoderConfig(feature_dim=codec.layout.dim, dim=32, intermediate=64, layers=2)
    model = NeuralDecoder(cfg)
    y = model(torch.randn(2, 17, cfg.feature_dim))
    assert y.shape == (2, 17 * 480) and torch.isfinite(y).all()


def test_codec_decodes_through_the_neural_decoder_at_24khz(codec, tmp_path):
    torch.manual_seed(0)
    model = NeuralDecoder(VocoderConfig(feature_dim=codec.layout.dim, dim=32, intermediate=64, layers=2))
    save_generator(tmp_path / "v.pt", model, {"steps": 0})
    neural = load_codec(vocoder="neural", vocoder_path=tmp_path / "v.pt")
    assert isinstance(neural, NeuralDecodedCodec) and neural.sample_rate == 24000
    t = np.arange(24000 * 1.3) / 24000
    wave = (0.3 * np.sin(2 * np.pi * 150 * t)).astype(np.float32)
    codes = neural.encode(wave)
    # 1.3 s at 20 ms frames: the same frames as the 16 kHz codec gives the same audio.
    assert codes.shape == codec.encode(wave[::3].repeat(2)).shape == (codec.n_q, 65)
    assert neural.decode(codes).shape == (65 * 480,)
    assert neural.decode(codes, levels=(1, 1)).shape == (65 * 480,)
    _, meta = load_generator(tmp_path / "v.pt")
    assert meta == {"steps": 0} and (tmp_path / "v.pt").stat().st_size < 200_000
    with pytest.raises(UserInputError, match="No neural decoder"):
        load_codec(vocoder="neural", vocoder_path=tmp_path / "missing.pt")


def test_an_untrained_world_anchored_decoder_is_world_at_24khz(codec, tmp_path):
    """The anchored head starts at zero: before training the codec's tokens come out as WORLD's synthesis
    (resampled to 24 kHz), so training starts from WORLD's sound; it learns a change, not the whole."""
    torch.manual_seed(0)
    cfg = VocoderConfig(feature_dim=codec.layout.dim, dim=32, intermediate=64, layers=2, world_anchor=True)
    save_generator(tmp_path / "a.pt", NeuralDecoder(cfg), {})
    neural = load_codec(vocoder="neural", vocoder_path=tmp_path / "a.pt")
    t = np.arange(16000) / 16000
    codes = codec.encode((0.3 * np.sin(2 * np.pi * (120 + 60 * t) * t)).astype(np.float32))
    world = resample(codec.decode(codes), 16000, 24000)
    out = neural.decode(codes)
    assert out.shape == (codes.shape[1] * 480,) and np.abs(world).max() > 0.05
    np.testing.assert_allclose(out[: len(world)], world[: len(out)], atol=1e-3)  # fp16 weights of zero
    with pytest.raises(ValueError, match="anchored"):
        NeuralDecoder(cfg)(torch.zeros(1, 3, cfg.feature_dim))  # without WORLD's waveform


def test_the_codec_bench_scores_the_neural_decoder_beside_world(codec, tmp_path):
    """bench/codec.py's rows for the neural decoder: the same features voiced by it, scored like WORLD's;
    an untrained one says nothing intelligible where WORLD resynthesis keeps the words."""
    pytest.importorskip("resemblyzer", reason="eval tools not installed: bash install.sh --dev")
    from engine.eval.codec_quality import measure

    texts = ["The weather is nice again today.", "Please bring the tickets to the station."]
    (tmp_path / "wavs").mkdir()
    entries = []
    for k, text in enumerate(texts):
        wav = espeak_to_wav(text, tmp_path / "wavs" / f"u{k}.wav")
        entries.append(
            {"id": f"u{k}", "speaker": "e", "engine": "espeak", "voice": "en-us", "split": "eval", "text": text,
             "wav": str(wav.relative_to(tmp_path)), "sample_rate": 22050, "duration": 2.0, "phones": []}
        )  # fmt: skip
    entries += [{**e, "id": f"train-{e['id']}", "split": "train"} for e in entries]  # the token entropy's
    (tmp_path / "manifest.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries))
    torch.manual_seed(0)
    save_generator(
        tmp_path / "v.pt", NeuralDecoder(VocoderConfig(feature_dim=codec.layout.dim, dim=32, layers=2)), {}
    )
    neural = load_codec(vocoder="neural", vocoder_path=tmp_path / "v.pt")
    figures = measure(codec, str(tmp_path), entropy_utterances=2, log=lambda _: None, neural=neural)
    rows, targets = figures["settings"], figures["targets"]
    full = [n for n in rows if n.startswith("levels")][-1]
    assert rows["neural, all levels"]["levels"] == rows[full]["levels"]
    assert rows["neural, all levels"]["wer"] > rows[full]["wer"] + 0.3  # random weights: noise, not words
    assert rows["neural, unquantized"]["similarity"] < rows["unquantized"]["similarity"]
    assert not targets["neural_full_wer_ratio"]["met"] and targets["neural_full_wer_ratio"]["target"] == 1.10
    assert "neural_full_similarity" in targets and "full_similarity" in targets


def test_pairs_are_frame_aligned(pairs_dir, codec):
    pairs = load_pairs(pairs_dir)
    assert len(pairs) == 2
    for p in pairs:
        assert p.codes.shape[0] == codec.n_q
        assert p.wave.shape == (p.codes.shape[1] * 480,)
        assert p.cutoff_hz == 11025  # espeak-ng speaks at 22.05 kHz


def test_preparing_more_pairs_keeps_what_made_the_folder(bench, tmp_path):
    one = _espeak_clip(tmp_path, "one", "Good morning to you.", 50)
    two = _espeak_clip(tmp_path, "two", "The tickets are on the table.", 60)
    first = prepare(tmp_path / "pairs", iter([one]), bench, log=lambda _: None, command="first")
    second = prepare(tmp_path / "pairs", iter([one, two]), bench, log=lambda _: None, command="second")
    assert (first["pairs"], second["pairs"]) == (1, 2)
    assert second["commands"] == ["first", "second"] and second["seconds_spent"] >= first["seconds_spent"]
    assert json.loads((tmp_path / "pairs" / "summary.json").read_text()) == second


def test_training_lowers_the_loss_and_resumes(pairs_dir, tmp_path):
    run = tmp_path / "run"
    common = [
        "--data",
        str(pairs_dir),
        "--out",
        str(run),
        *TINY,
        "--batch-size",
        "2",
        "--crop",
        "20",
        "--warmup",
        "1",
        "--lr",
        "3e-3",
        "--log-every",
        "5",
        "--eval-pairs",
        "1",
    ]
    assert train_vocoder.main([*common, "--steps", "30", "--adversarial-start", "25"]) == 0
    log = [json.loads(line) for line in (run / "train.log.jsonl").read_text().splitlines()]
    steps = [r for r in log if "loss" in r]
    assert steps[-1]["mel"] < 0.8 * steps[0]["mel"]
    assert "disc" in steps[-1] and "disc" not in steps[0]  # the discriminators joined at step 25
    assert torch.load(run / "resume.pt", weights_only=False)["step"] == 30

    assert train_vocoder.main([*common, "--steps", "35", "--export", str(tmp_path / "v.pt")]) == 0
    log = [json.loads(line) for line in (run / "train.log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log if "loss" in r][-1] == 35
    _, meta = load_generator(tmp_path / "v.pt")
    assert meta["steps"] == 35 and set(meta["quality"]["mel_distance_db_low_band"]) == {"neural", "world"}

    # An export that trains no further names the command that trained the weights, and its own beside it.
    assert train_vocoder.main([*common, "--steps", "0", "--export", str(tmp_path / "again.pt")]) == 0
    _, meta = load_generator(tmp_path / "again.pt")
    assert meta["steps"] == 35 and "--steps 35" in meta["command"] and "--steps 0" in meta["export_command"]

    # A run lost with its machine goes on from the export: its weights, its step count, its history.
    exported, _ = load_generator(tmp_path / "v.pt")
    again = [a if a != str(run) else str(tmp_path / "from_export") for a in common]
    assert train_vocoder.main([*again, "--init", str(tmp_path / "v.pt"), "--steps", "36"]) == 0
    saved = torch.load(tmp_path / "from_export" / "resume.pt", weights_only=False)
    assert saved["step"] == 36 and saved["metadata"]["history"][-1]["steps"] == 35
    assert saved["vocoder_config"] == exported.cfg.to_dict()  # the export's shape
    assert saved["metadata"]["history"][-1]["export"] == str(tmp_path / "v.pt")
    moved = [float((w - exported.state_dict()[k]).abs().max()) for k, w in saved["generator"].items()]
    assert 0 < max(moved) < 0.05  # one step on from the export's weights, not from new ones


def test_a_world_anchored_decoder_trains_from_world_quality(pairs_dir, tmp_path):
    def mel_losses(run: Path, *extra: str) -> list[float]:
        args = ["--data", str(pairs_dir), "--out", str(run), *TINY, "--batch-size", "2", "--crop", "20"]
        args += ["--warmup", "1", "--lr", "3e-3", "--log-every", "5", "--eval-pairs", "1", *extra]
        assert train_vocoder.main(args) == 0
        log = [json.loads(line) for line in (run / "train.log.jsonl").read_text().splitlines()]
        return [r["mel"] for r in log if "loss" in r]

    anchored = mel_losses(
        tmp_path / "anchored", "--world-anchor", "--steps", "20", "--adversarial-start", "15"
    )
    plain = mel_losses(tmp_path / "plain", "--steps", "5")
    assert anchored[0] < 0.75 * plain[0]  # it starts from WORLD's sound, the other from noise
    assert anchored[-1] < anchored[0]
    saved = torch.load(tmp_path / "anchored" / "resume.pt", weights_only=False)
    assert saved["vocoder_config"]["world_anchor"] is True and saved["step"] == 20


def test_held_out_pairs_stay_out_of_training_and_take_each_source_in_turn():
    def pair(pair_id: str, source: str) -> Pair:
        return Pair(pair_id, source, "p", torch.zeros(1, 1, dtype=torch.long), torch.zeros(480), 8000.0)

    ids = [f"{src}-{i}" for src in ("asterisk", "kokoro", "piper") for i in range(400)]
    pairs = [pair(i, i.split("-")[0]) for i in ids]
    train, held = train_vocoder.split_pairs(pairs)
    assert {p.id for p in train}.isdisjoint({p.id for p in held}) and len(train) + len(held) == len(pairs)
    assert 0 < len(held) < len(pairs) / 20
    assert [p.source for p in held[:3]] == ["asterisk", "kokoro", "piper"]
    # The held-out choice depends on the pair alone: more data keeps every pair held out before.
    _, held_more = train_vocoder.split_pairs(pairs + [pair(f"corpus-{i}", "corpus") for i in range(400)])
    assert {p.id for p in held} <= {p.id for p in held_more}


def test_held_out_speakers_and_clips_are_refused(bench, tmp_path):
    with pytest.raises(HeldOutSpeakerError, match="unseen speakers"):
        check_trainable(bench, "bench-person", tmp_path / "other.wav", allowed=frozenset())
    with pytest.raises(HeldOutSpeakerError, match="plays"):
        check_trainable(
            bench, "bench-person", tmp_path / "bench-clip.g722", allowed=frozenset({"bench-person"})
        )
    check_trainable(bench, "bench-person", tmp_path / "other.g722", allowed=frozenset({"bench-person"}))
    with pytest.raises(HeldOutSpeakerError, match="benchmark"):
        check_trainable(bench, "someone", bench.folder / "bench-person" / "x.wav")
    with pytest.raises(HeldOutSpeakerError, match="reserved"):
        check_trainable(
            bench, "kokoro-jf_tebukuro-r100-p100", Path("kokoro/jf_tebukuro"), ("kokoro", "jf_tebukuro")
        )


def test_preparation_refuses_a_held_out_clip_before_any_work(bench, tmp_path):
    def never_read():
        raise AssertionError("a clip was read")

    ok = Clip("fine", "espeak", "espeak-test", tmp_path / "fine.wav", never_read)
    held = Clip("held", "real", "bench-person", tmp_path / "held.wav", never_read)
    with pytest.raises(HeldOutSpeakerError):
        prepare(tmp_path / "pairs", iter([ok, held]), bench, log=lambda _: None)
    assert not (tmp_path / "pairs" / "pairs.jsonl").exists()
