"""feed and publish: only complete episodes go out."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from ..errors import ChaitimeError, InputError
from ..workspace import Workspace

log = logging.getLogger("chaitime")


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
        before = _in_feed(ws)
        _keep_published(ws, before)
        ws = ensure_show_guid(ws, base_url)
        path = write_feed(ws, base_url)
        now = published(ws)
        return Published(path, len(now), skipped_warnings(ws) + _removed(ws, before, now))


def publish(ws: Workspace, out: Path, base_url: str | None = None) -> Published:
    """`chaitime publish`: the static site from every complete, non-draft episode, and
    feeds/podcast.xml refreshed to the same feed the site serves."""
    from ..publish.feed import ensure_show_guid, write_feed
    from ..publish.releases import published
    from ..publish.site import publish_site

    with ws.lock():
        before = _in_feed(ws)
        _keep_published(ws, before)
        ws = ensure_show_guid(ws, base_url)
        report = publish_site(ws, out, base_url)
        write_feed(ws, base_url)
        now = published(ws)
        return Published(report.out, len(now), skipped_warnings(ws) + _removed(ws, before, now), report)


def _in_feed(ws: Workspace) -> dict[str, str]:
    """The episodes the last written feed published: guid -> title (nothing when there is no feed yet)."""
    import xml.etree.ElementTree as ET

    try:
        root = ET.parse(ws.feed_path).getroot()
    except (OSError, ET.ParseError):
        return {}
    return {(item.findtext("guid") or "").strip(): (item.findtext("title") or "").strip() for item in root.iter("item")}


def _keep_published(ws: Workspace, before: dict[str, str]) -> None:
    """A published episode that a later run left unfinished is never dropped silently: the feed
    and the site are left as they are (they keep its last complete version), and this says so."""
    for ep, reason in ws.incomplete_episodes():
        try:
            guid = ep.meta().guid
        except ChaitimeError:  # an unreadable episode.toml: check names it
            continue
        if guid in before:
            raise InputError(f"{ep.slug} is published but unfinished now ({reason}), so the feed and the site were left as they were "
                             f"(with its last complete version). Finish it with `chaitime ingest` on its recording, or set "
                             f"draft = true in {ep.meta_path} to take it down, then run this again.")


def _removed(ws: Workspace, before: dict[str, str], now) -> tuple[str, ...]:
    """One line per episode the last feed had and this one has not (a draft now, or its folder gone)."""
    kept = {r.meta.guid for r in now}
    drafts = {}
    for ep in ws.episodes():
        try:
            meta = ep.meta()
        except ChaitimeError:
            continue
        drafts[meta.guid] = ep.slug if meta.draft else None
    lines = []
    for guid, title in before.items():
        if guid in kept:
            continue
        why = (f"{drafts[guid]} is a draft now (draft = true)" if drafts.get(guid)
               else "its episode folder is gone" if guid not in drafts else "it is not publishable now (see `chaitime check`)")
        lines.append(f"{title or guid!r} was taken out of the feed and the site: {why}")
    return tuple(lines)
