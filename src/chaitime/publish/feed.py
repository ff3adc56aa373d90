"""feeds/podcast.xml: RSS 2.0 with the iTunes and Podcasting 2.0 namespaces, built with feedgen.

feedgen (the one module that imports it) writes the RSS core and the iTunes tags it gets right;
``PodcastIndexExtension`` adds what it lacks or gets wrong (standards.md, "feedgen 1.0.0, as it
really behaves"): itunes:explicit true/false, itunes:image for any URL, the 2019 categories, and
every podcast: tag. Output is deterministic: no "now" stamps, items ordered by us.

Every link in an item's HTML (description, content:encoded) is absolute (``absolute_link``): a
podcast app resolves a relative one against nothing, and it 404s.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from .. import config
from ..errors import ConfigError, InputError
from ..fsutil import write_if_changed
from ..transcript.formats import clock, timestamp
from ..workspace import AUDIO, CHAPTERS, EPISODE_FILES, FEED_TRANSCRIPTS, VIDEO, Workspace
from . import markdown
from .categories import parse_category
from .releases import Release, published
from .urls import POSTER_SIZE, SiteUrls, podcast_guid

NS_ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
NS_PODCAST = "https://podcastindex.org/namespace/1.0"
NS_PSC = "http://podlove.org/simple-chapters"  # Podlove Simple Chapters: what gPodder (podcastparser) reads
NS_MEDIA = "http://search.yahoo.com/mrss/"  # Media RSS: media:thumbnail, the 16:9 picture YouTube's RSS import reads
DESCRIPTION_MAX_BYTES = 4000
GENERATOR = "chaitime"
SHOW_TYPES = ("episodic", "serial")
# A time fragment the episode page seeks its player to (player.js reads ^#t=seconds$ on load).
PAGE_TIME = re.compile(r"t=\d+(?:\.\d+)?")


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
    guid: str = ""  # podcast:guid as stored in chaitime.toml; derived from the feed URL until then
    copyright: str = ""
    block: bool = False
    complete: bool = False
    new_feed_url: str = ""
    funding: tuple[str, str] | None = None  # (url, text)
    license: tuple[str, str | None] | None = None  # (name or SPDX id, url)
    txt: tuple[str, ...] = ()
    person_img: dict = field(default_factory=dict)  # name -> http(s) image URL
    person_href: dict = field(default_factory=dict)  # name -> http(s) page URL
    subscribe: tuple[tuple[str, str], ...] = ()  # (app name, URL) the host gave
    ai_content: str = ""  # [show] ai_content: the host's statement, as <podcast:txt purpose="ai-content">

    @property
    def podcast_guid(self) -> str:
        return self.guid or podcast_guid(self.urls.feed)

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
    guid = str(s.get("publish", "guid", "") or "")
    if guid and not _is_uuid(guid):
        raise ConfigError(f"{where}: [publish] guid {guid!r} is not a UUID. Put back the guid chaitime stored there "
                          "(apps know the show by it), or delete the line to assign a new one.")
    funding_url = str(s.get("show", "funding_url", "") or "").strip()
    license_name = str(s.get("show", "license", "") or "").strip()
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
        guid=guid,
        copyright=str(s.get("show", "copyright", "") or "").strip(),
        block=bool(s.get("show", "block", False)),
        complete=bool(s.get("show", "complete", False)),
        new_feed_url=str(s.get("publish", "new_feed_url", "") or "").strip(),
        funding=(funding_url, str(s.get("show", "funding_text", "") or "Support the show").strip()) if funding_url else None,
        license=(license_name, str(s.get("show", "license_url", "") or "").strip() or None) if license_name else None,
        txt=tuple(str(t) for t in s.get("show", "txt", []) or []),
        ai_content=str(s.get("show", "ai_content", "") or "").strip(),
        person_img={str(k): str(v) for k, v in dict(s.get("show", "person_img", {}) or {}).items()},
        person_href={str(k): str(v) for k, v in dict(s.get("show", "person_href", {}) or {}).items()},
        subscribe=tuple((name, str(s.get("publish", key))) for name, key in (("Apple Podcasts", "apple_podcasts_url"), ("Spotify", "spotify_url"))
                        if s.get("publish", key)),
    )


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
        return True
    except ValueError:
        return False


def is_web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not any(c.isspace() for c in url)


def show_problems(show: Show) -> list[tuple[str, str, str]]:
    """(where, what, fix) for channel settings podcast apps would reject: one line each in `check`,
    and `publish` refuses to build while any is left."""
    where = "chaitime.toml [show]"
    problems = []
    if show.funding and not is_web_url(show.funding[0]):
        problems.append((where, f"funding_url {show.funding[0]!r} is not an http(s) URL.", "Set funding_url = \"https://...\" (your donation page)."))
    if show.license and show.license[1] and not is_web_url(show.license[1]):
        problems.append((where, f"license_url {show.license[1]!r} is not an http(s) URL.", "Set license_url to the licence's web page."))
    for key, table in (("person_img", show.person_img), ("person_href", show.person_href)):
        for name, url in sorted(table.items()):
            if not is_web_url(url):
                problems.append((where, f"{key} for {name!r} is {url!r}, not an http(s) URL.", f"Give {name}'s {key} as https://..."))
    if show.new_feed_url and not is_web_url(show.new_feed_url):
        problems.append(("chaitime.toml [publish]", f"new_feed_url {show.new_feed_url!r} is not an http(s) URL.",
                         "Set it to the feed's new address, or delete it."))
    return problems


def require_publishable(show: Show) -> None:
    """Refuse (one line) what show_problems finds: nothing is written first."""
    problems = show_problems(show)
    if problems:
        where, what, fix = problems[0]
        raise InputError(f"{where}: {what} {fix}")


GUID_LINE = '# podcast:guid: assigned at the first publish; keep it when the show moves (apps know the show by it)\nguid = "{guid}"\n'


def ensure_show_guid(ws: Workspace, base_url: str | None = None) -> Workspace:
    """Store the channel's podcast:guid in chaitime.toml the first time the feed is written, so
    the same show under another base URL keeps it (podcast namespace: assigned once). The
    host's file is edited as text (comments kept): one line added under [publish], atomically."""
    if ws.settings.get("publish", "guid") or ws.settings.path is None:
        return ws
    path = ws.settings.path

    def add_guid(text: str) -> str | None:
        try:
            if tomllib.loads(text).get("publish", {}).get("guid"):  # stored since these settings were read
                return None
        except tomllib.TOMLDecodeError:
            pass
        show = show_from(ws, base_url)
        line = GUID_LINE.format(guid=show.podcast_guid)
        head = re.search(r"^[ \t]*\[publish\][ \t]*(#.*)?$", text, re.M)
        if head:
            cut = head.end() + 1 if head.end() < len(text) else len(text)
            text = text[:cut] + ("" if text[:cut].endswith("\n") else "\n") + line + text[cut:]
        else:
            text = text + ("" if text.endswith("\n") or not text else "\n") + "\n[publish]\n" + line
        try:
            stored = tomllib.loads(text).get("publish", {}).get("guid")
        except tomllib.TOMLDecodeError:
            stored = None
        if stored != show.podcast_guid:  # an unusual layout (a [publish] inside a string): never break the file
            raise ConfigError(f"{path}: could not add the show's podcast:guid under [publish]. Add the line "
                              f'guid = "{show.podcast_guid}" under [publish] yourself and run this again.')
        return text

    config.edit_settings_text(path, add_guid)
    return Workspace.open(ws.root)


