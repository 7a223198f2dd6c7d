"""Voice-prompt loading and audio writing, on files generated here with espeak-ng, numpy and ffmpeg."""

import io
import re
import shutil
import subprocess
import wave

import numpy as np
import pytest
import soundfile
from audio_fixtures import (
    ffmpeg_convert,
    first_speech_sample,
    need_ffmpeg,
    speech,
    tone_webm_without_duration,
    write_wav,
)

from engine.audio import (
    AudioInputError,
    load_voice_prompt,
    loudness_normalize,
    resample,
    speech_level_dbfs,
    to_wav_bytes,
    write_audio,
)
from engine.errors import UserInputError

CEILING = 10 ** (-1.0 / 20)


@pytest.fixture
def speech_file(tmp_path):
    """About 4 s of espeak-ng speech in a 22.05 kHz 16-bit wav, with its samples and rate."""
    samples, rate = speech(tmp_path)
    return write_wav(tmp_path / "speech.wav", samples, rate), samples, rate


def best_correlation(a: np.ndarray, b: np.ndarray, max_lag: int = 400) -> float:
    """Highest normalized correlation of two signals over small shifts (codecs add a few samples of delay)."""
    n = min(len(a), len(b)) - max_lag
    best = -1.0
    for lag in range(-max_lag, max_lag + 1, 1):
        x = a[max(lag, 0) : max(lag, 0) + n]
        y = b[max(-lag, 0) : max(-lag, 0) + n]
        best = max(best, float(np.dot(x, y) / np.sqrt(np.dot(x, x) * np.dot(y, y))))
    return best


@pytest.mark.parametrize(
    "suffix, options",
    [
        ("wav", []),
        ("mp3", ["-b:a", "128k"]),
        ("flac", []),
        ("ogg", ["-c:a", "libvorbis"]),
        ("m4a", ["-c:a", "aac"]),
        ("webm", ["-c:a", "libopus"]),
    ],
)
def test_formats_load_as_16k_mono_at_target_loudness(tmp_path, speech_file, suffix, options):
    source, samples, rate = speech_file
    clip = source if suffix == "wav" else ffmpeg_convert(source, tmp_path / f"speech.{suffix}", *options)
    prompt = load_voice_prompt(clip)
    reference = load_voice_prompt(source)

    assert prompt.sample_rate == 16000
    assert prompt.samples.dtype == np.float32 and prompt.samples.ndim == 1
    assert prompt.source == f"speech.{suffix}"
    # Kept speech plus trimmed silence accounts for the whole recording (codec padding: a few ms).
    assert prompt.duration + prompt.trimmed_seconds == pytest.approx(len(samples) / rate, abs=0.04)
    assert prompt.duration == pytest.approx(reference.duration, abs=0.04)
    assert speech_level_dbfs(prompt.samples) == pytest.approx(-20.0, abs=0.3)
    assert np.abs(prompt.samples).max() <= CEILING + 1e-6
    # The same speech, not a decoding accident: it matches the lossless load closely.
    assert best_correlation(prompt.samples, reference.samples) > 0.9


def test_silence_at_both_ends_is_trimmed(tmp_path, speech_file):
    _, samples, rate = speech_file
    zeros = np.zeros(2 * rate, dtype=np.float32)
    room = np.random.default_rng(0).normal(0, 10 ** (-65 / 20), 2 * rate).astype(np.float32)
    quiet = load_voice_prompt(
        write_wav(tmp_path / "zeros.wav", np.concatenate([zeros, samples, zeros]), rate)
    )
    noisy = load_voice_prompt(write_wav(tmp_path / "room.wav", np.concatenate([room, samples, room]), rate))

    for prompt in (quiet, noisy):
        assert 4.0 <= prompt.trimmed_seconds < 4.3
        assert any(note.startswith("trimmed 4.") for note in prompt.notes)
        # Margins stay: the first and last 50 ms are quieter than the speech in between.
        edge = int(0.05 * prompt.sample_rate)
        assert np.abs(prompt.samples[:edge]).max() < 0.05
        assert np.abs(prompt.samples[-edge:]).max() < 0.05
    # Room noise at -65 dBFS does not move the cut.
    assert noisy.duration == pytest.approx(quiet.duration, abs=0.03)


