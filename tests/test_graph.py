"""The stage graph's rules, each on a really ingested episode (the sample interview, video, Whisper
tiny.en), through the commands a host runs: every output has one owner that rebuilds it, an
untouched post follows the transcript, a refusal changes nothing, a damaged record costs a re-run
and one line, a published episode never leaves the feed silently.

One ingest is shared by the module; each test works on a copy.
"""

from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path

import pytest

from conftest import run_chaitime

CUT = "Titanic"  # the edit.md line a test deletes; the sample's post quotes it
SLUG = "sample-interview"
pytestmark = pytest.mark.slow


@functools.cache
def ingested_workspace(root: Path, recording: Path) -> Path:
    ws = root / "ws"
    ws.mkdir(parents=True)
    run_chaitime("ingest", str(recording), "--guest", "Sam Okafor", "--date", "2026-11-23", cwd=ws, check=True)
    return ws


@pytest.fixture(scope="module")
def ingested(tmp_path_factory, sample_recording) -> Path:
    return ingested_workspace(tmp_path_factory.mktemp("graph"), sample_recording.path)


@pytest.fixture
def ws(ingested, tmp_path) -> Path:
    shutil.copytree(ingested, tmp_path / "ws")
    return tmp_path / "ws"


def episode(ws: Path) -> Path:
    return ws / "episodes" / SLUG


def cut_line(ws: Path, text: str = CUT) -> None:
    path = episode(ws) / "edit.md"
    rows = path.read_text().splitlines(keepends=True)
    kept = [r for r in rows if text not in r]
    assert len(kept) == len(rows) - 1, f"one edit.md line with {text!r}"
    path.write_text("".join(kept))


def feed_episodes(ws: Path) -> list[dict]:
    import podcastparser

    with open(ws / "feeds" / "podcast.xml", "rb") as f:
        return podcastparser.parse("file://feed", f)["episodes"]


def mp3_chapters(path: Path) -> list[str]:
    from mutagen.id3 import ID3

    tags = ID3(path)
    assert len(tags.getall("CTOC")) == 1
    return [str(c.sub_frames["TIT2"].text[0]) for c in sorted(tags.getall("CHAP"), key=lambda c: c.start_time)]


def test_render_redrafts_the_untouched_post_page_and_feed(ws):
    ep = episode(ws)
    assert CUT in (ep / "post.md").read_text(), "the sample's post quotes the line before the cut"
    cut_line(ws)
    done = run_chaitime("render", SLUG, cwd=ws, check=True)
    assert "post.md" in done.stdout
    post = (ep / "post.md").read_text()
    assert CUT not in post and "Sam Okafor" in post
    run_chaitime("publish", cwd=ws, check=True)
    page = (ws / "public" / "episodes" / SLUG / "index.html").read_text()
    assert CUT not in page
    (item,) = feed_episodes(ws)
    assert CUT not in json.dumps(item)
    again = run_chaitime("render", SLUG, cwd=ws, check=True)  # nothing changed: nothing written
    assert "wrote" not in again.stdout and not (ep / "post.draft.md").exists()


def test_an_edited_post_gets_a_draft_beside_it_and_check_says_it_is_older(ws):
    ep = episode(ws)
    mine = (ep / "post.md").read_text() + "\nA paragraph the host wrote.\n"
    (ep / "post.md").write_text(mine)
    cut_line(ws)
    run_chaitime("render", SLUG, cwd=ws, check=True)
    assert (ep / "post.md").read_text() == mine
    draft = (ep / "post.draft.md").read_text()
    assert CUT not in draft and "Sam Okafor" in draft
    check = run_chaitime("check", "--no-loudness", cwd=ws)
    assert "post.md is older than the transcript" in check.stdout and "post.draft.md" in check.stdout


def test_deleted_transcripts_and_audio_are_rebuilt_with_chapters(ws):
    ep = episode(ws)
    vtt, srt = (ep / "transcript.vtt").read_text(), (ep / "transcript.srt").read_text()
    chapters = [c["title"] for c in json.loads((ep / "chapters.json").read_text())["chapters"]]
    assert mp3_chapters(ep / "audio.mp3") == chapters
    (ep / "transcript.vtt").unlink()
    (ep / "audio.mp3").unlink()
    from chaitime.workspace import Workspace

    source = json.loads((ep / ".chaitime" / "source.json").read_text())["path"]
    done = run_chaitime("ingest", source, cwd=ws, check=True)
    assert "stages run: master" in done.stdout, done.stdout
    assert (ep / "transcript.vtt").read_text() == vtt
    assert mp3_chapters(ep / "audio.mp3") == chapters  # CHAP/CTOC back, from chapters.json
    assert [e["title"] for e in feed_episodes(ws)] == [Workspace.open(ws).episode(SLUG).meta().title]
    # After a render the transcripts are the render stage's: a deleted one comes back re-timed.
    cut_line(ws)
    run_chaitime("render", SLUG, cwd=ws, check=True)
    cut_srt = (ep / "transcript.srt").read_text()
    assert CUT not in cut_srt and cut_srt != srt
    (ep / "transcript.srt").unlink()
    (ep / "audio.mp3").unlink()
    done = run_chaitime("ingest", source, cwd=ws, check=True)
    assert "stages run: render" in done.stdout
    assert (ep / "transcript.srt").read_text() == cut_srt
    assert mp3_chapters(ep / "audio.mp3") == chapters
    (ep / "transcript.srt").unlink()
    again = run_chaitime("ingest", source, "--force", cwd=ws, check=True)
    assert (ep / "transcript.srt").read_text() == cut_srt, again.stdout


