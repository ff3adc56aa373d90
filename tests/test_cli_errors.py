"""Bad input: one clear line on stderr, a nonzero exit, no traceback, nothing half-written."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import pytest

from conftest import run_chaitime


def _wav(path: Path, frames: bytes = b"", rate: int = 16000) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return path


def _assert_one_line(proc, *needles: str, code: int | None = None) -> None:
    assert proc.returncode != 0
    if code is not None:
        assert proc.returncode == code
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture(scope="module")
def media(tmp_path_factory, ffmpeg_bin):
    d = tmp_path_factory.mktemp("bad")
    (d / "notes.mp4").write_text("this is not a video\n")
    subprocess.run([ffmpeg_bin, "-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-f", "lavfi", "-i", "sine=d=5",
                    "-t", "5", "-c:v", "libx264", "-c:a", "aac", str(d / "good.mp4")], check=True)
    (d / "truncated.mp4").write_bytes((d / "good.mp4").read_bytes()[:4000])
    subprocess.run([ffmpeg_bin, "-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-t", "2", "-c:v", "libx264",
                    str(d / "silent-film.mp4")], check=True)
    _wav(d / "empty.wav")
    (d / "folder.mp4").mkdir()
    return d


@pytest.mark.parametrize("name,needles", [
    ("missing.mp4", ["missing.mp4", "no such file"]),
    ("folder.mp4", ["folder.mp4", "is a folder"]),
    ("notes.mp4", ["notes.mp4", "not a readable media file"]),
    ("truncated.mp4", ["truncated.mp4", "not a readable media file"]),
    ("silent-film.mp4", ["silent-film.mp4", "no audio stream"]),
    ("empty.wav", ["empty.wav", "empty"]),
])
def test_bad_recordings(tmp_path, media, name, needles):
    proc = run_chaitime("ingest", str(media / name), cwd=tmp_path)
    _assert_one_line(proc, *needles, code=2)
    assert not (tmp_path / "episodes").exists() or not any((tmp_path / "episodes").iterdir())


def test_traceback_flag_shows_the_stack(tmp_path, media):
    proc = run_chaitime("--traceback", "ingest", str(media / "notes.mp4"), cwd=tmp_path)
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_unknown_model(tmp_path, media):
    _assert_one_line(run_chaitime("ingest", str(media / "good.mp4"), "--model", "huge-v9", cwd=tmp_path), "huge-v9", "unknown model")


def test_model_path_that_is_not_a_model(tmp_path, media):
    _assert_one_line(run_chaitime("ingest", str(media / "good.mp4"), "--model", str(tmp_path), cwd=tmp_path), "not a Whisper model")


def test_unknown_engine(tmp_path, media):
    proc = run_chaitime("ingest", str(media / "good.mp4"), "--engine", "vosk", cwd=tmp_path)
    assert proc.returncode == 2 and "vosk" in proc.stderr and "Traceback" not in proc.stderr


def test_cuda_without_gpu(tmp_path, media):
    from chaitime.asr.engine import cuda_available

    if cuda_available():
        pytest.skip("this machine has a GPU")
    _assert_one_line(run_chaitime("ingest", str(media / "good.mp4"), "--device", "cuda", cwd=tmp_path), "--device cuda", "no usable CUDA GPU")


def test_invalid_config(tmp_path, media):
    (tmp_path / "chaitime.toml").write_text('[show]\ntitle = "x"\nexplicit = "maybe"\n')
    _assert_one_line(run_chaitime("ingest", str(media / "good.mp4"), cwd=tmp_path), "chaitime.toml", "explicit", code=3)
    (tmp_path / "chaitime.toml").write_text("[show\n")
    _assert_one_line(run_chaitime("ingest", str(media / "good.mp4"), cwd=tmp_path), "chaitime.toml", "not valid TOML", code=3)
    (tmp_path / "chaitime.toml").write_text('[transcribe]\nengine = "vosk"\n')
    _assert_one_line(run_chaitime("ingest", str(media / "good.mp4"), cwd=tmp_path), "[transcribe] engine", code=3)


def test_invalid_episode_toml(tmp_path, media):
    run_chaitime("ingest", str(media / "good.mp4"), "--title", "Tone", "--quiet", cwd=tmp_path, check=True)
    meta = tmp_path / "episodes" / "tone" / "episode.toml"
    meta.write_text(meta.read_text().replace('date = "', 'date = "not-'))
    _assert_one_line(run_chaitime("ingest", str(media / "good.mp4"), cwd=tmp_path), "episode.toml", "date", code=3)


def test_unwritable_workspace(tmp_path, media):
    import os

    if os.geteuid() == 0:
        pytest.skip("root can write anywhere")
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        _assert_one_line(run_chaitime("ingest", str(media / "good.mp4"), cwd=locked), "writable")
    finally:
        locked.chmod(0o700)


def test_unwritable_workspace_as_any_user(tmp_path, media):
    """Root ignores permissions, so make the workspace's episodes/ a file instead."""
    (tmp_path / "episodes").write_text("not a folder")
    proc = run_chaitime("ingest", str(media / "good.mp4"), cwd=tmp_path)
    _assert_one_line(proc, "episodes")


def test_busy_episode(tmp_path, media):
    from chaitime import pipeline
    from chaitime.errors import BusyError
    from chaitime.workspace import Workspace

    ws = Workspace.open(tmp_path)
    pipeline.ingest(media / "good.mp4", ws, pipeline.IngestOptions(title="Busy"))
    episode = ws.episode("busy")
    with episode.lock():
        with pytest.raises(BusyError, match="busy"):
            pipeline.ingest(media / "good.mp4", ws, pipeline.IngestOptions())


def test_init_writes_commented_config_and_cover(tmp_path):
    proc = run_chaitime("init", str(tmp_path / "show"), cwd=tmp_path, check=True)
    text = (tmp_path / "show" / "chaitime.toml").read_text()
    assert "# chaitime.toml" in text and "[show]" in text and "[transcribe]" in text and "[publish]" in text
    import tomllib

    data = tomllib.loads(text)
    for key in ("title", "author", "description", "language", "category", "explicit", "image", "email", "hosts"):
        assert key in data["show"]
    assert data["transcribe"]["model"] == "tiny.en"
    assert (tmp_path / "show" / "cover.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "wrote" in proc.stdout
