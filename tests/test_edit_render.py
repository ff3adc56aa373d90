"""`chaitime render` and `chaitime clip` on a synthesized episode with known sentences and silences.

The fixture episode is built directly (no Whisper): eSpeak speech from chaitime.sample gives the
true position of every sentence; transcript.raw.json has one segment per sentence with words
spread evenly inside it; the video is ffmpeg's testsrc2 muxed with the speech.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chaitime import config
from chaitime.cli import main
from chaitime.edit.markdown import write_edit_md
from chaitime.fsutil import file_hash
from chaitime.media import ffmpeg
from chaitime.pipeline import clip as render_clip
from chaitime.pipeline import render as pipeline_render
from chaitime.sample import DEFAULT_SCRIPT, synthesize, write_wav
from chaitime.transcript.model import Segment, Transcript, Word
from chaitime.workspace import Episode, EpisodeMeta, Workspace
from chaitime.writing.chapters import Chapter, chapters_json, load_chapters

pytestmark = pytest.mark.slow  # renders media or runs an ingest (the unit tier leaves it out)

RATE = 44100
FPS = 25
SCRIPT = DEFAULT_SCRIPT[:8]  # ~44 s: two "um"s' worth of talk, one 2.5 s pause, two topics
CUT_LINE = 4  # "What did you learn from your first competitions?"


def spoken_transcript(spoken, duration_s: float) -> Transcript:
    segments = []
    for line in spoken:
        words = line.text.split()
        step = (line.end_s - line.start_s) / len(words)
        ws = tuple(Word(line.start_s + i * step, line.start_s + (i + 1) * step - 0.02, " " + w, 0.9, line.speaker) for i, w in enumerate(words))
        segments.append(Segment(line.start_s, line.end_s, " " + line.text, ws, line.speaker))
    return Transcript(tuple(segments), "en", duration_s)


def read_pcm(path: Path, rate: int = RATE) -> np.ndarray:
    """Mono float samples of any media file's first audio stream."""
    out = subprocess.run([ffmpeg.ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", str(rate), "-f", "f32le", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(out, dtype="<f4")


def onset(samples: np.ndarray, after_s: float, rate: int = RATE) -> float:
    """Time of the first sample louder than the speech threshold at or after ``after_s``."""
    start = int(after_s * rate)
    loud = np.flatnonzero(np.abs(samples[start:]) > 0.01)
    return (start + loud[0]) / rate


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A workspace with one ingested-looking episode; tests copy it."""
    root = tmp_path_factory.mktemp("ws")
    config.init(root)
    ep = Episode(root / "episodes" / "001-sample")
    ep.machine_dir.mkdir(parents=True)
    samples, spoken = synthesize(SCRIPT, sample_rate_hz=RATE)
    samples = np.concatenate([samples, np.zeros(RATE, dtype=np.int16)])  # 1 s of dead air at the end
    duration = len(samples) / RATE
    wav = root / "speech.wav"
    write_wav(wav, samples, RATE, channels=2)
    ffmpeg.run(["-i", str(wav), "-c:a", "flac", str(ep.machine_dir / "master.flac")], what="test master")
    source = ep.path("source.mp4")
    ffmpeg.run(["-f", "lavfi", "-i", f"testsrc2=size=320x180:rate={FPS}:duration={duration:.6f}", "-i", str(wav), "-map", "0:v", "-map", "1:a",
                "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(source)], what="test video")
    (ep.machine_dir / "source.json").write_text(json.dumps({"path": str(source), "has_video": True, "link": "source.mp4"}))
    transcript = spoken_transcript(spoken, duration)
    (ep.machine_dir / "transcript.raw.json").write_text(transcript.to_json())
    ep.path("transcript.json").write_text(transcript.to_json())
    ep.path("chapters.json").write_text(chapters_json([Chapter(0.0, "Kaggle"), Chapter(spoken[6].start_s, "Deployment")]))
    ep.path("edit.md").write_text(write_edit_md(transcript))
    ep.write_meta(EpisodeMeta(title="Sample", guid="g-1", date="2024-06-01", number=1))
    return root, spoken, transcript


@pytest.fixture
def workspace(built, tmp_path):
    root, spoken, transcript = built
    copy = tmp_path / "ws"
    shutil.copytree(root, copy)
    ws = Workspace.open(copy)
    return ws, ws.episode("001-sample"), spoken, transcript


def copy_workspace(root: Path, target: Path) -> tuple[Workspace, Episode]:
    shutil.copytree(root, target)
    ws = Workspace.open(target)
    return ws, ws.episode("001-sample")


def delete_line(ep: Episode, text: str) -> None:
    rows = ep.path("edit.md").read_text().splitlines(keepends=True)
    kept = [r for r in rows if text not in r]
    assert len(kept) == len(rows) - 1
    ep.path("edit.md").write_text("".join(kept))


@pytest.fixture(scope="module")
def renders(built, tmp_path_factory):
    """The episode rendered as ingested (suggested cuts only) and with one sentence deleted."""
    root, spoken, transcript = built
    base_ws, base = copy_workspace(root, tmp_path_factory.mktemp("base") / "ws")
    pipeline_render(base, base_ws)
    cut_ws, cut = copy_workspace(root, tmp_path_factory.mktemp("cut") / "ws")
    delete_line(cut, spoken[CUT_LINE].text)
    result = pipeline_render(cut, cut_ws)
    return base, cut, result


def media_seconds(path: Path) -> float:
    return len(read_pcm(path)) / RATE


def video_frames(path: Path) -> int:
    stderr = ffmpeg.run(["-i", str(path), "-map", "0:v:0", "-c", "copy", *ffmpeg.null_sink()], what="counting frames")
    return int(stderr.rsplit("frame=", 1)[1].split()[0])


def test_deleting_a_line_shortens_the_audio_by_its_span(renders, built):
    base, cut, _ = renders
    spoken = built[1]
    span = spoken[CUT_LINE + 1].start_s - spoken[CUT_LINE].start_s  # the sentence and the pause after it
    for name in ("audio.mp3", "video.mp4"):
        assert media_seconds(base.path(name)) - media_seconds(cut.path(name)) == pytest.approx(span, abs=0.05), name


def test_the_sentence_after_the_cut_starts_where_the_transcript_says(renders, built):
    _, cut, _ = renders
    spoken = built[1]
    transcript = Transcript.load(cut.path("transcript.json"))
    texts = [s.text.strip() for s in transcript.segments]
    assert spoken[CUT_LINE].text not in texts
    following = transcript.segments[texts.index(spoken[CUT_LINE + 1].text)]
    samples = read_pcm(cut.path("audio.mp3"))
    assert onset(samples, following.start_s - 0.3) == pytest.approx(following.start_s, abs=0.1)
    # every format written from transcript.json follows it
    assert spoken[CUT_LINE].text not in cut.path("transcript.vtt").read_text()
    assert f"{following.start_s:.3f}".rstrip("0") in cut.path("transcript.podcast.json").read_text()


def test_video_and_audio_stay_in_sync(renders):
    _, cut, _ = renders
    video = cut.path("video.mp4")
    frames = video_frames(video)
    assert abs(frames / FPS - media_seconds(video)) <= 1 / FPS
    assert abs(media_seconds(video) - media_seconds(cut.path("audio.mp3"))) <= 1 / FPS


def test_cut_points_do_not_click(renders):
    _, cut, _ = renders
    record = json.loads((cut.machine_dir / "render.json").read_text())
    samples = read_pcm(cut.machine_dir / "cut.flac")
    joins, t = [], 0.0
    for a, b in record["keeps"][:-1]:
        t += b - a
        joins.append(round(t * RATE))
    assert len(joins) >= 3  # the filler, the pause, the deleted line
    for j in joins:
        window = samples[j - 200 : j + 200]
        assert np.max(np.abs(np.diff(window))) < 0.02, j / RATE
        assert np.max(np.abs(samples[j - 20 : j + 20])) < 0.01, j / RATE


def test_struck_fillers_and_long_pauses_are_gone(renders, built):
    base, _, _ = renders
    transcript = Transcript.load(base.path("transcript.json"))
    assert not [w for w in transcript.words if w.text.strip().lower().startswith("um")]
    # the 2.5 s pause is now 0.5 s long
    spoken = built[1]
    texts = [s.text.strip() for s in transcript.segments]
    before = transcript.segments[texts.index(spoken[5].text)]
    after = transcript.segments[texts.index(spoken[6].text)]
    assert after.start_s - before.end_s == pytest.approx(0.5, abs=0.05)


def test_chapters_after_a_cut_move_by_the_cut_length(renders, built):
    base, cut, _ = renders
    spoken = built[1]
    span = spoken[CUT_LINE + 1].start_s - spoken[CUT_LINE].start_s
    moved = [c.start_s for c in load_chapters(base.path("chapters.json"))], [c.start_s for c in load_chapters(cut.path("chapters.json"))]
    assert moved[0][0] == moved[1][0] == 0
    assert moved[0][1] - moved[1][1] == pytest.approx(span, abs=1 / FPS)  # with video, cuts sit on the frame grid
    assert load_chapters(cut.machine_dir / "chapters.orig.json")[1].start_s == pytest.approx(spoken[6].start_s, abs=0.001)


def test_the_master_is_mastered_and_tagged(renders):
    _, cut, _ = renders
    from chaitime.media.loudness import measure
    from chaitime.media.tags import mp3_is_cbr

    measured = measure(cut.path("audio.mp3"))
    assert measured.integrated_lufs == pytest.approx(-16.0, abs=1.0)
    assert measured.true_peak_dbtp <= -1.0
    assert mp3_is_cbr(cut.path("audio.mp3"))
    from mutagen.id3 import ID3

    tags = ID3(str(cut.path("audio.mp3")))
    assert str(tags["TIT2"]) == "Sample" and len(tags.getall("CHAP")) == 2


def test_rendering_twice_changes_nothing(renders):
    _, cut, first = renders
    names = ["audio.mp3", "video.mp4", "transcript.json", "transcript.vtt", "chapters.json"]
    before = {n: file_hash(cut.path(n)) for n in names}
    ws = Workspace.open(cut.folder.parent.parent)
    again = pipeline_render(cut, ws)
    assert again.changed == () and again.duration_s == pytest.approx(first.duration_s)
    (cut.machine_dir / "render.json").unlink()  # forced: the same edit list gives the same files
    forced = pipeline_render(cut, ws)
    # x264 under frame threading is not byte-stable across runs on a loaded machine: the video
    # is compared by length, everything else byte for byte.
    stable = [n for n in names if n != "video.mp4"]
    assert {n: file_hash(cut.path(n)) for n in stable} == {n: before[n] for n in stable}
    assert media_seconds(cut.path("video.mp4")) == pytest.approx(first.duration_s, abs=0.05)
    assert media_seconds(cut.path("audio.mp3")) == pytest.approx(first.duration_s, abs=0.03)
    assert forced.duration_s == pytest.approx(first.duration_s)


def test_a_malformed_edit_md_is_named_by_the_cli(workspace, monkeypatch, capsys):
    ws, ep, spoken, _ = workspace
    text = ep.path("edit.md").read_text()
    stamp = text.splitlines()[5][:14]  # "[00:00:05.817]"
    ep.path("edit.md").write_text(text.replace(stamp, stamp[:-2] + "9]", 1))
    monkeypatch.chdir(ws.root)
    with pytest.raises(SystemExit) as exit_info:
        main(["render", "001-sample"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "edit.md, line 6: no sentence starts at" in err and "undo the change" in err
    assert not ep.path("audio.mp3").exists()


def frame_rgb(path: Path, at_s: float) -> np.ndarray:
    out = subprocess.run([ffmpeg.ffmpeg_exe(), "-v", "error", "-ss", f"{at_s:.3f}", "-i", str(path), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    size = 1080
    return np.frombuffer(out, dtype=np.uint8).reshape(-1, size, 3)


def test_intro_and_outro_are_crossfaded_and_everything_shifts(built, tmp_path):
    root, spoken, _ = built
    ws, ep = copy_workspace(root, tmp_path / "ws")
    for name, seconds, freq in (("intro.wav", 2.0, 440), ("outro.wav", 1.5, 660)):
        ffmpeg.run(["-f", "lavfi", "-i", f"sine=frequency={freq}:duration={seconds}:sample_rate={RATE}", "-ac", "2", str(ws.root / name)], what="test jingle")
    toml = ws.root / "chaitime.toml"
    toml.write_text(toml.read_text().replace('# intro = "intro.wav"', 'intro = "intro.wav"').replace('# outro = "outro.wav"', 'outro = "outro.wav"'))
    ws = Workspace.open(ws.root)
    result = pipeline_render(ep, ws)
    record = json.loads((ep.machine_dir / "render.json").read_text())
    body = sum(b - a for a, b in record["keeps"])
    # 2 s intro, crossfaded for at most 0.5 s, and only over the quiet before the first word:
    # the intro has ended (2 s on the edited timeline) before the first word starts.
    assert 1.5 - 1 / FPS <= record["offset_s"] < 2.0
    assert record["offset_s"] + spoken[0].start_s >= 2.0
    outro_fade = record["offset_s"] + body + 1.5 - result.duration_s
    assert 0.0 < outro_fade <= 0.5 + 0.01
    assert media_seconds(ep.path("audio.mp3")) == pytest.approx(result.duration_s, abs=0.05)
    video = ep.path("video.mp4")
    assert abs(video_frames(video) / FPS - media_seconds(video)) <= 1 / FPS
    transcript = Transcript.load(ep.path("transcript.json"))
    first = transcript.segments[0]
    assert first.start_s == pytest.approx(record["offset_s"] + spoken[0].start_s, abs=0.01)
    assert transcript.words[-1].end_s <= result.duration_s - 1.5  # the outro starts after the last word
    samples = read_pcm(ep.path("audio.mp3"))
    assert np.abs(samples[: RATE]).max() > 0.1 and np.abs(samples[-RATE:]).max() > 0.1  # intro and outro are heard
    from chaitime.media.loudness import measure

    assert measure(ep.path("audio.mp3")).integrated_lufs == pytest.approx(-16.0, abs=1.0)


def test_clip_burns_in_captions_timed_from_the_words(renders, tmp_path):
    _, cut, _ = renders
    ws = Workspace.open(cut.folder.parent.parent)
    transcript = Transcript.load(cut.path("transcript.json"))
    start, end = 10.0, 16.0
    result = render_clip(cut, ws, start_s=start, end_s=end, out=tmp_path / "clip.mp4")
    spoken = [w.text.strip() for w in transcript.words if start <= (w.start_s + w.end_s) / 2 < end]
    assert " ".join(c.text for c in result.captions) == " ".join(spoken)
    for caption in result.captions:
        inside = [w for w in transcript.words if w.text.strip() and start + caption.start_s - 0.01 <= w.start_s < start + caption.end_s]
        assert caption.text.startswith(inside[0].text.strip())
    assert not result.audiogram and result.burned
    assert media_seconds(result.path) == pytest.approx(end - start, abs=0.05)
    first = result.captions[0]
    band = frame_rgb(result.path, (first.start_s + first.end_s) / 2)[-200:]  # below the letterboxed picture: black but for captions
    white = np.all(band > 220, axis=2).sum()
    assert white > 500
    silent = [c for c in result.captions if c.end_s < 5.5]
    gap_at = next((a.end_s + 0.05 for a, b in zip(result.captions, result.captions[1:]) if b.start_s - a.end_s > 0.2), None)
    if gap_at is not None and silent:
        assert np.all(frame_rgb(result.path, gap_at)[-200:] > 220, axis=2).sum() < white / 10


def test_vertical_audiogram_clip_without_video(renders, tmp_path):
    base, _, _ = renders
    copy = tmp_path / "ws"
    shutil.copytree(base.folder.parent.parent, copy)
    ws = Workspace.open(copy)
    ep = ws.episode("001-sample")
    ep.path("video.mp4").unlink()
    result = render_clip(ep, ws, start_s=5.0, end_s=9.0, vertical=True, out=tmp_path / "v.mp4")
    assert result.audiogram and result.captions
    stderr = ffmpeg.run(["-i", str(result.path), *ffmpeg.null_sink()], what="probing the clip")
    assert "1080x1920" in stderr


def test_cutting_streams_in_little_memory(tmp_path):
    """Cutting 10 minutes of 48 kHz stereo (230 MB as float samples) keeps the process small."""
    master = tmp_path / "long.flac"
    ffmpeg.run(["-f", "lavfi", "-i", "sine=frequency=220:sample_rate=48000:duration=600", "-ac", "2", "-c:a", "flac", "-compression_level", "0", str(master)],
               what="test long master")
    script = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "from chaitime.media.probe import probe\n"
        "from chaitime.media.render import cut_audio\n"
        "info = probe(Path(sys.argv[1]))\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "cut_audio(info.path, [(0.0, 100.0), (101.0, 400.0), (460.5, 600.0)], Path(sys.argv[2]), info, lambda s: None)\n"
        "print(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(master), str(tmp_path / "cut.flac")], capture_output=True, text=True, check=True).stdout
    before_kb, after_kb, child_kb = map(int, out.split())
    assert after_kb - before_kb < 60_000 and child_kb < 150_000, out
    assert media_seconds(tmp_path / "cut.flac") == pytest.approx(600 - 1 - 60.5, abs=0.01)


@pytest.mark.slow
def test_whisper_no_longer_hears_the_cut_sentence(renders, built):
    """Whisper tiny.en on the rendered MP3: the deleted sentence is gone, its neighbours are there."""
    asr = pytest.importorskip("chaitime.asr")
    _, cut, _ = renders
    spoken = built[1]
    heard = asr.transcribe(cut.path("audio.mp3"), asr.AsrOptions(model="tiny.en", engine="faster-whisper", device="cpu", allow_download=False)).text.lower()
    assert "first competitions" not in heard
    assert "titanic" in heard and "leaderboard" in heard, heard
    assert spoken[CUT_LINE].text.startswith("What did you learn")
