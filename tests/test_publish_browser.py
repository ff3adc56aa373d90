"""The published pages in headless Chromium, driven by Playwright: transcript lines seek the player
and the box keeps the current line in view, speed, skip and share-at-time, search across
episodes, and axe-core on the index, an episode page and the embed page (0 violations).

Playwright drives the system's Chromium (Debian: `apt-get install -y chromium`); axe-core comes
from npm (`npm install --no-save axe-core`, as .ci/run does; or CHAITIME_AXE_JS=path/to/axe.min.js).
Each test skips cleanly when what it needs is absent."""

from __future__ import annotations

import json
import os
import shutil
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from chaitime.publish.serve import make_server
from chaitime.publish.site import publish_site
from chaitime.transcript.formats import WRITERS
from chaitime.transcript.model import Segment, Transcript
from chaitime.workspace import Workspace
from test_publish import make_workspace, synthetic_mp3, transcript

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install '.[test]')", exc_type=ImportError)
pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")]  # slow: drives a real browser over rendered media
AXE = next((p for p in (os.environ.get("CHAITIME_AXE_JS"), Path(__file__).parent.parent / "node_modules/axe-core/axe.min.js")
            if p and Path(p).is_file()), None)
EP1, EP2 = "001-first-brew", "002-second-cup"


def long_transcript() -> Transcript:
    """Sixty lines: more than the transcript box shows at once."""
    return Transcript(tuple(Segment(i * 5.0, i * 5.0 + 4.5, f"Line {i} about tea and code.", (), "SPEAKER_00" if i % 2 else "SPEAKER_01")
                            for i in range(60)), language="en", duration_s=300.0)


def write_transcript(ws: Workspace, slug: str, t: Transcript) -> None:
    ep = ws.episode(slug)
    ep.path("transcript.json").write_text(t.to_json(), encoding="utf-8")
    ep.path("transcript.vtt").write_text(WRITERS["vtt"](t), encoding="utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Two published episodes (posts by the real drafter); the first with a long transcript, the
    second with a word ("oolong") only it says. Served on a free port."""
    root = tmp_path_factory.mktemp("browser")
    ws = make_workspace(root / "show")
    write_transcript(ws, EP1, long_transcript())
    synthetic_mp3(ws.episode(EP1).path("audio.mp3"), 11_500)  # 300 s: every line can be played to
    t = transcript()
    write_transcript(ws, EP2, replace(t, segments=(*t.segments[:2], replace(t.segments[2], text="We brew oolong at noon."))))
    publish_site(ws, root / "public")
    server = make_server(root / "public", port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--mute-audio", "--disable-gpu"])
        except sync_api.Error as exc:  # a chromium Playwright can't drive (too old, no display libraries)
            pytest.skip(f"chromium at {CHROMIUM} could not be started by Playwright: {str(exc).splitlines()[0]}")
        yield b
        b.close()


@pytest.fixture
def page(browser, site):
    context = browser.new_context(base_url=site, permissions=["clipboard-read", "clipboard-write"])
    pg = context.new_page()
    yield pg
    context.close()


def test_transcript_lines_seek_and_the_box_follows_the_player(page):
    page.goto(f"/episodes/{EP1}/")
    # A click seeks and asks to play; playing would move currentTime on by wall-clock time, so
    # the request is answered without playing (what is tested is the seek, not the decoder).
    page.evaluate("HTMLMediaElement.prototype.play = function () { return Promise.resolve(); }")
    cues = page.locator("#transcript .cue")
    assert cues.count() == 60
    cues.nth(2).click()
    assert page.evaluate("document.getElementById('player').currentTime") == 10
    assert page.evaluate("location.hash") == "#t=10"
    assert page.locator(".cue.current").get_attribute("data-start") == "10"
    # Playback far down the transcript: the box scrolls so the line is inside it; the page doesn't move.
    before = page.evaluate("window.scrollY")
    page.evaluate("(() => { const p = document.getElementById('player'); p.currentTime = 251; p.dispatchEvent(new Event('timeupdate')); })()")
    assert page.locator(".cue.current").get_attribute("data-start") == "250"
    inside = page.evaluate("""(() => {
        const box = document.getElementById('transcript').getBoundingClientRect();
        const cue = document.querySelector('.cue.current').getBoundingClientRect();
        return cue.top >= box.top && cue.bottom <= box.bottom;
    })()""")
    assert inside and page.evaluate("document.getElementById('transcript').scrollTop") > 0
    assert page.evaluate("window.scrollY") == before
    assert page.locator("#now-chapter").inner_text() == "Now playing: Tea & code"


def test_speed_skip_and_share_at_time(page, site):
    page.goto(f"/episodes/{EP1}/")
    assert page.locator(".controls").is_visible()  # shown once the script runs
    page.get_by_role("button", name="1.5×").click()
    assert page.evaluate("document.getElementById('player').playbackRate") == 1.5
    assert page.get_by_role("button", name="1.5×").get_attribute("aria-pressed") == "true"
    page.evaluate("document.getElementById('player').currentTime = 100")
    page.get_by_role("button", name="Back 15 s").click()
    assert page.evaluate("document.getElementById('player').currentTime") == 85
    page.get_by_role("button", name="Copy link at this time").click()
    link = f"{site}/episodes/{EP1}/#t=85"
    page.wait_for_function("document.getElementById('share-link').textContent.length > 0")
    assert page.locator("#share-link").inner_text() == link
    assert page.evaluate("navigator.clipboard.readText()") == link


def test_search_finds_a_word_from_another_episode(page):
    page.goto(f"/episodes/{EP1}/")
    page.fill("#search", "oolong")
    page.wait_for_selector("#search-results li")
    result = page.locator("#search-results li a").first
    assert result.get_attribute("href") == f"../../episodes/{EP2}/#t=5"
    assert "Second cup at 0:05" in result.inner_text()
    assert page.locator("#transcript .cue:not([hidden])").count() == 0  # no line here says it
    page.fill("#search", "line 42")
    page.wait_for_function("document.getElementById('search-status').textContent.startsWith('1 lines')")
    # From the index, across every episode.
    page.goto("/")
    page.fill("#search", "oolong")
    page.wait_for_selector("#search-results li")
    assert page.locator("#search-results li a").first.get_attribute("href") == f"episodes/{EP2}/#t=5"


def test_time_links_work_without_javascript(browser, site):
    context = browser.new_context(base_url=site, java_script_enabled=False)
    pg = context.new_page()
    pg.goto(f"/episodes/{EP2}/")
    assert pg.locator(".chapters a").nth(1).get_attribute("href") == "audio.mp3#t=5"
    assert not pg.locator(".controls").is_visible()  # what needs a script stays hidden
    context.close()


@pytest.mark.skipif(AXE is None, reason="axe-core is not installed (npm install --no-save axe-core)")
@pytest.mark.parametrize("path", ["/", f"/episodes/{EP1}/", f"/embed/{EP1}/"], ids=["index", "episode", "embed"])
def test_axe_finds_no_violations(page, path):
    page.goto(path)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    assert len(result["passes"]) >= 10  # axe really looked (landmarks, names, contrast...)
    violations = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]]
    assert violations == [], json.dumps(violations, indent=1)