def test_trimming_keeps_all_the_speech(tmp_path, speech_file):
    source, samples, rate = speech_file
    prompt = load_voice_prompt(source)
    loud = np.flatnonzero(np.abs(samples) > 0.01)
    speech_seconds = (loud[-1] - loud[0]) / rate
    assert speech_seconds <= prompt.duration <= speech_seconds + 0.25


def test_8khz_mono_clip_is_upsampled(tmp_path, speech_file):
    source, samples, rate = speech_file
    clip = ffmpeg_convert(source, tmp_path / "phone.wav", "-ar", "8000")
    prompt = load_voice_prompt(clip)
    assert prompt.sample_rate == 16000
    assert "resampled 8000 -> 16000 Hz" in prompt.notes
    assert prompt.duration + prompt.trimmed_seconds == pytest.approx(len(samples) / rate, abs=0.02)
    # Nothing above the 4 kHz Nyquist limit of the source is invented.
    spectrum = np.abs(np.fft.rfft(prompt.samples)) ** 2
    freqs = np.fft.rfftfreq(len(prompt.samples), 1 / 16000)
    assert spectrum[freqs > 4200].sum() < 1e-3 * spectrum.sum()


def test_48khz_stereo_clip_is_mixed_and_downsampled(tmp_path, speech_file):
    source, samples, rate = speech_file
    hi = ffmpeg_convert(source, tmp_path / "hi.wav", "-ar", "48000")
    mono48, rate48 = soundfile.read(hi, dtype="float32")
    stereo = write_wav(tmp_path / "stereo.wav", np.stack([mono48, 0.5 * mono48], axis=1), rate48, "FLOAT")

    prompt = load_voice_prompt(stereo, sample_rate=24000)

    assert prompt.sample_rate == 24000
    assert "mixed 2 channels to mono" in prompt.notes
    assert "resampled 48000 -> 24000 Hz" in prompt.notes
    assert prompt.duration + prompt.trimmed_seconds == pytest.approx(len(samples) / rate, abs=0.02)
    assert speech_level_dbfs(prompt.samples, 24000) == pytest.approx(-20.0, abs=0.3)


def test_very_loud_clipped_clip_is_brought_down_without_clipping(tmp_path, speech_file):
    _, samples, rate = speech_file
    clipped = write_wav(tmp_path / "loud.wav", np.clip(samples * 30, -1, 1), rate)
    prompt = load_voice_prompt(clipped)
    assert np.abs(prompt.samples).max() <= CEILING + 1e-6
    assert speech_level_dbfs(prompt.samples) == pytest.approx(-20.0, abs=1.0)
    assert any(note.startswith("lowered the level") for note in prompt.notes)


def test_quiet_clip_is_raised(tmp_path, speech_file):
    _, samples, rate = speech_file
    quiet = write_wav(tmp_path / "quiet.wav", samples * 0.02, rate)
    prompt = load_voice_prompt(quiet)
    assert speech_level_dbfs(prompt.samples) == pytest.approx(-20.0, abs=0.3)
    assert any(note.startswith("raised the level by 3") for note in prompt.notes)


def test_bytes_upload_loads_like_the_file(tmp_path, speech_file):
    source, _, _ = speech_file
    mp3 = ffmpeg_convert(source, tmp_path / "speech.mp3")
    from_file = load_voice_prompt(mp3)
    from_bytes = load_voice_prompt(mp3.read_bytes(), name="Alice.mp3")
    assert from_bytes.source == "Alice.mp3"
    np.testing.assert_allclose(from_bytes.samples, from_file.samples, atol=1e-6)


def test_content_decides_the_format_not_the_suffix(tmp_path, speech_file):
    """Browsers and upload widgets sometimes save webm or mp3 under a .wav name."""
    source, _, _ = speech_file
    disguised = ffmpeg_convert(source, tmp_path / "speech.webm", "-c:a", "libopus").rename(
        tmp_path / "rec.wav"
    )
    prompt = load_voice_prompt(disguised)
    assert "resampled 48000 -> 16000 Hz" in prompt.notes
    assert best_correlation(prompt.samples, load_voice_prompt(source).samples) > 0.9