def write_feed(ws: Workspace, base_url: str | None = None, now: dt.datetime | None = None) -> Path:
    """Write feeds/podcast.xml (atomically; untouched when nothing changed) and return its path."""
    write_if_changed(ws.feed_path, build_feed(ws, base_url, now).decode("utf-8"))
    return ws.feed_path


def build_feed(ws: Workspace, base_url: str | None = None, now: dt.datetime | None = None) -> bytes:
    """The feed's bytes for this workspace at ``now``: the same workspace gives the same bytes
    (until a scheduled episode's time comes)."""
    show = show_from(ws, base_url)
    return render_feed(show, published(ws, now))


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
    link = absolute_link(urls, rel.slug)
    fe.description(description_html(rel, link))
    content = content_html(rel, link)
    if content:
        fe.content(content, type="CDATA")
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


def _fit(parts: list[str], limit: int = DESCRIPTION_MAX_BYTES) -> str:
    """The parts joined, each added only while the whole stays within ``limit`` bytes."""
    kept: list[str] = []
    for part in parts:
        if part and len("\n".join(kept + [part]).encode("utf-8")) <= limit:
            kept.append(part)
    return "\n".join(kept)


def absolute_link(urls: SiteUrls, slug: str) -> Callable[[str], str]:
    """A link of episode ``slug``'s text as an address that works anywhere (a podcast app, a
    mail): a relative one resolved against the episode's page; a time link into an episode's
    audio or video (``audio.mp3#t=147``, as the drafter writes them) opens that episode's page
    at that time, where the player seeks to it (its share button makes the same links); any other
    media fragment stays on the file (``audio.mp3#t=10,20``). An absolute link (https:, mailto:)
    is kept as it is."""
    page = urls.page(slug)
    episodes = f"{urls.base}/episodes/"

    def resolve(href: str) -> str:
        try:
            if urlsplit(href).scheme:
                return href
            url = urljoin(page, href)
        except ValueError:  # an unreadable address (markdown-it let it through): left as written
            return href
        where, _, fragment = url.partition("#")
        folder, _, name = where.rpartition("/")
        if PAGE_TIME.fullmatch(fragment) and name in (AUDIO, VIDEO) and folder.startswith(episodes) \
                and "/" not in folder[len(episodes):]:
            return f"{folder}/#{fragment}"
        return url

    return resolve


