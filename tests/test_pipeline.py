"""The end-to-end pipeline and the `generate` command, with a tiny random acoustic model and the shipped codec
and duration model (speed and plumbing do not depend on the acoustic weights)."""

import re
import wave

import numpy as np
import pytest
import torch

from engine import pipeline
from engine.acoustic.decoding import DEFAULT_STEPS
from engine.acoustic.model import AcousticConfig, AcousticModel, save_checkpoint
from engine.cli import main
from engine.codec import load_codec
from engine.errors import UserInputError
from engine.pipeline import DialogueSynthesizer, planning, synthesizer
from engine.semantic.tokens import PhoneTokenizer
from tests.conftest import espeak_to_wav

DIALOGUE = "[S1] Hello there.\n[S2] Hi, how are you?\n[S1] Fine, thanks."


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def codec():
    return load_codec()


def tiny_model(codec, seed=0, sizes=None):
    torch.manual_seed(seed)
    config = AcousticConfig(
        sizes or codec.codebook_sizes,
        codec.groups,
        (PhoneTokenizer().vocab_size,),
        d_model=32,
        n_layers=1,
        n_heads=2,
        conv_kernel=5,
        dropout=0.0,
        prompt_layers=1,
    )
    return AcousticModel(config).eval()


@pytest.fixture(scope="module")
def voices(tmp_path_factory):
    folder = tmp_path_factory.mktemp("voices")
    return {
        "S1": espeak_to_wav("This is the first speaker, talking for a few seconds.", folder / "s1.wav"),
        "S2": espeak_to_wav(
            "And here is the second one, with a higher voice.", folder / "s2.wav", voice="en-us+f3", pitch=70
        ),
    }


@pytest.fixture(scope="module")
def synth(codec):
    # a random model's sound has no pace to check: the pace check's own tests are in tests/test_pace_check.py
    return DialogueSynthesizer(codec=codec, acoustic=tiny_model(codec), prompt_seconds=2.0, pace_check=False)


@pytest.fixture(scope="module")
def result(synth, voices):
    return synth.synthesize(DIALOGUE, voices)


def test_three_turn_dialogue_synthesizes(result, synth):
    assert [t.speaker for t in result.turns] == ["S1", "S2", "S1"]
    assert result.turns[1].text == "Hi, how are you?"
    assert result.audio.dtype == np.float32 and result.audio.ndim == 1
    assert np.isfinite(result.audio).all() and np.abs(result.audio).max() <= 1.0
    assert result.sample_rate == synth.codec.sample_rate
    assert result.settings.method == "group" and result.settings.iterations == DEFAULT_STEPS["group"]
    assert result.settings.rates == (("S1", 1.0), ("S2", 1.0))
    q = synth.codec.n_q
    assert result.tokens.shape == (3, q, max(t.n_frames for t in result.turns))
    for i, turn in enumerate(result.turns):
        assert (result.tokens[i, :, : turn.n_frames] >= 0).all()  # every real frame was generated
    stages = ("parse", "load", "prompts", "t2s", "acoustic", "codec_decode", "assemble")
    assert set(result.timings) == {*stages, "first_audio", "total"}
    assert sum(result.timings[s] for s in stages) <= result.timings["total"]
    assert result.timings["first_audio"] <= result.timings["total"] and result.chunks == 1
    assert 0 < result.real_time_factor == pytest.approx(result.timings["total"] / result.duration_s)


def test_turn_timings_match_the_audio(result):
    rate = result.sample_rate
    previous_end = 0.0
    for i, turn in enumerate(result.turns):
        start, end = round(turn.start_s * rate), round(turn.end_s * rate)
        np.testing.assert_array_equal(result.audio[start:end], turn.audio)
        assert end - start == len(turn.audio)
        # A turn is at most its generated frames long (edge silence may be trimmed).
        assert len(turn.audio) <= turn.n_frames * rate / 50 + 1
        assert int(result.trace.lengths[i]) == turn.n_frames
        pause = turn.start_s - previous_end
        assert (0.1 if i == 0 else 0.15) <= pause <= 0.6
        assert not result.audio[round(previous_end * rate) : start].any()  # silence between turns
        previous_end = turn.end_s
    assert result.duration_s - previous_end == pytest.approx(0.15, abs=1e-3)


