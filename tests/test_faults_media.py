"""Bad media from issue 27, measured on what chaitime writes: a 7.1 recording that the downmix
drove past full scale, a video whose first audio stream is silent (or whose second also has
sound), a word shorter than loudness's 400 ms block, and an MP3 whose Xing header claims 1,789
hours. Fixtures are made here with ffmpeg and numpy; the stages run as functions (no Whisper),
and one end-to-end ingest per case is in the slow tier."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from chaitime import fsutil, sample
from chaitime.errors import DiskFullError, InputError
from chaitime.media import loudness, probe, sound
from chaitime.pipeline import source
from chaitime.pipeline.runner import Records
from chaitime.transcript.model import Transcript
from chaitime.workspace import LOUDNESS, MASTER_FLAC, SPEECH, Episode
from conftest import ebur128, run_chaitime

FULL_SCALE = 32767 / 32768  # a decoded float sample this large is a clipped one


def ff(ffmpeg_bin: str, *args: str) -> None:
    subprocess.run([ffmpeg_bin, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


def decoded(ffmpeg_bin: str, path: Path, stream: str = "0:a:0") -> np.ndarray:
    """``path``'s audio as float samples (n, channels), decoded by ffmpeg: what a player gets."""
    out = subprocess.run(
        [
            ffmpeg_bin,
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "error",
            "-i",
            str(path),
            "-map",
            stream,
            "-f",
            "f32le",
            "-c:a",
            "pcm_f32le",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    channels = probe.probe(path).channels if stream == "0:a:0" else 1
    data = np.frombuffer(out, "<f4")
    return data[: len(data) // channels * channels].reshape(-1, channels)


def full_scale(samples: np.ndarray) -> list[int]:
    """Full-scale (clipped) samples per channel."""
    return [int(n) for n in (np.abs(samples) >= FULL_SCALE).sum(axis=0)]


def extract(recording: Path, folder: Path, info: probe.MediaInfo | None = None) -> tuple[Episode, loudness.Loudness]:
    """The extract stage (speech.s16, master.flac, loudness.json) run on ``recording``, as ingest runs it."""
    episode = Episode(folder)
    episode.machine_dir.mkdir(parents=True)
    info = info or probe.probe_recording(recording)
    before = source._extract(episode, recording, info, "0" * 64, Records(episode), lambda *a, **k: None)
    return episode, before


# --- 1. a 7.1 recording: the downmix has headroom ----------------------------------------------------


@pytest.fixture(scope="module")
def surround(tmp_path_factory) -> Path:
    """7.1, 16-bit: a tone per channel, every channel peaking at 30284 of 32767 (-0.7 dBFS)."""
    rate = 48000
    t = np.arange(rate * 4) / rate
    tones = np.stack([np.sin(2 * np.pi * f * t) for f in (200, 233, 251, 60, 277, 311, 347, 389)], axis=1)
    path = tmp_path_factory.mktemp("surround") / "surround71.wav"
    sample.write_wav(path, np.round(tones * 30284), rate, channels=8)
    return path


def test_the_fixture_clips_in_a_plain_float_downmix(surround, ffmpeg_bin, tmp_path):
    """What the extract did before: ffmpeg's default (float, unnormalised) downmix to stereo."""
    old = tmp_path / "old.flac"
    ff(ffmpeg_bin, "-i", str(surround), "-af", "aformat=channel_layouts=stereo,ebur128=peak=sample", "-c:a", "flac", str(old))
    assert min(full_scale(decoded(ffmpeg_bin, old))) > 1000


@pytest.mark.slow  # renders media
def test_a_7_1_recording_under_full_scale_masters_without_a_clipped_sample(surround, ffmpeg_bin, tmp_path):
    episode, before = extract(surround, tmp_path / "ep")
    master = episode.machine_dir / MASTER_FLAC
    stereo = decoded(ffmpeg_bin, master)
    assert stereo.shape[1] == 2 and full_scale(stereo) == [0, 0]
    assert np.abs(stereo).max() <= 30284 / 32767 + 1e-3  # the downmix is never louder than its loudest channel
    assert abs(ebur128(ffmpeg_bin, master)["I"] - before.integrated_lufs) <= 0.2  # measured on what is mastered
    gain, after = loudness.master_mp3(master, before, -16.0, 2, tmp_path / "audio.mp3")
    assert full_scale(decoded(ffmpeg_bin, tmp_path / "audio.mp3")) == [0, 0]
    assert after.true_peak_dbtp <= -1.0 and abs(after.integrated_lufs + 16.0) <= 0.5


@pytest.mark.slow  # renders media
def test_the_sound_stage_does_not_blame_the_recording_for_the_downmix(surround, tmp_path):
    episode, _ = extract(surround, tmp_path / "ep")
    n = int(probe.probe(surround).duration_s / sound.FRAME_S)
    plan = sound.Plan(np.zeros(n), "off", (), {}, -90.0, 60.0)
    measured, clipped = sound.apply(episode.machine_dir / MASTER_FLAC, plan, 8, tmp_path / "sound.flac", tmp_path / "sound.s16")
    report = sound.report(
        plan, measured, clipped, np.fromfile(tmp_path / "sound.s16", np.int16), Transcript((), "en", 4.0), False
    )
    assert clipped == 0 and not any("clips" in note or "input gain" in note for note in report.notes)


def test_a_5_1_recording_is_downmixed_the_same_way():
    assert loudness.downmix(6) == loudness.downmix(8) and "rematrix_maxval=1" in loudness.downmix(6)
    assert loudness.downmix(2) == loudness.downmix(1) == ""
    assert sound.filter_chain(sound.Plan(np.zeros(1), "off", (), {}, -90.0, 60.0), 6).count("rematrix_maxval=1") == 1


# --- 2. several audio streams ------------------------------------------------------------------------


def _video(ffmpeg_bin: str, path: Path, *streams: str) -> Path:
    """A 6 s video with one audio stream per lavfi source in ``streams``, in that order."""
    args = ["-f", "lavfi", "-i", "testsrc=s=160x120:r=10:d=6"]
    for spec in streams:
        args += ["-f", "lavfi", "-i", spec]
    maps = ["-map", "0:v"] + [x for i in range(len(streams)) for x in ("-map", f"{i + 1}:a")]
    ff(ffmpeg_bin, *args, *maps, "-t", "6", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(path))
    return path


@pytest.fixture(scope="module")
def silent_first(tmp_path_factory, ffmpeg_bin) -> Path:
    """Audio stream 0 silent, stream 1 the voice (a tone at -21 LUFS)."""
    return _video(
        ffmpeg_bin, tmp_path_factory.mktemp("streams") / "call.mp4", "anullsrc=r=48000:cl=stereo:d=6", "sine=f=300:r=48000:d=6"
    )


@pytest.fixture(scope="module")
def both_heard(tmp_path_factory, ffmpeg_bin) -> Path:
    return _video(
        ffmpeg_bin, tmp_path_factory.mktemp("streams") / "two.mp4", "sine=f=300:r=48000:d=6", "sine=f=500:r=48000:d=6,volume=0.5"
    )


def test_the_stream_with_sound_is_taken_and_the_note_says_so(silent_first):
    info = probe.probe_recording(silent_first)
    assert (info.audio_stream, info.audio_streams, info.audio_map) == (1, 2, "0:a:1")
    (note,) = info.notes
    assert "call.mp4: audio stream 0 is silent" in note and "took audio stream 1 (-2" in note and "--audio-stream N" in note
    assert "\n" not in note


def test_a_second_stream_with_sound_is_named_not_dropped_silently(both_heard):
    info = probe.probe_recording(both_heard)
    assert info.audio_stream == 0
    (note,) = info.notes
    assert "2 audio streams with sound; took audio stream 0" in note and "stream 1 (" in note and "not in the episode" in note
    assert "--audio-stream N" in note and "--track" in note


def test_the_host_picks_the_stream_and_a_wrong_number_is_one_line(silent_first):
    chosen = probe.probe_recording(silent_first, 0)
    assert chosen.audio_stream == 0 and chosen.notes == ()
    with pytest.raises(InputError, match=r"call.mp4: --audio-stream 2: it has 2 audio streams \(0 to 1\)") as err:
        probe.probe_recording(silent_first, 2)
    assert "\n" not in str(err.value)


def test_one_stream_is_not_measured(tmp_path, monkeypatch):
    wav = tmp_path / "one.wav"
    sample.write_wav(wav, np.zeros(16000, np.int16), 16000)
    monkeypatch.setattr(loudness, "stream_levels", lambda *a: pytest.fail("a single stream needs no measuring"))
    assert probe.probe_recording(wav).audio_stream == 0


def test_every_decoder_of_the_recording_takes_the_chosen_stream(silent_first, ffmpeg_bin, tmp_path):
    """The extract (speech for Whisper, the lossless master every later stage starts from) and
    `chaitime transcribe`'s decoder read stream 1; choosing it changes the extract's key."""
    from chaitime.asr.audio import decode_speech

    info = probe.probe_recording(silent_first)
    episode, before = extract(silent_first, tmp_path / "ep", info)
    assert -25 < before.integrated_lufs < -18  # the tone, not -70 (stream 0's silence)
    assert abs(ebur128(ffmpeg_bin, episode.machine_dir / MASTER_FLAC)["I"] - before.integrated_lufs) <= 0.2
    speech = np.fromfile(episode.machine_dir / SPEECH, np.int16).astype(np.float64)
    assert np.sqrt(np.mean(speech**2)) > 1000
    pcm = decode_speech(silent_first, tmp_path / "transcribe.s16")
    assert np.sqrt(np.mean(pcm.samples().astype(np.float64) ** 2)) > 1000
    assert source._extract_key("0" * 64, info) != source._extract_key("0" * 64, probe.probe_recording(silent_first, 0))
    assert source._extract_key("0" * 64, probe.probe_recording(silent_first, 0)) == source._extract_key("0" * 64)


def test_ingest_with_a_wrong_stream_number_is_exit_2_and_writes_nothing(silent_first, tmp_path):
    proc = run_chaitime("ingest", str(silent_first), "--audio-stream", "5", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    line = proc.stderr.strip()
    assert "\n" not in line and "--audio-stream 5: it has 2 audio streams" in line and "Traceback" not in line
    assert not (tmp_path / "episodes").exists() or list((tmp_path / "episodes").iterdir()) == []


@pytest.mark.slow
def test_ingest_takes_the_stream_with_sound_and_says_which(silent_first, tmp_path):
    run_chaitime("init", cwd=tmp_path, check=True)
    proc = run_chaitime("ingest", str(silent_first), "--speakers", "1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    notes = [ln.strip() for ln in proc.stdout.splitlines() if ln.strip().startswith("note: call.mp4")]
    assert len(notes) == 1 and "took audio stream 1" in notes[0]
    assert "nearly silent" not in proc.stdout
    (ep,) = (tmp_path / "episodes").iterdir()
    assert json_loudness(ep) > -30


def json_loudness(ep: Path) -> float:
    import json

    return json.loads((ep / ".chaitime" / LOUDNESS).read_text())["integrated_lufs"]


# --- 3. a word shorter than a gating block ---------------------------------------------------------


@pytest.fixture(scope="module")
def word(tmp_path_factory) -> tuple[Path, np.ndarray]:
    """0.2 s of a 1 kHz tone peaking at -1.5 dBFS (its true peak about the same), mono."""
    rate = 48000
    t = np.arange(int(rate * 0.2)) / rate
    pcm = np.round(np.sin(2 * np.pi * 1000 * t) * 10 ** (-1.5 / 20) * 32767).astype(np.int16)
    path = tmp_path_factory.mktemp("short") / "hi.wav"
    sample.write_wav(path, pcm, rate)
    return path, pcm


def test_a_short_loud_word_is_measured_not_called_silent(word, ffmpeg_bin, tmp_path):
    path, pcm = word
    repeated = tmp_path / "repeated.wav"  # the same sound, long enough for ebur128 on its own
    sample.write_wav(repeated, np.tile(pcm, 20), 48000)
    measured = loudness.measure(path)
    assert abs(measured.integrated_lufs - ebur128(ffmpeg_bin, repeated)["I"]) <= 0.3
    assert measured.integrated_lufs > -10 and measured.true_peak_dbtp > -3
    assert loudness.silence_note(measured) is None
    assert loudness.gain_db(measured, -19.0) < -5  # brought down to the target, not left alone


@pytest.mark.slow  # renders media
def test_a_short_word_is_mastered_to_the_target(word, tmp_path):
    path, _ = word
    episode, before = extract(path, tmp_path / "ep")
    assert before.integrated_lufs > -10  # loudness.json: was -70.0
    gain, after = loudness.master_mp3(episode.machine_dir / MASTER_FLAC, before, -19.0, 1, tmp_path / "audio.mp3")
    assert gain < -5 and abs(after.integrated_lufs + 19.0) <= 1.0 and after.true_peak_dbtp <= -1.0


def test_silence_is_still_silence_and_gets_no_gain(tmp_path):
    for seconds in (0.2, 5.0):
        wav = tmp_path / f"quiet{seconds}.wav"
        sample.write_wav(wav, np.zeros(int(16000 * seconds), np.int16), 16000)
        measured = loudness.measure(wav)
        assert measured.integrated_lufs <= loudness.FLOOR_LUFS and loudness.gain_db(measured, -16.0) == 0.0
        assert "nearly silent" in loudness.silence_note(measured)


# --- 4. a header that lies about the length ---------------------------------------------------------


@pytest.fixture(scope="module")
def liar(tmp_path_factory, ffmpeg_bin) -> Path:
    """A 10 s CBR MP3 whose Xing/Info frame count is patched to claim 1,789 hours."""
    folder = tmp_path_factory.mktemp("xing")
    honest = folder / "honest.mp3"
    ff(
        ffmpeg_bin,
        "-f",
        "lavfi",
        "-i",
        "sine=f=440:r=44100:d=10",
        "-c:a",
        "libmp3lame",
        "-b:a",
        "128k",
        "-write_xing",
        "1",
        str(honest),
    )
    data = honest.read_bytes()
    at = max(data.find(b"Xing"), data.find(b"Info"))
    assert at > 0 and struct.unpack(">I", data[at + 4 : at + 8])[0] & 1  # the frames field is there
    frames = 1789 * 3600 * 44100 // 1152
    path = folder / "liar.mp3"
    path.write_bytes(data[: at + 8] + struct.pack(">I", frames) + data[at + 12 :])
    return path


def test_a_lying_xing_header_is_measured_from_the_audio_there(liar):
    info = probe.probe(liar)
    assert abs(info.duration_s - 10.0) < 0.5 and info.declared_s > 1789 * 3600 * 0.99
    note = probe.ends_early_note(info, 10.0)
    assert "liar.mp3: its header claims 1,789 hours" in note and "header is wrong" in note and "disk" not in note


def test_the_space_check_asks_for_what_the_audio_needs(liar, tmp_path, monkeypatch):
    info = probe.probe(liar)
    monkeypatch.setattr(fsutil, "free_bytes", lambda where: 200_000_000)
    source._require_space(tmp_path, info, {})  # was: disk full, "needs about 1,213,262 MB"
    monkeypatch.setattr(fsutil, "free_bytes", lambda where: 1_000_000)
    with pytest.raises(DiskFullError, match=r"needs about \d+(\.\d)? MB") as err:  # a disk really short still says so
        source._require_space(tmp_path, info, {})
    assert "0.2 minutes" in str(err.value)


def test_an_honest_header_is_believed_and_a_cut_off_file_still_ends_early(ffmpeg_bin, tmp_path):
    from chaitime.asr.audio import decode_speech

    whole = tmp_path / "whole.m4a"
    ff(
        ffmpeg_bin,
        "-f",
        "lavfi",
        "-i",
        "sine=f=440:r=44100:d=20",
        "-c:a",
        "aac",
        "-b:a",
        "128k",
        "-movflags",
        "+faststart",
        str(whole),
    )
    info = probe.probe(whole)
    assert abs(info.duration_s - 20.0) < 0.2 and info.declared_s == 0.0
    cut = tmp_path / "cut.m4a"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 3 // 10])
    info = probe.probe(cut)
    heard = decode_speech(cut, tmp_path / "cut.s16", audio_stream=0).duration_s
    note = probe.ends_early_note(info, heard)
    assert note.startswith("cut.m4a ends early: its header says 20.0 s") and "truncated" in note


@pytest.mark.slow
def test_ingest_of_a_lying_mp3_is_not_a_full_disk(liar, tmp_path):
    run_chaitime("init", cwd=tmp_path, check=True)
    proc = run_chaitime("ingest", str(liar), "--speakers", "1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "disk full" not in proc.stdout + proc.stderr and "its header claims 1,789 hours" in proc.stdout