def description_html(rel: Release, link: Callable[[str], str] | None = None) -> str:
    """The item's description: the summary (episode.toml's description or post.md's summary) and
    the post's show notes (the chapter list when it has none), within the 4000 bytes Apple reads; the title when there is neither.
    ``link`` rewrites each link (the feed passes ``absolute_link``)."""
    notes = markdown.section(rel.post_body, r"^show\s*notes") if rel.post_body else None
    if not notes and rel.chapters:  # no show notes in the post: the chapter list stands in for them, once
        notes = "\n".join(f"- {clock(c.start_s)} {markdown.escape(c.title, quote=False)}" for c in rel.chapters)
    parts = [markdown.render(rel.summary, link=link) if rel.summary else "", markdown.render(notes, link=link) if notes else ""]
    return _fit(parts) or markdown.escape(rel.meta.title)[:DESCRIPTION_MAX_BYTES]


def content_html(rel: Release, link: Callable[[str], str] | None = None) -> str:
    """content:encoded: the whole post as HTML (headings demoted under the episode title), or
    the description when there is no post. Apps show it as the episode's notes. ``link``
    rewrites each link (the feed passes ``absolute_link``)."""
    if not rel.post_body:
        return ""
    _, body = markdown.strip_title(rel.post_md or "")
    return markdown.render(body, heading_offset=markdown.offset_to(body, 2), link=link)


# --- Our feedgen extension: the tags feedgen lacks or gets wrong -------------------------------

def _sub(parent, ns: str | None, tag: str, body: str | None = None, **attrs: str | None):
    from lxml import etree

    # host text (titles, names) may hold control characters XML can't carry: they are dropped here, for every tag
    elem = etree.SubElement(parent, f"{{{ns}}}{tag}" if ns else tag, {k: markdown.clean(v) for k, v in attrs.items() if v is not None})
    if body is not None:
        elem.text = markdown.clean(body)
    return elem


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _persons(parent, show: Show, guests: tuple[str, ...] = ()) -> None:
    for role, names in (("host", show.hosts), ("guest", guests)):
        for name in names:
            _sub(parent, NS_PODCAST, "person", name, role=role, img=_web(show.person_img.get(name)),
                 href=_web(show.person_href.get(name)))


def _web(url: str | None) -> str | None:
    """Only http(s) URLs reach the feed (check and publish refuse the others first)."""
    return url if url and is_web_url(url) else None