def test_prompt_samples_are_read_only(speech_file):
    prompt = load_voice_prompt(speech_file[0])
    with pytest.raises(ValueError):
        prompt.samples[0] = 1.0


def test_truncated_mp3_keeps_what_could_be_decoded(tmp_path, speech_file):
    """ffmpeg decodes the frames before the cut without complaint: the clip loads, shorter, and is the same
    audio as the start of the whole file. A stub of a few hundred bytes is rejected as unreadable."""
    source, _, _ = speech_file
    mp3 = ffmpeg_convert(source, tmp_path / "full.mp3", "-ar", "44100", "-b:a", "128k")
    data = mp3.read_bytes()
    (tmp_path / "cut.mp3").write_bytes(data[: int(len(data) * 0.6)])
    (tmp_path / "stub.mp3").write_bytes(data[:700])

    full = load_voice_prompt(mp3)
    cut = load_voice_prompt(tmp_path / "cut.mp3")

    assert 0.4 * full.duration < cut.duration < 0.8 * full.duration
    n = len(cut.samples) - 1600  # the last frames differ: the cut removes the trailing silence and margin
    a, b = cut.samples[:n], full.samples[:n]
    assert np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b)) > 0.99
    with pytest.raises(AudioInputError, match="'stub.mp3' could not be read as audio.*use a wav, mp3"):
        load_voice_prompt(tmp_path / "stub.mp3")


@pytest.mark.parametrize("kind", ["hiss", "distant speech"])
def test_silent_clip_is_refused(tmp_path, speech_file, kind):
    _, samples, rate = speech_file
    if kind == "hiss":
        quiet = np.random.default_rng(0).normal(0, 10 ** (-75 / 20), 3 * rate)
    else:
        quiet = samples * 10 ** (-60 / 20) / np.abs(samples).max()  # peaks at -60 dBFS
    clip = write_wav(tmp_path / "silence.wav", quiet.astype(np.float32), rate, "FLOAT")
    with pytest.raises(
        AudioInputError, match=r"'silence.wav' is silent.*record again closer to the microphone"
    ):
        load_voice_prompt(clip)


def test_clip_of_0_2_s_is_too_short(tmp_path, speech_file):
    _, samples, rate = speech_file
    start = first_speech_sample(samples)
    clip = write_wav(tmp_path / "short.wav", samples[start : start + int(0.2 * rate)], rate)
    with pytest.raises(AudioInputError) as caught:
        load_voice_prompt(clip)
    message = str(caught.value)
    assert "'short.wav' is 0.2 s of speech" in message
    assert "need 1-30 s" in message and "longer clip" in message


def test_ten_minute_clip_is_too_long(tmp_path, speech_file):
    source, _, _ = speech_file
    phone = ffmpeg_convert(source, tmp_path / "phone.wav", "-ar", "8000")
    pattern, _ = soundfile.read(phone, dtype="float32")
    ten_minutes = np.resize(pattern, 600 * 8000)
    clip = write_wav(tmp_path / "lecture.wav", ten_minutes, 8000)
    with pytest.raises(
        AudioInputError, match=r"'lecture.wav' is 600 s long;.*Cut a 3-15 s clip of the speaker"
    ):
        load_voice_prompt(clip)


def test_long_speech_is_refused_after_trimming(tmp_path, speech_file):
    _, samples, rate = speech_file
    clip = write_wav(tmp_path / "long.wav", np.tile(samples, 11), rate)  # about 50 s, all of it speech
    with pytest.raises(
        AudioInputError, match=r"'long.wav' is (\d+) s of speech after trimming.*Cut a 3-15 s"
    ) as caught:
        load_voice_prompt(clip)
    stated = int(re.search(r"is (\d+) s", str(caught.value)).group(1))
    assert 11 * len(samples) / rate - 1 <= stated <= 11 * len(samples) / rate


def test_long_recording_without_stated_duration_is_refused(tmp_path):
    clip = tone_webm_without_duration(tmp_path / "recording.webm", seconds=70)
    with pytest.raises(AudioInputError, match=r"'recording.webm' is longer than 65 s;.*Cut a 3-15 s clip"):
        load_voice_prompt(clip, max_seconds=5)


