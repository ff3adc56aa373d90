"""chaitime studio over HTTP (Starlette's TestClient): the token and Host guard, bad requests,
the version check on writes, a cut through the API, and a correction that reaches the captions.

The episode is test_edit_render's ingested-looking one (eSpeak speech, no Whisper), built once."""

from __future__ import annotations

import shutil

import pytest

pytest.importorskip("httpx")

from starlette.testclient import TestClient  # noqa: E402

from chaitime.edit.markdown import parse_edit_md  # noqa: E402
from chaitime.studio.app import make_app  # noqa: E402
from chaitime.studio.episodes import settle  # noqa: E402
from chaitime.transcript.model import Transcript  # noqa: E402
from chaitime.workspace import Workspace  # noqa: E402
from test_edit_render import built  # noqa: E402,F401

pytestmark = pytest.mark.slow  # renders media or runs an ingest (the unit tier leaves it out)

TOKEN = "t0ken-for-tests"
SLUG = "001-sample"


@pytest.fixture
def ws(built, tmp_path):  # noqa: F811
    shutil.copytree(built[0], tmp_path / "ws")
    return Workspace.open(tmp_path / "ws")


@pytest.fixture
def client(ws):
    c = TestClient(make_app(ws.root, TOKEN), base_url="http://127.0.0.1:8123", raise_server_exceptions=False)
    c.cookies.set("chaitime_studio", TOKEN)
    c.headers["X-Chaitime-Token"] = TOKEN
    return c


def test_without_the_token_or_from_another_host_it_is_403(ws):
    plain = TestClient(make_app(ws.root, TOKEN), base_url="http://127.0.0.1:8123")
    assert plain.get("/api/episodes").status_code == 403
    assert plain.get("/api/episodes?token=wrong").status_code == 403
    ok = plain.get(f"/?token={TOKEN}")
    assert ok.status_code == 200 and "chaitime_studio" in ok.headers["set-cookie"]
    assert plain.get("/api/episodes").status_code == 200  # the cookie the URL set
    # a change needs the header as well as the cookie (another page can't set it)
    assert plain.post(f"/api/episodes/{SLUG}/cut", json={"words": [0]}).status_code == 403
    rebound = TestClient(make_app(ws.root, TOKEN), base_url="http://evil.example:8123")
    assert rebound.get(f"/api/episodes?token={TOKEN}").status_code == 403
    assert plain.get(f"/api/episodes?token={TOKEN}", headers={"Host": "attacker.test"}).status_code == 403


def test_bad_requests_are_4xx_with_a_message_and_the_server_goes_on(client, ws):
    cases = [
        client.post(f"/api/episodes/{SLUG}/cut", content=b"{not json"),
        client.post(f"/api/episodes/{SLUG}/cut", json=[1, 2]),
        client.post(f"/api/episodes/{SLUG}/cut", json={"words": "all"}),
        client.post(f"/api/episodes/{SLUG}/cut", json={"words": [10**6], "version": client.get(f"/api/episodes/{SLUG}").json()["versions"]["edit"]}),
        client.post(f"/api/episodes/{SLUG}/correct", json={"word": "x", "text": "hi"}),
        client.get("/api/episodes/no-such-episode"),
        client.get("/api/episodes/..%2F..%2Fetc"),
    ]
    for r in cases:
        assert 400 <= r.status_code < 500, (r.status_code, r.text)
        assert r.json()["error"], r.text
    assert client.get("/api/episodes").status_code == 200


def test_a_corrupt_episode_shows_its_problem_in_the_list_and_the_page(client, ws):
    ep = ws.episode(SLUG)
    (ep.machine_dir / "transcript.raw.json").write_text("{ broken")
    listed = client.get("/api/episodes").json()["episodes"]
    assert listed[0]["state"] == "broken" and "not a chaitime transcript" in listed[0]["error"]
    page = client.get(f"/api/episodes/{SLUG}")
    assert page.status_code == 400 and "transcript.raw.json" in page.json()["error"]