class PodcastIndexExtension:
    """Channel tags: itunes image/category/explicit, podcast guid/locked/person."""

    def __init__(self) -> None:
        self._show: Show | None = None
        self._dated = False

    def channel(self, show: Show, dated: bool) -> None:
        self._show = show
        self._dated = dated

    def extend_ns(self) -> dict[str, str]:
        return {"itunes": NS_ITUNES, "podcast": NS_PODCAST, "psc": NS_PSC, "media": NS_MEDIA}

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
        _artwork(channel, show.image_url, show.image)
        _poster(channel, show.urls.poster())
        parent, child = show.category
        cat = _sub(channel, NS_ITUNES, "category", text=parent)
        if child:
            _sub(cat, NS_ITUNES, "category", text=child)
        _sub(channel, NS_ITUNES, "explicit", _bool(show.explicit))
        _sub(channel, NS_PODCAST, "guid", show.podcast_guid)
        _sub(channel, NS_PODCAST, "locked", "yes" if show.locked else "no", owner=show.email or None)
        _persons(channel, show)
        if show.copyright:
            _sub(channel, None, "copyright", show.copyright)
        if show.block:
            _sub(channel, NS_ITUNES, "block", "Yes")
        if show.complete:
            _sub(channel, NS_ITUNES, "complete", "Yes")
        if show.new_feed_url:
            _sub(channel, NS_ITUNES, "new-feed-url", show.new_feed_url)
        if show.funding and is_web_url(show.funding[0]):
            _sub(channel, NS_PODCAST, "funding", show.funding[1][:128], url=show.funding[0])
        if show.license:
            _sub(channel, NS_PODCAST, "license", show.license[0][:128], url=_web(show.license[1]))
        for text in show.txt:
            _sub(channel, NS_PODCAST, "txt", text[:4000])
        if show.ai_content:
            _sub(channel, NS_PODCAST, "txt", show.ai_content[:4000], purpose="ai-content")
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
        from lxml import etree

        description = entry.find("description")
        if description is not None and description.text:  # HTML, as content:encoded: CDATA reads plainly
            description.text = etree.CDATA(description.text)
        _sub(entry, NS_ITUNES, "explicit", _bool(rel.meta.explicit))
        language = show.language
        for f in FEED_TRANSCRIPTS:
            if f.name in rel.transcripts:
                _sub(entry, NS_PODCAST, "transcript", url=show.urls.file(rel.slug, f.name), type=f.mime,
                     language=language, rel="captions" if f.captions else None)
        if rel.chapters:
            _sub(entry, NS_PODCAST, "chapters", url=show.urls.file(rel.slug, CHAPTERS), type=_mime(CHAPTERS))
            psc = _sub(entry, NS_PSC, "chapters", version="1.2")
            for chapter in rel.chapters:
                _sub(psc, NS_PSC, "chapter", start=timestamp(chapter.start_s), title=chapter.title)
        if rel.meta.guests:
            # An item's persons replace the channel's: restate the hosts beside the guests.
            _persons(entry, show, rel.meta.guests)
        if rel.meta.season:
            _sub(entry, NS_PODCAST, "season", str(rel.meta.season))
        if rel.meta.number:
            _sub(entry, NS_PODCAST, "episode", str(rel.meta.number))
        for start_s, duration_s in rel.soundbites:
            _sub(entry, NS_PODCAST, "soundbite", _soundbite_title(rel, start_s, duration_s), startTime=f"{start_s:g}",
                 duration=f"{duration_s:g}")
        if rel.has_video:
            alt = _sub(entry, NS_PODCAST, "alternateEnclosure", type="video/mp4", length=str(rel.episode.path(VIDEO).stat().st_size),
                       title="Video")
            _sub(alt, NS_PODCAST, "source", uri=show.urls.file(rel.slug, VIDEO))
        # The 16:9 poster before the episode's own art: readers that take the last picture they see as
        # the episode's (gPodder's podcastparser) keep the square art the host gave.
        _poster(entry, show.urls.poster(rel.slug))
        _sub(entry, NS_MEDIA, "thumbnail", url=show.urls.poster(rel.slug), width=str(POSTER_SIZE[0]), height=str(POSTER_SIZE[1]))
        if rel.art is not None:
            _sub(entry, NS_ITUNES, "image", href=show.urls.file(rel.slug, rel.art.name))
            _artwork(entry, show.urls.file(rel.slug, rel.art.name), rel.art)
        return entry


def _artwork(parent, url: str, path: Path | None) -> None:
    """<podcast:image purpose="artwork"> (the namespace's 2025 tag), with the image's size and type when readable."""
    from .cover import image_info

    attrs: dict[str, str | None] = {"href": url}
    try:
        info = image_info(path) if path is not None and path.is_file() else None
    except InputError:
        info = None
    if info is not None:
        attrs.update(type=info.mime, width=str(info.width), height=str(info.height))
        if info.width == info.height:
            attrs["aspect-ratio"] = "1/1"
    _sub(parent, NS_PODCAST, "image", purpose="artwork", **attrs)



def _poster(parent, url: str) -> None:
    """<podcast:image purpose="social">: the 16:9 poster publish draws (publish/poster.py)."""
    _sub(parent, NS_PODCAST, "image", href=url, purpose="social", type="image/jpeg", width=str(POSTER_SIZE[0]),
         height=str(POSTER_SIZE[1]), **{"aspect-ratio": "16/9"})


def _soundbite_title(rel: Release, start_s: float, duration_s: float) -> str:
    """A soundbite's title: the words spoken in it (at most 128 characters), else the episode's title."""
    from ..transcript.model import Transcript
    from ..workspace import TRANSCRIPT

    path = rel.episode.path(TRANSCRIPT)
    words = ""
    if path.is_file():
        end = start_s + duration_s
        words = " ".join(s.text.strip() for s in Transcript.load(path).segments if s.end_s > start_s and s.start_s < end)
    text = markdown.clean(" ".join(words.split())) or rel.meta.title
    return text if len(text) <= 128 else text[:127].rsplit(" ", 1)[0] + "…"


def _mime(name: str) -> str:
    return next(f.mime for f in EPISODE_FILES if f.name == name)
