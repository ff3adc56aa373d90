"""The Content-Type of every file of the site: one answer for `chaitime serve` and `chaitime deploy`,
and for an episode's files the type the feed declares (workspace.FOLDER), so a player that checks
the podcast:transcript or podcast:chapters type gets what it was promised."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from ..workspace import FOLDER
from .urls import FEED_NAME

FEED_TYPE = "application/rss+xml; charset=utf-8"
# By suffix (mimetypes differs between systems for several of these).
TYPES = {
    ".html": "text/html", ".htm": "text/html", ".vtt": "text/vtt", ".srt": "application/x-subrip", ".txt": "text/plain",
    ".json": "application/json", ".xml": "application/xml", ".css": "text/css", ".js": "text/javascript", ".md": "text/markdown",
    ".mp3": "audio/mpeg", ".m4a": "audio/x-m4a", ".mp4": "video/mp4", ".png": "image/png", ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg", ".webp": "image/webp", ".svg": "image/svg+xml", ".ico": "image/x-icon", ".woff2": "font/woff2",
}
BY_NAME = {f.name: f.mime for f in FOLDER if f.mime and not f.machine}


def is_feed(rel: str, path: Path | None = None) -> bool:
    """The podcast feed, or another RSS feed in the site (read from its first bytes)."""
    if rel.rsplit("/", 1)[-1] == FEED_NAME:
        return True
    if path is None or not rel.endswith(".xml"):
        return False
    try:
        with open(path, "rb") as fh:
            return b"<rss" in fh.read(1024)
    except OSError:
        return False


def content_type(rel: str, path: Path | None = None) -> str:
    """The Content-Type header for the site file ``rel`` (text types with their UTF-8 charset)."""
    suffix = Path(rel).suffix.lower()
    if suffix == ".xml" and is_feed(rel, path):
        return FEED_TYPE
    found = BY_NAME.get(rel.rsplit("/", 1)[-1]) or TYPES.get(suffix) or mimetypes.guess_type(rel)[0] or "application/octet-stream"
    return f"{found}; charset=utf-8" if found.startswith("text/") else found