def test_text_file_named_wav_is_not_audio(tmp_path):
    need_ffmpeg()
    fake = tmp_path / "notes.wav"
    fake.write_text("these are my notes, not a recording\n" * 20)
    with pytest.raises(
        AudioInputError, match=r"'notes.wav' could not be read as audio.*use a wav, mp3, flac, ogg"
    ):
        load_voice_prompt(fake)


def test_picture_is_not_audio(tmp_path):
    need_ffmpeg()
    picture = tmp_path / "photo.png"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=red:s=16x16", "-frames:v", "1", str(picture)],
        check=True,
    )
    with pytest.raises(
        AudioInputError, match=r"'photo.png' could not be read as audio \(it holds no sound track\)"
    ):
        load_voice_prompt(picture)


def test_missing_empty_and_folder_inputs(tmp_path):
    with pytest.raises(AudioInputError, match=r"'gone.wav' was not found.*check the path or upload it again"):
        load_voice_prompt(tmp_path / "gone.wav")
    (tmp_path / "empty.mp3").write_bytes(b"")
    with pytest.raises(
        AudioInputError, match=r"'empty.mp3' is empty \(0 bytes\); record or upload the clip again"
    ):
        load_voice_prompt(tmp_path / "empty.mp3")
    with pytest.raises(AudioInputError, match=r"'the uploaded clip' is empty"):
        load_voice_prompt(b"")
    with pytest.raises(AudioInputError, match=r"is a folder, not an audio file"):
        load_voice_prompt(tmp_path)
    need_ffmpeg()
    (tmp_path / "header.wav").write_bytes(to_wav_bytes(np.zeros(0, dtype=np.float32), 16000))
    with pytest.raises(AudioInputError, match=r"'header.wav' could not be read as audio.*use a wav, mp3"):
        load_voice_prompt(tmp_path / "header.wav")


def test_missing_ffmpeg_names_the_installer(tmp_path, speech_file, monkeypatch):
    source, samples, rate = speech_file
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(AudioInputError, match=r"ffmpeg is not installed\. Run `bash install.sh`"):
        load_voice_prompt(source)
    with pytest.raises(AudioInputError, match=r"ffmpeg is not installed\. Run `bash install.sh`"):
        write_audio(tmp_path / "out.mp3", samples, rate)
    assert write_audio(tmp_path / "out.wav", samples, rate).exists()  # wav needs no ffmpeg


def test_audio_input_error_is_a_user_input_error():
    assert issubclass(AudioInputError, UserInputError)


def test_write_wav_is_16_bit_pcm_and_exact(tmp_path, speech_file):
    _, samples, rate = speech_file
    path = write_audio(tmp_path / "out" / "dialogue.wav", samples, rate)
    with wave.open(str(path)) as back:
        assert (back.getnchannels(), back.getsampwidth(), back.getframerate()) == (1, 2, rate)
        pcm = np.frombuffer(back.readframes(back.getnframes()), dtype="<i2")
    np.testing.assert_allclose(pcm / 32767, samples, atol=1 / 32767)
    assert path.read_bytes() == to_wav_bytes(samples, rate)


def test_to_wav_bytes_clips_instead_of_wrapping():
    data = to_wav_bytes(np.array([0.0, 1.5, -2.0, 0.5], dtype=np.float32), 16000)
    with wave.open(io.BytesIO(data)) as back:
        pcm = np.frombuffer(back.readframes(4), dtype="<i2")
    assert pcm.tolist() == [0, 32767, -32767, 16384]


@pytest.mark.parametrize("rate", [16000, 24000, 44100, 20000])
def test_write_mp3_reads_back(tmp_path, speech_file, rate):
    need_ffmpeg()
    _, samples, source_rate = speech_file
    samples = resample(samples, source_rate, rate)
    path = write_audio(tmp_path / "dialogue.mp3", samples, rate)
    back, back_rate = soundfile.read(ffmpeg_convert(path, tmp_path / "back.wav"), dtype="float32")
    assert back_rate == (rate if rate != 20000 else 22050)  # odd rates go up to the next rate mp3 has
    back = resample(back, back_rate, rate)
    assert len(back) / rate == pytest.approx(len(samples) / rate, abs=0.03)
    assert best_correlation(back, samples) > 0.9
    # 128 kbps at 16-24 kHz, 192 kbps above: the file size says which.
    kbps = path.stat().st_size * 8 / 1000 / (len(samples) / rate)
    assert (100 < kbps < 170) if rate <= 24000 else (150 < kbps < 230)


