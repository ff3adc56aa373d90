"""Fault suite, stage-engine part (issue 17): kill -9 in each stage then resume, a full disk,
concurrent ingests, an invalid --date, a failed transcription. Each case is its own pytest case;
its docstring or id says the case and what is expected.

Media: the sample interview's sound (audio only, so rendering is cheap). The kill -9 cases share
one workspace that is killed once in every stage and resumed each time; its final files are
compared byte for byte with an uninterrupted run.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chaitime.fsutil import TEMP_NAME
from conftest import run_chaitime

pytestmark = pytest.mark.slow  # renders media or runs an ingest (the unit tier leaves it out)

KILL_STAGES = ("extract", "transcribe", "speakers", "sound", "master", "writing", "render")
CUT_TEXT = "Titanic"
SAME_BYTES = ("transcript.json", "transcript.vtt", "transcript.srt", "transcript.podcast.json", "chapters.json", "edit.md",
              "audio.mp3", ".chaitime/master.flac", ".chaitime/sound.flac", ".chaitime/speech.s16", ".chaitime/transcript.raw.json", ".chaitime/render.json")


def chaitime_env() -> dict:
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


def start(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "chaitime", *args], cwd=cwd, env=chaitime_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def children(pid: int) -> list[int]:
    """Live (not zombie) processes whose parent is ``pid``."""
    found = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == str(pid) and fields[0] != "Z":
            found.append(int(stat.split("/")[2]))
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def records(episode: Path | None) -> dict:
    try:
        return json.loads((episode / ".chaitime" / "stages.json").read_text())
    except (OSError, ValueError, TypeError):
        return {}


def temps(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if TEMP_NAME.match(p.name))


def only_episode(ws: Path) -> Path | None:
    found = sorted((ws / "episodes").glob("*/.chaitime")) if (ws / "episodes").is_dir() else []
    return found[0].parent if found else None


def kill_when(proc: subprocess.Popen, ws: Path, ready, timeout: float = 120) -> dict:
    """SIGKILL ``proc`` once ``ready(episode, records)`` holds; what was running then, and what survived."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        episode = only_episode(ws)
        if episode is not None and ready(episode, records(episode)):
            break
        time.sleep(0.005)
    assert proc.poll() is None, f"chaitime finished before the kill point: {proc.communicate()}"
    kids = children(proc.pid)
    seen = records(only_episode(ws))
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    deadline = time.monotonic() + 5
    while any(alive(k) for k in kids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return {"records": seen, "children": kids, "survivors": [k for k in kids if alive(k)]}


def ffmpeg_running(proc, name_glob: str):
    def ready(episode: Path, recs: dict) -> bool:
        return bool(list(episode.glob(name_glob))) and bool(children(proc.pid))
    return ready


def delete_line(episode: Path, text: str) -> None:
    path = episode / "edit.md"
    rows = path.read_text().splitlines(keepends=True)
    kept = [r for r in rows if text not in r]
    assert len(kept) == len(rows) - 1
    path.write_text("".join(kept))


@pytest.fixture(scope="module")
def sound(sample_recording, ffmpeg_bin, tmp_path_factory) -> Path:
    """The sample interview's sound alone (stream copy, no video)."""
    out = tmp_path_factory.mktemp("sound") / "interview.m4a"
    subprocess.run([ffmpeg_bin, "-y", "-loglevel", "error", "-i", str(sample_recording.path), "-vn", "-c:a", "copy", str(out)], check=True)
    return out


@pytest.fixture(scope="module")
def reference(sound, tmp_path_factory) -> dict:
    """Two ingests of the same recording started together (one works, the other is told the
    episode is busy or finds it done), then the edit rendered: the uninterrupted run."""
    ws = tmp_path_factory.mktemp("reference")
    run_chaitime("init", cwd=ws, check=True)
    procs = [start(["ingest", str(sound), "--date", "2026-11-23"], ws) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    episode = only_episode(ws)
    delete_line(episode, CUT_TEXT)
    run_chaitime("render", episode.name, cwd=ws, check=True)
    return {"ws": ws, "episode": episode, "codes": [p.returncode for p in procs], "outs": outs}


@pytest.fixture(scope="module")
def killed(sound, reference, tmp_path_factory) -> dict:
    """One workspace killed (SIGKILL) once in every stage, each run resuming the last."""
    ws = tmp_path_factory.mktemp("killed")
    run_chaitime("init", cwd=ws, check=True)
    ingest = ["ingest", str(sound), "--date", "2026-11-23"]
    points = {  # in the order ingest runs them (studio sound on: mastering waits for the cleaned sound)
        "extract": lambda p: ffmpeg_running(p, ".chaitime/.speech.*.tmp.s16"),
        "transcribe": lambda p: lambda ep, r: "extract" in r and "transcribe" not in r,
        "speakers": lambda p: lambda ep, r: "transcribe" in r and "speakers" not in r,
        "sound": lambda p: lambda ep, r: "speakers" in r and "sound" not in r,
        "master": lambda p: ffmpeg_running(p, ".audio.*.tmp.mp3"),
        "writing": lambda p: lambda ep, r: "master" in r and "draft" not in r,
    }
    kills = {}
    for stage, ready in points.items():
        proc = start(ingest, ws)
        kills[stage] = kill_when(proc, ws, ready(proc))
    episode = only_episode(ws)
    kills["incomplete after kill"] = (episode / ".chaitime" / "incomplete").is_file()
    final = run_chaitime(*ingest, cwd=ws, check=True)
    delete_line(episode, CUT_TEXT)
    proc = start(["render", episode.name], ws)
    kills["render"] = kill_when(proc, ws, ffmpeg_running(proc, ".chaitime/.cut.*.tmp.flac"))
    kills["temps before resume"] = temps(episode)
    run_chaitime("render", episode.name, cwd=ws, check=True)
    return {"ws": ws, "episode": episode, "kills": kills, "final": final}


@pytest.mark.slow
@pytest.mark.parametrize("stage", KILL_STAGES, ids=[f"kill9-in-{s}-then-resume" for s in KILL_STAGES])
def test_kill_9_in_a_stage_leaves_no_orphan_and_the_next_run_finishes_it(killed, stage):
    """case: SIGKILL to the chaitime process while <stage> runs, then the same command again;
    expected: the stage had not finished at the kill, no ffmpeg child of the dead process
    survives it, the resumed run records the stage, leaves no temporary file, and the episode
    is complete."""
    kill = killed["kills"][stage]
    name = "draft" if stage == "writing" else stage
    assert name not in kill["records"], f"the kill came after {stage} finished"
    assert kill["survivors"] == [], f"ffmpeg children outlived chaitime: {kill['children']}"
    episode = killed["episode"]
    assert name in records(episode)
    assert temps(episode) == []
    assert not (episode / ".chaitime" / "incomplete").exists()


@pytest.mark.slow
def test_a_killed_run_leaves_its_temporaries_and_an_incomplete_mark_that_the_next_run_clears(killed):
    """case: the state right after kill -9 (in render; in writing); expected: a temporary file was
    left (so the sweep is what removes it) and the episode was marked incomplete meanwhile."""
    assert killed["kills"]["temps before resume"], "kill -9 in render left no temporary: the sweep went untested"
    assert killed["kills"]["incomplete after kill"]


@pytest.mark.slow
@pytest.mark.parametrize("name", SAME_BYTES)
def test_resumed_files_equal_an_uninterrupted_run(killed, reference, name):
    """case: the files of the workspace killed in every stage and resumed; expected: byte for
    byte those of an uninterrupted run of the same recording and edit."""
    assert (killed["episode"] / name).read_bytes() == (reference["episode"] / name).read_bytes()


@pytest.mark.slow
def test_two_concurrent_full_ingests_make_one_folder(reference):
    """case: two `chaitime ingest` of one recording started at once; expected: one episode
    folder, one guid; the other run says the episode is busy (exit 6) or finds it done."""
    folders = sorted(p.name for p in (reference["ws"] / "episodes").iterdir())
    assert len(folders) == 1
    assert sorted(reference["codes"]) in ([0, 0], [0, 6])
    if 6 in reference["codes"]:
        busy = reference["outs"][reference["codes"].index(6)][1]
        assert "busy" in busy and len(busy.strip().splitlines()) == 1


CLAIM = """
import sys, time
from pathlib import Path
from chaitime.workspace import EpisodeMeta, Workspace
ws = Workspace.open(Path(sys.argv[1]))
while time.time() < float(sys.argv[3]):
    time.sleep(0.001)
ep, created = ws.claim_episode(sys.argv[2], "Same Title", None, lambda guid: EpisodeMeta(title="Same Title", guid=guid, date="2026-01-01"))
print(ep.slug, created, ep.meta().guid)
"""


def claim_all(ws: Path, hashes: list[str]) -> list[list[str]]:
    go = time.time() + 3.0  # every process imports first, then all claim in the same millisecond
    procs = [subprocess.Popen([sys.executable, "-c", CLAIM, str(ws), h, str(go)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=chaitime_env()) for h in hashes]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs if o[1]][:1]
    return [o[0].split() for o in outs]


def test_fifty_concurrent_claims_of_one_recording_make_one_folder_and_one_guid(tmp_path):
    """case: 50 processes choose the folder and guid for the same recording at the same moment;
    expected: one folder, made by exactly one of them, one guid for all."""
    run_chaitime("init", cwd=tmp_path, check=True)
    results = claim_all(tmp_path, ["0123456789abcdef"] * 50)
    assert len(results) == 50
    assert {r[0] for r in results} == {"same-title"}
    assert sum(r[1] == "True" for r in results) == 1
    assert len({r[2] for r in results}) == 1
    assert sorted(p.name for p in (tmp_path / "episodes").iterdir()) == ["same-title"]


def test_ten_concurrent_recordings_with_one_title_get_ten_folders_and_guids(tmp_path):
    """case: 10 different recordings with the same title claimed at once; expected: 10 folders
    (same-title, same-title-2 ... -10), 10 different guids, each episode.toml holding its own."""
    run_chaitime("init", cwd=tmp_path, check=True)
    results = claim_all(tmp_path, [f"hash{i}" for i in range(10)])
    assert sorted(r[0] for r in results) == sorted(["same-title"] + [f"same-title-{n}" for n in range(2, 11)])
    assert len({r[2] for r in results}) == 10 and all(r[1] == "True" for r in results)


def test_invalid_date_leaves_no_folder(sound, tmp_path):
    """case: `ingest --date 2026-13-45`; expected: exit 2, one line naming --date, no episode folder."""
    run_chaitime("init", cwd=tmp_path, check=True)
    proc = run_chaitime("ingest", str(sound), "--date", "2026-13-45", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and "--date '2026-13-45'" in proc.stderr
    assert not (tmp_path / "episodes").exists() or list((tmp_path / "episodes").iterdir()) == []


@pytest.fixture
def small_disk(tmp_path):
    """A 12 MB tmpfs (root here); skipped where mounting is not permitted."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(mnt)], capture_output=True).returncode:
        pytest.skip("mounting a tmpfs is not permitted here (the RLIMIT_FSIZE case covers a full disk)")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


@pytest.mark.parametrize("media", ["sound", "recording"])
def test_full_disk_fails_before_any_folder_naming_the_disk(small_disk, sound, sample_recording, media):
    """case: ingest into a workspace on a 12 MB disk (the recording needs more); expected: exit 7,
    one line saying the disk is full, naming its mount point and the space needed; no episode folder."""
    run_chaitime("init", cwd=small_disk, check=True)
    recording = sound if media == "sound" else sample_recording.path
    proc = run_chaitime("ingest", str(recording), cwd=small_disk)
    assert proc.returncode == 7, proc.stderr
    line = proc.stderr.strip()
    assert "\n" not in line and "disk full" in line and str(small_disk) in line and "needs about" in line
    assert list((small_disk / "episodes").iterdir()) == []


def test_ffmpeg_running_out_of_disk_names_the_disk_and_leaves_nothing(small_disk):
    """case: ffmpeg writes 60 s of PCM (11.5 MB) onto a disk with 1 MB left; expected: a disk-full
    error naming the mount point (not "Conversion failed!"), no half-written file left."""
    from chaitime import fsutil
    from chaitime.errors import DiskFullError
    from chaitime.media import ffmpeg

    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * 11_000_000)
    out = small_disk / "out" / "noise.wav"
    with pytest.raises(DiskFullError) as err:
        with fsutil.atomic_path(out) as tmp:
            ffmpeg.run(["-f", "lavfi", "-i", "anoisesrc=d=60:r=48000", "-ac", "2", "-c:a", "pcm_s16le", "-f", "wav", str(tmp)], what="writing noise")
    assert str(small_disk) in str(err.value) and "Conversion failed" not in str(err.value)
    assert list(out.parent.iterdir()) == []


RLIMIT = """
import resource, sys
from pathlib import Path
from chaitime import fsutil
from chaitime.errors import ChaitimeError
from chaitime.media import ffmpeg

out = Path(sys.argv[1])
try:
    with fsutil.atomic_path(out) as tmp:
        ffmpeg.run(["-f", "lavfi", "-i", "anoisesrc=d=20:r=48000", "-c:a", "pcm_s16le", "-f", "wav", str(tmp)], what="writing noise")
except ChaitimeError as exc:
    print(type(exc).__name__, exc)
"""


def test_file_size_limit_is_reported_as_the_limit(tmp_path):
    """case: RLIMIT_FSIZE of 256 kB on chaitime and its ffmpeg (ulimit -f); expected: the limit
    named with how to raise it (not "disk full"), no temporary file left."""
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, 256 * 1024))

    out = tmp_path / "out" / "noise.wav"
    out.parent.mkdir()
    proc = subprocess.run([sys.executable, "-c", RLIMIT, str(out)], capture_output=True, text=True, preexec_fn=limit, env=chaitime_env(), timeout=120)
    assert proc.stdout.startswith("ChaitimeError ") and "file too large: this shell's file-size limit (ulimit -f) is 0.3 MB" in proc.stdout, proc.stdout + proc.stderr
    assert list(out.parent.iterdir()) == []


@pytest.mark.slow
def test_failed_transcription_is_incomplete_listed_and_skipped(reference, sound, ffmpeg_bin, tmp_path, monkeypatch):
    """case: transcription fails on a second episode (the engine raises); expected: that episode is
    marked incomplete with the reason, `check` lists it, `feed` and `publish` each print one
    warning naming it and still publish the first episode, without the broken one."""
    from chaitime import asr, pipeline
    from chaitime.errors import ModelError
    from chaitime.workspace import Workspace

    ws_root = tmp_path / "ws"
    shutil.copytree(reference["ws"], ws_root)
    short = tmp_path / "second.m4a"
    subprocess.run([ffmpeg_bin, "-y", "-loglevel", "error", "-i", str(sound), "-t", "15", "-c:a", "copy", str(short)], check=True)

    def broken(*args, **kwargs):
        raise ModelError("the Whisper engine stopped: out of memory. Use a smaller --model.")

    monkeypatch.setattr(asr, "transcribe_pcm", broken)
    ws = Workspace.open(ws_root)
    with pytest.raises(ModelError):
        pipeline.ingest(short, ws, pipeline.IngestOptions(title="Second", date="2026-11-30"))
    broken_ep = ws.episode("second")
    assert "out of memory" in broken_ep.incomplete_reason()
    good = reference["episode"].name

    check = run_chaitime("check", "--no-loudness", cwd=ws_root)
    assert re.search(r"episodes/second: incomplete, so left out .*out of memory", check.stdout)
    feed = run_chaitime("feed", cwd=ws_root, check=True)
    # the one warning besides the template's placeholders (description, cover) names the unfinished episode
    warnings = [ln for ln in feed.stderr.splitlines() if "warning" in ln and "still the default" not in ln]
    assert len(warnings) == 1 and "second is incomplete" in warnings[0]
    xml = (ws_root / "feeds" / "podcast.xml").read_text()
    good_guid = re.search(r'guid = "([^"]+)"', (ws_root / "episodes" / good / "episode.toml").read_text()).group(1)
    bad_guid = re.search(r'guid = "([^"]+)"', broken_ep.meta_path.read_text()).group(1)
    assert good_guid in xml and bad_guid not in xml and f"{good}/audio.mp3" in xml
    site = run_chaitime("publish", cwd=ws_root, check=True)
    warnings = [ln for ln in site.stderr.splitlines() if "warning" in ln and "still the default" not in ln]
    assert len(warnings) == 1 and "second is incomplete" in warnings[0]
    assert (ws_root / "public" / "episodes" / good).is_dir() or any(good in p.name for p in (ws_root / "public").rglob("*"))
    assert not any("second" in p.name for p in (ws_root / "public").rglob("*"))
