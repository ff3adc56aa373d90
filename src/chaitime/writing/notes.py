"""Show notes in the plain-text form YouTube and Apple read: a chapter list starting at 0:00."""

from __future__ import annotations

from collections.abc import Sequence

from ..config import Settings
from ..transcript.formats import clock
from ..workspace import EpisodeMeta
from .chapters import Chapter
from .links import Link

# YouTube shows chapters only for a list that starts at 0:00 with at least three chapters of at
# least 10 seconds each (standards.md, "Chapters").
YOUTUBE_MIN_CHAPTERS = 3
YOUTUBE_MIN_CHAPTER_S = 10.0


def chapter_lines(chapters: Sequence[Chapter]) -> list[str]:
    """'0:00 Title' per chapter, the first always at 0:00."""
    return [f"{clock(0 if i == 0 else ch.start_s)} {ch.title}" for i, ch in enumerate(chapters)]


def youtube_ready(chapters: Sequence[Chapter], duration_s: float) -> bool:
    """Whether YouTube will turn this chapter list into video chapters."""
    if len(chapters) < YOUTUBE_MIN_CHAPTERS:
        return False
    ends = [c.start_s for c in chapters[1:]] + [duration_s]
    return all(end - ch.start_s >= YOUTUBE_MIN_CHAPTER_S for ch, end in zip(chapters, ends))


def youtube_description(
    meta: EpisodeMeta,
    chapters: Sequence[Chapter],
    *,
    summary: str,
    duration_s: float,
    settings: Settings | None = None,
    links: Sequence[Link] = (),
    hosts: Sequence[str] = (),
) -> str:
    """A description ready to paste into YouTube: summary, guests, chapters, links, show."""
    blocks = [summary.strip()]
    if meta.guests:
        blocks.append("Guest" + ("s" if len(meta.guests) > 1 else "") + ": " + ", ".join(meta.guests))
    if hosts:
        blocks.append("Host" + ("s" if len(hosts) > 1 else "") + ": " + ", ".join(hosts))
    if youtube_ready(chapters, duration_s):
        blocks.append("Chapters:\n" + "\n".join(chapter_lines(chapters)))
    if links:
        blocks.append("Links:\n" + "\n".join(f"- {link.text}: {link.url}" for link in links))
    if settings is not None:
        show = settings.show.get("title", "")
        site = settings.get("publish", "base_url", "")
        if show:
            blocks.append(f"{show}" + (f" - {site}" if site else ""))
    return "\n\n".join(b for b in blocks if b) + "\n"
