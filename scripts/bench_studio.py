"""Studio speed on a 60-minute interview: episode page load and a word edit's save.

The transcript is synthesized (two speakers, ~9,000 words, sentences of 6-20 words with short
pauses); the audio is 60 minutes of ffmpeg noise (the page's speed doesn't depend on what is said).
Figures are side by side with the budgets (page usable < 2 s, word edit saved < 100 ms; in the page:
a cut shown < 150 ms, a correction shown < 250 ms, frames while playing < 33 ms at the 95th
percentile) and with the floor each one stands on (the JSON the page needs, one atomic write of edit.md).

    PYTHONPATH=src python scripts/bench_studio.py [--minutes 60] [--runs 15]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from chaitime import config, fsutil
from chaitime.edit.markdown import write_edit_md
from chaitime.media import ffmpeg
from chaitime.transcript.model import Segment, Transcript, Word
from chaitime.workspace import Episode, EpisodeMeta

WORDS = ("so the model we trained on the data set was really about how people talk when they are not "
         "reading anything and that turned out to matter more than we thought at first").split()


def synth_transcript(minutes: float, seed: int = 7) -> Transcript:
    rng = random.Random(seed)
    t, segments, who = 0.8, [], 0
    end = minutes * 60 - 1.0
    while t < end:
        n = rng.randint(6, 20)
        words = []
        for k in range(n):
            d = rng.uniform(0.18, 0.42)
            text = rng.choice(WORDS) + ("." if k == n - 1 else "")
            words.append(Word(round(t, 3), round(t + d, 3), " " + (text.capitalize() if k == 0 else text), 0.9, f"Speaker {who + 1}"))
            t += d + rng.uniform(0.02, 0.12)
        segments.append(Segment(words[0].start_s, words[-1].end_s, "".join(w.text for w in words), tuple(words), f"Speaker {who + 1}"))
        t += rng.uniform(0.3, 2.2)
        who = who if rng.random() < 0.6 else 1 - who
    return Transcript(tuple(segments), "en", minutes * 60)


def build(root: Path, minutes: float) -> Episode:
    config.init(root)
    ep = Episode(root / "episodes" / "001-long-interview")
    ep.machine_dir.mkdir(parents=True)
    ffmpeg.run(["-f", "lavfi", "-i", f"anoisesrc=d={minutes * 60}:c=pink:r=16000:a=0.1", "-ac", "1", "-c:a", "flac",
                str(ep.machine_dir / "master.flac")], what="bench audio")
    transcript = synth_transcript(minutes)
    fsutil.write_text(ep.machine_dir / "transcript.raw.json", transcript.to_json())
    fsutil.write_text(ep.path("transcript.json"), transcript.to_json())
    fsutil.write_text(ep.path("edit.md"), write_edit_md(transcript))
    ep.write_meta(EpisodeMeta(title="A long interview", guid="bench-1", date="2024-06-01", number=1, guests=("Ada",)))
    return ep


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def row(name: str, value: float, budget: float | None, floor: float | None = None) -> None:
    parts = [f"{name:<42}", ms(value)]
    parts.append(f"budget {ms(budget)}  ({value / budget:5.2f} of it)" if budget else " " * 32)
    if floor:
        parts.append(f"floor {ms(floor)}  (x{value / floor:.1f})")
    print("  ".join(parts))


def timed(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    from starlette.testclient import TestClient

    from chaitime.studio.app import make_app
    from chaitime.studio.episodes import Files, editor

    tmp = Path(tempfile.mkdtemp(prefix="bench-studio-"))
    try:
        t0 = time.perf_counter()
        ep = build(tmp / "ws", args.minutes)
        transcript = Files(ep).transcript()
        print(f"{args.minutes:.0f}-minute episode: {len(transcript.words)} words, {len(transcript.segments)} segments "
              f"(built in {time.perf_counter() - t0:.1f} s)\n")
        token = "bench"
        client = TestClient(make_app(tmp / "ws", token), base_url="http://127.0.0.1")
        client.cookies.set("chaitime_studio", token)
        client.headers["X-Chaitime-Token"] = token
        slug = ep.slug
        api = f"/api/episodes/{slug}"

        t0 = time.perf_counter()
        assert client.get(f"{api}/peaks").status_code == 200
        cold_peaks = time.perf_counter() - t0
        warm_peaks = timed(lambda: client.get(f"{api}/peaks"), args.runs)
        payload = timed(lambda: client.get(api), args.runs)
        from chaitime.workspace import Workspace

        ws = Workspace.open(tmp / "ws")
        json_floor = timed(lambda: editor(ws, ep), args.runs)
        size = len(client.get(api).content) + len(client.get(f"{api}/peaks").content)
        print("server side (in process, median of", args.runs, "runs)")
        row("editor JSON (words, lines, cuts) over HTTP", payload, None, json_floor)
        row("waveform peaks, first time (decode + cache)", cold_peaks, None)
        row("waveform peaks, cached", warm_peaks, None)
        print(f"{'  data the page loads':<42}  {size / 1e6:7.2f} MB\n")

        version = {"v": client.get(api).json()["versions"]}
        words = iter(range(0, 10**6, 37))

        def cut_one() -> None:
            r = client.post(f"{api}/cut", json={"words": [next(words)], "cut": True, "version": version["v"]["edit"]})
            assert r.status_code == 200, r.text
            version["v"]["edit"] = r.json()["versions"]["edit"]

        def correct_one() -> None:
            r = client.post(f"{api}/correct", json={"word": next(words), "text": "corrected", "version": version["v"]["transcript"]})
            assert r.status_code == 200, r.text
            version["v"]["transcript"] = r.json()["versions"]["transcript"]

        def correct_settled(runs: int) -> float:
            """Each save timed alone: the caption formats it queues are written (untimed) before the next,
            as they are between a host's corrections."""
            from chaitime.studio.episodes import settle

            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                correct_one()
                times.append(time.perf_counter() - t0)
                settle()
            return statistics.median(times)

        text = ep.path("edit.md").read_text()
        write_floor = timed(lambda: fsutil.write_text(ep.path("edit.md.floor"), text), args.runs)
        print("word edits (median of", args.runs, "saves, each checked, written atomically, read back)")
        row("cut one word (edit.md)", timed(cut_one, args.runs), 0.100, write_floor)
        row("correct one word (transcript.raw + .json)", correct_settled(args.runs), 0.100, write_floor)
        t0 = time.perf_counter()
        from chaitime.studio.episodes import settle

        correct_one()
        settle()
        row("  ... and its VTT/SRT/txt/podcast.json after", time.perf_counter() - t0, None, write_floor)
        print()
        browser_load(tmp / "ws", slug, token, args.runs)
    finally:
        from chaitime.studio.episodes import settle

        settle()  # the caption and draft refreshes the corrections queued, before their folder goes
        shutil.rmtree(tmp, ignore_errors=True)


