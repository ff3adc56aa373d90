"""The episode page in headless Chromium: the transcript is there, clicking a line seeks the
player and highlights that line, and playback time moves the highlight. Skips without chromium
(Debian: `apt-get install -y chromium`)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading

import pytest

from chaitime.publish.serve import make_server
from chaitime.publish.site import publish_site
from test_publish import make_workspace

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")

# Appended to a copy of the episode page: once the player knows its duration, click the third
# transcript line, then simulate playback reaching 2.5 s, and write what the page did into the DOM.
PROBE = """<script>
(function () {
  var player = document.getElementById("player");
  function report(result) {
    var pre = document.createElement("pre");
    pre.id = "probe-result";
    pre.textContent = JSON.stringify(result);
    document.body.appendChild(pre);
  }
  function current() { var c = document.querySelector(".cue.current"); return c ? c.getAttribute("data-start") : null; }
  function run() {
    var cues = document.querySelectorAll("#transcript .cue");
    var texts = Array.prototype.map.call(cues, function (c) { return c.textContent; });
    cues[2].click();
    var clicked = {time: player.currentTime, current: current(), hash: location.hash};
    player.currentTime = 2.5;
    player.dispatchEvent(new Event("timeupdate"));
    report({texts: texts, clicked: clicked, playing: {time: player.currentTime, current: current()},
            chapter: (document.querySelector(".chapters a[data-start='5']") || {}).textContent});
  }
  if (player.readyState >= 1) run(); else player.addEventListener("loadedmetadata", run, {once: true});
  setTimeout(function () { if (!document.getElementById("probe-result")) report({timeout: true, ready: player.readyState}); }, 15000);
})();
</script>
</body>"""


def test_episode_page_transcript_seeks_the_player(tmp_path):
    ws = make_workspace(tmp_path / "show")
    out = tmp_path / "public"
    publish_site(ws, out)
    folder = out / "episodes" / "001-first-brew"
    (folder / "probe.html").write_text((folder / "index.html").read_text(encoding="utf-8").replace("</body>", PROBE), encoding="utf-8")
    server = make_server(out, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/episodes/001-first-brew/probe.html"
        dom = dump_dom(url, tmp_path / "profile")
    finally:
        server.shutdown()
        server.server_close()
    found = re.search(r'<pre id="probe-result">(.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    result = json.loads(found.group(1).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"'))
    assert "timeout" not in result, result
    assert result["texts"] == ["0:00Priya HostWelcome to the show.", "0:02Ada GuestThanks, glad to be here.",
                               "0:05Priya HostLet's talk about tea <and> code."]
    assert result["clicked"] == {"time": 5, "current": "5", "hash": "#t=5"}
    assert result["playing"] == {"time": 2.5, "current": "2"}
    assert result["chapter"] == "0:05Tea & code"


def dump_dom(url: str, profile) -> str:
    """The page's DOM after its scripts ran, from headless Chromium (offline, fresh profile)."""
    argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--mute-audio", f"--user-data-dir={profile}",
            "--virtual-time-budget=20000", "--dump-dom", url]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout
