"""The stage engine: every command through one stages.json, keys without paths, one timeline.

One real ingest and render of the sample interview (video) is shared by the module; each test
works on a copy. Durations are measured by decoding (conftest.media_duration), not read from headers.
"""

from __future__ import annotations

import ast
import functools
import json
import shutil
from pathlib import Path

import pytest

from chaitime.transcript.model import Transcript
from conftest import media_duration, run_chaitime

pytestmark = pytest.mark.slow  # renders media or runs an ingest (the unit tier leaves it out)

SRC = Path(__file__).resolve().parents[1] / "src" / "chaitime"
CUT_TEXT = "Titanic"  # the edit.md line deleted before rendering


def delete_line(episode: Path, text: str) -> None:
    path = episode / "edit.md"
    rows = path.read_text().splitlines(keepends=True)
    kept = [r for r in rows if text not in r]
    assert len(kept) == len(rows) - 1, f"expected one edit.md line with {text!r}"
    path.write_text("".join(kept))


@functools.cache
def rendered_workspace(root: Path, recording: Path) -> Path:
    """An ingested workspace whose edit (one line deleted) is rendered; never changed after this (tests copy it)."""
    ws = root / "ws"
    ws.mkdir(parents=True)
    run_chaitime("ingest", str(recording), "--guest", "Sam Okafor", "--date", "2026-11-23", cwd=ws, check=True)
    (episode,) = (ws / "episodes").iterdir()
    delete_line(episode, CUT_TEXT)
    run_chaitime("render", episode.name, cwd=ws, check=True)
    return ws


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, sample_recording) -> Path:
    return rendered_workspace(tmp_path_factory.mktemp("rendered"), sample_recording.path)


def lengths(ffmpeg_bin: str, episode: Path) -> dict[str, float]:
    transcript = Transcript.load(episode / "transcript.json")
    chapters = json.loads((episode / "chapters.json").read_text())["chapters"]
    return {
        "audio.mp3": media_duration(ffmpeg_bin, episode / "audio.mp3"),
        "video.mp4": media_duration(ffmpeg_bin, episode / "video.mp4", "v"),
        "transcript.json": transcript.duration_s,
        "last word end": max(w.end_s for w in transcript.words),
        "last chapter start": max(c["startTime"] for c in chapters),
    }


@pytest.mark.slow
@pytest.mark.parametrize("where", ["in place", "moved copy"])
def test_ingest_after_render_keeps_the_cut(rendered, sample_recording, ffmpeg_bin, tmp_path, where):
    """case: `ingest` of the same recording after `render` (in the workspace, or in a copy under
    another path); expected: nothing re-runs, audio, video, transcript and chapters stay on the
    cut timeline (decoded lengths), `check` finds no timeline error."""
    ws = tmp_path / ("ws" if where == "in place" else "moved/elsewhere")
    shutil.copytree(rendered, ws)  # "in place" is a copy too, so the shared workspace stays pristine
    (episode,) = (ws / "episodes").iterdir()
    before = lengths(ffmpeg_bin, episode)
    uncut = sample_recording.duration_s
    assert before["audio.mp3"] < uncut - 3.0, "the render cut a whole line"
    result = run_chaitime("ingest", str(sample_recording.path), "--guest", "Sam Okafor", cwd=ws, check=True)
    assert "stages run: nothing (already up to date)" in result.stdout
    after = lengths(ffmpeg_bin, episode)
    assert after["audio.mp3"] == pytest.approx(before["audio.mp3"], abs=0.03)
    assert after["video.mp4"] == pytest.approx(after["audio.mp3"], abs=0.1)
    assert after["transcript.json"] == pytest.approx(after["audio.mp3"], abs=0.1)
    assert after["last word end"] <= after["audio.mp3"] and after["last chapter start"] < after["audio.mp3"]
    assert CUT_TEXT not in (episode / "transcript.txt").read_text()
    check = run_chaitime("check", "--no-loudness", cwd=ws)
    assert "different timelines" not in check.stdout + check.stderr and "incomplete" not in check.stdout


@pytest.mark.slow
def test_stage_keys_do_not_depend_on_where_the_workspace_lives(rendered, tmp_path):
    """case: the workspace copied under another path; expected: the same stages.json keys, and
    no key holds a path of the workspace."""
    copy = tmp_path / "other" / "place"
    shutil.copytree(rendered, copy)
    (orig,) = (rendered / "episodes").iterdir()
    records = json.loads((orig / ".chaitime" / "stages.json").read_text())
    assert {"extract", "master", "transcribe", "speakers", "draft", "render"} <= set(records)
    assert json.loads((copy / "episodes" / orig.name / ".chaitime" / "stages.json").read_text()) == records


@pytest.mark.slow
def test_check_finds_audio_and_transcript_on_different_timelines(rendered, sample_recording, ffmpeg_bin, tmp_path):
    """case: audio.mp3 replaced by the uncut recording's sound (what the old bug did); expected:
    `check` names video.mp4 (error) and transcript.json (warning) as on a different timeline and exits 1."""
    import subprocess

    ws = tmp_path / "ws"
    shutil.copytree(rendered, ws)
    (episode,) = (ws / "episodes").iterdir()
    subprocess.run([ffmpeg_bin, "-y", "-loglevel", "error", "-i", str(sample_recording.path), "-vn", "-c:a", "libmp3lame",
                    "-b:a", "128k", str(episode / "audio.mp3")], check=True)
    check = run_chaitime("check", "--no-loudness", cwd=ws)
    assert check.returncode == 1
    wrong = [ln for ln in (check.stdout + check.stderr).splitlines() if "different timelines" in ln]
    assert any("video.mp4" in ln for ln in wrong) and any("transcript.json" in ln for ln in wrong)


def test_media_holds_only_media_functions():
    """case: the imports of every module in chaitime/media; expected: none of edit/, writing/,
    workspace, pipeline (the episode-level stages live in pipeline/)."""
    offenders = []
    for path in sorted((SRC / "media").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level >= 2:
                top = (node.module or "").split(".")[0]
                if top in ("edit", "writing", "workspace", "pipeline"):
                    offenders.append(f"{path.name}: from {'.' * node.level}{node.module}")
    assert offenders == []


def test_tilde_in_a_quoted_recording_path_is_expanded(sample_recording, tmp_path):
    """case: `chaitime ingest "~/Zoom/Interview with Ada.mp4"` (the README's example, ~ inside
    quotes); expected: the file is found (the run goes on to the next check: a bad --date)."""
    import os
    import subprocess
    import sys

    home = tmp_path / "home"
    (home / "Zoom").mkdir(parents=True)
    os.link(sample_recording.path, home / "Zoom" / "Interview with Ada.mp4")
    ws = tmp_path / "ws"
    ws.mkdir()
    env = {**os.environ, "HOME": str(home)}
    proc = subprocess.run([sys.executable, "-m", "chaitime", "ingest", "~/Zoom/Interview with Ada.mp4", "--date", "2026-02-30"],
                          cwd=ws, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2
    assert "--date '2026-02-30'" in proc.stderr and "no such" not in proc.stderr.lower()
