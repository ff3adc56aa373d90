"""The published episodes of a workspace, with every fact the feed, the site and `check` need.

An episode is published unless episode.toml says ``draft = true``; the newest comes first
(by date, then number, then slug), so the same workspace always gives the same order.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from .. import config
from ..errors import InputError
from ..media.tags import mp3_duration_s
from ..transcript.chapters import Chapter, load_chapters
from ..transcript.model import Transcript
from ..workspace import AUDIO, CHAPTERS, CLIPS, FEED_TRANSCRIPTS, POST, TRANSCRIPT, VIDEO, Episode, EpisodeMeta, Workspace
from .markdown import split_front_matter

# An episode's own artwork: one of these beside episode.toml (it goes into the feed as the item's itunes:image).
EPISODE_ART = ("cover.jpg", "cover.jpeg", "cover.png")
# `chaitime clip` names its clips clip-MMmSSs-MMmSSs[-vertical].mp4 (media.clip.clip_name).
CLIP_NAME = re.compile(r"^clip-(\d+)m(\d\d)s-(\d+)m(\d\d)s(?:-vertical)?\.mp4$")
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
    post_meta: dict = field(default_factory=dict)  # post.md's front matter
    post_body: str | None = None  # post.md without its front matter
    art: Path | None = None
    soundbites: tuple[tuple[float, float], ...] = ()  # (start_s, duration_s) of each clip made

    @property
    def summary(self) -> str:
        """What the episode is about, in Markdown: episode.toml's description when the host set
        one, else post.md's summary (or description) from its front matter; "" when none."""
        for value in (self.meta.description, self.post_meta.get("summary"), self.post_meta.get("description")):
            if isinstance(value, str) and value.strip():
                return value.strip()
        return ""

    @property
    def tags(self) -> tuple[str, ...]:
        tags = self.post_meta.get("tags")
        return tuple(str(t) for t in tags if str(t).strip()) if isinstance(tags, list) else ()

    @property
    def slug(self) -> str:
        return self.episode.slug

    @property
    def audio(self) -> Path:
        return self.episode.path(AUDIO)


def published(ws: Workspace, now: dt.datetime | None = None) -> list[Release]:
    """Every complete episode that is not a draft and whose release time has come, newest first; an
    episode without audio is an error. (An incomplete one, whose stages failed or were interrupted,
    is left out: see pipeline.feed; a scheduled one waits: see ``scheduled``.)"""
    releases = due(candidates(ws), now)
    check_unique_guids(ws, releases)
    return releases


def check_unique_guids(ws: Workspace, releases: list[Release]) -> None:
    """Two episodes with one guid (a copied folder) would be one episode to every app, which keeps
    whichever it saw first: refuse, naming both folders and the one to give a new guid (the one the
    written feed doesn't carry yet), rather than publish a feed that hides one of them."""
    first: dict[str, Release] = {}
    feed = ws.feed_path.read_text(encoding="utf-8", errors="replace") if ws.feed_path.is_file() else ""
    for rel in reversed(releases):  # oldest first: the earlier episode keeps the guid
        other = first.setdefault(rel.meta.guid, rel)
        if other is rel:
            continue
        copy = rel if f"/episodes/{quote(other.slug)}/" in feed or f"/episodes/{quote(rel.slug)}/" not in feed else other
        fresh = uuid.uuid5(uuid.NAMESPACE_URL, f"chaitime:{copy.slug}:{copy.meta.guid}")
        raise InputError(
            f"episodes/{other.slug} and episodes/{rel.slug} have the same guid {rel.meta.guid!r} (a copied folder?); "
            f"podcast apps would show only one of them. Give episodes/{copy.slug}/episode.toml its own, "
            f'e.g. guid = "{fresh}", and run this again (never change the guid of an episode already published).'
        )


def has_speech(ep: Episode) -> bool:
    """Whether the episode's transcript has a word in it (an episode not yet transcribed counts as
    speech: only a finished transcription can say there is none)."""
    path = ep.path(TRANSCRIPT)
    if not path.is_file():
        return True
    try:
        return bool(Transcript.load(path).words)
    except (OSError, InputError):  # a damaged transcript is its stage's to repair
        return True


