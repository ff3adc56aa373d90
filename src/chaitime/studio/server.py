"""Run the studio: uvicorn on 127.0.0.1 only, a fresh token each run."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Callable
from pathlib import Path

from ..errors import InputError

HOST = "127.0.0.1"  # never another interface: the studio writes the host's files


def url(port: int, token: str, path: str = "/") -> str:
    return f"http://{HOST}:{port}{path}?token={token}"


def serve(root: Path, port: int = 0, ready: Callable[[str], None] | None = None) -> None:
    """Serve the workspace at ``root`` until interrupted; ``ready(url)`` once it listens."""
    import uvicorn

    from .app import make_app

    token = secrets.token_urlsafe(24)
    app = make_app(root, token)
    sock = _bind(port)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    if ready is not None:
        ready(url(sock.getsockname()[1], token))
    server.run(sockets=[sock])


def _bind(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1 (port 0: any free one), so the URL printed is the one that answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        raise InputError(f"port {port} on {HOST} is taken ({exc.strerror}). Choose another with --port, or leave it out for a free one.") from exc
    sock.listen(128)
    sock.set_inheritable(True)
    return sock
