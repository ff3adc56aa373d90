"""The studio's routes: pages, a JSON API over studio.episodes, the original-timeline audio.

Every request must carry the run's token (the URL's ?token=, then a cookie; a change also in the
X-Chaitime-Token header, which another page can't set) and a Host of localhost, 127.0.0.1 or [::1]
with this server's port or none, so another web page or a DNS-rebinding name can't drive it (403);
a Host header that isn't one host and port is a 400. A bad request is a 4xx with a one-line JSON
message and nothing in the terminal; a bug in one request is a 500 with a message and its
traceback logged once; the server keeps running either way. A body is read up to MAX_BODY and
refused with 413 past it (at once when its Content-Length says so).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import threading
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..errors import BusyError, ChaitimeError, InputError
from ..workspace import Workspace
from . import episodes
from .episodes import Conflict

log = logging.getLogger("chaitime")
STATIC = Path(__file__).parent / "static"
COOKIE = "chaitime_studio"
HOSTS = {"127.0.0.1", "localhost", "[::1]"}
MAX_BODY = 4 << 20  # a post of 1 MB, JSON-escaped
# A Host header's value: a name (DNS name or IPv4) or an IPv6 literal, then an optional port.
_HOST = re.compile(r"(?P<name>[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::(?P<port>[0-9]{1,5}))?", re.ASCII | re.IGNORECASE)


class Guard:
    """ASGI middleware: localhost Host header and the run's token, or 403."""

    def __init__(self, app, token: str) -> None:
        self.app, self.token = app, token

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        hosts = request.headers.getlist("host")
        host = _host(hosts[0]) if len(hosts) == 1 else None
        if host is None:
            await _bad_host()(scope, receive, send)
            return
        server = scope.get("server") or (None, None)
        if host[0] not in HOSTS or (host[1] is not None and server[1] is not None and host[1] != server[1]):
            await _deny("the studio answers only on localhost (Host header).")(scope, receive, send)
            return
        given = request.query_params.get("token") or request.cookies.get(COOKIE) or ""
        if not secrets.compare_digest(given.encode(), self.token.encode()):
            await _deny("open the studio with the URL `chaitime studio` printed (it carries this run's token).")(scope, receive, send)
            return
        if request.method not in ("GET", "HEAD") and not secrets.compare_digest(
                (request.headers.get("x-chaitime-token") or "").encode(), self.token.encode()):
            await _deny("a change needs the X-Chaitime-Token header (the studio's page sends it).")(scope, receive, send)
            return

        async def send_with_cookie(message) -> None:
            if message["type"] == "http.response.start" and request.query_params.get("token"):
                headers = list(message.get("headers", []))
                headers.append((b"set-cookie", f"{COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict".encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _host(header: str) -> tuple[str, int | None] | None:
    """A Host header's (name, port): "[::1]:8000" -> ("[::1]", 8000), "localhost" -> ("localhost", None);
    None unless it is exactly one host and an all-digit port ("localhost:1@evil.example" and
    "127.0.0.1:8000, evil.example" are None)."""
    m = _HOST.fullmatch(header.strip(" \t"))
    if not m:
        return None
    return m["name"].lower(), int(m["port"]) if m["port"] else None


def _deny(why: str) -> Response:
    return JSONResponse({"error": f"forbidden: {why}"}, status_code=403)


def _bad_host() -> Response:
    return JSONResponse({"error": "bad request: the Host header must be one host name and port, like 127.0.0.1:8000."}, status_code=400)


class Bugs:
    """ASGI middleware: a bug in one request is a 500 with a message and one log record with its
    traceback (the server doesn't log it again); expected errors never reach it (their handlers answer)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if started:  # too late to answer: the server logs it and drops the connection
                raise
            log.exception("studio: %s %s failed", scope.get("method"), scope.get("path"))
            await _internal(exc)(scope, receive, send)


def make_app(root: Path, token: str | None = None) -> Starlette:
    """The studio for the workspace at ``root``; ``app.state.token`` is the run's token."""
    token = token or secrets.token_urlsafe(24)
    jobs = Jobs()

    def ws() -> Workspace:
        return Workspace.open(root)

    def episode(request: Request):
        w = ws()
        return w, w.episode(_slug(request.path_params["slug"]))

    async def body(request: Request) -> dict:
        too_large = HTTPException(413, f"request body too large ({MAX_BODY >> 20} MB at most).")
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_BODY:
            raise too_large  # refused before a byte of it is read
        chunks, size = [], 0
        try:
            async for chunk in request.stream():  # chunked or lying about its length: counted as it comes
                size += len(chunk)
                if size > MAX_BODY:
                    raise too_large
                chunks.append(chunk)
        except ClientDisconnect:
            raise HTTPException(400, "the request body was cut short (the connection closed).") from None
        raw = b"".join(chunks)
        try:
            data = json.loads(raw or b"{}")
        except RecursionError:
            raise InputError("request body is nested too deeply to be an edit (JSON arrays or objects inside each other).") from None
        except ValueError as exc:
            raise InputError(f"request body is not JSON ({exc}).") from exc
        if not isinstance(data, dict):
            raise InputError("request body must be a JSON object.")
        return data

    def page(name: str):
        async def handler(request: Request) -> Response:
            html = (STATIC / name).read_text(encoding="utf-8").replace("{{TOKEN}}", token)
            return HTMLResponse(html, headers={"Cache-Control": "no-store"})
        return handler

    async def list_episodes(request: Request) -> Response:
        return JSONResponse(await _thread(episodes.summaries, ws()))

    async def get_episode(request: Request) -> Response:
        w, ep = episode(request)
        return JSONResponse(await _thread(episodes.editor, w, ep))

    async def get_peaks(request: Request) -> Response:
        w, ep = episode(request)
        return FileResponse(await _thread(episodes.peaks, w, ep), media_type="application/json")

    async def get_audio(request: Request) -> Response:
        w, ep = episode(request)
        path = episodes.Files(ep).audio(w)
        return FileResponse(path, media_type="audio/flac" if path.suffix == ".flac" else "audio/mpeg")

    async def post_cut(request: Request) -> Response:
        w, ep = episode(request)
        data = await body(request)
        words, cut = data.get("words"), data.get("cut", True)
        if not isinstance(words, list) or not words or not all(isinstance(i, int) and not isinstance(i, bool) for i in words):
            raise InputError("words must be a non-empty list of word numbers.")
        return JSONResponse(await _thread(episodes.cut_words, w, ep, words, bool(cut), data.get("version"), bool(data.get("review"))))

    async def post_marker(request: Request) -> Response:
        w, ep = episode(request)
        data = await body(request)
        stamps = data.get("stamps")
        if stamps is None:
            stamps = [_text(data, "stamp")]
        if not isinstance(stamps, list) or not stamps or not all(isinstance(x, str) and x.strip() for x in stamps) or len(stamps) > 10000:
            raise InputError("stamps must be a non-empty list of marker times, like [\"00:01:02.300\"].")
        return JSONResponse(await _thread(episodes.cut_markers, w, ep, stamps, bool(data.get("cut", True)), data.get("version"),
                                          bool(data.get("review"))))

    async def post_correct(request: Request) -> Response:
        w, ep = episode(request)
        data = await body(request)
        return JSONResponse(await _thread(episodes.correct, w, ep, data.get("word"), _text(data, "text"), data.get("version")))

    async def post_replace(request: Request) -> Response:
        w, ep = episode(request)
        data = await body(request)
        return JSONResponse(await _thread(episodes.replace_all, w, ep, data.get("word"), _text(data, "text"),
                                          bool(data.get("vocabulary")), data.get("version")))

    async def post_speaker(request: Request) -> Response:
        w, ep = episode(request)
        data = await body(request)
        return JSONResponse(await _thread(episodes.reassign, w, ep, data.get("line"), _text(data, "speaker"), data.get("version")))

    async def post_rename(request: Request) -> Response:
        w, ep = episode(request)
        data = await body(request)
        return JSONResponse(await _thread(episodes.rename, w, ep, _text(data, "old"), _text(data, "new"), data.get("version")))

    async def post_chapters(request: Request) -> Response:
        w, ep = episode(request)
        data = await body(request)
        return JSONResponse(await _thread(episodes.set_chapters, w, ep, data.get("chapters"), data.get("version")))

    async def post_undo(request: Request) -> Response:
        w, ep = episode(request)
        return JSONResponse(await _thread(episodes.step, w, ep, True))

    async def post_redo(request: Request) -> Response:
        w, ep = episode(request)
        return JSONResponse(await _thread(episodes.step, w, ep, False))

    async def get_post(request: Request) -> Response:
        _, ep = episode(request)
        return JSONResponse(await _thread(episodes.post, ep))

    async def save_post(request: Request) -> Response:
        _, ep = episode(request)
        data = await body(request)
        return JSONResponse(await _thread(episodes.save_post, ep, data.get("text"), data.get("version")))

    async def preview_post(request: Request) -> Response:
        data = await body(request)
        return JSONResponse(await _thread(episodes.preview_post, data.get("text")))

    async def post_quote(request: Request) -> Response:
        _, ep = episode(request)
        data = await body(request)
        return JSONResponse(await _thread(episodes.quote, ep, data.get("first"), data.get("last"), data.get("version")))

    async def post_render(request: Request) -> Response:
        w, ep = episode(request)
        return JSONResponse(jobs.start(ep.slug, "render", lambda progress: _render(w, ep, progress)), status_code=202)

    async def get_job(request: Request) -> Response:
        return JSONResponse(jobs.status(_slug(request.path_params["slug"])))

    async def post_publish(request: Request) -> Response:
        data = await body(request)
        return JSONResponse(await _thread(_publish, ws(), bool(data.get("confirm"))))

    async def favicon(request: Request) -> Response:
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})

    routes = [
        Route("/", page("index.html")),
        Route("/favicon.ico", favicon),
        Route("/episodes/{slug}", page("episode.html")),
        Route("/episodes/{slug}/post", page("post.html")),
        Route("/api/episodes", list_episodes),
        Route("/api/episodes/{slug}", get_episode),
        Route("/api/episodes/{slug}/peaks", get_peaks),
        Route("/api/episodes/{slug}/audio", get_audio),
        Route("/api/episodes/{slug}/cut", post_cut, methods=["POST"]),
        Route("/api/episodes/{slug}/marker", post_marker, methods=["POST"]),
        Route("/api/episodes/{slug}/correct", post_correct, methods=["POST"]),
        Route("/api/episodes/{slug}/replace", post_replace, methods=["POST"]),
        Route("/api/episodes/{slug}/speaker", post_speaker, methods=["POST"]),
        Route("/api/episodes/{slug}/rename", post_rename, methods=["POST"]),
        Route("/api/episodes/{slug}/chapters", post_chapters, methods=["POST"]),
        Route("/api/episodes/{slug}/undo", post_undo, methods=["POST"]),
        Route("/api/episodes/{slug}/redo", post_redo, methods=["POST"]),
        Route("/api/episodes/{slug}/post", get_post),
        Route("/api/episodes/{slug}/post/save", save_post, methods=["POST"]),
        Route("/api/episodes/{slug}/post/preview", preview_post, methods=["POST"]),
        Route("/api/episodes/{slug}/post/quote", post_quote, methods=["POST"]),
        Route("/api/episodes/{slug}/render", post_render, methods=["POST"]),
        Route("/api/episodes/{slug}/job", get_job),
        Route("/api/publish", post_publish, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    # Expected errors have handlers below the middleware (answered, not re-raised, so the terminal
    # stays quiet); Bugs answers the rest. Exception: only a bug in the middleware itself, logged by
    # the server when Starlette re-raises it.
    app = Starlette(routes=routes, exception_handlers={ChaitimeError: _error, HTTPException: _http_error,
                                                       Exception: _last_resort})
    app.add_middleware(Bugs)
    app.add_middleware(Guard, token=token)  # outermost: a request without the token touches nothing
    app.state.token = token
    return app


async def _thread(fn, *args):
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(fn, *args)


def _slug(slug: str) -> str:
    if not slug or "/" in slug or "\\" in slug or slug.startswith(".") or len(slug) > 200:
        raise InputError(f"{slug!r} is not an episode name.")
    return slug


def _text(data: dict, key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{key} must be text.")
    return value


async def _error(request: Request, exc: ChaitimeError) -> Response:
    """A ChaitimeError is the user's to fix: 409 for a conflict, 404 for a missing episode, else 400."""
    message = _line(str(exc))
    if isinstance(exc, (Conflict, BusyError)):
        return JSONResponse({"error": message, "conflict": isinstance(exc, Conflict)}, status_code=409)
    return JSONResponse({"error": message}, status_code=404 if "no such episode" in message else 400)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return JSONResponse({"error": _line(str(exc.detail))}, status_code=exc.status_code, headers=exc.headers)


async def _last_resort(request: Request, exc: Exception) -> Response:
    return _internal(exc)


def _internal(exc: Exception) -> Response:
    return JSONResponse({"error": _line(f"internal error: {type(exc).__name__}: {exc}. This is a bug; the studio keeps running.")},
                        status_code=500)


def _line(message: str) -> str:
    """One line for the page's message bar (a message's line breaks become spaces)."""
    return re.sub(r"\s*[\r\n]+\s*", " ", message).strip()


def _render(ws: Workspace, ep, progress) -> dict:
    from .. import pipeline
    from ..transcript.formats import clock

    episodes.settle()  # corrections' caption files first: render re-times them from the raw transcript anyway
    result = pipeline.render(ep, ws, progress=progress)
    return {"duration_s": result.duration_s, "removed_s": result.removed_s, "changed": list(result.changed),
            "warnings": list(result.warnings), "line": f"rendered {clock(result.duration_s)} ({result.removed_s:.1f} s cut)"}


def _publish(ws: Workspace, confirm: bool) -> dict:
    """`chaitime check` first; the site is built only when asked again with confirm and no errors."""
    from .. import pipeline
    from ..publish.check import ERROR, check_workspace

    problems = [{"level": p.level, "where": p.where, "what": p.what, "fix": p.fix} for p in check_workspace(ws, loudness=False)]
    errors = sum(p["level"] == ERROR for p in problems)
    if not confirm or errors:
        return {"problems": problems, "errors": errors, "published": False}
    done = pipeline.publish(ws, ws.root / "public")
    return {"problems": problems, "errors": 0, "published": True, "out": str(done.path), "warnings": list(done.warnings)}


class Jobs:
    """One long job (a render) per episode on a thread, its progress polled by the page."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.state: dict[str, dict] = {}

    def start(self, slug: str, kind: str, fn) -> dict:
        with self.lock:
            if self.state.get(slug, {}).get("running"):
                raise BusyError(f"{slug}: a {self.state[slug]['kind']} is already running. Wait for it to finish.")
            self.state[slug] = {"kind": kind, "running": True, "stage": "", "done": 0.0, "total": None}

        def progress(stage: str, done: float, total: float | None = None, unit: str = "s") -> None:
            self.state[slug].update(stage=stage, done=done, total=total)

        def run() -> None:
            try:
                result = {"result": fn(progress)}
            except ChaitimeError as exc:
                result = {"error": str(exc)}
            except Exception as exc:  # a bug: reported on the page, the server keeps running
                log.exception("studio: %s of %s failed", kind, slug)
                result = {"error": f"internal error: {type(exc).__name__}: {exc}"}
            with self.lock:
                self.state[slug].update(running=False, **result)

        threading.Thread(target=run, daemon=True, name=f"studio-{kind}-{slug}").start()
        return self.status(slug)

    def status(self, slug: str) -> dict:
        with self.lock:
            return dict(self.state.get(slug, {"running": False}))