def test_a_cut_through_the_api_strikes_the_words_in_edit_md(client, ws):
    ep = ws.episode(SLUG)
    data = client.get(f"/api/episodes/{SLUG}").json()
    before = ep.path("edit.md").read_text()
    line = data["lines"][4]
    words = list(range(line["first"], line["last"] + 1))
    r = client.post(f"/api/episodes/{SLUG}/cut", json={"words": words, "cut": True, "version": data["versions"]["edit"]})
    assert r.status_code == 200, r.text
    after = ep.path("edit.md").read_text()
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines()) if a != b]
    assert len(changed) == 1 and changed[0][1].count("~~") == 2 and changed[0][1].endswith("~~")
    transcript = Transcript.load(ep.machine_dir / "transcript.raw.json")
    assert set(words) <= parse_edit_md(after, transcript).removed_words
    assert set(words) <= set(r.json()["removed"])
    assert any(a <= data["words"][words[0]][0] < b for a, b in r.json()["cuts"])


def test_a_file_changed_on_disk_is_a_409_and_is_not_overwritten(client, ws):
    ep = ws.episode(SLUG)
    data = client.get(f"/api/episodes/{SLUG}").json()
    hand = ep.path("edit.md").read_text() + "<!-- the host's note -->\n"
    ep.path("edit.md").write_text(hand)
    r = client.post(f"/api/episodes/{SLUG}/cut", json={"words": [0], "version": data["versions"]["edit"]})
    assert r.status_code == 409 and r.json()["conflict"] and "changed on disk" in r.json()["error"]
    assert ep.path("edit.md").read_text() == hand
    raw = ep.machine_dir / "transcript.raw.json"
    raw.write_text(raw.read_text())  # same bytes: same version, no conflict
    ok = client.post(f"/api/episodes/{SLUG}/correct", json={"word": 0, "text": "Hello", "version": data["versions"]["transcript"]})
    assert ok.status_code == 200, ok.text


def test_a_correction_reaches_the_vtt_and_survives_a_render(client, ws):
    ep = ws.episode(SLUG)
    data = client.get(f"/api/episodes/{SLUG}").json()
    i = next(k for k, w in enumerate(data["words"]) if w[2].strip(",.?").lower() == "kaggle")
    r = client.post(f"/api/episodes/{SLUG}/correct", json={"word": i, "text": "Kaggle's", "version": data["versions"]["transcript"]})
    assert r.status_code == 200, r.text
    raw = Transcript.load(ep.machine_dir / "transcript.raw.json")
    assert raw.meta["corrections"][0]["text"] == "Kaggle's." and raw.meta["corrections"][0]["was"].lower().startswith("kaggle")
    assert "Kaggle's" in ep.path("transcript.json").read_text()  # not rendered yet: the files follow now
    settle()  # the caption formats a moment after the save
    assert "Kaggle's" in ep.path("transcript.vtt").read_text()
    again = client.get(f"/api/episodes/{SLUG}").json()
    assert again["words"][i][2] == "Kaggle's." and again["words"][i][6] == 1
    started = client.post(f"/api/episodes/{SLUG}/render")
    assert started.status_code == 202
    import time

    for _ in range(600):
        job = client.get(f"/api/episodes/{SLUG}/job").json()
        if not job["running"]:
            break
        time.sleep(0.2)
    assert "result" in job, job
    for name in ("transcript.vtt", "transcript.srt", "transcript.txt"):
        assert "Kaggle's" in ep.path(name).read_text(), name
    assert Transcript.load(ep.path("transcript.json")).meta["corrections"][0]["text"] == "Kaggle's."
    assert "Kaggle's" in ep.path("post.md").read_text()  # the render re-drafted the untouched post
    # after the render chapters.json is on the edited timeline; the studio still shows the original one
    rendered = client.get(f"/api/episodes/{SLUG}").json()
    assert [c["start_s"] for c in rendered["chapters"]] == pytest.approx([c["start_s"] for c in data["chapters"]], abs=0.01)
    assert "Kaggle's." in [w[2] for w in rendered["words"]]


