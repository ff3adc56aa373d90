"""Studio sound (media.sound): the leveler on real voices with exact turn truth, the denoiser on
speech with noise and hum, settings validation. Levels measured independently with pyloudnorm."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from chaitime import config
from chaitime.errors import ConfigError
from chaitime.media import sound
from chaitime.transcript.model import Segment, Transcript, Word

pytestmark = pytest.mark.slow  # renders media or runs an ingest (the unit tier leaves it out)

pyln = pytest.importorskip("pyloudnorm")


def _truth_transcript(conv) -> Transcript:
    segs = tuple(Segment(t.start_s, t.end_s, "x", (Word(t.start_s, t.end_s, "x", 1.0, t.speaker),), t.speaker) for t in conv.turns)
    return Transcript(segs, "en", conv.duration_s)


def _speaker_lufs(samples: np.ndarray, conv) -> dict[str, float]:
    from realvoices import speaker_lufs

    return speaker_lufs(samples, conv)


def _run(tmp_path: Path, conv, settings: sound.Settings):
    from realvoices import RATE_HZ

    wav = conv.write_wav(tmp_path / "in.wav")
    pcm = np.clip(np.round(conv.samples * 32767), -32768, 32767).astype(np.int16)
    transcript = _truth_transcript(conv)
    plan = sound.analyse(pcm, transcript, settings)
    measured, clipped = sound.apply(wav, plan, 1, tmp_path / "out.flac", tmp_path / "out.s16")
    after = np.fromfile(tmp_path / "out.s16", np.int16)
    assert abs(len(after) - len(pcm)) <= RATE_HZ * 0.01  # RNNoise's delay compensated, nothing lost
    return plan, measured, clipped, after


def test_leveler_brings_a_quiet_guest_to_the_host(tmp_path, shared_media):
    from realvoices import assemble

    conv = assemble(shared_media, "male-female", "imbalanced", turns=8)
    before = _speaker_lufs(conv.samples, conv)
    plan, measured, _, after = _run(tmp_path, conv, sound.Settings(denoise="off", dehum="off"))
    levels = _speaker_lufs(after / 32768.0, conv)
    assert abs(before[conv.speakers[0]] - before[conv.speakers[1]]) > 4
    assert abs(levels[conv.speakers[0]] - levels[conv.speakers[1]]) <= 1.0, levels
    assert measured.lra_lu <= 8.0  # before the final normalization (the master's LRA is measured by the bench)


@pytest.mark.slow
def test_speakers_stay_level_through_the_masters_limiter(tmp_path, shared_media):
    """The master's gain and limiter take more from the male reader than from the female one;
    the sound stage evens them as they will be mastered: within 1 dB in the MP3 (pyloudnorm over
    the true turns of the decoded MP3), loudness on target, LRA under 6 LU."""
    import subprocess

    from chaitime.media import ffmpeg, loudness
    from realvoices import assemble

    conv = assemble(shared_media, "male-female", "plain", turns=12)
    wav = conv.write_wav(tmp_path / "in.wav")
    pcm = np.clip(np.round(conv.samples * 32767), -32768, 32767).astype(np.int16)
    plan = sound.analyse(pcm, _truth_transcript(conv), sound.Settings(denoise="off", dehum="off"))
    measured, _ = sound.apply(wav, plan, 1, tmp_path / "out.flac", tmp_path / "out.s16", target_lufs=loudness.MONO_TARGET_LUFS)
    _, after = loudness.master_mp3(tmp_path / "out.flac", measured, loudness.MONO_TARGET_LUFS, 1, tmp_path / "audio.mp3")
    decoded = subprocess.run([ffmpeg.ffmpeg_exe(), "-v", "error", "-i", str(tmp_path / "audio.mp3"), "-ac", "1", "-ar", "16000", "-f", "f32le", "-"],
                             capture_output=True, check=True).stdout
    levels = _speaker_lufs(np.frombuffer(decoded, np.float32), conv)
    before = _speaker_lufs(conv.samples, conv)
    assert abs(before[conv.speakers[0]] - before[conv.speakers[1]]) > 4
    assert abs(levels[conv.speakers[0]] - levels[conv.speakers[1]]) <= 1.0, levels
    assert abs(after.integrated_lufs - loudness.MONO_TARGET_LUFS) <= 1.0 and after.lra_lu <= 6.0, after


def test_noisy_speech_is_denoised_and_left_level(tmp_path, shared_media):
    from realvoices import assemble

    conv = assemble(shared_media, "male-female", "noisy", turns=6)
    plan, _, _, after = _run(tmp_path, conv, sound.Settings())
    assert plan.denoise == "strong" and plan.snr_db < sound.STRONG_SNR_DB
    _, floor_after = sound.after_levels(after, _truth_transcript(conv))
    assert floor_after < plan.noise_floor_db - 10


def test_light_noise_is_reduced_by_the_spectral_denoiser(tmp_path, shared_media):
    """Pink noise 30 dB under the quieter reader: auto chooses light denoising (afftdn in ffmpeg,
    no RNNoise); the floor in the pauses comes down by 12 dB or more (the leveler alone: 4 dB) while
    the readers stay level."""
    from realvoices import assemble, with_noise_under_quietest

    conv = with_noise_under_quietest(assemble(shared_media, "male-female", "plain", turns=6), 30.0)
    plan, _, _, after = _run(tmp_path, conv, sound.Settings(dehum="off"))
    assert plan.denoise == "light" and sound.STRONG_SNR_DB <= plan.snr_db < sound.LIGHT_SNR_DB, plan.snr_db
    assert "afftdn" in sound.filter_chain(plan, 1)
    _, floor_after = sound.after_levels(after, _truth_transcript(conv))
    assert floor_after < plan.noise_floor_db - 12, (plan.noise_floor_db, floor_after)
    levels = _speaker_lufs(after / 32768.0, conv)
    assert abs(levels[conv.speakers[0]] - levels[conv.speakers[1]]) <= 1.0, levels


def test_a_voice_recorded_as_stereo_is_cleaned_once(tmp_path, shared_media):
    """Two channels carrying one voice (the side 60 dB under, as a video call's AAC) are found to
    be one sound and cleaned as mono, written to both channels at the same loudness; a stereo pair
    of two microphones is not."""
    import subprocess
    import wave

    from chaitime.media import ffmpeg
    from realvoices import assemble, with_noise_under_quietest

    conv = with_noise_under_quietest(assemble(shared_media, "male-female", "plain", turns=4), 30.0)
    x = conv.samples.astype(np.float64)
    rng = np.random.default_rng(1)
    pairs = {"dual-mono": np.stack([x, x + rng.standard_normal(len(x)) * 1e-3 * np.std(x)], axis=1),
             "two-mics": np.stack([x, np.roll(x, 800) * 0.5 + rng.standard_normal(len(x)) * 0.01], axis=1)}
    for name, pair in pairs.items():
        with wave.open(str(tmp_path / f"{name}.wav"), "wb") as w:
            w.setnchannels(2), w.setsampwidth(2), w.setframerate(16000)
            w.writeframes(np.clip(np.round(pair * 32767), -32768, 32767).astype("<i2").tobytes())
    assert sound.one_sound(tmp_path / "dual-mono.wav") and not sound.one_sound(tmp_path / "two-mics.wav")
    assert not sound.one_sound(tmp_path / "missing.wav")
    pcm = np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16)
    plan = sound.analyse(pcm, _truth_transcript(conv), sound.Settings(dehum="off"))
    assert plan.denoise == "light"
    from dataclasses import replace

    once, _ = sound.apply(tmp_path / "dual-mono.wav", replace(plan, one_sound=True), 2, tmp_path / "once.flac", tmp_path / "once.s16")
    twice, _ = sound.apply(tmp_path / "dual-mono.wav", plan, 2, tmp_path / "twice.flac", tmp_path / "twice.s16")
    out = subprocess.run([ffmpeg.ffmpeg_exe(), "-v", "error", "-i", str(tmp_path / "once.flac"), "-f", "s16le", "-"], capture_output=True, check=True).stdout
    channels = np.frombuffer(out, "<i2").reshape(-1, 2)
    assert len(channels) == len(x) * 3 and np.array_equal(channels[:, 0], channels[:, 1])
    assert abs(once.integrated_lufs - twice.integrated_lufs) <= 0.2, (once, twice)


@pytest.mark.parametrize("rate", [44100, 48000])
def test_light_denoiser_moves_nothing_in_time(tmp_path, rate):
    """afftdn's latency is taken back: a burst comes out where it went in, to the sample, at
    the same length (transcript times, cuts and the speakers' turns stay true)."""
    import wave

    rng = np.random.default_rng(0)
    x = rng.standard_normal(rate * 4) * 0.001
    x[rate:rate + rate // 20] += rng.standard_normal(rate // 20) * 0.3  # 50 ms burst at 1 s
    with wave.open(str(tmp_path / "in.wav"), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(rate), w.writeframes((x * 32767).astype("<i2").tobytes())
    plan = sound.Plan(np.zeros(400), "light", (), {}, -60.0, 30.0)
    sound.apply(tmp_path / "in.wav", plan, 1, tmp_path / "out.flac", tmp_path / "out.s16")
    y = np.fromfile(tmp_path / "out.s16", np.int16).astype(np.float64)
    ref = np.interp(np.arange(len(y)) / 16000, np.arange(len(x)) / rate, x)  # the input on the 16 kHz grid
    assert abs(len(y) - 4 * 16000) <= 1
    window = slice(14000, 20000)
    lags = np.correlate(y[window], ref[window], "full").argmax() - (6000 - 1)
    assert lags == 0, lags


def test_dry_signal_is_kept_only_around_a_voice():
    """RNNoise's voice probability opens the dry share: the floor in a pause, ``dry`` from a frame
    or two before a voice through the hold after it (also when the voice was in the frames before
    the stretch), with no step between frames."""
    from chaitime.media import rnnoise

    hold, ahead, n, f = sound.VOICE_HOLD_FRAMES, sound.VOICE_AHEAD_FRAMES, 100, rnnoise.FRAME
    centre = lambda share: share.reshape(-1, f)[:, f // 2]  # noqa: E731
    quiet = sound._dry_share(np.zeros(n, np.float32), 0, n * f, 0.25)
    assert quiet.shape == (n * f,) and not quiet.any()
    voice = np.zeros(n, np.float32)
    voice[20:25] = 0.9
    share = sound._dry_share(voice, 0, n * f, 0.25)
    frames, end = centre(share), 24 + hold
    assert np.allclose(frames[20 - ahead:end + 1], 0.25) and not frames[:20 - ahead].any() and not frames[end + 1:].any()
    assert np.abs(np.diff(share)).max() <= 0.25 / f + 1e-6  # ramps, no clicks
    floored = sound._dry_share(voice, 0, n * f, 0.5, floor=0.3)
    assert np.allclose(centre(floored)[[0, 22, end + 1]], [0.3, 0.5, 0.3])
    # A stretch starting at frame 40 (after its warm-up frames) still holds a voice heard before it.
    voice[35:40] = 0.9
    later = sound._dry_share(voice, 40, 30 * f + 100, 0.25)
    assert later.shape == (30 * f + 100,)
    assert np.allclose(centre(later[: 30 * f])[: 39 - 40 + hold + 1], 0.25) and not centre(later[: 30 * f])[hold:].any()


def test_denoised_stretches_match_one_run_and_any_core_count():
    """RNNoise runs over fixed stretches on threads: the output is the same bytes on 1 or 3
    threads, aligned with the input (its delay taken off), close to one run over the whole
    recording; a stereo file with the same sound in both channels is
    denoised once (both channels come out the same)."""
    import io

    rng = np.random.default_rng(3)
    rate, seconds = 48000, 2 * sound.STRETCH_S + 7
    t = np.arange(rate * seconds) / rate
    voice = (np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 0.5 * t) > 0)).astype(np.float32) * 0.3
    noisy = (voice + rng.standard_normal(len(t)).astype(np.float32) * 0.02).astype(np.float32)
    plan = sound.Plan(np.zeros(seconds * 100), "strong", (), {}, -40.0, 20.0)

    def stream(x: np.ndarray, workers: int) -> np.ndarray:
        out = io.BytesIO()
        sound._stream(io.BytesIO(x.astype("<f4").tobytes()), out, plan, x.shape[1], workers=workers)
        return np.frombuffer(out.getvalue(), "<f4").reshape(-1, x.shape[1])

    mono = stream(noisy[:, None], 1)
    assert mono.shape == (len(t), 1) and np.array_equal(mono, stream(noisy[:, None], 3))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sound, "STRETCH_S", seconds + 1)  # one stretch: one RNNoise run over everything
        whole = stream(noisy[:, None], 1)[:, 0]
    seam = sound.STRETCH_S * rate
    assert np.array_equal(mono[:seam, 0], whole[:seam])  # the first stretch is one run's start
    # After a cut, a fresh state (warmed up on the seconds before) settles towards the one run's:
    # RNNoise remembers for tens of seconds, so the two differ a little, less and less.
    for part, bound in ((slice(seam, 2 * seam), -12), (slice(seam + seam // 2, 2 * seam), -20)):
        error = mono[part, 0] - whole[part]
        assert 10 * np.log10(np.dot(error, error) / np.dot(whole[part], whole[part])) < bound
    stereo = stream(np.stack([noisy, noisy], axis=1), 2)
    assert np.array_equal(stereo[:, 0], stereo[:, 1]) and np.allclose(stereo[:, 0], mono[:, 0], atol=1e-6)


def test_hum_detected_only_when_present():
    rng = np.random.default_rng(0)
    t = np.arange(16000 * 8) / 16000
    voice = rng.standard_normal(len(t)) * 2000
    hum = sum(np.sin(2 * np.pi * 60 * h * t) * 800 / h for h in (1, 2, 3))
    assert sound.detect_hum(voice.astype(np.int16)) == ()
    found = sound.detect_hum((voice + hum).astype(np.int16))
    assert 60.0 in found and 120.0 in found


def test_noise_only_skips_the_leveler_with_a_note():
    rng = np.random.default_rng(1)
    noise = (rng.standard_normal(16000 * 5) * 3000).astype(np.int16)
    plan = sound.analyse(noise, Transcript((), "en", 5.0), sound.Settings())
    assert not np.any(plan.gain_db) and plan.notes and "no speech" in plan.notes[0]


def test_clipping_counted(tmp_path):
    from chaitime import sample

    x = np.sin(np.arange(48000) / 10) * 40000
    pcm = np.clip(x, -32768, 32767).astype(np.int16)
    wav = tmp_path / "clip.wav"
    sample.write_wav(wav, pcm, 48000, channels=1)
    plan = sound.Plan(np.zeros(100), "off", (), {}, -90.0, 0.0)
    _, clipped = sound.apply(wav, plan, 1, tmp_path / "o.flac", tmp_path / "o.s16")
    assert clipped > 1000


@pytest.mark.parametrize("key,value", [("denoise", "max"), ("dehum", "on")])
def test_bad_settings_name_file_key_and_choices(tmp_path, key, value):
    (tmp_path / "chaitime.toml").write_text(f'[audio]\n{key} = "{value}"\n')
    with pytest.raises(ConfigError) as err:
        config.load(tmp_path)
    message = str(err.value)
    assert "chaitime.toml" in message and f"[audio] {key}" in message and "off" in message and "\n" not in message


@pytest.mark.parametrize("key", ["leveler", "deess"])
def test_switches_must_be_true_or_false(tmp_path, key):
    """`leveler = "false"` (a string) would read as on: it is refused, naming file and key."""
    (tmp_path / "chaitime.toml").write_text(f'[audio]\n{key} = "false"\n')
    with pytest.raises(ConfigError) as err:
        config.load(tmp_path)
    message = str(err.value)
    assert "chaitime.toml" in message and f"[audio] {key}" in message and "true or false" in message and "\n" not in message


def test_picture_is_svg_and_deterministic():
    rng = np.random.default_rng(2)
    pcm = (rng.standard_normal(16000 * 3) * 1000).astype(np.int16)
    tr = Transcript((Segment(0.0, 2.0, "a", (Word(0.0, 2.0, "a", 1.0, "A"),), "A"),), "en", 3.0)
    svg = sound.picture(pcm, pcm, tr)
    assert svg.startswith("<svg") and svg == sound.picture(pcm, pcm, tr)


def test_check_warns_about_clipping(tmp_path):
    import json

    from chaitime.publish.check import clipping
    from chaitime.workspace import Workspace

    config.init(tmp_path)
    folder = tmp_path / "episodes" / "001-x" / ".chaitime"
    folder.mkdir(parents=True)
    (folder.parent / "episode.toml").write_text('title = "x"\nguid = "g"\ndate = "2026-01-01"\n')
    (folder / "sound.json").write_text(json.dumps({"clipped_samples": 42}))
    ws = Workspace.open(tmp_path)
    problems = list(clipping(type("Ctx", (), {"ws": ws})()))
    assert len(problems) == 1 and "42 samples" in problems[0].what and problems[0].level == "warning"


def test_separate_tracks_levelled_and_ducked_then_mixed(tmp_path, shared_media):
    """Separate tracks: each reader's track levelled to the one heard most (measured on their own
    track) and ducked while the other speaks; the mix, through the sound stage and the master's
    gain and limiter, has the readers within 1 dB (pyloudnorm over the true turns of the MP3)."""
    import subprocess

    from chaitime import sample
    from chaitime.media import ffmpeg, loudness
    from realvoices import assemble, separate_tracks

    conv = assemble(shared_media, "male-female", "plain", turns=8)
    host, guest = conv.speakers[:2]
    tracks = separate_tracks(conv, gap_db=12.0)
    pcm = {s: np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16) for s, x in tracks.items()}
    paths = {s: tmp_path / f"{s}.wav" for s in pcm}
    for s, path in paths.items():
        sample.write_wav(path, pcm[s], 16000)
    transcript = _truth_transcript(conv)
    gains = sound.track_gains(pcm, transcript)
    first = {s: next(t for t in conv.turns if t.speaker == s) for s in (host, guest)}
    at = lambda s, t: gains[s][int((t.start_s + t.end_s) / 2 / sound.FRAME_S)]  # noqa: E731
    raised = at(guest, first[guest]) - at(host, first[host])
    assert 11.0 <= raised <= 13.0, raised  # the guest's track brought up by the 12 dB it lacks
    assert np.isclose(at(guest, first[host]), at(guest, first[guest]) - sound.DUCK_DB)  # ducked under the host
    assert np.isclose(at(host, first[guest]), at(host, first[host]) - sound.DUCK_DB)
    clipped = sound.mix_levelled_tracks(paths, gains, 1, conv.duration_s, tmp_path / "mix.flac", tmp_path / "mix.s16")
    assert clipped == 0
    mix = np.fromfile(tmp_path / "mix.s16", np.int16)
    assert abs(len(mix) - len(conv.samples)) <= 160
    plan = sound.analyse(mix, transcript, sound.Settings(denoise="off", dehum="off"))
    measured, _ = sound.apply(tmp_path / "mix.flac", plan, 1, tmp_path / "out.flac", tmp_path / "out.s16",
                              target_lufs=loudness.MONO_TARGET_LUFS + loudness.ENCODER_LOSS_LU)
    loudness.master_mp3(tmp_path / "out.flac", measured, loudness.MONO_TARGET_LUFS, 1, tmp_path / "audio.mp3")
    decoded = subprocess.run([ffmpeg.ffmpeg_exe(), "-v", "error", "-i", str(tmp_path / "audio.mp3"), "-ac", "1", "-ar", "16000", "-f", "f32le", "-"],
                             capture_output=True, check=True).stdout
    levels = _speaker_lufs(np.frombuffer(decoded, np.float32), conv)
    assert abs(levels[host] - levels[guest]) <= 1.0, levels


@pytest.mark.slow
def test_ingest_with_tracks_levels_each_track(tmp_path, shared_media):
    """`chaitime ingest mix.wav --track NAME=... --track NAME=...`: the guest 12 dB quieter on
    their own track, the recording the plain sum; the episode's audio.mp3 has the two readers
    within 1 dB (pyloudnorm over the true turns), sound.json names the tracks and says how far
    apart they were in the recording."""
    import json
    import subprocess

    from chaitime import sample
    from chaitime.media import ffmpeg
    from conftest import run_chaitime
    from realvoices import assemble, separate_tracks

    conv = assemble(shared_media, "male-female", "plain", turns=8)
    host, guest = conv.speakers[:2]
    tracks = separate_tracks(conv, gap_db=12.0)
    pcm = {s: np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16) for s, x in tracks.items()}
    for s, x in pcm.items():
        sample.write_wav(tmp_path / f"{s}.wav", x, 16000)
    sample.write_wav(tmp_path / "mix.wav", np.clip(pcm[host].astype(np.int32) + pcm[guest], -32768, 32767).astype(np.int16), 16000)
    show = tmp_path / "show"
    run_chaitime("init", str(show), cwd=tmp_path, check=True)
    run_chaitime("ingest", str(tmp_path / "mix.wav"), "--track", f"Maya={tmp_path / f'{host}.wav'}", "--track",
                 f"Bo={tmp_path / f'{guest}.wav'}", "--quiet", cwd=show, check=True)
    episode = next((show / "episodes").iterdir())
    report = json.loads((episode / ".chaitime" / "sound.json").read_text())
    assert report["tracks"] == ["Bo", "Maya"]
    assert abs(report["speakers_before_db"]["Maya"] - report["speakers_before_db"]["Bo"]) > 8
    decoded = subprocess.run([ffmpeg.ffmpeg_exe(), "-v", "error", "-i", str(episode / "audio.mp3"), "-ac", "1", "-ar", "16000", "-f", "f32le", "-"],
                             capture_output=True, check=True).stdout
    levels = _speaker_lufs(np.frombuffer(decoded, np.float32), conv)
    assert abs(levels[host] - levels[guest]) <= 1.0, levels


def test_deesser_softens_sibilants_only(tmp_path, shared_media):
    """[audio] deess: on two real female readers, the frames where 4.5-8 kHz carries half the
    energy of 0.1-4 kHz or more (sibilants) lose at least 3 dB up there, the voice under 4 kHz
    stays within 0.3 dB."""
    from realvoices import assemble

    conv = assemble(shared_media, "female-female", "plain", turns=6)

    def bands(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        size = 512
        n = len(x) // size
        power = np.abs(np.fft.rfft(x[: n * size].reshape(n, size) * np.hanning(size), axis=1)) ** 2
        freqs = np.fft.rfftfreq(size, 1 / 16000)
        return power[:, (freqs > 4500) & (freqs < 8000)].sum(1), power[:, (freqs > 100) & (freqs < 4000)].sum(1)

    out = {}
    for deess in (False, True):
        folder = tmp_path / str(deess)
        folder.mkdir()
        _, _, _, after = _run(folder, conv, sound.Settings(leveler=False, denoise="off", dehum="off", deess=deess))
        out[deess] = bands(after.astype(np.float64))
    (high, low), (high_d, low_d) = out[False], out[True]
    loud = high + low > np.percentile(high + low, 50)
    sibilant = loud & (high > 0.5 * low)
    assert sibilant.sum() > 20
    assert 10 * np.log10(high_d[sibilant].sum() / high[sibilant].sum()) <= -3.0
    assert abs(10 * np.log10(low_d[loud].sum() / low[loud].sum())) <= 0.3


def test_auto_denoise_hears_the_noise_under_the_quietest_speaker():
    """The leveler raises a quiet speaker with the noise under them: auto judges the noise by the
    quietest speaker's level (here 20 dB over the floor: strong), not by everyone's together
    (~28 dB: it would have left the noise)."""
    rng = np.random.default_rng(4)
    rate, turn = 16000, 4
    x = rng.standard_normal(rate * turn * 4) * 10 ** (-52 / 20)  # the room
    words = []
    for i, (speaker, db) in enumerate((("A", -22), ("B", -32), ("A", -22), ("B", -32))):
        a, b = i * turn * rate, (i + 1) * turn * rate - rate // 2
        x[a:b] += rng.standard_normal(b - a) * 10 ** (db / 20)
        words.append(Word(a / rate, b / rate, "w", 1.0, speaker))
    pcm = np.clip(x * 32768, -32768, 32767).astype(np.int16)
    transcript = Transcript((Segment(0.0, len(x) / rate, "w", tuple(words)),), "en", len(x) / rate)
    plan = sound.analyse(pcm, transcript, sound.Settings())
    assert 18 <= plan.snr_db <= 22 and plan.denoise == "strong", plan.snr_db
    assert sound.analyse(pcm, transcript, sound.Settings(leveler=False)).snr_db >= 25  # nobody raised: everyone's speech counts


def test_tracks_that_dont_cover_the_recording_are_refused_before_any_work(tmp_path):
    """A track that isn't audio, or is much shorter than the recording (its mix would leave
    silence where the recording has speech): one line naming the track, exit 2, no episode."""
    from chaitime import sample
    from conftest import run_chaitime

    rng = np.random.default_rng(6)
    sample.write_wav(tmp_path / "mix.wav", (rng.standard_normal(16000 * 20) * 1000).astype(np.int16), 16000)
    sample.write_wav(tmp_path / "short.wav", (rng.standard_normal(16000 * 5) * 1000).astype(np.int16), 16000)
    (tmp_path / "notes.wav").write_text("not audio")
    show = tmp_path / "show"
    run_chaitime("init", str(show), cwd=tmp_path, check=True)
    for bad, words in (("notes.wav", "not a readable media file"), ("short.wav", "5.0 s long, the recording 20.0 s")):
        proc = run_chaitime("ingest", str(tmp_path / "mix.wav"), "--track", f"Ada={tmp_path / bad}", "--track",
                            f"Bo={tmp_path / 'mix.wav'}", cwd=show)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1 and words in lines[0] and "Ada" in lines[0], proc.stderr
        assert not any((show / "episodes").iterdir())
