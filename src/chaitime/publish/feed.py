"""feeds/podcast.xml: RSS 2.0 with the iTunes and Podcasting 2.0 namespaces, built with feedgen.

feedgen (the one module that imports it) writes the RSS core and the iTunes tags it gets right;
``PodcastIndexExtension`` adds what it lacks or gets wrong (standards.md, "feedgen 1.0.0, as it
really behaves"): itunes:explicit true/false, itunes:image for any URL, the 2019 categories, and
every podcast: tag. Output is deterministic: no "now" stamps, items ordered by us.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from ..fsutil import write_if_changed
from ..transcript.formats import clock
from ..workspace import CHAPTERS, EPISODE_FILES, FEED_TRANSCRIPTS, Workspace
from . import markdown
from .categories import parse_category
from .releases import Release, published
from .urls import SiteUrls, podcast_guid

NS_ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
NS_PODCAST = "https://podcastindex.org/namespace/1.0"
DESCRIPTION_MAX_BYTES = 4000
GENERATOR = "chaitime"
SHOW_TYPES = ("episodic", "serial")


@dataclass(frozen=True)
class Show:
    """The channel: chaitime.toml [show] and [publish], checked."""

    title: str
    description: str
    language: str
    author: str
    email: str
    hosts: tuple[str, ...]
    explicit: bool
    category: tuple[str, str | None]
    image: Path | None
    show_type: str
    locked: bool
    urls: SiteUrls

    @property
    def image_url(self) -> str:
        return self.urls.cover(self.image.suffix if self.image else ".png")


def show_from(ws: Workspace, base_url: str | None = None) -> Show:
    """Read the channel settings; a base URL given here wins over [publish] base_url."""
    s = ws.settings
    where = str(s.path or ws.root / "chaitime.toml")
    show_type = str(s.get("show", "type", "episodic"))
    if show_type not in SHOW_TYPES:
        raise ConfigError(f"{where}: [show] type {show_type!r} must be episodic or serial.")
    return Show(
        title=str(s.get("show", "title", "")).strip(),
        description=str(s.get("show", "description", "")).strip(),
        language=str(s.get("show", "language", "en")).strip(),
        author=str(s.get("show", "author", "")).strip(),
        email=str(s.get("show", "email", "")).strip(),
        hosts=tuple(h for h in s.hosts if h),
        explicit=bool(s.get("show", "explicit", False)),
        category=parse_category(s.get("show", "category", ""), where),
        image=s.resolve(s.get("show", "image")),
        show_type=show_type,
        locked=bool(s.get("publish", "locked", False)),
        urls=SiteUrls.from_base(base_url or s.get("publish", "base_url"), "--base-url" if base_url else f"{where} [publish] base_url"),
    )


def write_feed(ws: Workspace, base_url: str | None = None) -> Path:
    """Write feeds/podcast.xml (atomically; untouched when nothing changed) and return its path."""
    write_if_changed(ws.feed_path, build_feed(ws, base_url).decode("utf-8"))
    return ws.feed_path


def build_feed(ws: Workspace, base_url: str | None = None) -> bytes:
    """The feed's bytes for this workspace: the same workspace gives the same bytes."""
    show = show_from(ws, base_url)
    return render_feed(show, published(ws))


def render_feed(show: Show, releases: list[Release]) -> bytes:
    fg = _channel(show, releases)
    # add_entry prepends: add oldest first so the newest ends up on top.
    for rel in reversed(releases):
        _item(fg, show, rel)
    return fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)


def _channel(show: Show, releases: list[Release]):
    from feedgen.feed import FeedGenerator

    fg = FeedGenerator()
    fg.load_extension("podcast", atom=False)
    fg.register_extension("chaitime", PodcastIndexExtension, PodcastIndexEntryExtension, atom=False)
    fg.title(show.title)
    fg.description(show.description)
    # The channel <link> is the last link() call's URL, so the self link goes first.
    fg.link(href=show.urls.feed, rel="self", type="application/rss+xml")
    fg.link(href=show.urls.site, rel="alternate")
    fg.language(show.language)
    fg.image(url=show.image_url, title=show.title, link=show.urls.site)
    fg.generator(GENERATOR)
    if releases:
        fg.lastBuildDate(releases[0].pub_date)
    fg.podcast.itunes_author(show.author)
    if show.author and show.email:
        fg.podcast.itunes_owner(name=show.author, email=show.email)
    fg.podcast.itunes_type(show.show_type)
    fg.chaitime.channel(show, dated=bool(releases))
    return fg


