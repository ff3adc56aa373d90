"""feed and publish: only complete episodes go out."""

from __future__ import annotations

import datetime as dt
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
    scheduled: tuple[str, ...] = ()  # one line per episode dated later (out of the feed until then)


def skipped_warnings(ws: Workspace) -> tuple[str, ...]:
    return tuple(f"{ep.slug} is incomplete and was left out ({reason}). Finish it with `chaitime ingest` on its recording, "
                 "or look at `chaitime check`." for ep, reason in ws.incomplete_episodes())


def feed(ws: Workspace, base_url: str | None = None, now: dt.datetime | None = None) -> Published:
    """`chaitime feed`: feeds/podcast.xml from every complete, non-draft episode released by ``now``."""
    from ..publish.feed import ensure_show_guid, write_feed

    now = now or dt.datetime.now(dt.UTC)
    with ws.lock():
        before = _in_feed(ws)
        _keep_published(ws, before)
        ws = ensure_show_guid(ws, base_url)
        path = write_feed(ws, base_url, now)
        return _outcome(ws, path, before, now)


def publish(ws: Workspace, out: Path, base_url: str | None = None, now: dt.datetime | None = None) -> Published:
    """`chaitime publish`: the static site from every complete, non-draft episode released by
    ``now``, and feeds/podcast.xml refreshed to the same feed the site serves."""
    from ..publish.feed import ensure_show_guid, write_feed
    from ..publish.site import publish_site

    now = now or dt.datetime.now(dt.UTC)
    with ws.lock():
        before = _in_feed(ws)
        _keep_published(ws, before)
        ws = ensure_show_guid(ws, base_url)
        report = publish_site(ws, out, base_url, now)
        write_feed(ws, base_url, now)
        return _outcome(ws, report.out, before, now, report)


def _outcome(ws: Workspace, path: Path, before: dict[str, str], now: dt.datetime, report=None) -> Published:
    from ..publish.releases import candidates, due, scheduled_line, upcoming

    every = candidates(ws)
    released, later = due(every, now), upcoming(every, now)
    return Published(path, len(released), skipped_warnings(ws) + _removed(ws, before, released, later) + template_warnings(ws),
                     report, tuple(scheduled_line(r) for r in later))


def template_warnings(ws: Workspace) -> tuple[str, ...]:
    """The show still wears the template's placeholders (cover, description): said on every publish."""
    from ..publish.check import template_problems

    return tuple(f"{p.where}: {p.what} {p.fix}" for p in template_problems(ws))


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


def _removed(ws: Workspace, before: dict[str, str], now, later=()) -> tuple[str, ...]:
    """One line per episode the last feed had and this one has not (a draft now, dated later, or its folder gone)."""
    kept = {r.meta.guid for r in now}
    waiting = {r.meta.guid: r for r in later}
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
        why = (f"{waiting[guid].slug} is dated {waiting[guid].pub_date:%Y-%m-%d %H:%M} now, after today" if guid in waiting
               else f"{drafts[guid]} is a draft now (draft = true)" if drafts.get(guid)
               else "its episode folder is gone" if guid not in drafts else "it is not publishable now (see `chaitime check`)")
        lines.append(f"{title or guid!r} was taken out of the feed and the site: {why}")
    return tuple(lines)
