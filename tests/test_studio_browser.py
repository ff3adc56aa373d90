"""The studio in headless Chromium (Playwright driving Debian's chromium): open an episode, click a
word (the player seeks to it), select words and cut them (edit.md strikes them), and preview skips
the cut (the player's time jumps over it). Skips without chromium or playwright."""

from __future__ import annotations

import shutil
import threading
import time

import pytest

from chaitime.workspace import Workspace
from test_edit_render import built  # noqa: F401

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")]  # slow: drives a real browser over rendered media
TOKEN = "browser-test-token"


@pytest.fixture
def studio(built, tmp_path):  # noqa: F811
    """The studio on a copy of the episode, served by uvicorn on 127.0.0.1 in a thread."""
    uvicorn = pytest.importorskip("uvicorn")
    from chaitime.studio.app import make_app
    from chaitime.studio.server import _bind

    shutil.copytree(built[0], tmp_path / "ws")
    ws = Workspace.open(tmp_path / "ws")
    sock = _bind(0)
    server = uvicorn.Server(uvicorn.Config(make_app(ws.root, TOKEN), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield ws, f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(5)


def test_click_seeks_cut_strikes_edit_md_and_preview_skips_it(studio):
    sync_api = pytest.importorskip("playwright.sync_api")
    ws, base = studio
    ep = ws.episode("001-sample")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required", "--mute-audio"])
        try:
            page = browser.new_page()
            page.goto(f"{base}/?token={TOKEN}")
            page.wait_for_selector("#episodes a")
            page.click("#episodes a")
            page.wait_for_selector("#transcript .w")
            page.wait_for_function("document.getElementById('player').readyState >= 1")
            words = page.evaluate("Array.from(document.querySelectorAll('#transcript .line')).map(l => [...l.querySelectorAll('.w')].map(w => +w.dataset.i))")

            # click a word: the player seeks to it and it is the current word
            target = words[2][1]
            page.click(f".w[data-i='{target}']")
            seeked = page.evaluate("[document.getElementById('player').currentTime, document.querySelector('.w.now').dataset.i]")
            start = page.evaluate(f"fetch('/api/episodes/001-sample').then(r => r.json()).then(d => d.words[{target}][0])")
            assert seeked[0] == pytest.approx(start, abs=0.01) and int(seeked[1]) == target

            # select the fifth line's words (click, shift-click) and cut them with the keyboard
            line = words[4]
            page.click(f".w[data-i='{line[0]}']")
            page.click(f".w[data-i='{line[-1]}']", modifiers=["Shift"])
            with page.expect_response(lambda r: r.url.endswith("/cut")) as cut_response:
                page.keyboard.press("x")
            assert cut_response.value.status == 200
            page.wait_for_selector(f".w.cut[data-i='{line[-1]}']")
            text = ep.path("edit.md").read_text()
            row = next(r for r in text.splitlines() if r.startswith("[") and "~~" in r and not r.startswith("~~") and "Um" not in r)
            assert row.endswith("~~") and row.split("** ", 1)[1].startswith("~~")
            cut = page.evaluate("fetch('/api/episodes/001-sample').then(r => r.json()).then(d => d.cuts)")
            a, b = next(c for c in cut if c[0] <= start_of(page, line[0]) < c[1])

            # preview: playing into the cut jumps over it
            page.check("#preview")
            seen = page.evaluate(f"""() => new Promise(done => {{
                const player = document.getElementById('player'); const times = [];
                player.currentTime = {a - 0.4};
                const watch = () => {{ times.push(player.currentTime); if (player.currentTime > {b + 0.3} || times.length > 600) {{ player.pause(); done(times); }} else requestAnimationFrame(watch); }};
                player.play().then(() => requestAnimationFrame(watch));
            }})""")
            inside = [t for t in seen if a + 0.15 < t < b - 0.05]
            assert seen[-1] > b + 0.3 and not inside, (a, b, seen[:5], inside[:5])
        finally:
            browser.close()


def start_of(page, i: int) -> float:
    return page.evaluate(f"fetch('/api/episodes/001-sample').then(r => r.json()).then(d => d.words[{i}][0])")


def test_correct_reassign_move_chapter_conflict_and_render_in_the_page(studio, ffmpeg_bin):
    """Double-click a word and type the fix; give a line to the other speaker; move a chapter to the
    playhead; a file changed on disk is shown, not overwritten; render makes audio shorter by the cuts."""
    import json

    from conftest import media_duration

    sync_api = pytest.importorskip("playwright.sync_api")
    ws, base = studio
    ep = ws.episode("001-sample")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--mute-audio"])
        try:
            page = browser.new_page()
            page.goto(f"{base}/?token={TOKEN}")
            page.goto(f"{base}/episodes/001-sample")
            page.wait_for_selector("#transcript .w")
            page.wait_for_function("document.getElementById('player').readyState >= 1")
            data = page.evaluate("fetch('/api/episodes/001-sample').then(r => r.json())")

            # correct a word
            i = next(k for k, w in enumerate(data["words"]) if w[2].strip(",.?").lower() == "kaggle")
            page.dblclick(f".w[data-i='{i}']")
            page.fill(f".w[data-i='{i}'] input", "Kaggles")
            with page.expect_response(lambda r: r.url.endswith("/correct")) as fixed:
                page.keyboard.press("Enter")
            assert fixed.value.status == 200
            assert "Kaggles." in ep.path("transcript.json").read_text()
            page.wait_for_function("document.getElementById('message').textContent.indexOf('Corrected') >= 0")  # the layout settles

            # give a line to the other speaker
            n = next(k for k, ln in enumerate(data["lines"]) if ln["speaker"] != data["lines"][0]["speaker"])
            other = data["lines"][0]["speaker"]
            page.click(f".who[data-line='{n}']")
            with page.expect_response(lambda r: r.url.endswith("/speaker")):
                page.click(f"#picker button[data-person={json.dumps(other)}]")
            page.wait_for_function(f"document.querySelector(\".who[data-line='{n}']\").textContent === {json.dumps(other)}")

            # move the second chapter to the playhead
            page.evaluate("document.getElementById('player').currentTime = 20")
            with page.expect_response(lambda r: r.url.endswith("/chapters")):
                page.click("button[data-move='1']")
            starts = [c["startTime"] for c in json.loads(ep.path("chapters.json").read_text())["chapters"]]
            assert starts == [0, 20]

            # edit.md changed on disk: the cut is refused and the page says so
            hand = ep.path("edit.md").read_text() + "<!-- edited elsewhere -->\n"
            ep.path("edit.md").write_text(hand)
            line = data["lines"][6]  # not the corrected one
            page.click(f".w[data-i='{line['first']}']")
            page.click(f".w[data-i='{line['last']}']", modifiers=["Shift"])
            with page.expect_response(lambda r: r.url.endswith("/cut")) as refused:
                page.keyboard.press("x")
            assert refused.value.status == 409
            # the page shows it once its script has read the refusal (after the response arrives)
            page.wait_for_function("document.getElementById('message').textContent.includes('changed on disk')", timeout=10_000)
            assert page.is_visible("#conflict-reload")
            assert ep.path("edit.md").read_text() == hand
            # the host chooses to make the cut on the file as it is now: their note stays, the line is struck
            with page.expect_response(lambda r: r.url.endswith("/cut") and r.status == 200):
                page.click("#conflict-apply")
            now = ep.path("edit.md").read_text()
            changed = [b for a, b in zip(hand.splitlines(), now.splitlines()) if a != b]
            assert now.endswith("<!-- edited elsewhere -->\n") and len(changed) == 1
            assert changed[0].split(":** ", 1)[1].startswith("~~") and changed[0].endswith("~~")
            ep.path("edit.md").write_text(hand)  # back to the host's file for the rest

            # reload, cut the line, render: the audio is shorter by exactly what the page cut
            page.reload()
            page.wait_for_selector("#transcript .w")
            page.click(f".w[data-i='{line['first']}']")
            page.click(f".w[data-i='{line['last']}']", modifiers=["Shift"])
            with page.expect_response(lambda r: r.url.endswith("/cut")) as cut:
                page.keyboard.press("x")
            cuts = cut.value.json()["cuts"]
            page.click("#render")
            page.wait_for_function("document.getElementById('message').textContent.indexOf('Render done') >= 0", timeout=120000)
        finally:
            browser.close()
    original = media_duration(ffmpeg_bin, ep.machine_dir / "master.flac")
    removed = sum(min(b, original) - a for a, b in cuts)
    assert media_duration(ffmpeg_bin, ep.path("audio.mp3")) == pytest.approx(original - removed, abs=0.05)
    assert "Kaggles." in ep.path("transcript.vtt").read_text()


def launch(p):
    return p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--mute-audio"])


def open_episode(browser, base: str, slug: str = "001-sample", audio: bool = True):
    """A page on the episode, its words drawn and the waveform's overlays on (``audio`` false: the
    audio never loads, so the waveform has only the peaks' duration)."""
    page = browser.new_page()
    if not audio:
        page.route("**/audio", lambda route: route.abort())
    page.goto(f"{base}/?token={TOKEN}")
    page.goto(f"{base}/episodes/{slug}")
    page.wait_for_selector("#transcript .w")
    page.wait_for_function(REGIONS_JS + ".length > 0", timeout=20_000)
    return page


# The waveform's overlays (in wavesurfer's shadow root): [part, left %, width %].
REGIONS_JS = """[...(document.querySelector('#waveform > div')?.shadowRoot?.querySelectorAll('[part~="region"], [part~="marker"]') || [])]
  .map(e => [e.getAttribute('part'), parseFloat(e.style.left), 100 - parseFloat(e.style.left) - parseFloat(e.style.right || 0)])"""


def test_the_waveforms_regions_sit_at_their_times(studio):
    """Speaker bands, cuts and chapter marks are placed where they are in time, not all at 0:00:
    also when the audio's metadata comes after the waveform's peaks (here: never)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    ws, base = studio
    with sync_api.sync_playwright() as p:
        browser = launch(p)
        try:
            for audio in (False, True):
                page = open_episode(browser, base, audio=audio)
                data = page.evaluate("fetch('/api/episodes/001-sample').then(r => r.json())")
                duration = data["duration_s"]
                placed = {part.split()[-1]: (left, width) for part, left, width in page.evaluate(REGIONS_JS)}
                for i, ln in enumerate(data["lines"]):
                    left, width = placed[f"spk-{i}"]
                    assert left == pytest.approx(100 * ln["start_s"] / duration, abs=0.3), (audio, i, ln)
                    assert width == pytest.approx(100 * max(ln["end_s"] - ln["start_s"], 0.05) / duration, abs=0.3), (i, ln)
                for i, c in enumerate(data["chapters"]):
                    assert placed[f"chapter-{i}"][0] == pytest.approx(100 * c["start_s"] / duration, abs=0.3)
                for i, (a, _b) in enumerate(data["cuts"]):
                    assert placed[f"cut-{i}"][0] == pytest.approx(100 * a / duration, abs=0.3)
                assert len({round(left) for left, _ in placed.values()}) > 5  # spread over the waveform
                page.close()
        finally:
            browser.close()


def test_the_speaker_picker_offers_the_people_and_matches_a_typed_name_without_case(studio):
    """Click a line's name: a picker lists the people; typing "maya patel" gives the line to "Maya
    Patel" (no new speaker); a new name is a new person, in episode.toml's guests; a rename that
    merges two lists the name once, at once."""
    import json

    sync_api = pytest.importorskip("playwright.sync_api")
    ws, base = studio
    ep = ws.episode("001-sample")
    with sync_api.sync_playwright() as p:
        browser = launch(p)
        try:
            page = open_episode(browser, base)
            data = page.evaluate("fetch('/api/episodes/001-sample').then(r => r.json())")
            first = data["lines"][0]["speaker"]
            other = next(s for s in data["speakers"] if s != first)
            page.click(".who[data-line='0']")
            offered = page.eval_on_selector_all("#picker button[data-person]", "bs => bs.map(b => b.dataset.person)")
            assert other in offered and first not in offered
            page.fill("#picker input", other.lower())
            with page.expect_response(lambda r: r.url.endswith("/speaker")) as given:
                page.press("#picker input", "Enter")
            assert given.value.json()["speaker"] == other
            page.wait_for_function(f"document.querySelector(\".who[data-line='0']\").textContent === {json.dumps(other)}")
            assert page.eval_on_selector_all("#speakers li", "ls => ls.length") == 2
            # a new person
            page.click(".who[data-line='1']")
            page.fill("#picker input", "Guest One")
            with page.expect_response(lambda r: r.url.endswith("/speaker")):
                page.press("#picker input", "Enter")
            page.wait_for_function("document.querySelectorAll('#speakers li').length === 3")
            assert "Guest One" in ep.meta().guests
            # rename Guest One to "maya patel": merged, listed once without a reload
            page.click("#speakers button[data-rename='Guest One']")
            page.fill("#picker input", "maya patel")
            with page.expect_response(lambda r: r.url.endswith("/rename")):
                page.press("#picker input", "Enter")
            page.wait_for_function("document.querySelectorAll('#speakers li').length === 2")
            names = page.eval_on_selector_all("#speakers li .grow", "ls => ls.map(l => l.textContent)")
            assert sorted(names) == sorted(data["speakers"])
            assert page.text_content(".who[data-line='1']") == "Maya Patel"
        finally:
            browser.close()


def test_the_list_shows_states_from_what_happened_and_a_running_ingest(studio):
    """A fresh episode is "ingested" (though edit.md is newer than the transcript), "edited" after a
    cut in the page, "ingest running" while an ingest holds it, and the list follows when it ends."""
    import os

    sync_api = pytest.importorskip("playwright.sync_api")
    ws, base = studio
    ep = ws.episode("001-sample")
    later = ep.path("edit.md").stat().st_mtime + 60
    os.utime(ep.path("edit.md"), (later, later))
    state = "document.querySelector('#episodes tr[data-slug=\"001-sample\"] .state').textContent"
    with sync_api.sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page()
            page.goto(f"{base}/?token={TOKEN}")
            page.wait_for_selector("#episodes tr[data-slug]")
            assert page.evaluate(state) == "ingested"
            page.click("#episodes a")
            page.wait_for_selector("#transcript .w")
            data = page.evaluate("fetch('/api/episodes/001-sample').then(r => r.json())")
            line = data["lines"][4]
            page.click(f".w[data-i='{line['first']}']")
            page.click(f".w[data-i='{line['last']}']", modifiers=["Shift"])
            with page.expect_response(lambda r: r.url.endswith("/cut")):
                page.keyboard.press("x")
            page.goto(f"{base}/")
            page.wait_for_selector("#episodes tr[data-slug]")
            assert page.evaluate(state) == "edited"
            assert "words cut" in page.text_content(".state-note")
            ep.mark_incomplete("`chaitime ingest` started and has not finished (interrupted?); run it again")
            with ep.lock():
                page.reload()
                page.wait_for_selector("#episodes tr[data-slug]")
                assert page.evaluate(state) == "ingest running"
                assert "interrupted" not in page.text_content("#episodes")
                ep.mark_complete()
            page.wait_for_function(f"{state} === 'edited'", timeout=10_000)  # the list looked again by itself
        finally:
            browser.close()


def test_render_keeps_its_progress_shows_its_warnings_and_post_conflicts_keep_the_hosts_text(studio, monkeypatch):
    """Render: the button is disabled while it runs (a second click changes nothing) and its warnings
    are shown with the result. post.md changed on disk while the host typed: both texts are shown,
    the host's stays in the editor, and "save mine" saves it over the file."""
    import chaitime.pipeline as pipeline
    from chaitime.pipeline.render import RenderResult

    def slow_render(ep, ws, progress=None):
        for k in range(8):
            progress("cut", k, 8)
            time.sleep(0.25)
        return RenderResult(ep.path("audio.mp3"), None, 40.0, 2.5, ("audio.mp3",), None,
                            ("the feed was not refreshed: chaitime.toml has no [show] image",))

    monkeypatch.setattr(pipeline, "render", slow_render)
    sync_api = pytest.importorskip("playwright.sync_api")
    ws, base = studio
    ep = ws.episode("001-sample")
    with sync_api.sync_playwright() as p:
        browser = launch(p)
        try:
            page = open_episode(browser, base)
            page.click("#render")
            page.wait_for_function("!document.getElementById('progress').hidden && document.getElementById('render').disabled")
            page.evaluate("document.getElementById('render').click()")  # a second click: nothing
            page.wait_for_timeout(700)
            assert page.is_visible("#progress") and page.is_disabled("#render")
            page.wait_for_function("document.getElementById('message').textContent.includes('Render done')", timeout=20_000)
            assert "no [show] image" in page.text_content("#message") and page.is_enabled("#render")
            assert page.is_hidden("#progress")

            # the post editor: a conflict keeps the host's text
            ep.path("post.md").write_text("# Sample\n\nThe draft.\n")
            page.goto(f"{base}/episodes/001-sample/post")
            page.wait_for_function("document.getElementById('post-text').value.includes('The draft.')")
            page.fill("#post-text", "# Sample\n\nMy own words.\n")
            ep.path("post.md").write_text("# Sample\n\nThe draft, edited elsewhere.\n")
            with page.expect_response(lambda r: r.url.endswith("/post/save")) as refused:
                page.keyboard.press("Control+s")
            assert refused.value.status == 409
            page.wait_for_selector("#conflict-keep")
            assert "My own words." in page.text_content("#conflict-mine")
            assert "edited elsewhere" in page.text_content("#conflict-disk")
            assert page.input_value("#post-text") == "# Sample\n\nMy own words.\n"
            with page.expect_response(lambda r: r.url.endswith("/post/save") and r.status == 200):
                page.click("#conflict-keep")
            assert ep.path("post.md").read_text() == "# Sample\n\nMy own words.\n"
        finally:
            browser.close()


def test_a_stopped_server_shows_an_offline_banner_and_the_change_goes_through_on_retry(studio):
    sync_api = pytest.importorskip("playwright.sync_api")
    ws, base = studio
    ep = ws.episode("001-sample")
    with sync_api.sync_playwright() as p:
        browser = launch(p)
        try:
            page = open_episode(browser, base)
            data = page.evaluate("fetch('/api/episodes/001-sample').then(r => r.json())")
            line = data["lines"][4]
            before = ep.path("edit.md").read_text()
            page.route("**/*", lambda route: route.abort("connectionrefused"))  # the server is gone
            page.click(f".w[data-i='{line['first']}']")
            page.click(f".w[data-i='{line['last']}']", modifiers=["Shift"])
            page.keyboard.press("x")
            page.wait_for_selector("#offline:not([hidden])")
            assert "not answering" in page.text_content("#offline") and "Failed to fetch" not in page.text_content("body")
            assert ep.path("edit.md").read_text() == before
            page.unroute("**/*")
            with page.expect_response(lambda r: r.url.endswith("/cut") and r.status == 200):
                page.click("#offline-retry")
            page.wait_for_selector("#offline", state="hidden")
            page.wait_for_selector(f".w.cut[data-i='{line['last']}']")
        finally:
            browser.close()


def test_undo_redo_in_the_page_and_a_chapter_delete_asks_first(studio):
    """Ctrl+Z and Ctrl+Shift+Z (and the buttons) undo and redo a cut and a correction, edit.md and
    the transcript as they were; a chapter's × asks before deleting, and Undo brings it back."""
    import json

    sync_api = pytest.importorskip("playwright.sync_api")
    ws, base = studio
    ep = ws.episode("001-sample")
    edit_before = ep.path("edit.md").read_text()
    with sync_api.sync_playwright() as p:
        browser = launch(p)
        try:
            page = open_episode(browser, base)
            assert page.is_disabled("#undo") and page.is_disabled("#redo")
            data = page.evaluate("fetch('/api/episodes/001-sample').then(r => r.json())")
            line = data["lines"][4]
            page.click(f".w[data-i='{line['first']}']")
            page.click(f".w[data-i='{line['last']}']", modifiers=["Shift"])
            with page.expect_response(lambda r: r.url.endswith("/cut")):
                page.keyboard.press("x")
            page.wait_for_selector(f".w.cut[data-i='{line['last']}']")
            assert page.is_enabled("#undo")
            with page.expect_response(lambda r: r.url.endswith("/undo")):
                page.keyboard.press("Control+z")
            page.wait_for_selector(f".w.cut[data-i='{line['last']}']", state="detached")
            assert ep.path("edit.md").read_text() == edit_before
            with page.expect_response(lambda r: r.url.endswith("/redo")):
                page.keyboard.press("Control+Shift+Z")
            page.wait_for_selector(f".w.cut[data-i='{line['last']}']")
            assert ep.path("edit.md").read_text() != edit_before

            # a correction, undone with the button
            i = next(k for k, w in enumerate(data["words"]) if w[2].strip(",.?").lower() == "kaggle")
            page.dblclick(f".w[data-i='{i}']")
            page.fill(f".w[data-i='{i}'] input", "Kaggles")
            with page.expect_response(lambda r: r.url.endswith("/correct")):
                page.keyboard.press("Enter")
            page.wait_for_selector(f".w.fixed[data-i='{i}']")
            with page.expect_response(lambda r: r.url.endswith("/undo")):
                page.click("#undo")
            page.wait_for_function(f"document.querySelector(\".w[data-i='{i}']\").textContent === {json.dumps(data['words'][i][2])}")
            assert not page.is_visible(f".w.fixed[data-i='{i}']")
            assert "Kaggles" not in (ep.machine_dir / "transcript.raw.json").read_text()

            # a chapter's ×: asked first; declined, nothing changes; accepted, deleted; Undo, back
            page.once("dialog", lambda d: d.dismiss())
            page.click("button[data-delete='1']")
            page.wait_for_timeout(300)
            assert len(json.loads(ep.path("chapters.json").read_text())["chapters"]) == 2
            page.once("dialog", lambda d: d.accept())
            with page.expect_response(lambda r: r.url.endswith("/chapters")):
                page.click("button[data-delete='1']")
            assert len(json.loads(ep.path("chapters.json").read_text())["chapters"]) == 1
            with page.expect_response(lambda r: r.url.endswith("/undo")):
                page.click("#undo")
            page.wait_for_function("document.querySelectorAll('#chapters input').length === 2")
            assert len(json.loads(ep.path("chapters.json").read_text())["chapters"]) == 2
        finally:
            browser.close()


def test_one_selection_the_latest_and_the_keys(studio):
    """A clicked word is a selection (X cuts it); a range dragged on the waveform, then words
    selected in the text: X cuts the text's words, not the waveform's; Shift+X cuts too; "?" lists
    the keys."""
    sync_api = pytest.importorskip("playwright.sync_api")
    ws, base = studio
    with sync_api.sync_playwright() as p:
        browser = launch(p)
        try:
            page = open_episode(browser, base)
            data = page.evaluate("fetch('/api/episodes/001-sample').then(r => r.json())")
            word = next(i for i, w in enumerate(data["words"]) if not w[4] and data["lines"][w[3]]["first"] < i)
            page.click(f".w[data-i='{word}']")
            with page.expect_response(lambda r: r.url.endswith("/cut")) as one:
                page.keyboard.press("x")
            assert one.value.request.post_data_json["words"] == [word]
            page.wait_for_selector(f".w.cut[data-i='{word}']")

            # a range on the waveform (the first seconds), then words of line 6 in the text
            box = page.locator("#waveform").bounding_box()
            y = box["y"] + box["height"] / 2
            page.mouse.move(box["x"] + 5, y)
            page.mouse.down()
            page.mouse.move(box["x"] + 60, y, steps=5)
            page.mouse.up()
            page.wait_for_function("document.querySelectorAll('.w.sel').length > 0")
            line = data["lines"][6]
            page.click(f".w[data-i='{line['first']}']")
            page.click(f".w[data-i='{line['first'] + 1}']", modifiers=["Shift"])
            with page.expect_response(lambda r: r.url.endswith("/cut")) as latest:
                page.keyboard.press("Shift+X")
            assert latest.value.request.post_data_json["words"] == [line["first"], line["first"] + 1]
            placed = [part for part, _, _ in page.evaluate(REGIONS_JS)]
            assert all(part.split()[-1].split("-")[0] in ("spk", "cut", "chapter") for part in placed)  # the waveform's range is gone

            page.keyboard.press("?")
            assert page.is_visible("#keys") and "Ctrl+Z" in page.text_content("#keys")
            page.keyboard.press("Escape")
            assert page.is_hidden("#keys")
        finally:
            browser.close()


def test_a_kept_suggestion_shows_reviewed_and_all_pauses_are_kept_at_once(studio):
    sync_api = pytest.importorskip("playwright.sync_api")
    ws, base = studio
    ep = ws.episode("001-sample")
    with sync_api.sync_playwright() as p:
        browser = launch(p)
        try:
            page = open_episode(browser, base)
            item = page.locator("#suggestions li").filter(has=page.locator("button[data-word]")).first
            assert "reviewed" not in item.get_attribute("class")
            with page.expect_response(lambda r: r.url.endswith("/cut")):
                item.locator("button[data-cut='0']").click()
            page.wait_for_selector("#suggestions li.kept.reviewed")
            assert page.text_content("#suggestions li.reviewed .verdict") == "✓ kept"
            assert "1 of" in page.text_content("#bulk")
            with page.expect_response(lambda r: r.url.endswith("/marker")):
                page.click("#bulk button[data-bulk='pauses'][data-cut='0']")
            page.wait_for_function("[...document.querySelectorAll('#suggestions li')].filter(l => l.querySelector('[data-marker]'))"
                                   ".every(l => l.classList.contains('kept') && l.classList.contains('reviewed'))")
            rows = [r for r in ep.path("edit.md").read_text().splitlines() if "[pause" in r or "[dead air" in r]
            assert rows and not any(r.startswith("~~") for r in rows)
        finally:
            browser.close()


def long_episode(ws: Workspace, words: int = 5000):
    """An episode of ``words`` words (two speakers, sentences of 12, a pause after every tenth) and no real audio: the page is
    opened with the audio refused, the waveform has the transcript's duration."""
    import numpy as np

    from chaitime import fsutil
    from chaitime.edit.markdown import write_edit_md
    from chaitime.transcript.model import Segment, Transcript, Word
    from chaitime.workspace import Episode, EpisodeMeta

    ep = Episode(ws.episodes_dir / "002-long")
    ep.machine_dir.mkdir(parents=True)
    t, segments = 1.0, []
    for n in range(words // 12):
        who = f"Speaker {n % 2 + 1}"
        ws_ = tuple(Word(round(t + k * 0.3, 3), round(t + k * 0.3 + 0.25, 3), f" word{n * 12 + k}" + ("." if k == 11 else ""), 0.9, who)
                    for k in range(12))
        segments.append(Segment(ws_[0].start_s, ws_[-1].end_s, "".join(w.text for w in ws_), ws_, who))
        t += 12 * 0.3 + (2.0 if n % 10 == 9 else 0.6)  # a pause (a suggested cut) every tenth sentence
    transcript = Transcript(tuple(segments), "en", t + 1.0)
    fsutil.write_text(ep.machine_dir / "transcript.raw.json", transcript.to_json())
    fsutil.write_text(ep.path("transcript.json"), transcript.to_json())
    fsutil.write_text(ep.path("edit.md"), write_edit_md(transcript))
    (ep.machine_dir / "master.flac").write_bytes(b"not audio: the page is opened without it")
    np.zeros(16000, dtype="<i2").tofile(ep.machine_dir / "speech.s16")
    ep.write_meta(EpisodeMeta(title="Long", guid="g-long", date="2024-06-02", number=2))
    return ep, transcript


def test_a_long_transcript_draws_only_what_is_near_the_view_and_stays_in_step(studio):
    """5,000 words: only the blocks near the view are in the page; scrolling draws the rest; a cut
    in a block drawn later strikes the words in edit.md and the page; a suggestion clicked far
    down brings its word into view; the overlays cover the whole episode."""
    sync_api = pytest.importorskip("playwright.sync_api")
    ws, base = studio
    ep, transcript = long_episode(ws)
    with sync_api.sync_playwright() as p:
        browser = launch(p)
        try:
            page = open_episode(browser, base, "002-long", audio=False)
            data = page.evaluate("fetch('/api/episodes/002-long').then(r => r.json())")
            total = len(data["words"])
            drawn = page.evaluate("document.querySelectorAll('#transcript .w').length")
            assert total >= 4900 and drawn < total / 3, (drawn, total)
            placed = {part.split()[-1] for part, _, _ in page.evaluate(REGIONS_JS)}
            assert {f"spk-{i}" for i in range(len(data["lines"]))} <= placed
            # scroll to the end: the last words are drawn, the first ones let go
            page.evaluate("document.getElementById('transcript').scrollTop = 1e9")
            last = total - 1
            page.wait_for_selector(f".w[data-i='{last}']", state="attached")
            page.wait_for_selector(".w[data-i='0']", state="detached")
            # cut a sentence down there
            line = data["lines"][-3]
            page.click(f".w[data-i='{line['first']}']")
            page.click(f".w[data-i='{line['last']}']", modifiers=["Shift"])
            with page.expect_response(lambda r: r.url.endswith("/cut")) as cut:
                page.keyboard.press("x")
            assert set(range(line["first"], line["last"] + 1)) <= set(cut.value.json()["removed"])
            page.wait_for_selector(f".w.cut[data-i='{line['last']}']")
            struck = [r for r in ep.path("edit.md").read_text().splitlines() if r.startswith("[") and "**" in r and "~~" in r]
            assert len(struck) == 1 and f"word{line['last']}." in struck[0]
            # back to the top, then a suggestion in the middle (a pause) brings its words into view
            page.evaluate("document.getElementById('transcript').scrollTop = 0")
            middle = [m for m in data["markers"] if m["start_s"] > data["duration_s"] / 2][0]
            page.click(f"#suggestions span[data-seek='{middle['start_s']}']")
            near = next(i for i, w in enumerate(data["words"]) if w[0] >= middle["start_s"]) - 1
            page.wait_for_selector(f".w[data-i='{near}']", state="attached")
            assert page.evaluate(f"""(() => {{ const r = document.querySelector(".w[data-i='{near}']").getBoundingClientRect(),
                b = document.getElementById('transcript').getBoundingClientRect(); return r.top >= b.top - 40 && r.bottom <= b.bottom + 40; }})()""")
            assert page.evaluate("document.querySelectorAll('#transcript .w').length") < total / 2
        finally:
            browser.close()