def _item(fg, show: Show, rel: Release) -> None:
    meta, urls = rel.meta, show.urls
    fe = fg.add_entry()
    fe.title(meta.title)
    fe.link(href=urls.page(rel.slug))
    fe.content(description_html(rel), type="CDATA")
    fe.guid(meta.guid, permalink=meta.guid.startswith(("http://", "https://")))
    fe.pubDate(rel.pub_date)
    fe.enclosure(urls.file(rel.slug, rel.audio.name), str(rel.audio_bytes), "audio/mpeg")
    fe.podcast.itunes_duration(str(round(rel.duration_s)))
    if meta.season:
        fe.podcast.itunes_season(meta.season)
    if meta.number:
        fe.podcast.itunes_episode(meta.number)
    fe.podcast.itunes_episode_type(meta.episode_type)
    fe.chaitime.item(show, rel)


def description_html(rel: Release) -> str:
    """The episode's description as HTML: summary, show notes from post.md, chapter times,
    each added only while the whole stays within the 4000 bytes Apple reads."""
    parts = [markdown.render(rel.meta.description or rel.meta.title)]
    notes = markdown.section(rel.post_md or "", r"^show\s*notes") if rel.post_md else None
    if notes:
        parts.append(markdown.render(notes))
    if rel.chapters:
        items = "".join(f"<li>{clock(c.start_s)} {markdown.escape(c.title, quote=False)}</li>" for c in rel.chapters)
        parts.append(f"<p>Chapters:</p>\n<ul>{items}</ul>")
    kept: list[str] = []
    for part in parts:
        if len("\n".join(kept + [part]).encode("utf-8")) <= DESCRIPTION_MAX_BYTES:
            kept.append(part)
    return "\n".join(kept) or markdown.escape(rel.meta.title)[:DESCRIPTION_MAX_BYTES]


# --- Our feedgen extension: the tags feedgen lacks or gets wrong -------------------------------

def _sub(parent, ns: str, tag: str, body: str | None = None, **attrs: str | None):
    from lxml import etree

    elem = etree.SubElement(parent, f"{{{ns}}}{tag}", {k: v for k, v in attrs.items() if v is not None})
    if body is not None:
        elem.text = body
    return elem


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _persons(parent, hosts: tuple[str, ...], guests: tuple[str, ...] = ()) -> None:
    for name in hosts:
        _sub(parent, NS_PODCAST, "person", name, role="host")
    for name in guests:
        _sub(parent, NS_PODCAST, "person", name, role="guest")


class PodcastIndexExtension:
    """Channel tags: itunes image/category/explicit, podcast guid/locked/person."""

    def __init__(self) -> None:
        self._show: Show | None = None
        self._dated = False

    def channel(self, show: Show, dated: bool) -> None:
        self._show = show
        self._dated = dated

    def extend_ns(self) -> dict[str, str]:
        return {"itunes": NS_ITUNES, "podcast": NS_PODCAST}

    def extend_rss(self, feed):
        show = self._show
        channel = feed[0]
        if show is None:
            return feed
        if not self._dated:
            # feedgen stamps "now" when no date is set; a feed without episodes has none.
            stamp = channel.find("lastBuildDate")
            if stamp is not None:
                channel.remove(stamp)
        _sub(channel, NS_ITUNES, "image", href=show.image_url)
        parent, child = show.category
        cat = _sub(channel, NS_ITUNES, "category", text=parent)
        if child:
            _sub(cat, NS_ITUNES, "category", text=child)
        _sub(channel, NS_ITUNES, "explicit", _bool(show.explicit))
        _sub(channel, NS_PODCAST, "guid", podcast_guid(show.urls.feed))
        _sub(channel, NS_PODCAST, "locked", "yes" if show.locked else "no", owner=show.email or None)
        _persons(channel, show.hosts)
        return feed

    def extend_atom(self, feed):
        return feed


class PodcastIndexEntryExtension(PodcastIndexExtension):
    """Item tags: itunes:explicit true/false, podcast transcripts, chapters and persons."""

    def __init__(self) -> None:
        self._item: tuple[Show, Release] | None = None

    def item(self, show: Show, rel: Release) -> None:
        self._item = (show, rel)

    def extend_rss(self, entry):
        if self._item is None:
            return entry
        show, rel = self._item
        _sub(entry, NS_ITUNES, "explicit", _bool(rel.meta.explicit))
        language = show.language
        for f in FEED_TRANSCRIPTS:
            if f.name in rel.transcripts:
                _sub(entry, NS_PODCAST, "transcript", url=show.urls.file(rel.slug, f.name), type=f.mime,
                     language=language, rel="captions" if f.captions else None)
        if rel.chapters:
            _sub(entry, NS_PODCAST, "chapters", url=show.urls.file(rel.slug, CHAPTERS), type=_mime(CHAPTERS))
        if rel.meta.guests:
            # An item's persons replace the channel's: restate the hosts beside the guests.
            _persons(entry, show.hosts, rel.meta.guests)
        return entry


def _mime(name: str) -> str:
    return next(f.mime for f in EPISODE_FILES if f.name == name)
