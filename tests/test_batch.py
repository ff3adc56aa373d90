"""A batch of recordings: inputs and manifests, the local backend through the CLI, the Ray
backend on a local Ray (same bytes as a local run, a failing task retried, a corrupt file alone)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from chaitime import batch, pipeline, sample
from chaitime.errors import InputError
from chaitime.workspace import Workspace
from conftest import run_chaitime

pytestmark = pytest.mark.slow  # renders media or runs an ingest (the unit tier leaves it out)

SCRIPTS = {
    "alpha": ("Welcome to the show. Today we talk about gardens.", "Thanks for having me. I grow tomatoes on my balcony."),
    "beta": ("What got you into machine learning?", "A course on statistics, many years ago, and then a lot of luck."),
    "gamma": ("Tell us about your new paper.", "It is about graph networks that predict how proteins fold."),
}
SAME_BYTES = ("transcript.json", "transcript.vtt", "chapters.json", "post.md", "edit.md")


@pytest.fixture(scope="module")
def recordings(tmp_path_factory) -> Path:
    """Three short two-voice recordings and one corrupt file, in one folder."""
    folder = tmp_path_factory.mktemp("recordings")
    for name, (question, answer) in SCRIPTS.items():
        mix, _ = sample.synthesize([sample.Line(sample.HOST, question), sample.Line(sample.GUEST, answer)])
        sample.write_wav(folder / f"{name}.wav", mix, sample.ESPEAK_RATE_HZ)
    (folder / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot audio at all" * 50)
    return folder


def _workspace(path: Path) -> Workspace:
    from chaitime import config

    config.init(path)
    return Workspace.open(path)


def test_inputs_folders_globs_and_missing(tmp_path):
    for name in ("b.wav", "a.mp4", "notes.txt", ".hidden.wav"):
        (tmp_path / name).write_bytes(b"x")
    found, problems = batch.expand([tmp_path, str(tmp_path / "*.wav"), tmp_path / "a.mp4", tmp_path / "nope.m4a"])
    assert [p.name for p in found] == ["a.mp4", "b.wav"]  # sorted, each once, no text or hidden files
    assert problems == [f"{tmp_path / 'nope.m4a'}: no such file or folder."]


def test_manifest_rows_are_checked_one_by_one(tmp_path):
    for name in ("a.wav", "b.wav", "c.wav"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "episodes.csv").write_text(
        "file,title,guests,number,date,colour\n"
        "a.wav,First Light,Ada Lovelace; Alan Turing,1,2026-01-05,red\n"
        "b.wav,Second,,1,,\n"
        "missing.wav,Lost,,2,,\n"
        "c.wav,Third,,x,,\n"
        "c.wav,Third,,3,2026-02-30,\n")
    jobs, problems = batch.read_manifest(tmp_path / "episodes.csv", pipeline.IngestOptions())
    assert [(j.recording.name, j.options.title, j.options.guests, j.options.number, j.options.date) for j in jobs] == [
        ("a.wav", "First Light", ("Ada Lovelace", "Alan Turing"), 1, "2026-01-05")]
    assert problems[0].startswith("episodes.csv row 1: unknown column(s) 'colour'")
    assert problems[1].startswith("episodes.csv row 3: episode number 1 is also episodes.csv row 2's")
    assert problems[2].startswith("episodes.csv row 4:") and "missing.wav: no such file" in problems[2]
    assert problems[3] == "episodes.csv row 5: number 'x' must be a whole number, 1 or more."
    assert problems[4].startswith("episodes.csv row 6: date '2026-02-30'")
    (tmp_path / "episodes.toml").write_text('[[episode]]\nfile = "b.wav"\ntitle = "B"\nguests = ["Grace Hopper"]\nnumber = 7\n'
                                            '[[episode]]\nfile = "c.wav"\nmood = "happy"\n')
    jobs, problems = batch.read_manifest(tmp_path / "episodes.toml", pipeline.IngestOptions())
    assert [(j.options.title, j.options.guests, j.options.number) for j in jobs] == [("B", ("Grace Hopper",), 7)]
    assert problems == ["episodes.toml episode 2: unknown key(s) 'mood'. Known: " + ", ".join(batch.MANIFEST_COLUMNS) + "."]
    with pytest.raises(InputError, match="use a .csv"):
        batch.read_manifest(tmp_path / "a.wav", pipeline.IngestOptions())


@pytest.mark.slow
def test_local_batch_from_the_command_line(recordings, tmp_path):
    """A folder: the corrupt file fails alone (exit 8, its line names it), the others finish and
    reach the feed; a re-run redoes nothing; --title with several recordings is refused."""
    ws = tmp_path / "show"
    ws.mkdir()
    first = run_chaitime("ingest", str(recordings), "--jobs", "2", cwd=ws)
    assert first.returncode == 8, first.stderr
    assert "FAILED" in first.stdout and "broken.wav" in first.stdout
    assert "3 of 4 episodes done, 1 failed" in first.stdout
    assert sorted(p.name for p in (ws / "episodes").iterdir()) == ["alpha", "beta", "gamma"]
    feed = (ws / "feeds" / "podcast.xml").read_text()
    assert all(f"<title>{name.title()}</title>" in feed for name in SCRIPTS)
    words = (ws / "episodes" / "gamma" / "transcript.txt").read_text().lower()
    assert "proteins" in words and "paper" in words
    again = run_chaitime("ingest", *(str(recordings / f"{n}.wav") for n in SCRIPTS), cwd=ws)
    assert again.returncode == 0, again.stderr
    assert "3 of 3 episodes done, 0 failed" in again.stdout
    assert sorted(p.name for p in (ws / "episodes").iterdir()) == ["alpha", "beta", "gamma"]
    refused = run_chaitime("ingest", str(recordings), "--title", "One", cwd=ws)
    assert refused.returncode == 2 and "--title names one episode" in refused.stderr and "Traceback" not in refused.stderr


@pytest.mark.slow
def test_a_native_crash_in_the_recogniser_fails_only_its_episode(recordings, tmp_path, monkeypatch):
    """The recogniser segfaults on one recording (tests/crashhook): that episode fails with one line,
    the batch exits 8, the others finish; the same command again (no crash) finishes it."""
    ws = tmp_path / "show"
    ws.mkdir()
    names = [str(recordings / f"{n}.wav") for n in SCRIPTS]
    with monkeypatch.context() as env:
        env.setenv("PYTHONPATH", os.pathsep.join([str(Path(__file__).parent / "crashhook"), os.environ.get("PYTHONPATH", "")]))
        env.setenv("CHAITIME_TEST_CRASH", f"{os.sep}beta{os.sep}")
        crashed = run_chaitime("ingest", *names, "--jobs", "2", cwd=ws)
    assert crashed.returncode == 8, crashed.stderr
    assert "2 of 3 episodes done, 1 failed" in crashed.stdout
    line = next(line for line in crashed.stdout.splitlines() if "FAILED" in line)
    assert "beta.wav" in line and "speech recogniser crashed (signal SIGSEGV" in line
    assert "Traceback" not in crashed.stdout + crashed.stderr and "Fatal Python error" not in crashed.stdout + crashed.stderr
    for name in ("alpha", "gamma"):
        assert (ws / "episodes" / name / "audio.mp3").is_file()
    again = run_chaitime("ingest", *names, cwd=ws)
    assert again.returncode == 0, again.stderr
    assert "paper" in (ws / "episodes" / "gamma" / "transcript.txt").read_text().lower()
    assert "luck" in (ws / "episodes" / "beta" / "transcript.txt").read_text().lower()


@pytest.mark.slow
def test_ray_backend_matches_local_and_retries_a_failed_task(recordings, tmp_path):
    ray = pytest.importorskip("ray")
    from chaitime.batch import ray_backend

    jobs = [batch.Job(recordings / f"{n}.wav", pipeline.IngestOptions(), n) for n in (*SCRIPTS, "broken")]
    local = _workspace(tmp_path / "local")
    # One lane: each decode with both cores; Ray's two actors decode with one each (the same bytes).
    done = batch.run(jobs, local, backend="local", workers=1)
    assert [o.ok for o in done.outcomes] == [True, True, True, False]
    assert [o.result.ran for o in batch.run(jobs[:3], local, workers=2).outcomes] == [(), (), ()]  # a re-run redoes nothing

    marker = tmp_path / "failed-once"

    def flaky(recording, ws, options, progress=None):  # a worker that dies mid-task once
        if recording.stem == "beta" and not marker.exists():
            marker.write_text("x")
            raise RuntimeError("worker lost")
        return pipeline.ingest(recording, ws, options, progress=progress)

    split_marker = tmp_path / "transcriber-failed-once"

    def flaky_transcriber(recording, ws, options, progress=None):  # a transcription actor that dies once
        if recording.stem == "gamma" and options.stop_after == "transcribe" and not split_marker.exists():
            split_marker.write_text("x")
            raise RuntimeError("transcriber lost")
        return pipeline.ingest(recording, ws, options, progress=progress)

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        remote = _workspace(tmp_path / "ray")
        result = batch.run(jobs, remote, backend="ray", workers=2, ingest=flaky)
        # Stages split across workers (as on a cluster with GPUs): a CPU task extracts, an actor
        # holding the model transcribes, another CPU task runs the rest.
        split = _workspace(tmp_path / "split")
        split_result = batch.run(jobs, split, backend="ray", ingest=flaky_transcriber, split=True)
    finally:
        ray.shutdown()
    parts = {o.job.where: o for o in split_result.outcomes}
    assert parts["gamma"].ok and parts["gamma"].attempts == 2 and parts["alpha"].attempts == 1
    assert not parts["broken"].ok and "broken.wav" in parts["broken"].error
    for name in SCRIPTS:
        assert split.episode(name).incomplete_reason() is None and parts[name].result.words > 0
        for file in SAME_BYTES:
            assert (split.root / "episodes" / name / file).read_bytes() == (local.root / "episodes" / name / file).read_bytes(), (name, file)
    by_name = {o.job.where: o for o in result.outcomes}
    assert by_name["beta"].ok and by_name["beta"].attempts == 2
    assert not by_name["broken"].ok and "broken.wav" in by_name["broken"].error and by_name["broken"].attempts == 1
    for name in SCRIPTS:
        for file in SAME_BYTES:
            assert (remote.root / "episodes" / name / file).read_bytes() == (local.root / "episodes" / name / file).read_bytes(), (name, file)
    assert ray_backend.RETRIES >= 1


def test_an_ingest_stopped_early_leaves_the_episode_unfinished_for_the_rest(recordings, tmp_path):
    """stop_after (a Ray batch's parts): extraction alone, then transcription alone, leave the
    episode unfinished (no feed, no audio); the plain ingest after them runs only the rest."""
    ws = _workspace(tmp_path / "show")
    options = pipeline.IngestOptions()
    first = pipeline.ingest(recordings / "alpha.wav", ws, replace(options, stop_after="extract"))
    assert first.ran == ("extract",) and first.episode.incomplete_reason() is not None
    second = pipeline.ingest(recordings / "alpha.wav", ws, replace(options, stop_after="transcribe"))
    assert second.ran == ("transcribe",) and second.words > 0 and not second.episode.path("audio.mp3").exists()
    assert second.episode.incomplete_reason() is not None
    rest = pipeline.ingest(recordings / "alpha.wav", ws, options)
    assert "extract" not in rest.ran and "transcribe" not in rest.ran and {"speakers", "master"} <= set(rest.ran)
    assert rest.episode.incomplete_reason() is None and "tomatoes" in rest.episode.path("transcript.txt").read_text().lower()
    with pytest.raises(ValueError):
        pipeline.IngestOptions(stop_after="speakers")


def test_unreachable_ray_address_is_one_line(recordings, tmp_path):
    pytest.importorskip("ray")
    ws = tmp_path / "show"
    ws.mkdir()
    out = run_chaitime("ingest", str(recordings), "--backend", "ray", "--address", "127.0.0.1:9", cwd=ws)
    assert out.returncode == 2
    assert "can't reach the Ray cluster at '127.0.0.1:9'" in out.stderr and "Traceback" not in out.stderr
    assert not (ws / "episodes").exists() or not any((ws / "episodes").iterdir())


def test_nothing_to_ingest_is_said_once(tmp_path):
    """An empty folder alone: its one line, once. With a missing file too: each named, then why nothing ran."""
    run_chaitime("init", cwd=tmp_path, check=True)
    (tmp_path / "empty").mkdir()
    alone = run_chaitime("ingest", "empty", cwd=tmp_path)
    assert alone.returncode == 2 and alone.stdout.count("is a folder with no recordings") + alone.stderr.count("is a folder with no recordings") == 1
    both = run_chaitime("ingest", "empty", "missing.mp4", cwd=tmp_path)
    assert both.returncode == 2 and "skipped: missing.mp4" in both.stdout + both.stderr
    assert both.stderr.strip().splitlines()[-1].endswith("all 2 recordings were skipped (each named above).")
    assert not (tmp_path / "episodes").exists() or not any((tmp_path / "episodes").iterdir())