@pytest.mark.parametrize("suffix", ["flac", "ogg"])
def test_write_flac_and_ogg_read_back(tmp_path, speech_file, suffix):
    need_ffmpeg()
    _, samples, rate = speech_file
    path = write_audio(tmp_path / f"dialogue.{suffix}", samples, rate)
    back, back_rate = soundfile.read(path, dtype="float32")
    assert back_rate == rate and back.ndim == 1
    assert best_correlation(back, samples) > 0.95


def test_format_argument_overrides_suffix_and_unknown_formats_are_refused(tmp_path, speech_file):
    _, samples, rate = speech_file
    path = write_audio(tmp_path / "dialogue.bin", samples, rate, format="wav")
    assert path.read_bytes()[:4] == b"RIFF"
    with pytest.raises(
        AudioInputError, match=r"Cannot write 'dialogue.aac'.*use a name ending in .wav or .mp3"
    ):
        write_audio(tmp_path / "dialogue.aac", samples, rate)


def test_write_refuses_nan_and_multichannel(tmp_path):
    with pytest.raises(ValueError, match="NaN"):
        to_wav_bytes(np.array([0.0, np.nan]), 16000)
    with pytest.raises(ValueError, match="mono"):
        write_audio(tmp_path / "x.wav", np.zeros((10, 2)), 16000)


@pytest.mark.parametrize(
    "from_rate, to_rate", [(48000, 16000), (8000, 16000), (44100, 16000), (44101, 16000)]
)
def test_resample_keeps_pitch_and_length(from_rate, to_rate):
    t = np.arange(from_rate) / from_rate
    tone = np.sin(2 * np.pi * 1000 * t).astype(np.float32)
    out = resample(tone, from_rate, to_rate)
    assert out.dtype == np.float32
    assert abs(len(out) - to_rate) <= 1
    spectrum = np.abs(np.fft.rfft(out))
    assert np.argmax(spectrum) * to_rate / len(out) == pytest.approx(1000, abs=2)


def test_resample_removes_what_the_new_rate_cannot_hold():
    rate = 48000
    t = np.arange(rate) / rate
    tone = np.sin(2 * np.pi * 7000 * t)  # above the 4 kHz Nyquist limit of 8 kHz: it must not alias to 1 kHz
    out = resample(tone, rate, 8000)
    assert np.sqrt(np.mean(out**2)) < 0.01 * np.sqrt(np.mean(tone**2))


def test_loudness_normalize_hits_target_and_never_clips():
    rng = np.random.default_rng(0)
    quiet = rng.normal(0, 0.01, 16000).astype(np.float32)
    out = loudness_normalize(quiet, target_dbfs=-23.0)
    assert speech_level_dbfs(out) == pytest.approx(-23.0, abs=0.05)

    spiky = quiet.copy()
    spiky[::1000] = 0.9  # peaks far above the level: the limiter must hold them under -1 dBFS...
    gain = 10 ** ((-14.0 - speech_level_dbfs(spiky)) / 20)
    out = loudness_normalize(spiky, target_dbfs=-14.0)
    assert np.abs(out).max() <= CEILING + 1e-6
    # ...and touch only their neighbourhood: the noise between them gets the full gain.
    between = slice(400, 600)
    assert np.std(out[between]) == pytest.approx(gain * np.std(spiky[between]), rel=1e-3)

    silence = np.zeros(1600, dtype=np.float32)
    np.testing.assert_array_equal(loudness_normalize(silence), silence)


def test_speech_level_ignores_pauses(speech_file):
    _, samples, rate = speech_file
    with_pause = np.concatenate([samples, np.zeros(3 * rate, dtype=np.float32), samples])
    assert speech_level_dbfs(with_pause, rate) == pytest.approx(speech_level_dbfs(samples, rate), abs=0.3)
