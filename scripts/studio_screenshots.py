"""Screenshots of chaitime studio at desktop and phone width, for docs/.

    cd a-workspace-with-an-episode && PYTHONPATH=src python scripts/studio_screenshots.py [EPISODE] --out docs/

Serves the workspace (here) with the studio on 127.0.0.1, opens the episode list and the episode
page in headless Chromium (Playwright, Debian's chromium), plays a moment so a word is current,
and writes studio-list-desktop.png, studio-episode-desktop.png and studio-episode-phone.png.
"""

from __future__ import annotations

import argparse
import shutil
import threading
import time
from pathlib import Path

SIZES = {"desktop": (1280, 860), "phone": (390, 844)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("episode", nargs="?", help="episode slug (default: the first)")
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args()
    import uvicorn
    from playwright.sync_api import sync_playwright

    from chaitime.studio.app import make_app
    from chaitime.studio.server import _bind
    from chaitime.workspace import Workspace

    ws = Workspace.open(Path.cwd())
    slug = args.episode or ws.episodes()[0].slug
    token = "screenshots"
    sock = _bind(0)
    server = uvicorn.Server(uvicorn.Config(make_app(ws.root, token), log_level="warning", lifespan="off"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox", "--mute-audio"])
        for name, (width, height) in SIZES.items():
            page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1)
            page.goto(f"{base}/?token={token}")
            page.wait_for_selector("#episodes a")
            if name == "desktop":
                page.screenshot(path=str(args.out / "studio-list-desktop.png"))
            page.goto(f"{base}/episodes/{slug}")
            page.wait_for_function("document.querySelectorAll('#transcript .w').length > 0 && document.querySelector('#waveform div')")
            page.evaluate("() => { const w = document.querySelectorAll('#transcript .w'); w[Math.min(12, w.length - 1)].click(); }")
            page.wait_for_timeout(400)
            page.screenshot(path=str(args.out / f"studio-episode-{name}.png"), full_page=name == "phone")
            page.close()
        browser.close()
    server.should_exit = True
    print(f"wrote {', '.join(sorted(p.name for p in args.out.glob('studio-*.png')))} in {args.out}")


if __name__ == "__main__":
    main()