def test_one_acoustic_decode_for_the_whole_dialogue(synth, voices, monkeypatch):
    calls = []
    real = pipeline.DECODERS["group"]

    def counting(model, semantic, lengths, prompt, prompt_lengths, **kwargs):
        calls.append((semantic.shape, prompt.shape, lengths.tolist(), prompt_lengths.tolist()))
        return real(model, semantic, lengths, prompt, prompt_lengths, **kwargs)

    monkeypatch.setitem(pipeline.DECODERS, "group", counting)
    out = synth.synthesize(DIALOGUE, voices)
    assert len(calls) == 1
    semantic_shape, prompt_shape, lengths, prompt_lengths = calls[0]
    assert semantic_shape == (3, max(lengths)) and lengths == [t.n_frames for t in out.turns]
    # Turns 1 and 3 share S1's prompt; at most 2 s of each clip is used.
    assert prompt_shape[:2] == (3, synth.codec.n_q)
    assert prompt_lengths[0] == prompt_lengths[2] <= 2.0 * 50 + 1
    assert out.trace.forward_passes == 5  # pitch coarse x2, spectrum coarse x2, spectrum fine x1


def test_deterministic_for_a_seed(synth, voices, result):
    again = synth.synthesize(DIALOGUE, voices, seed=0)
    np.testing.assert_array_equal(again.audio, result.audio)
    other = synth.synthesize(DIALOGUE, voices, seed=1)
    assert not torch.equal(other.tokens, result.tokens)


def test_voice_prompts_are_encoded_once_per_clip(codec, voices, monkeypatch):
    synth = DialogueSynthesizer(codec=codec, acoustic=tiny_model(codec), prompt_seconds=2.0)
    analysed = []
    real = codec.features
    monkeypatch.setattr(codec, "features", lambda samples: analysed.append(len(samples)) or real(samples))
    synth.synthesize(DIALOGUE, voices, iterations=1)
    synth.synthesize(DIALOGUE, voices, iterations=1)
    synth.synthesize(DIALOGUE, {"S1": voices["S1"].read_bytes(), "S2": voices["S2"]}, iterations=1)
    # One analysis per clip (tokens and voice profile both come from it), of whole 20 ms frames; the second
    # call hit the cache; S1's bytes are a new source, analysed once.
    assert len(analysed) == 3 and all(n % 320 == 0 and n > 32000 for n in analysed)


def test_prompt_tokens_are_the_clips_last_seconds(codec, voices):
    synth = DialogueSynthesizer(codec=codec, acoustic=tiny_model(codec), prompt_seconds=2.0)
    encoded = synth.encode_prompt(voices["S2"])
    samples = encoded.prompt.samples.astype(np.float32)
    alone = codec.encode(samples[-32000:])
    assert encoded.tokens.shape == alone.shape == (codec.n_q, 100)
    # The same frames, analysed with the rest of the clip around them: nearly every token agrees.
    assert (encoded.tokens == alone).float().mean() > 0.95
    assert encoded.profile is not None


def test_voice_matching_changes_only_the_codec_decode(synth, voices, result):
    assert result.settings.voice_match == synth.voice_match > 0
    plain = synth.synthesize(DIALOGUE, voices, voice_match=0.0)
    assert plain.settings.voice_match == 0.0
    assert torch.equal(plain.tokens, result.tokens)  # the acoustic model's output is the same
    assert len(plain.audio) == len(result.audio) and not np.allclose(plain.audio, result.audio)
    turn = plain.turns[0]
    expected = synth.codec.decode(plain.tokens[0, :, : turn.n_frames])
    assert np.corrcoef(turn.audio[: len(expected)], expected[: len(turn.audio)])[0, 1] > 0.9


@pytest.mark.parametrize("method", ["soundstorm", "group", "spans"])
def test_each_method_runs(synth, voices, method):
    out = synth.synthesize("[S1] Hi.\n[S2] Hello.", voices, method=method, iterations=2)
    assert out.trace.method == method
    assert out.settings.iterations == 2
    groups = synth.codec.groups
    expected = {
        "soundstorm": 2 + (synth.codec.n_q - 1),  # (2, 1, 1, ...) per level
        "spans": 2 + (synth.codec.n_q - 1),
        "group": 2 * len(groups) + sum(len(g) > 1 for g in groups),  # 2 per coarse level, 1 for the fine ones
    }[method]
    assert len(out.trace) == expected
    assert out.duration_s > 0.5


