"""feed and publish: only complete episodes go out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..workspace import Workspace


@dataclass(frozen=True)
class Published:
    path: Path  # the feed, or the site's folder
    episodes: int
    warnings: tuple[str, ...]  # one line per episode left out because it is incomplete
    report: object = None  # publish: the site's PublishReport


def skipped_warnings(ws: Workspace) -> tuple[str, ...]:
    return tuple(f"{ep.slug} is incomplete and was left out ({reason}). Finish it with `chaitime ingest` on its recording, "
                 "or look at `chaitime check`." for ep, reason in ws.incomplete_episodes())


def feed(ws: Workspace, base_url: str | None = None) -> Published:
    """`chaitime feed`: feeds/podcast.xml from every complete, non-draft episode."""
    from ..publish.feed import ensure_show_guid, write_feed
    from ..publish.releases import published

    with ws.lock():
        ws = ensure_show_guid(ws, base_url)
        path = write_feed(ws, base_url)
        return Published(path, len(published(ws)), skipped_warnings(ws))


def publish(ws: Workspace, out: Path, base_url: str | None = None) -> Published:
    """`chaitime publish`: the static site from every complete, non-draft episode, and
    feeds/podcast.xml refreshed to the same feed the site serves."""
    from ..publish.feed import ensure_show_guid, write_feed
    from ..publish.releases import published
    from ..publish.site import publish_site

    with ws.lock():
        ws = ensure_show_guid(ws, base_url)
        report = publish_site(ws, out, base_url)
        write_feed(ws, base_url)
        return Published(report.out, len(published(ws)), skipped_warnings(ws), report)