def scheduled(ws: Workspace, now: dt.datetime | None = None) -> list[Release]:
    """The complete, non-draft episodes dated after ``now``, soonest first: out of the feed, the site
    and the sitemap until their time comes."""
    return upcoming(candidates(ws), now)


def candidates(ws: Workspace) -> list[Release]:
    """Every complete, non-draft episode, newest first, whatever its date."""
    tz = config.timezone(ws.settings)
    releases = []
    for ep in ws.complete_episodes():
        meta = ep.meta()
        if not meta.draft:
            releases.append(release(ep, meta, tz))
    return ordered(releases)


def ordered(releases: list[Release]) -> list[Release]:
    """Newest first (by release time, then number, then slug): the same workspace, the same order."""
    return sorted(releases, key=lambda r: (r.pub_date, r.meta.number or 0, r.slug), reverse=True)


def due(releases: list[Release], now: dt.datetime | None = None) -> list[Release]:
    now = now or dt.datetime.now(dt.UTC)
    return [r for r in releases if r.pub_date <= now]


def upcoming(releases: list[Release], now: dt.datetime | None = None) -> list[Release]:
    now = now or dt.datetime.now(dt.UTC)
    return [r for r in reversed(releases) if r.pub_date > now]


def scheduled_line(rel: Release) -> str:
    """One line for `check` and `publish`: which episode waits, and until when."""
    when = rel.pub_date.strftime("%Y-%m-%d %H:%M") + f" {rel.pub_date.tzname() or ''}".rstrip()
    return (f"{rel.slug} ({rel.meta.title!r}) is scheduled for {when}: it stays out of the feed, the site and the sitemap "
            "until then. Run `chaitime publish` (and deploy) again after that time.")


def release(ep: Episode, meta: EpisodeMeta, tz: dt.tzinfo = dt.UTC) -> Release:
    audio = ep.path(AUDIO)
    if not audio.is_file():
        raise InputError(
            f"{audio}: missing, so episode {ep.slug!r} can't be published. Run `chaitime ingest` on its "
            "recording again, or set draft = true in its episode.toml."
        )
    post = _read_text(ep.path(POST))
    front, body = split_front_matter(post) if post else ({}, None)
    return Release(
        episode=ep,
        meta=meta,
        pub_date=pub_date(meta, tz),
        audio_bytes=audio.stat().st_size,
        duration_s=mp3_duration_s(audio),
        chapters=read_chapters(ep.path(CHAPTERS)),
        transcripts=tuple(f.name for f in FEED_TRANSCRIPTS if ep.path(f.name).is_file()),
        has_video=ep.path(VIDEO).is_file(),
        post_md=post,
        post_meta=front,
        post_body=body,
        art=next((ep.path(n) for n in EPISODE_ART if ep.path(n).is_file()), None),
        soundbites=soundbites(ep),
    )


def soundbites(ep: Episode) -> tuple[tuple[float, float], ...]:
    """The clips made with `chaitime clip`, as (start_s, duration_s), in time order."""
    folder = ep.path(CLIPS)
    found = set()
    if folder.is_dir():
        for path in folder.iterdir():
            m = CLIP_NAME.match(path.name)
            if m:
                a, b = int(m[1]) * 60 + int(m[2]), int(m[3]) * 60 + int(m[4])
                if b > a:
                    found.add((float(a), float(b - a)))
    return tuple(sorted(found))


def pub_date(meta: EpisodeMeta, tz: dt.tzinfo = dt.UTC) -> dt.datetime:
    """The episode's release time: its date at its ``time`` (midnight when unset) in the show's
    timezone. Stable, so the feed never changes on its own."""
    hour, minute = (int(x) for x in (meta.time or "00:00").split(":"))
    return dt.datetime.combine(dt.date.fromisoformat(meta.date), dt.time(hour, minute), tzinfo=tz)


def read_chapters(path: Path) -> tuple[Chapter, ...]:
    """The episode's chapters (writing.chapters reads them), ascending; () when the file is absent."""
    return tuple(load_chapters(path)) if path.is_file() else ()


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start} is {exc.object[exc.start:exc.start + 1]!r}; saved as Windows-1252 or "
                         "Latin-1?). Save it as UTF-8 in your editor, then run this again.") from exc
