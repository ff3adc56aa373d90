"""The 16:9 poster of the show and of each episode: the square cover on the left, the title beside
it. YouTube's RSS import and its uploads want a 16:9 thumbnail (1280x720, under 2 MB), and the
feed offers it as <podcast:image purpose="social"> and <media:thumbnail>. Made with ffmpeg from the
cover (PNG or JPEG) and cached in the workspace's .chaitime/posters/ by content."""

from __future__ import annotations

import tempfile
from pathlib import Path

from .. import fsutil
from ..media import ffmpeg
from .cover import text_canvas
from .urls import POSTER_SIZE

WIDTH, HEIGHT = POSTER_SIZE
VERSION = 1  # bump when the picture for the same cover and titles changes
_ART = 600  # the cover's side, 60 px in from the top left


def poster_bytes(cover: Path, title: str, subtitle: str, cache: Path) -> bytes:
    """The JPEG poster of ``cover`` with ``title`` (large) and ``subtitle`` (the show, small)."""
    key = fsutil.text_hash(fsutil.file_hash(cover), title, subtitle, WIDTH, HEIGHT, VERSION)
    cached = Path(cache) / f"{key}.jpg"
    if cached.is_file():
        return cached.read_bytes()
    right = _ART + 120
    texts = [(title, (right, 70, WIDTH - right - 50, 440), 5)]
    if subtitle:
        texts.append((subtitle, (right, 540, WIDTH - right - 50, 110), 2))
    with tempfile.TemporaryDirectory(prefix="chaitime-poster-") as tmp:
        canvas = Path(tmp) / "canvas.png"
        canvas.write_bytes(text_canvas(WIDTH, HEIGHT, texts))
        with fsutil.atomic_path(cached) as out:
            ffmpeg.run(["-y", "-v", "error", "-i", str(canvas), "-i", str(cover), "-filter_complex",
                        f"[1:v]scale={_ART}:{_ART}:flags=lanczos,setsar=1[art];[0:v][art]overlay=60:60,format=yuvj420p",
                        "-frames:v", "1", "-q:v", "3", "-f", "mjpeg", str(out)], what="drawing the 16:9 poster")
    return cached.read_bytes()
