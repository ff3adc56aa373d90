"""Bad requests from issue 27 against the two servers, each answered with its status and nothing
printed in the terminal: `chaitime serve` (a NUL or a 300-byte name in the path, an invalid or
upper-case Range, a client that hangs up) and `chaitime studio` (expected 4xx as one JSON line,
a Host header that is two hosts, a body over the cap with and without a Content-Length, JSON
nested 100,000 deep). Both run for real: serve's server in a thread, the studio as the command."""

from __future__ import annotations

import http.client
import json
import logging
import os
import re
import select
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from chaitime.publish.serve import make_server, parse_range, range_spec

NOISE = re.compile(r"Traceback|Exception in ASGI|Exception occurred|Error:")


# --- chaitime serve ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A built-looking site served on a free port in a thread: (port, the media bytes, the folder)."""
    out = tmp_path_factory.mktemp("site") / "public"
    (out / "episodes").mkdir(parents=True)
    (out / "index.html").write_text("<!doctype html><title>show</title>\n")
    media = bytes(range(256)) * 4  # 1024 bytes
    (out / "episodes" / "audio.mp3").write_bytes(media)
    (out / "big.mp3").write_bytes(b"\x00" * (16 << 20))
    server = make_server(out, port=0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.server_address[1], media, out
    server.shutdown()
    server.server_close()


def _get(port: int, target: str, method: str = "GET", **headers: str) -> tuple[int, dict, bytes]:
    """One request with the target sent exactly as given (no client-side quoting)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders()
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        conn.close()


@pytest.mark.parametrize(("target", "status"), [
    ("/%00", 400),
    ("/episodes/audio.mp3%00.html", 400),
    ("/index.html%00", 400),
    ("/%ff%fe", 400),  # not UTF-8
    ("/" + "x" * 256, 414),
    ("/episodes/" + "y" * 300 + "/audio.mp3", 414),
    ("/" + "%C3%A9" * 128, 414),  # 128 characters, 256 bytes: a name is counted in bytes
    ("/" + "a/" * 2100, 414),  # every name short, the path over 4096 bytes
])
def test_serve_refuses_a_path_no_file_can_have_without_a_traceback(site, capfd, target, status):
    port, media, _ = site
    for method in ("GET", "HEAD"):
        code, _, body = _get(port, target, method)
        assert code == status, (method, target[:40], code)
    assert _get(port, "/episodes/audio.mp3")[2] == media  # still serving
    time.sleep(0.05)
    err = capfd.readouterr().err
    assert not NOISE.search(err), err


def test_serve_still_serves_names_up_to_255_bytes_and_unicode(site):
    port, _, root = site
    (root / ("n" * 255)).write_text("long")
    (root / "café.txt").write_text("accent")
    (root / ".hidden").write_text("secret")
    assert _get(port, "/" + "n" * 255)[::2] == (200, b"long")
    assert _get(port, "/caf%C3%A9.txt")[::2] == (200, b"accent")
    assert _get(port, "/index.html?q=%00")[0] == 200  # the query isn't a path
    assert _get(port, "/.hidden")[0] == 404 and _get(port, "/episodes/")[0] == 404


@pytest.mark.parametrize(("header", "status", "span"), [
    ("bytes=10-5", 200, None),  # last before first: invalid, ignored (RFC 9110 14.1.1)
    ("bytes=1-0000", 200, None),
    ("bytes=-", 200, None),
    ("bytes=0-1,5-6", 200, None),  # several ranges: ignored, as before
    ("items=0-1", 200, None),
    ("BYTES=0-1", 206, (0, 1)),  # the unit is case-insensitive
    ("Bytes=1020-", 206, (1020, 1023)),
    ("bytes=1000-99999999999999999999999999", 206, (1000, 1023)),
    ("bytes=-" + "9" * 5000, 206, (0, 1023)),  # more digits than int() takes
    ("bytes=1024-", 416, None),  # valid, but starts past the end
    ("bytes=" + "9" * 5000 + "-", 416, None),
    ("bytes=-0", 416, None),
])
def test_serve_ranges_invalid_ones_ignored_unit_case_insensitive(site, capfd, header, status, span):
    port, media, _ = site
    code, headers, body = _get(port, "/episodes/audio.mp3", Range=header)
    assert code == status, (header[:30], code)
    if status == 200:
        assert body == media and "Content-Range" not in headers
    elif status == 206:
        start, end = span
        assert body == media[start:end + 1] and headers["Content-Range"] == f"bytes {start}-{end}/{len(media)}"
    else:
        assert body == b"" and headers["Content-Range"] == f"bytes */{len(media)}"
    assert not NOISE.search(capfd.readouterr().err)


def test_range_spec_and_parse_range():
    assert range_spec("bytes=10-5") is None and parse_range("bytes=10-5", 100) is None
    assert range_spec("BYTES=0-1") == (0, 1) and parse_range("BYTES=0-1", 100) == (0, 1)
    assert range_spec("bytes=-0") == (None, 0) and parse_range("bytes=-0", 100) is None  # valid, unsatisfiable
    assert range_spec("bytes=200-") == (200, None) and parse_range("bytes=200-", 100) is None
    assert range_spec("bytes=٣-٤") is None  # digits are ASCII digits


def test_serve_a_client_that_hangs_up_mid_file_prints_nothing(site, capfd):
    port, media, _ = site
    for _ in range(3):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = reset
        sock.sendall(b"GET /big.mp3 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.0 200")
        sock.close()
    time.sleep(0.3)  # the server's writes fail after the reset
    assert _get(port, "/episodes/audio.mp3")[2] == media
    err = capfd.readouterr().err
    assert not NOISE.search(err), err


# --- chaitime studio --------------------------------------------------------------------------

MAX_BODY = 4 << 20


class Studio:
    """`chaitime studio` running as the command, its stderr in a file read per test."""

    def __init__(self, ws: Path, log: Path) -> None:
        self.log = log
        self.err = log.open("w")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen([sys.executable, "-m", "chaitime", "studio", str(ws), "--no-browser"],
                                     stdout=subprocess.PIPE, stderr=self.err, text=True, env=env)
        line = self.proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/\?token=(\S+)", line)
        assert m, (line, log.read_text())
        self.port, self.token = int(m.group(1)), m.group(2)
        self.mark = 0

    def request(self, method: str, path: str, body: bytes | None = None, host: str | None = None,
                headers: dict | None = None) -> tuple[int, dict, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", f"127.0.0.1:{self.port}" if host is None else host)
            conn.putheader("Cookie", f"chaitime_studio={self.token}")
            conn.putheader("X-Chaitime-Token", self.token)
            for name, value in (headers or {}).items():
                conn.putheader(name, value)
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def raw(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=20)

    def head(self, path: str, extra: str = "") -> bytes:
        return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nCookie: chaitime_studio={self.token}\r\n"
                f"X-Chaitime-Token: {self.token}\r\nContent-Type: application/json\r\n{extra}\r\n").encode()

    def new_output(self) -> str:
        """What the studio printed since the last call (after a moment: the server logs after it answers)."""
        self.request("GET", "/api/episodes")
        time.sleep(0.2)
        text = self.log.read_text()
        new, self.mark = text[self.mark:], len(text)
        return new

    def rss_mb(self) -> float | None:
        status = Path(f"/proc/{self.proc.pid}/status")
        if not status.exists():
            return None
        return int(re.search(r"VmRSS:\s+(\d+)", status.read_text()).group(1)) / 1024

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.err.close()


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    pytest.importorskip("uvicorn")
    from chaitime import config

    ws = tmp_path_factory.mktemp("studio-ws")
    config.init(ws)
    s = Studio(ws, ws / "studio.err")
    yield s
    s.stop()


def _reply(sock: socket.socket) -> tuple[bytes, bytes]:
    """An HTTP response read off a raw socket: (status line, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(65536)
        assert more, data
        data += more
    head, body = data.split(b"\r\n\r\n", 1)
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
    while len(body) < length:
        more = sock.recv(65536)
        assert more, (head, body)
        body += more
    return head.split(b"\r\n", 1)[0], body


def _error(body: bytes) -> str:
    message = json.loads(body)["error"]
    assert message and "\n" not in message, message
    return message


def test_studio_expected_4xx_are_one_json_line_and_the_terminal_stays_quiet(studio):
    studio.new_output()
    cases = [
        (("GET", "/api/episodes/no-such-episode"), 404, "no such episode"),
        (("GET", "/api/no-such-route"), 404, "Not Found"),
        (("PUT", "/api/publish", b"{}"), 405, "Method Not Allowed"),
        (("POST", "/api/publish", b"{not json"), 400, "request body is not JSON"),
        (("POST", "/api/publish", b"[1, 2]"), 400, "must be a JSON object"),
        (("POST", "/api/publish", b"\xff\xfe"), 400, "not JSON"),
        (("POST", "/api/episodes/x/post/preview", b"[" * 100_000), 400, "nested too deeply"),
        (("POST", "/api/episodes/x/post/preview", b'{"a":' * 100_000), 400, "nested too deeply"),
        (("GET", "/api/episodes/%00"), 404, "no such episode"),
        (("GET", "/api/episodes/" + "x" * 300), 400, "is not an episode name"),
    ]
    for args, status, words in cases:
        code, headers, body = studio.request(*args)
        assert code == status, (args[:2], code, body[:200])
        assert headers["content-type"] == "application/json" and words in _error(body), body[:200]
    out = studio.new_output()
    assert not NOISE.search(out), out
    assert studio.request("GET", "/api/episodes")[0] == 200


def test_studio_host_header_is_one_local_name_and_this_port(studio):
    port = studio.port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}", f"[::1]:{port}", "localhost", "127.0.0.1"):
        assert studio.request("GET", "/api/episodes", host=host)[0] == 200, host
    malformed = ["localhost:1@evil.example", f"127.0.0.1:{port}, evil.example", f"localhost:{port}@evil.example",
                 "localhost:", f"localhost:{port}x", "localhost:80:80", "local host", "", "[::1", f"user@localhost:{port}"]
    for host in malformed:
        code, _, body = studio.request("GET", "/api/episodes", host=host)
        assert code == 400 and "Host header" in _error(body), (host, code, body)
    foreign = ["evil.example", f"evil.example:{port}", f"127.0.0.1:{port + 1 if port < 65535 else 1}", "localhost.evil.example",
               "127.0.0.2", "[::2]"]
    for host in foreign:
        code, _, body = studio.request("GET", "/api/episodes", host=host)
        assert code == 403 and "localhost" in _error(body), (host, code, body)
    assert not NOISE.search(studio.new_output())


def test_studio_refuses_a_body_by_its_content_length_before_reading_it(studio):
    before = studio.rss_mb()
    sock = studio.raw()
    try:
        sock.sendall(studio.head("/api/publish", f"Content-Length: {256 << 20}\r\n"))
        sock.sendall(b"{" + b" " * 1000)  # a little of it; the rest never comes
        status, body = _reply(sock)
    finally:
        sock.close()
    assert status.startswith(b"HTTP/1.1 413"), status
    assert "too large (4 MB at most)" in _error(body)
    code, _, body = studio.request("POST", "/api/publish", b"{}" + b" " * MAX_BODY)  # whole, one byte over
    assert code == 413 and "too large" in _error(body)
    assert studio.request("POST", "/api/publish", b'{"confirm": false}' + b" " * (MAX_BODY - 100))[0] == 200  # under it: read
    after = studio.rss_mb()
    if before is not None:
        assert after - before < 64, (before, after)
    assert not NOISE.search(studio.new_output())


def test_studio_refuses_a_chunked_body_as_soon_as_it_passes_the_cap(studio):
    before = studio.rss_mb()
    sock = studio.raw()
    chunk = b"x" * 65536
    sent = 0
    try:
        sock.sendall(studio.head("/api/publish", "Transfer-Encoding: chunked\r\n"))
        while sent < (256 << 20):
            if select.select([sock], [], [], 0)[0]:
                break  # it answered
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except OSError:
                break
            sent += len(chunk)
        status, body = _reply(sock)
    finally:
        sock.close()
    assert status.startswith(b"HTTP/1.1 413"), status
    assert "too large" in _error(body)
    assert sent < 32 << 20, sent >> 20  # answered near the cap (socket buffers hold a few MB), not after 256 MB
    after = studio.rss_mb()
    if before is not None:
        assert after - before < 64, (before, after)
    assert not NOISE.search(studio.new_output())


def test_studio_a_bug_is_a_500_with_a_message_logged_once(tmp_path, monkeypatch, caplog):
    pytest.importorskip("httpx")
    from starlette.testclient import TestClient

    from chaitime import config
    from chaitime.errors import InputError
    from chaitime.studio import app as studio_app

    config.init(tmp_path)
    client = TestClient(studio_app.make_app(tmp_path, "tok"), base_url="http://127.0.0.1:8123")
    client.cookies.set("chaitime_studio", "tok")

    def broken(ws):
        return 1 / 0

    monkeypatch.setattr(studio_app.episodes, "summaries", broken)
    with caplog.at_level(logging.INFO):
        r = client.get("/api/episodes")
    assert r.status_code == 500 and "ZeroDivisionError" in _error(r.content) and "bug" in r.json()["error"]
    records = [rec for rec in caplog.records if rec.levelno >= logging.WARNING]
    assert len(records) == 1 and records[0].exc_info and "GET /api/episodes" in records[0].getMessage()

    def refused(ws):
        raise InputError("this workspace says no.\nFix it like so.")

    monkeypatch.setattr(studio_app.episodes, "summaries", refused)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        r = client.get("/api/episodes")
    assert r.status_code == 400 and r.json()["error"] == "this workspace says no. Fix it like so."
    assert not [rec for rec in caplog.records if rec.levelno >= logging.WARNING]
    assert client.get("/api/episodes", headers={"Host": "localhost:1@evil.example"}).status_code == 400
    assert client.get("/api/episodes", headers={"Host": "localhost:8124"}).status_code == 403  # another port
