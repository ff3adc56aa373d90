"""The published episodes of a workspace, with every fact the feed, the site and `check` need.

An episode is published unless episode.toml says ``draft = true``; the newest comes first
(by date, then number, then slug), so the same workspace always gives the same order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..media.tags import mp3_duration_s
from ..workspace import AUDIO, CHAPTERS, FEED_TRANSCRIPTS, POST, VIDEO, Episode, EpisodeMeta, Workspace
from ..writing.chapters import Chapter, load_chapters

MEDIA_TYPES = {".mp3": "audio/mpeg", ".m4a": "audio/x-m4a", ".mp4": "video/mp4", ".m4v": "video/x-m4v", ".mov": "video/quicktime"}


@dataclass(frozen=True)
class Release:
    """One published episode: its folder, metadata and the files it ships."""

    episode: Episode
    meta: EpisodeMeta
    pub_date: dt.datetime
    audio_bytes: int
    duration_s: float
    chapters: tuple[Chapter, ...]
    transcripts: tuple[str, ...]  # file names present, in feed order
    has_video: bool
    post_md: str | None

    @property
    def slug(self) -> str:
        return self.episode.slug

    @property
    def audio(self) -> Path:
        return self.episode.path(AUDIO)


def published(ws: Workspace) -> list[Release]:
    """Every complete episode that is not a draft, newest first; an episode without audio is an error.
    (An incomplete one, whose stages failed or were interrupted, is left out: see pipeline.feed.)"""
    releases = []
    for ep in ws.complete_episodes():
        meta = ep.meta()
        if not meta.draft:
            releases.append(release(ep, meta))
    return sorted(releases, key=lambda r: (r.pub_date, r.meta.number or 0, r.slug), reverse=True)


def release(ep: Episode, meta: EpisodeMeta) -> Release:
    audio = ep.path(AUDIO)
    if not audio.is_file():
        raise InputError(
            f"{audio}: missing, so episode {ep.slug!r} can't be published. Run `chaitime ingest` on its "
            "recording again, or set draft = true in its episode.toml."
        )
    return Release(
        episode=ep,
        meta=meta,
        pub_date=pub_date(meta),
        audio_bytes=audio.stat().st_size,
        duration_s=mp3_duration_s(audio),
        chapters=read_chapters(ep.path(CHAPTERS)),
        transcripts=tuple(f.name for f in FEED_TRANSCRIPTS if ep.path(f.name).is_file()),
        has_video=ep.path(VIDEO).is_file(),
        post_md=_read_text(ep.path(POST)),
    )


def pub_date(meta: EpisodeMeta) -> dt.datetime:
    """The episode's date at midnight UTC: stable, so the feed never changes on its own."""
    return dt.datetime.combine(dt.date.fromisoformat(meta.date), dt.time(0, 0), tzinfo=dt.UTC)


def read_chapters(path: Path) -> tuple[Chapter, ...]:
    """The episode's chapters (writing.chapters reads them), ascending; () when the file is absent."""
    return tuple(load_chapters(path)) if path.is_file() else ()


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