def test_progress_is_increasing_and_shows_acoustic_iterations(synth, voices):
    events = []
    out = synth.synthesize(
        DIALOGUE, voices, method="soundstorm", iterations=3, progress=lambda *e: events.append(e)
    )
    assert events[0] == ("starting", 0.0)
    assert events[-1] == ("done", 1.0)
    fractions = [f for _, f in events]
    assert fractions == sorted(fractions)
    # Each stage names the turns worked on and the time left.
    iterations = [s for s, _ in events if "acoustic iteration" in s]
    total = len(out.trace)
    assert [s.split(" · ")[0] for s in iterations] == [
        f"turns 1-3 of 3: acoustic iteration {i}/{total}" for i in range(1, total + 1)
    ]
    assert all(re.search(r" · about \d+ s left$", s) for s in iterations)
    codec = [s.split(" · ")[0] for s, _ in events if "codec decode" in s]
    assert codec == [f"turns 1-3 of 3: codec decode, turn {i}" for i in (1, 2, 3)]
    stages = [s for s, _ in events]
    assert stages.index("text to semantic: 3 turns") < stages.index(iterations[0]) < stages.index("done")


def test_first_progress_comes_before_any_work(codec, voices):
    synth = DialogueSynthesizer(codec=codec, acoustic=tiny_model(codec))
    events = []

    def progress(stage, fraction):
        events.append((stage, synth.loaded))

    synth.synthesize("[S1] Hi.", {"S1": voices["S1"]}, iterations=1, progress=progress)
    assert events[0] == ("starting", False)
    assert events[1] == ("loading models", False)


@pytest.mark.parametrize(
    ("transcript", "kwargs", "expected"),
    [
        (DIALOGUE + "\n[S3] Who am I?", {}, r"no voice was given for S3.*--voice S3="),
        ("", {}, r"transcript is empty"),
        ("  \n", {}, r"transcript is empty"),
        (DIALOGUE, {"method": "maskgit"}, r"'maskgit' is unknown; choose one of soundstorm, group, spans"),
        (DIALOGUE, {"iterations": 0}, r"Iterations 0 is out of range; choose 1 to 64"),
        (DIALOGUE, {"iterations": 65}, r"Iterations 65 is out of range"),
        (DIALOGUE, {"iterations": 2.5}, r"whole number from 1 to 64"),
        (DIALOGUE, {"temperature": -1.0}, r"Temperature -1.0 is out of range"),
        (DIALOGUE, {"guidance": 0.5}, r"Guidance 0.5 is out of range"),
        (DIALOGUE, {"rate": 3.0}, r"Speaking rate 3.0 is out of range"),
        (DIALOGUE, {"rate": {"S9": 1.2}}, r"rate was given for S9, who never speaks"),
        (DIALOGUE, {"seed": -1}, r"Seed -1"),
        (DIALOGUE, {"voice_match": 1.5}, r"Voice matching strength 1.5 is out of range; use a number from 0"),
        (DIALOGUE, {"voice_match": "strong"}, r"Voice matching strength 'strong' is out of range"),
    ],
)
def test_bad_input_is_a_user_input_error(synth, voices, transcript, kwargs, expected):
    with pytest.raises(UserInputError, match=expected):
        synth.synthesize(transcript, voices, **kwargs)


