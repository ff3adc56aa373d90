"""`chaitime serve`: preview the built site over HTTP on localhost.

Podcast apps probe media with HEAD and fetch it in byte ranges (Apple rejects servers that
refuse either), so this server answers both: Range -> 206 with Content-Range, Accept-Ranges on
every file, 416 for a range past the end; a Range header it can't parse is ignored (RFC 9110:
the whole file, 200). It serves the site's files only: no folder listings, nothing whose name
starts with a dot (the site's .chaitime-site.json manifest, a host's .git).
"""

from __future__ import annotations

import email.utils
import http.server
import os
import re
from functools import partial
from pathlib import Path

from ..errors import InputError
from .mediatypes import content_type

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with HEAD, single byte-range support and CORS headers."""

    def guess_type(self, path):
        return content_type(Path(str(path)).name, Path(str(path)))

    def end_headers(self) -> None:
        self.send_header("Accept-Ranges", "bytes")
        # Browser-based podcast players fetch transcripts and chapters from other origins
        # (podcast namespace, "transcript": serve them with CORS); the site is public anyway.
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Expose-Headers", "Content-Length, Content-Range, Accept-Ranges")
        super().end_headers()

    def do_OPTIONS(self) -> None:
        """A CORS preflight: any origin may GET and HEAD, with a Range header."""
        self.send_response(204)
        self.send_header("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "Range")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def send_head(self):
        path = Path(self.translate_path(self.path))
        root = Path(self.directory)
        hidden = any(part.startswith(".") for part in path.relative_to(root).parts) if path.is_relative_to(root) else True
        if hidden or (path.is_dir() and not (path / "index.html").is_file()):
            self.send_error(404, "File not found")  # no listings, no dot files
            return None
        header = self.headers.get("Range")
        if not header or not path.is_file() or not _RANGE.match(header.strip()):
            return super().send_head()  # no Range, or one we can't parse: the whole file
        return self._send_range(path, header)

    def list_directory(self, path):  # reached only for a folder without index.html
        self.send_error(404, "File not found")
        return None

    def _send_range(self, path: Path, header: str):
        size = path.stat().st_size
        span = parse_range(header, size)
        if span is None:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        start, end = span
        fh = open(path, "rb")
        fh.seek(start)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Last-Modified", email.utils.formatdate(path.stat().st_mtime, usegmt=True))
        self.end_headers()
        return _Limited(fh, end - start + 1)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        if self.server.verbose:
            super().log_message(format, *args)


class _Limited:
    """A file object that reads at most ``remaining`` bytes (what copyfile sends for a range)."""

    def __init__(self, fh, remaining: int) -> None:
        self.fh, self.remaining = fh, remaining

    def read(self, n: int = -1) -> bytes:
        n = self.remaining if n < 0 else min(n, self.remaining)
        data = self.fh.read(n)
        self.remaining -= len(data)
        return data

    def close(self) -> None:
        self.fh.close()


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """'bytes=a-b', 'bytes=a-' or 'bytes=-n' -> inclusive (start, end); None if unsatisfiable."""
    m = _RANGE.match(header.strip())
    if not m or (not m.group(1) and not m.group(2)) or size == 0:
        return None
    if not m.group(1):
        length = int(m.group(2))
        return (max(0, size - length), size - 1) if length else None
    start = int(m.group(1))
    end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
    return (start, end) if start <= end else None


def make_server(folder: Path, port: int = 8000, host: str = "127.0.0.1", verbose: bool = False) -> http.server.ThreadingHTTPServer:
    """A server for ``folder`` (not yet serving); port 0 picks a free one."""
    folder = Path(folder)
    if not 0 <= port <= 65535:
        raise InputError(f"--port {port}: ports are 0 to 65535 (1024 and up without root). Pick one like --port 8000.")
    if not (folder / "index.html").is_file():
        raise InputError(f"{folder}: no index.html. Build the site first with `chaitime publish --out {folder}`.")
    try:
        server = http.server.ThreadingHTTPServer((host, port), partial(SiteHandler, directory=os.fspath(folder)))
    except OSError as exc:
        raise InputError(f"{host}:{port}: can't listen ({exc.strerror}). Pick another port with --port.") from exc
    server.verbose = verbose
    return server