def test_reassign_and_rename_speakers(client, ws):
    ep = ws.episode(SLUG)
    data = client.get(f"/api/episodes/{SLUG}").json()
    speakers = data["speakers"]
    r = client.post(f"/api/episodes/{SLUG}/speaker", json={"line": 1, "speaker": speakers[0], "version": data["versions"]["transcript"]})
    assert r.status_code == 200, r.text
    after = client.get(f"/api/episodes/{SLUG}").json()
    assert after["lines"][1]["speaker"] == speakers[0]
    assert [ln["start_s"] for ln in after["lines"]] == [ln["start_s"] for ln in data["lines"]]  # edit.md's lines unchanged
    r = client.post(f"/api/episodes/{SLUG}/rename", json={"old": speakers[0], "new": "Priya", "version": after["versions"]["transcript"]})
    assert r.status_code == 200, r.text
    assert "Priya" in client.get(f"/api/episodes/{SLUG}").json()["speakers"]
    settle()
    assert "<v Priya>" in ep.path("transcript.vtt").read_text()


def test_peaks_are_cached_and_the_audio_serves_ranges(client, ws):
    ep = ws.episode(SLUG)
    p = client.get(f"/api/episodes/{SLUG}/peaks").json()
    assert p["per_s"] == 20 and len(p["peaks"]) > 20 * 30 and max(p["peaks"]) == 1.0
    assert (ep.machine_dir / "studio-peaks.json").is_file()
    part = client.get(f"/api/episodes/{SLUG}/audio", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100


def test_chapters_are_added_moved_renamed_and_deleted_in_chapters_json(client, ws):
    from chaitime.writing.chapters import load_chapters

    ep = ws.episode(SLUG)
    data = client.get(f"/api/episodes/{SLUG}").json()
    chapters = data["chapters"]
    assert [c["title"] for c in chapters] == ["Kaggle", "Deployment"]
    moved_to = round(chapters[1]["start_s"] + 2.0, 3)
    chapters[1] = {"start_s": moved_to, "title": "Shipping it"}  # moved and renamed
    chapters.append({"start_s": 3.0, "title": "Intro over"})
    r = client.post(f"/api/episodes/{SLUG}/chapters", json={"chapters": chapters, "version": data["versions"]["chapters"]})
    assert r.status_code == 200, r.text
    on_disk = load_chapters(ep.path("chapters.json"))
    assert [(c.start_s, c.title) for c in on_disk] == [(0.0, "Kaggle"), (3.0, "Intro over"), (moved_to, "Shipping it")]
    # each ends where the next starts, the last at the end of the episode (endTime is kept)
    assert [c.end_s for c in on_disk] == [3.0, moved_to, pytest.approx(data["duration_s"], abs=0.001)]
    r = client.post(f"/api/episodes/{SLUG}/chapters", json={"chapters": r.json()["chapters"][:2], "version": r.json()["versions"]["chapters"]})
    assert [c.title for c in load_chapters(ep.path("chapters.json"))] == ["Kaggle", "Intro over"]
    bad = client.post(f"/api/episodes/{SLUG}/chapters", json={"chapters": [{"start_s": -1, "title": "x"}], "version": r.json()["versions"]["chapters"]})
    assert bad.status_code == 400 and "start_s" in bad.json()["error"]
    stale = client.post(f"/api/episodes/{SLUG}/chapters", json={"chapters": [], "version": data["versions"]["chapters"]})
    assert stale.status_code == 409


def test_replace_everywhere_corrects_every_instance_and_adds_to_the_vocabulary(client, ws):
    import tomllib

    ep = ws.episode(SLUG)
    data = client.get(f"/api/episodes/{SLUG}").json()
    i = next(k for k, w in enumerate(data["words"]) if w[2].strip(",.?").lower() == "the")
    count = sum(w[2].strip(",.?").lower() == "the" for w in data["words"])
    r = client.post(f"/api/episodes/{SLUG}/replace", json={"word": i, "text": "thee", "vocabulary": True, "version": data["versions"]["transcript"]})
    assert r.status_code == 200, r.text
    assert r.json()["replaced"] == count > 1 and "added" in r.json()["vocabulary"]
    after = client.get(f"/api/episodes/{SLUG}").json()
    assert sum(w[2].strip(",.?").lower() == "thee" for w in after["words"]) == count
    settings = tomllib.loads((ws.root / "chaitime.toml").read_text())
    assert settings["transcribe"]["vocabulary"] == ["thee"]
    assert "# names and jargon" in (ws.root / "chaitime.toml").read_text()  # the host's comments kept
    again = client.post(f"/api/episodes/{SLUG}/replace", json={"word": i, "text": "Thee", "vocabulary": True, "version": after["versions"]["transcript"]})
    assert again.status_code == 200 and tomllib.loads((ws.root / "chaitime.toml").read_text())["transcribe"]["vocabulary"] == ["thee", "Thee"]
    assert ep.path("edit.md").is_file()


def test_the_post_is_edited_previewed_as_the_site_renders_it_and_quotes_go_in_verbatim(client, ws):
    ep = ws.episode(SLUG)
    ep.path("post.md").write_text("# Sample\n\nIntro.\n\n## The conversation\n\nText.\n")
    p = client.get(f"/api/episodes/{SLUG}/post").json()
    assert "<h2>The conversation</h2>" in p["html"] and "Sample" not in p["html"]  # the site's renderer: title off, top heading at h2
    preview = client.post(f"/api/episodes/{SLUG}/post/preview", json={"text": "# T\n\n**bold**"}).json()
    assert preview["html"] == "<p><strong>bold</strong></p>"
    data = client.get(f"/api/episodes/{SLUG}").json()
    line = data["lines"][4]
    q = client.post(f"/api/episodes/{SLUG}/post/quote", json={"first": line["first"], "last": line["last"], "version": p["version"]})
    assert q.status_code == 200, q.text
    text = ep.path("post.md").read_text()
    spoken = " ".join(w[2] for w in data["words"][line["first"]:line["last"] + 1])
    assert f"> {spoken}" in text and "](audio.mp3#t=" in text
    assert text.index("> " + spoken) < text.index("## The conversation")
    stale = client.post(f"/api/episodes/{SLUG}/post/save", json={"text": "mine", "version": p["version"]})
    assert stale.status_code == 409 and ep.path("post.md").read_text() == text
    saved = client.post(f"/api/episodes/{SLUG}/post/save", json={"text": "mine\n", "version": q.json()["version"]})
    assert saved.status_code == 200 and ep.path("post.md").read_text() == "mine\n"
    assert client.get(f"/episodes/{SLUG}/post").status_code == 200


def test_the_command_listens_on_127_0_0_1_only_and_a_taken_port_is_one_line(ws, capsys):
    from chaitime.cli import main
    from chaitime.studio.server import _bind

    sock = _bind(0)
    try:
        assert sock.getsockname()[0] == "127.0.0.1"
        with pytest.raises(SystemExit) as exit_info:
            main(["studio", str(ws.root), "--no-browser", "--port", str(sock.getsockname()[1])])
        assert exit_info.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "is taken" in err[0] and "--port" in err[0]
    finally:
        sock.close()


def test_chapters_json_keeps_end_times_after_a_render_and_the_favicon_is_served(client, ws):
    """After a render chapters.json is on the edited timeline: a studio edit ends the last chapter at
    the rendered audio's end; every page links a favicon the server answers (no 404 on each page)."""
    import json

    from chaitime import pipeline

    ep = ws.episode(SLUG)
    pipeline.render(ep, ws)
    data = client.get(f"/api/episodes/{SLUG}").json()
    chapters = data["chapters"] + [{"start_s": round(data["chapters"][-1]["start_s"] + 2.0, 3), "title": "Later"}]
    r = client.post(f"/api/episodes/{SLUG}/chapters", json={"chapters": chapters, "version": data["versions"]["chapters"]})
    assert r.status_code == 200, r.text
    items = json.loads(ep.path("chapters.json").read_text())["chapters"]
    assert all("endTime" in c for c in items)
    assert [c["endTime"] for c in items[:-1]] == [c["startTime"] for c in items[1:]]
    assert items[-1]["endTime"] == pytest.approx(pipeline.render_record(ep)["duration_s"], abs=0.001)
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml") and b"<svg" in icon.content
    for page in ("/", f"/episodes/{SLUG}", f"/episodes/{SLUG}/post"):
        assert 'rel="icon" href="/favicon.ico"' in client.get(page).text


def test_a_speaker_typed_in_another_case_is_the_same_person_and_new_people_go_into_episode_toml(client, ws):
    ep = ws.episode(SLUG)
    data = client.get(f"/api/episodes/{SLUG}").json()
    assert sorted(data["speakers"]) == ["Maya Patel", "Sam Okafor"] and set(data["people"]) >= set(data["speakers"])
    first = data["lines"][0]["speaker"]
    other = next(s for s in data["speakers"] if s != first)
    r = client.post(f"/api/episodes/{SLUG}/speaker", json={"line": 0, "speaker": f"  {other.lower()} ", "version": data["versions"]["transcript"]})
    assert r.status_code == 200, r.text
    assert r.json()["speaker"] == other and sorted(r.json()["speakers"]) == sorted(data["speakers"])  # no third speaker
    # someone new: a guest in episode.toml; typed again in lower case, the same one
    r = client.post(f"/api/episodes/{SLUG}/speaker", json={"line": 1, "speaker": "Guest One", "version": r.json()["versions"]["transcript"]})
    assert r.status_code == 200 and "Guest One" in ep.meta().guests and "Guest One" in r.json()["people"]
    r = client.post(f"/api/episodes/{SLUG}/speaker", json={"line": 2, "speaker": "guest one", "version": r.json()["versions"]["transcript"]})
    assert r.json()["speaker"] == "Guest One" and len(r.json()["speakers"]) == 3
    after = client.get(f"/api/episodes/{SLUG}").json()
    assert [ln["speaker"] for ln in after["lines"][1:3]] == ["Guest One", "Guest One"]
    assert ep.meta().guests.count("Guest One") == 1
    # a host is never listed as a guest
    toml = ws.root / "chaitime.toml"
    toml.write_text(toml.read_text().replace('hosts = ["Your Name"]', 'hosts = ["Priya Host"]', 1))
    r = client.post(f"/api/episodes/{SLUG}/speaker", json={"line": 3, "speaker": "priya host", "version": r.json()["versions"]["transcript"]})
    assert r.json()["speaker"] == "Priya Host" and "Priya Host" not in ep.meta().guests


def test_a_rename_updates_episode_toml_and_a_merge_lists_the_name_once(client, ws):
    from chaitime.workspace import update_meta

    ep = ws.episode(SLUG)
    ep.write_meta(update_meta(ep.meta(), guests=("Sam Okafor",), speakers={"S1": "Maya Patel", "S2": "Sam Okafor"}))
    data = client.get(f"/api/episodes/{SLUG}").json()
    r = client.post(f"/api/episodes/{SLUG}/rename", json={"old": "Sam Okafor", "new": "Samuel Okafor", "version": data["versions"]["transcript"]})
    assert r.status_code == 200, r.text
    meta = ep.meta()
    assert meta.guests == ("Samuel Okafor",) and meta.speakers == {"S1": "Maya Patel", "S2": "Samuel Okafor"}
    # renamed to another speaker's name (in another case): merged, listed once, episode.toml too
    r = client.post(f"/api/episodes/{SLUG}/rename", json={"old": "Samuel Okafor", "new": "MAYA patel", "version": r.json()["versions"]["transcript"]})
    assert r.status_code == 200, r.text
    assert r.json()["speaker"] == "Maya Patel" and r.json()["speakers"] == ["Maya Patel"]
    meta = ep.meta()
    assert meta.speakers == {"S1": "Maya Patel", "S2": "Maya Patel"} and meta.guests == ("Maya Patel",)
    assert client.get(f"/api/episodes/{SLUG}").json()["speakers"] == ["Maya Patel"]


def _state(client) -> dict:
    return client.get("/api/episodes").json()["episodes"][0]


def test_the_state_follows_what_happened_not_the_file_times(client, ws):
    """ingested however new edit.md is; edited after a cut or a correction (saying which); rendered;
    published while the site has the episode's files as they are; after a re-render, rendered again."""
    import os
    import shutil

    from chaitime import pipeline
    from chaitime.workspace import EPISODE_FILES

    ep = ws.episode(SLUG)
    later = ep.path("edit.md").stat().st_mtime + 60
    os.utime(ep.path("edit.md"), (later, later))  # ingest writes edit.md last
    assert _state(client)["state"] == "ingested"
    data = client.get(f"/api/episodes/{SLUG}").json()
    line = data["lines"][4]
    r = client.post(f"/api/episodes/{SLUG}/cut", json={"words": list(range(line["first"], line["last"] + 1)), "version": data["versions"]["edit"]})
    assert r.status_code == 200
    first = _state(client)
    assert first["state"] == "edited" and "cut" in first["note"]
    r = client.post(f"/api/episodes/{SLUG}/correct", json={"word": 0, "text": "Hullo", "version": data["versions"]["transcript"]})
    assert r.status_code == 200
    assert "1 word corrected" in _state(client)["note"]
    settle()
    pipeline.render(ep, ws)
    assert _state(client)["state"] == "rendered"
    # the site as publish leaves it: the page, and copies of the files keeping their times
    site = ws.root / "public" / "episodes" / SLUG
    site.mkdir(parents=True)
    (site / "index.html").write_text("<html></html>")
    for f in EPISODE_FILES:
        if ep.path(f.name).is_file():
            shutil.copy2(ep.path(f.name), site / f.name)
    assert _state(client)["state"] == "published"
    # a change after the render: edited since the render; rendered again: not published any more
    data = client.get(f"/api/episodes/{SLUG}").json()
    word = next(i for i, w in enumerate(data["words"]) if not w[4] and w[0] > 20)
    r = client.post(f"/api/episodes/{SLUG}/cut", json={"words": [word], "version": data["versions"]["edit"]})
    assert r.status_code == 200, r.text
    after = _state(client)
    assert after["state"] == "edited" and after["note"] == "cuts since the render"
    pipeline.render(ep, ws)
    again = _state(client)
    assert again["state"] == "rendered" and "published before" in again["note"]


def test_a_hand_edit_is_edited_and_a_held_lock_is_ingest_running(client, ws):
    ep = ws.episode(SLUG)
    text = ep.path("edit.md").read_text()
    row = next(r for r in text.splitlines() if r.startswith("[") and "**" in r and "~~" not in r)
    head, words = row.split(":** ", 1)
    ep.path("edit.md").write_text(text.replace(row, f"{head}:** ~~{words.split(' ', 1)[0]}~~ {words.split(' ', 1)[1]}"))
    assert _state(client)["state"] == "edited"
    ep.mark_incomplete("`chaitime ingest` started and has not finished (interrupted?); run it again")
    with ep.lock():  # as the ingest in another terminal holds it
        item = _state(client)
        assert item["state"] == "running" and item["note"] == "ingest running"
        assert not any("interrupted" in p["what"] for p in item["problems"])
    assert _state(client)["state"] == "incomplete"


def test_undo_and_redo_put_the_files_back_exactly_across_cuts_corrections_speakers_and_chapters(client, ws):
    ep = ws.episode(SLUG)
    files = [ep.path("edit.md"), ep.machine_dir / "transcript.raw.json", ep.path("chapters.json"), ep.path("episode.toml")]
    original = [f.read_bytes() for f in files]
    data = client.get(f"/api/episodes/{SLUG}").json()
    assert data["history"] == {"undo": None, "redo": None}
    v = data["versions"]
    line = data["lines"][4]
    r = client.post(f"/api/episodes/{SLUG}/cut", json={"words": list(range(line["first"], line["last"] + 1)), "version": v["edit"]})
    assert r.json()["history"]["undo"].startswith("cut ")
    r = client.post(f"/api/episodes/{SLUG}/correct", json={"word": 0, "text": "Hullo", "version": v["transcript"]})
    r = client.post(f"/api/episodes/{SLUG}/speaker", json={"line": 2, "speaker": "Guest One", "version": r.json()["versions"]["transcript"]})
    chapters = data["chapters"] + [{"start_s": 3.0, "title": "Intro over"}]
    r = client.post(f"/api/episodes/{SLUG}/chapters", json={"chapters": chapters, "version": v["chapters"]})
    changed = [f.read_bytes() for f in files]
    assert all(a != b for a, b in zip(original[:3], changed[:3])) and original[3] != changed[3]  # Guest One is a guest now
    steps = [client.post(f"/api/episodes/{SLUG}/undo").json() for _ in range(4)]
    assert [s["kind"] for s in steps] == ["chapters", "transcript", "transcript", "edit"]
    assert [f.read_bytes() for f in files] == original
    assert steps[-1]["history"]["undo"] is None and steps[-1]["history"]["redo"].startswith("cut ")
    settle()
    assert "Hullo" not in ep.path("transcript.json").read_text() and "Hullo" not in ep.path("transcript.vtt").read_text()
    nothing = client.post(f"/api/episodes/{SLUG}/undo")
    assert nothing.status_code == 400 and "nothing to undo" in nothing.json()["error"]
    assert _state(client)["state"] == "ingested"  # everything undone: as ingested
    for _ in range(4):
        assert client.post(f"/api/episodes/{SLUG}/redo").status_code == 200
    assert [f.read_bytes() for f in files] == changed
    # a hand edit since the studio's last change: undo refuses instead of overwriting it
    hand = ep.path("chapters.json").read_text().replace("Intro over", "Intro, done")
    ep.path("chapters.json").write_text(hand)
    refused = client.post(f"/api/episodes/{SLUG}/undo")
    assert refused.status_code == 409 and "chapters.json changed" in refused.json()["error"]
    assert ep.path("chapters.json").read_text() == hand
    # a new change after an undo: nothing to redo
    ep.path("chapters.json").write_bytes(changed[2])
    client.post(f"/api/episodes/{SLUG}/undo")
    d = client.get(f"/api/episodes/{SLUG}").json()
    assert d["history"]["redo"] == "chapters changed"
    client.post(f"/api/episodes/{SLUG}/cut", json={"words": [1], "version": d["versions"]["edit"]})
    assert client.get(f"/api/episodes/{SLUG}").json()["history"]["redo"] is None


def test_a_word_corrected_back_to_what_it_was_is_no_correction(client, ws):
    ep = ws.episode(SLUG)
    data = client.get(f"/api/episodes/{SLUG}").json()
    i = next(k for k, w in enumerate(data["words"]) if w[2].strip(",.?").lower() == "kaggle")
    was = data["words"][i][2]
    r = client.post(f"/api/episodes/{SLUG}/correct", json={"word": i, "text": "Kaggles", "version": data["versions"]["transcript"]})
    r = client.post(f"/api/episodes/{SLUG}/correct", json={"word": i, "text": was.rstrip(".,?"), "version": r.json()["versions"]["transcript"]})
    assert r.status_code == 200, r.text
    raw = Transcript.load(ep.machine_dir / "transcript.raw.json")
    assert not raw.meta.get("corrections")
    after = client.get(f"/api/episodes/{SLUG}").json()
    assert after["words"][i][2] == was and after["words"][i][6] == 0


def test_suggestions_are_decided_one_by_one_or_all_of_a_kind_and_shown_reviewed(client, ws):
    ep = ws.episode(SLUG)
    data = client.get(f"/api/episodes/{SLUG}").json()
    assert data["reviewed"] == {"words": [], "markers": []}
    pauses = [m["stamp"] for m in data["markers"] if m["kind"] in ("pause", "dead air")]
    assert pauses and all(m["struck"] for m in data["markers"] if m["stamp"] in pauses)
    r = client.post(f"/api/episodes/{SLUG}/marker", json={"stamps": pauses, "cut": False, "review": True, "version": data["versions"]["edit"]})
    assert r.status_code == 200, r.text
    assert not any(m["struck"] for m in r.json()["markers"] if m["stamp"] in pauses)
    assert sorted(r.json()["reviewed"]["markers"]) == sorted(pauses)
    assert r.json()["history"]["undo"] == (f"kept {len(pauses)} pauses" if len(pauses) > 1 else f"kept the {pauses[0]} pause")
    fillers = [i for i, w in enumerate(data["words"]) if w[5]]
    r = client.post(f"/api/episodes/{SLUG}/cut", json={"words": fillers, "cut": False, "review": True, "version": r.json()["versions"]["edit"]})
    assert r.status_code == 200 and not set(fillers) & set(r.json()["removed"])
    again = client.get(f"/api/episodes/{SLUG}").json()
    assert again["reviewed"]["words"] == fillers and sorted(again["reviewed"]["markers"]) == sorted(pauses)
    rows = [r for r in ep.path("edit.md").read_text().splitlines() if r.startswith(("[", "~~["))]
    assert rows and not any("~~" in r for r in rows)  # nothing struck: every suggestion kept
    bad = client.post(f"/api/episodes/{SLUG}/marker", json={"stamps": "all", "version": again["versions"]["edit"]})
    assert bad.status_code == 400