def test_bad_voice_clip_names_the_speaker(synth, voices, tmp_path):
    silent = tmp_path / "silent.wav"
    with wave.open(str(silent), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\0\0" * 32000)
    with pytest.raises(UserInputError, match=r"S2's voice \(silent.wav\).*silent"):
        synth.synthesize(DIALOGUE, {"S1": voices["S1"], "S2": silent})


def test_per_speaker_rate_changes_that_speakers_length(synth, voices, result):
    out = synth.synthesize(DIALOGUE, voices, rate={"s2": 0.6})
    assert out.settings.rates == (("S1", 1.0), ("S2", 0.6))
    assert out.turns[0].n_frames == result.turns[0].n_frames
    assert out.turns[1].n_frames > 1.4 * result.turns[1].n_frames


S1_WORDS = "This is the first speaker, talking for a few seconds."  # what the S1 fixture clip says


def test_clip_words_set_that_speakers_tempo(synth, voices, result):
    out = synth.synthesize(DIALOGUE, voices, voice_texts={"s1": S1_WORDS, "S2": ""})
    ((speaker, tempo),) = out.settings.tempos
    assert speaker == "S1" and 2 / 3 <= tempo <= 1.5 and abs(tempo - 1.0) > 0.02
    heard = dict(result.settings.heard_tempos)  # without words, each clip's tempo is heard
    assert set(heard) == {"S1", "S2"} and out.settings.heard_tempos == (("S2", heard["S2"]),)
    for new, old in zip(out.turns, result.turns):
        factor = tempo / heard["S1"] if new.speaker == "S1" else 1.0
        assert new.n_frames == pytest.approx(factor * old.n_frames, abs=2)
    with pytest.raises(
        UserInputError, match=r"S1's voice clip would take about .*give the words the clip says"
    ):
        synth.synthesize(DIALOGUE, voices, voice_texts={"S1": "Hi."})


def test_no_heard_tempo_is_reported_without_a_recognizer(synth, voices, monkeypatch):
    monkeypatch.setattr(synth.t2s, "recognizer", None)
    out = synth.synthesize(DIALOGUE, voices)
    assert out.settings.heard_tempos == () and out.settings.tempos == ()


def test_built_in_voices_bring_their_words(synth, voices):
    from engine.demos import demo_voice_words, demo_voices

    clip = demo_voices()["us1-female"]
    out = synth.synthesize(DIALOGUE, {"S1": clip, "S2": voices["S2"]})
    assert [name for name, _ in out.settings.tempos] == ["S1"]
    assert out.settings.tempos[0][1] == synth.t2s.tempo(
        synth.encode_prompt(clip).prompt, demo_voice_words()[clip]
    )


def test_missing_acoustic_checkpoint_says_how_to_train_it(codec, voices, tmp_path, monkeypatch):
    monkeypatch.setattr(synthesizer, "DEFAULT_ACOUSTIC_CHECKPOINT", tmp_path / "acoustic.pt")
    with pytest.raises(
        UserInputError, match=r"shipped acoustic model .*acoustic.pt is missing.*train_acoustic"
    ):
        DialogueSynthesizer(codec=codec).synthesize(DIALOGUE, voices)
    with pytest.raises(UserInputError, match=r"nope.pt is missing"):
        DialogueSynthesizer(codec=codec, acoustic=tmp_path / "nope.pt").load()


def test_model_for_another_codec_is_refused(codec):
    sizes = tuple(k // 2 for k in codec.codebook_sizes)
    with pytest.raises(UserInputError, match="retrain the acoustic model"):
        DialogueSynthesizer(codec=codec, acoustic=tiny_model(codec, sizes=sizes)).load()


def test_prompt_length_follows_the_checkpoint(codec, tmp_path):
    path = tmp_path / "acoustic.pt"
    save_checkpoint(path, tiny_model(codec), {"arch": "parallel", "train_config": {"prompt_frames": 150}})
    synth = DialogueSynthesizer(codec=codec, acoustic=path)
    assert synth.prompt_seconds == 3.0
    assert DialogueSynthesizer(codec=codec, acoustic=tiny_model(codec)).prompt_seconds == 6.0


# The `generate` command -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def checkpoint(codec, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "acoustic.pt"
    save_checkpoint(path, tiny_model(codec), {"arch": "parallel"})
    return path


def _args(tmp_path, voices, checkpoint, out, *extra):
    transcript = tmp_path / "dialogue.txt"
    transcript.write_text(DIALOGUE, encoding="utf-8")
    voice_args = [a for s, p in voices.items() for a in ("--voice", f"{s}={p}")]
    return ["generate", str(transcript), *voice_args, "-o", str(out), "--acoustic", str(checkpoint), *extra]


def test_generate_writes_a_playable_wav(tmp_path, voices, checkpoint, capsys):
    out = tmp_path / "out.wav"
    assert (
        main(_args(tmp_path, voices, checkpoint, out, "--iterations", "1", "--seed", "3", "--no-pace-check"))
        == 0
    )
    captured = capsys.readouterr()
    with wave.open(str(out)) as audio:
        seconds = audio.getnframes() / audio.getframerate()
        assert audio.getnchannels() == 1 and audio.getframerate() == 16000
    assert re.search(r"group, 1 iterations \(3 forward passes\).*seed 3.*pace check off", captured.out)
    assert "time per stage: parse" in captured.out and "acoustic" in captured.out
    reported = float(re.search(r"for ([\d.]+) s of audio: real-time factor [\d.]+", captured.out).group(1))
    assert seconds == pytest.approx(reported, abs=0.01)
    bar = captured.err.split("\r")  # the tqdm bar, redrawn at every stage
    assert bar[1].startswith("starting:   0%")
    assert any(line.startswith("turns 1-3 of 3: acoustic iteration 3/3 · about ") for line in bar)
    assert bar[-1].startswith("done: 100%")


def test_generate_reports_the_tempo_from_a_clips_words(tmp_path, voices, checkpoint, capsys):
    out = tmp_path / "out.wav"
    extra = ("--iterations", "1", "--voice-text", f"S1={S1_WORDS}")
    assert main(_args(tmp_path, voices, checkpoint, out, *extra)) == 0
    shown = capsys.readouterr().out
    assert re.search(r"tempo measured on the voice clips' words: S1 x\d\.\d\d\n", shown)
    assert re.search(r"tempo measured on the voice clips' phones heard by the recognizer: S2 x\d\.\d\d\n", shown)
    assert "note: voice S2: its clip's words were not given; Whisper heard \u201c" in shown


def test_generate_writes_mp3(tmp_path, voices, checkpoint, capsys):
    from pydub import AudioSegment

    out = tmp_path / "out.mp3"
    assert main(_args(tmp_path, voices, checkpoint, out, "--iterations", "1", "--method", "spans")) == 0
    reported = float(re.search(r"for ([\d.]+) s of audio", capsys.readouterr().out).group(1))
    segment = AudioSegment.from_file(out)
    assert segment.duration_seconds == pytest.approx(reported, abs=0.1)
    assert segment.rms > 0


def test_generate_errors_are_readable(tmp_path, voices, checkpoint, capsys):
    def error_shown():
        err = capsys.readouterr().err
        assert "Traceback" not in err
        last = err.split("\r")[-1]  # what is left on screen after the bar was cleared
        assert last.startswith("error: ")
        return last

    assert main(_args(tmp_path, voices, checkpoint, tmp_path / "out.txt")) == 2
    assert "use a name ending in .wav or .mp3" in error_shown()
    assert main(_args(tmp_path, voices, checkpoint, tmp_path / "o.wav", "--method", "fast")) == 2
    assert "choose one of soundstorm, group, spans" in error_shown()
    assert main(_args(tmp_path, {"S1": voices["S1"]}, checkpoint, tmp_path / "o.wav")) == 2
    assert "--voice S2=" in error_shown()
    assert main(_args(tmp_path, voices, tmp_path / "missing.pt", tmp_path / "o.wav")) == 2
    assert "missing.pt is missing" in error_shown()
    assert main(_args(tmp_path, voices, checkpoint, tmp_path / "o.wav", "--voice-text", "S1")) == 2
    assert "--voice-text 'S1' is not SPEAKER=WORDS" in error_shown()
    assert not (tmp_path / "o.wav").exists()


def test_too_long_turns_are_refused(synth, voices, result, monkeypatch):
    monkeypatch.setattr(planning, "MAX_TURN_SECONDS", 1.0)
    longest = max(result.turns, key=lambda t: t.n_frames)  # the message names the longest turn
    index = result.turns.index(longest) + 1
    with pytest.raises(
        UserInputError, match=rf"Turn {index} \(line {index}, {longest.speaker}\) would last \d+ s.*Split it"
    ):
        synth.synthesize(DIALOGUE, voices)


def test_shipped_models_end_to_end():
    """The models in assets/ as the app loads them: a two-turn dialogue in two built-in voices."""
    from engine.demos import demo_voices

    voices = demo_voices()
    synth = DialogueSynthesizer()
    result = synth.synthesize(
        DIALOGUE, {"S1": voices["us1-female"], "S2": voices["rms-male"]}, seed=3, keep_trace=True
    )
    assert synth.acoustic.config.layout.codebook_sizes == synth.codec.codebook_sizes
    assert synth.acoustic.config.codebook_dims, "the shipped model is tied to the codec's codebooks"
    assert len(result.turns) == 3 and result.duration_s > 2.0
    assert np.isfinite(result.audio).all() and 0.01 < np.abs(result.audio).max() <= 1.0
    assert result.trace.forward_passes == 5 and len(result.trace.steps) == 5
    counts = result.trace.fixed_counts().sum(0)
    frames = torch.tensor([t.n_frames for t in result.turns])
    assert torch.equal(counts, frames * synth.codec.n_q), "every real token fixed exactly once"
    again = synth.synthesize(DIALOGUE, {"S1": voices["us1-female"], "S2": voices["rms-male"]}, seed=3)
    assert np.array_equal(again.audio, result.audio)