def test_refused_clip_and_render_leave_the_episode_in_the_feed(ws):
    ep = episode(ws)
    run_chaitime("publish", cwd=ws, check=True)
    clip = run_chaitime("clip", SLUG, "--start", "3", "--end", "3", cwd=ws)
    assert clip.returncode == 2 and "--end must be" in clip.stderr
    (ep / "edit.md").write_text((ep / "edit.md").read_text() + "\n~~ an unclosed strike\n")
    render = run_chaitime("render", SLUG, cwd=ws)
    assert render.returncode == 2 and "no closing ~~" in render.stderr and "Traceback" not in render.stderr
    assert not (ep / ".chaitime" / "incomplete").exists()
    published = run_chaitime("publish", cwd=ws, check=True)
    assert "0 removed" in published.stdout
    assert [ln for ln in published.stderr.splitlines() if "warning" in ln and "still the default" not in ln] == []  # only the template's
    assert len(feed_episodes(ws)) == 1


def test_a_published_episode_left_unfinished_is_kept_and_named(ws):
    ep = episode(ws)
    run_chaitime("publish", cwd=ws, check=True)
    feed = (ws / "feeds" / "podcast.xml").read_bytes()
    (ep / ".chaitime" / "incomplete").write_text("`chaitime ingest` failed: disk full\n")  # what a failed stage leaves
    for command in (("feed",), ("publish",)):
        done = run_chaitime(*command, cwd=ws)
        assert done.returncode == 2 and f"{SLUG} is published but unfinished now" in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    assert (ws / "feeds" / "podcast.xml").read_bytes() == feed
    assert (ws / "public" / "episodes" / SLUG / "index.html").is_file()
    # Taken down on purpose (draft = true): publish says which episode left.
    (ep / ".chaitime" / "incomplete").unlink()
    toml = ep / "episode.toml"
    toml.write_text(toml.read_text().replace("draft = false", "draft = true"))
    done = run_chaitime("publish", cwd=ws, check=True)
    assert "'Sample Interview' was taken out of the feed and the site" in done.stderr
    assert feed_episodes(ws) == []


@pytest.mark.parametrize("record, damage", [
    ("stages.json", "[]"), ("stages.json", "null"), ("loudness.json", "null"), ("sound.json", "[]"),
    ("source.json", '{"path": "/tm'), ("loudness.out.json", "{}"),
])
def test_a_damaged_record_gives_one_line_and_the_next_run_repairs_it(ws, record, damage):
    ep = episode(ws)
    source = json.loads((ep / ".chaitime" / "source.json").read_text())["path"]
    (ep / ".chaitime" / record).write_text(damage)
    feed = run_chaitime("feed", cwd=ws)
    assert feed.returncode == 0 and "Traceback" not in feed.stderr
    done = run_chaitime("ingest", source, cwd=ws)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and len([ln for ln in done.stderr.splitlines() if record in ln]) <= 1
    assert json.loads((ep / ".chaitime" / record).read_text())  # made again
    again = run_chaitime("ingest", source, cwd=ws, check=True)
    assert "nothing (already up to date)" in again.stdout and again.stderr == ""
    assert len(feed_episodes(ws)) == 1


def test_a_clip_is_made_once_while_its_inputs_are_unchanged(ws):
    ep = episode(ws)
    first = run_chaitime("clip", SLUG, "--start", "2", "--end", "6", cwd=ws, check=True)
    (clip,) = (ep / "clips").glob("*.mp4")
    made = clip.stat().st_mtime_ns
    second = run_chaitime("clip", SLUG, "--start", "2", "--end", "6", cwd=ws, check=True)
    assert "wrote" in first.stdout and "up to date" in second.stdout and clip.stat().st_mtime_ns == made
    cut_line(ws)
    run_chaitime("render", SLUG, cwd=ws, check=True)  # the sound changed: the clip is made again
    third = run_chaitime("clip", SLUG, "--start", "2", "--end", "6", cwd=ws, check=True)
    assert "wrote" in third.stdout and clip.stat().st_mtime_ns != made


def test_studio_correction_and_rename_reach_the_untouched_post(ws):
    pytest.importorskip("httpx")
    from starlette.testclient import TestClient

    from chaitime.studio.app import make_app
    from chaitime.studio.episodes import settle

    token = "graph-token"
    client = TestClient(make_app(ws, token), base_url="http://127.0.0.1:8123")
    client.cookies.set("chaitime_studio", token)
    client.headers["X-Chaitime-Token"] = token
    ep = episode(ws)
    data = client.get(f"/api/episodes/{SLUG}").json()
    i = next(k for k, w in enumerate(data["words"]) if w[2].strip(",.?").lower() == CUT.lower())
    r = client.post(f"/api/episodes/{SLUG}/correct", json={"word": i, "text": "Lusitania", "version": data["versions"]["transcript"]})
    assert r.status_code == 200, r.text
    settle()
    post = (ep / "post.md").read_text()
    assert "Lusitania" in post and CUT not in post
    data = client.get(f"/api/episodes/{SLUG}").json()
    r = client.post(f"/api/episodes/{SLUG}/rename", json={"old": "Host", "new": "Maya Patel", "version": data["versions"]["transcript"]})
    assert r.status_code == 200, r.text
    settle()
    post = (ep / "post.md").read_text()
    assert "**Maya Patel:**" in post and "**Host:**" not in post
    assert not (ep / ".chaitime" / "incomplete").exists()
    # the same reaches the feed at the next feed refresh
    run_chaitime("feed", cwd=ws, check=True)
    assert "Lusitania" in json.dumps(feed_episodes(ws))
