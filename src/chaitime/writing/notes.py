"""Show notes in the plain-text form YouTube and Apple read: a chapter list starting at 0:00.

youtube.txt is pasted somewhere else, so every address in it is absolute: the episode's page
comes from [publish] base_url, and while that is missing or still the template's placeholder the
description says so in one line instead of linking to a site that isn't there.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import config
from ..config import Settings
from ..errors import ConfigError
from ..publish.urls import SiteUrls
from ..transcript.chapters import Chapter
from ..transcript.formats import clock
from ..workspace import EpisodeMeta
from .links import Link

# YouTube shows chapters only for a list that starts at 0:00 with at least three chapters of at
# least 10 seconds each (standards.md, "Chapters").
YOUTUBE_MIN_CHAPTERS = 3
YOUTUBE_MIN_CHAPTER_S = 10.0
BASE_URL_KEY = "chaitime.toml [publish] base_url"


def chapter_lines(chapters: Sequence[Chapter]) -> list[str]:
    """'0:00 Title' per chapter, the first always at 0:00."""
    return [f"{clock(0 if i == 0 else ch.start_s)} {ch.title}" for i, ch in enumerate(chapters)]


def _lengths(chapters: Sequence[Chapter], duration_s: float) -> list[float]:
    """Each chapter's length as YouTube counts it: the first from 0:00, the last to the end."""
    starts = [0.0] + [c.start_s for c in chapters[1:]]
    return [end - start for start, end in zip(starts, starts[1:] + [duration_s])]


def youtube_ready(chapters: Sequence[Chapter], duration_s: float) -> bool:
    """Whether YouTube will turn this chapter list into video chapters."""
    if len(chapters) < YOUTUBE_MIN_CHAPTERS:
        return False
    return all(length >= YOUTUBE_MIN_CHAPTER_S for length in _lengths(chapters, duration_s))


def chapters_block(chapters: Sequence[Chapter], duration_s: float) -> str:
    """The chapter list YouTube turns into chapter markers, whenever there are three or more; with
    fewer, one line saying why there is no list. A chapter shorter than YouTube's 10 s minimum is
    named in one line under the list (YouTube then shows no markers at all)."""
    if len(chapters) < YOUTUBE_MIN_CHAPTERS:
        count = {0: "no chapters", 1: "one chapter"}.get(len(chapters), f"{len(chapters)} chapters")
        return f"Chapters: not listed, as this episode has {count}, fewer than the three YouTube needs for chapter markers."
    block = "Chapters:\n" + "\n".join(chapter_lines(chapters))
    short = [(i, length) for i, length in enumerate(_lengths(chapters, duration_s)) if length < YOUTUBE_MIN_CHAPTER_S]
    if short:
        i, length = short[0]
        start = 0 if i == 0 else chapters[i].start_s
        block += (f"\n(YouTube shows chapter markers only when every chapter lasts {YOUTUBE_MIN_CHAPTER_S:g} s or more: "
                  f'"{chapters[i].title}" at {clock(start)} lasts {max(0.0, length):.0f} s'
                  + (f", and {len(short) - 1} more" if len(short) > 1 else "") + ". Merge or lengthen it in chapters.json.)")
    return block


def site_urls(settings: Settings | None) -> tuple[SiteUrls | None, str]:
    """(SiteUrls, "") from [publish] base_url, or (None, why) while it is missing, the template's
    placeholder (as `chaitime check` warns) or unusable: nothing is linked to a made-up site."""
    if settings is None:
        return None, f"{BASE_URL_KEY} is not known here"
    base = settings.get("publish", "base_url")
    if not str(base or "").strip():
        return None, f"{BASE_URL_KEY} is not set"
    placeholder = config.DEFAULTS.get("publish", {}).get("base_url")
    if str(base).strip().rstrip("/") == str(placeholder or "").rstrip("/"):
        return None, f"{BASE_URL_KEY} is still the template's placeholder {placeholder!r}"
    try:
        return SiteUrls.from_base(base, BASE_URL_KEY), ""
    except ConfigError:  # config.load refuses it first; a Settings made by hand may still hold one
        return None, f"{BASE_URL_KEY} {base!r} is not an http(s) address"


def episode_link_line(settings: Settings | None, slug: str) -> str:
    """'Episode page: <its URL>', or the one line saying why there is no link yet."""
    urls, why = site_urls(settings)
    if urls is not None:
        return f"Episode page: {urls.page(slug)}"
    return f"Episode page: not linked, because {why}. Set base_url to where the site will be served, then run `chaitime draft {slug}`."


def youtube_description(
    meta: EpisodeMeta,
    chapters: Sequence[Chapter],
    *,
    summary: str,
    duration_s: float,
    settings: Settings | None = None,
    links: Sequence[Link] = (),
    hosts: Sequence[str] = (),
    slug: str | None = None,
) -> str:
    """A description ready to paste into YouTube: summary, the episode's page (with ``slug``),
    guests, chapters (or why there are none), links, show."""
    blocks = [summary.strip()]
    if slug is not None:
        blocks.append(episode_link_line(settings, slug))
    if meta.guests:
        blocks.append("Guest" + ("s" if len(meta.guests) > 1 else "") + ": " + ", ".join(meta.guests))
    if hosts:
        blocks.append("Host" + ("s" if len(hosts) > 1 else "") + ": " + ", ".join(hosts))
    blocks.append(chapters_block(chapters, duration_s))
    if links:
        blocks.append("Links:\n" + "\n".join(f"- {link.text}: {link.url}" for link in links))
    if settings is not None:
        show = settings.show.get("title", "")
        urls, _ = site_urls(settings)
        if show:
            blocks.append(f"{show}" + (f" - {urls.site}" if urls is not None else ""))
    return "\n\n".join(b for b in blocks if b) + "\n"
