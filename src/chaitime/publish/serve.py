"""`chaitime serve`: preview the built site over HTTP on localhost.

Podcast apps probe media with HEAD and fetch it in byte ranges (Apple rejects servers that
refuse either), so this server answers both: Range -> 206 with Content-Range, Accept-Ranges on
every file, 416 for a range that starts past the end; a Range header it can't parse, or one
whose last byte comes before its first, is ignored (RFC 9110: the whole file, 200). The unit
is case-insensitive ("BYTES=0-1"). It serves the site's files only: no folder listings,
nothing whose name starts with a dot (the site's .chaitime-site.json manifest, a host's .git).
A path no file can have is refused before the disk is asked: a NUL or bytes that aren't UTF-8
are 400, a name over 255 bytes or a path over 4096 is 414; a client that hangs up mid-file is
not an error.
"""

from __future__ import annotations

import email.utils
import errno
import http.server
import os
import re
import sys
import urllib.parse
from functools import partial
from pathlib import Path

from ..errors import InputError
from .mediatypes import content_type

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$", re.IGNORECASE | re.ASCII)
NAME_MAX, PATH_MAX = 255, 4096  # bytes, as Linux and macOS count them


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
        refused = bad_path(self.path)
        if refused:
            self.send_error(*refused)
            return None
        try:
            return self._send_file()
        except OSError as exc:  # a name the disk refuses (too long once under the folder, a loop): no such file
            if exc.errno == errno.ENAMETOOLONG:
                self.send_error(414, "Path too long")
            else:
                self.send_error(404, "File not found")
            return None

    def _send_file(self):
        path = Path(self.translate_path(self.path))
        root = Path(self.directory)
        hidden = any(part.startswith(".") for part in path.relative_to(root).parts) if path.is_relative_to(root) else True
        if hidden or (path.is_dir() and not (path / "index.html").is_file()):
            self.send_error(404, "File not found")  # no listings, no dot files
            return None
        header = self.headers.get("Range")
        if not header or not path.is_file() or range_spec(header) is None:
            return super().send_head()  # no Range, or one we ignore: the whole file
        return self._send_range(path, header)

    def list_directory(self, path):  # reached only for a folder without index.html
        self.send_error(404, "File not found")
        return None

    def _send_range(self, path: Path, header: str):
        stat = path.stat()
        size = stat.st_size
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
        self.send_header("Last-Modified", email.utils.formatdate(stat.st_mtime, usegmt=True))
        self.end_headers()
        return _Limited(fh, end - start + 1)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        if self.server.verbose:
            super().log_message(format, *args)


def bad_path(target: str) -> tuple[int, str] | None:
    """(status, reason) for a request path no file can have, before it reaches the disk; None if fine."""
    path = target.split("?", 1)[0].split("#", 1)[0]
    raw = urllib.parse.unquote_to_bytes(path)
    if b"\0" in raw:
        return 400, "NUL in the path"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return 400, "the path is not UTF-8"
    if len(raw) > PATH_MAX:
        return 414, "Path too long"
    if any(len(name) > NAME_MAX for name in raw.split(b"/")):
        return 414, f"A name in the path is over {NAME_MAX} bytes"
    return None


class _SiteServer(http.server.ThreadingHTTPServer):
    verbose = False

    def handle_error(self, request, client_address) -> None:
        """A client that hangs up (a player seeking away mid-range) is routine; anything else is a bug."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


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


def range_spec(header: str) -> tuple[int | None, int | None] | None:
    """A single byte range's (first, last) as written ('bytes=-n' -> (None, n)); None for a header to
    ignore: another unit, several ranges, no numbers, or a last byte before the first (RFC 9110 14.1.1)."""
    m = _RANGE.match(header.strip())
    if not m or (not m.group(1) and not m.group(2)):
        return None
    first, last = (g.lstrip("0") or "0" if g else None for g in m.groups())
    if first is not None and last is not None and (len(last), last) < (len(first), first):
        return None  # compared as digits: int() refuses a number of thousands of them
    return _position(first), _position(last)


def _position(digits: str | None) -> int | None:
    """A byte position; past 10**18 (an exabyte, beyond any file) it is 10**18."""
    return None if digits is None else int(digits) if len(digits) <= 18 else 10**18


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """'bytes=a-b', 'bytes=a-' or 'bytes=-n' -> inclusive (start, end); None if there is no range to
    send: one to ignore (range_spec) or one the file can't satisfy (a start past the end, 'bytes=-0')."""
    spec = range_spec(header)
    if spec is None or size == 0:
        return None
    first, last = spec
    if first is None:
        return (max(0, size - last), size - 1) if last else None
    end = min(last, size - 1) if last is not None else size - 1
    return (first, end) if first <= end else None


def make_server(folder: Path, port: int = 8000, host: str = "127.0.0.1", verbose: bool = False) -> http.server.ThreadingHTTPServer:
    """A server for ``folder`` (not yet serving); port 0 picks a free one."""
    folder = Path(folder)
    if not 0 <= port <= 65535:
        raise InputError(f"--port {port}: ports are 0 to 65535 (1024 and up without root). Pick one like --port 8000.")
    if not (folder / "index.html").is_file():
        raise InputError(f"{folder}: no index.html. Build the site first with `chaitime publish --out {folder}`.")
    try:
        server = _SiteServer((host, port), partial(SiteHandler, directory=os.fspath(folder)))
    except OSError as exc:
        raise InputError(f"{host}:{port}: can't listen ({exc.strerror}). Pick another port with --port.") from exc
    server.verbose = verbose
    return server