def browser_load(root: Path, slug: str, token: str, runs: int) -> None:
    """The page in headless Chromium, measured from the page's side: navigation to a usable page
    (words and waveform drawn, the main thread free), a cut (X pressed to the struck words painted),
    a correction (Enter to the new word painted) and the frames while playing (the interval between
    animation frames, 95th percentile)."""
    chromium = next((shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        chromium = None
    if chromium is None:
        print("browser: chromium or playwright missing, the page is not measured")
        return
    import uvicorn

    from chaitime.studio.app import make_app
    from chaitime.studio.server import _bind

    sock = _bind(0)
    server = uvicorn.Server(uvicorn.Config(make_app(root, token), log_level="warning", lifespan="off"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    # usable: words shown and the waveform drawn, the main thread free again (the check runs in an
    # animation frame); then the waveform's overlays (speaker bands, cuts, chapters) placed
    ready = "document.querySelectorAll('#transcript .w').length > 0 && document.querySelector('#waveform div') !== null"
    overlays = "!!document.querySelector('#waveform > div')?.shadowRoot?.querySelector('[part~=\"region\"]')"
    times, placed = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True,
                                    args=["--no-sandbox", "--mute-audio", "--autoplay-policy=no-user-gesture-required"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{base}/?token={token}")
        for _ in range(max(3, runs // 3)):
            t0 = time.perf_counter()
            page.goto(f"{base}/episodes/{slug}")
            page.wait_for_function(ready, timeout=120000, polling="raf")
            times.append(time.perf_counter() - t0)
            try:
                page.wait_for_function(overlays, timeout=30000, polling="raf")
                placed.append(time.perf_counter() - t0)
            except Exception:  # noqa: BLE001 - never placed: reported as such
                placed.append(float("inf"))
        words = page.evaluate("document.querySelectorAll('#transcript .w').length")
        page.wait_for_function("document.getElementById('player').readyState >= 1", timeout=60000)
        page.wait_for_timeout(1500)  # the waveform's overlays settle
        cuts = [page.evaluate(CUT_JS, k) for k in range(max(3, runs // 2))]
        fixes = [page.evaluate(CORRECT_JS, k) for k in range(max(3, runs // 2))]
        frames = page.evaluate(FRAMES_JS, 5000)
        browser.close()
    server.should_exit = True
    print(f"browser (headless Chromium, measured in the page; {words} words in the page at first)")
    row("episode page usable (words + waveform)", statistics.median(times), 2.0)
    shown = [t for t in placed if t != float("inf")]
    if len(shown) == len(placed):
        row("  ... and the waveform's overlays placed", statistics.median(placed), 2.0)
    else:
        print(f"  ... the waveform's overlays placed in {len(shown)} of {len(placed)} loads (the others: none within 30 s)")
    row("cut shown (X to struck words painted)", statistics.median(cuts) / 1000, 0.150)
    row("correction shown (Enter to the word painted)", statistics.median(fixes) / 1000, 0.250)
    frames.sort()
    p95 = frames[min(len(frames) - 1, int(0.95 * len(frames)))] if frames else float("nan")
    row(f"frame while playing, 95th pct ({len(frames)} frames)", p95 / 1000, 0.033)


# In the page: select a line shown and not cut yet (click its first word, shift-click its last),
# press X, and wait for the struck words to be painted (the frame after the change). Milliseconds.
CUT_JS = """async (k) => {
  const lines = [...document.querySelectorAll('#transcript .line')].filter(l => {
    const r = l.getBoundingClientRect(); return r.height > 0 && !l.querySelector('.w.cut');
  });
  const line = lines[Math.min(lines.length - 1, 2 + k)];
  const ws = line.querySelectorAll('.w'), a = ws[0], b = ws[ws.length - 1];
  const click = (el, shift) => el.dispatchEvent(new MouseEvent('click', {bubbles: true, shiftKey: !!shift}));
  click(a); click(b, true);
  await new Promise(r => requestAnimationFrame(() => r()));
  const t0 = performance.now();
  document.body.dispatchEvent(new KeyboardEvent('keydown', {key: 'x', bubbles: true}));
  const sel = '.w[data-i="' + b.dataset.i + '"]';
  return await new Promise(done => {
    const check = () => {
      const el = document.querySelector(sel);
      if (el && el.classList.contains('cut')) requestAnimationFrame(() => done(performance.now() - t0));
      else requestAnimationFrame(check);
    };
    check();
  });
}"""

# In the page: double-click a word in the middle of a line shown, type the fix, press Enter, and
# wait for the corrected word to be painted. Milliseconds.
CORRECT_JS = """async (k) => {
  const lines = [...document.querySelectorAll('#transcript .line')].filter(l => l.getBoundingClientRect().height > 0);
  const line = lines[Math.min(lines.length - 1, 1 + k)];
  const ws = line.querySelectorAll('.w'), w = ws[Math.floor(ws.length / 2)];
  const i = w.dataset.i, text = 'fixed' + k;
  w.dispatchEvent(new MouseEvent('dblclick', {bubbles: true}));
  const input = document.querySelector('.w[data-i="' + i + '"] input');
  input.value = text;
  const t0 = performance.now();
  input.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}));
  return await new Promise(done => {
    const check = () => {
      const el = document.querySelector('.w[data-i="' + i + '"]');
      if (el && !el.querySelector('input') && el.textContent.indexOf(text) >= 0 && el.classList.contains('fixed'))
        requestAnimationFrame(() => done(performance.now() - t0));
      else requestAnimationFrame(check);
    };
    check();
  });
}"""

# In the page: play from 10 minutes in for ``ms`` and list the intervals between animation frames.
FRAMES_JS = """async (ms) => {
  const player = document.getElementById('player');
  player.currentTime = Math.min(600, (player.duration || 1200) / 2);
  await new Promise(r => player.addEventListener('seeked', r, {once: true}));
  await player.play();
  const gaps = [];
  let last = performance.now();
  const end = last + ms;
  await new Promise(done => {
    const tick = (now) => { gaps.push(now - last); last = now; if (now < end) requestAnimationFrame(tick); else done(); };
    requestAnimationFrame(tick);
  });
  player.pause();
  return gaps.slice(2);
}"""


if __name__ == "__main__":
    sys.exit(main())
