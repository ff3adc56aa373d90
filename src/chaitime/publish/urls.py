"""Where everything lives once published: one table of URLs the feed and the site share.

The site mirrors it: {base}/ is the index, {base}/podcast.xml the feed, {base}/cover.png the
artwork, {base}/episodes/<slug>/ each episode's page with its media, transcripts and chapters.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from ..errors import ConfigError

FEED_NAME = "podcast.xml"
POSTER = "poster.jpg"  # the 16:9 poster (publish/poster.py): at the top for the show, in each episode's folder
POSTER_SIZE = (1280, 720)
# The Podcasting 2.0 spec's namespace for podcast:guid (podcast-namespace docs, "guid").
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")


@dataclass(frozen=True)
class SiteUrls:
    base: str  # no trailing slash

    @classmethod
    def from_base(cls, base_url: str | None, where: str = "chaitime.toml [publish] base_url") -> SiteUrls:
        """Validate a base URL (see check_base_url) and normalise it."""
        return cls(check_base_url(base_url, where))

    @property
    def site(self) -> str:
        return self.base + "/"

    @property
    def feed(self) -> str:
        return f"{self.base}/{FEED_NAME}"

    def cover(self, suffix: str) -> str:
        return f"{self.base}/cover{suffix.lower()}"

    def poster(self, slug: str | None = None) -> str:
        return self.file(slug, POSTER) if slug else f"{self.base}/{POSTER}"

    def page(self, slug: str) -> str:
        return f"{self.base}/episodes/{quote(slug)}/"

    def file(self, slug: str, name: str) -> str:
        return f"{self.base}/episodes/{quote(slug)}/{quote(name)}"


def check_base_url(base_url: object, where: str = "chaitime.toml [publish] base_url") -> str:
    """The base URL every feed and page link starts with, checked once: http or https, a host, no
    query, fragment, credentials or spaces; the host IDNA-encoded and the path percent-encoded.
    Returns it without a trailing slash; a URL that can't be used is a ConfigError naming ``where``."""
    text = str(base_url or "").strip()
    example = "Set it to where the site will be served, like https://example.com/podcast."

    def refuse(why: str) -> ConfigError:
        return ConfigError(f"{where}: {text!r} {why}. {example}")

    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as e:
        raise refuse(f"is not a valid URL ({e})") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise refuse("is not an http(s) URL with a host")
    if any(c.isspace() or ord(c) < 32 for c in text):
        raise refuse("has a space or control character in it")
    if parts.username is not None or parts.password is not None:
        raise refuse("has a user name or password in it, which every listener would see")
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        raise refuse("has a query (?...) or fragment (#...), which would end up inside every file's address")
    try:
        host = parts.hostname.encode("idna").decode("ascii") if not parts.hostname.isascii() else parts.hostname
    except UnicodeError:
        raise refuse("has a host name that can't be written in DNS form (IDNA)") from None
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{port}" if port is not None else "")
    path = quote(parts.path, safe="/%:@!$&'()*+,;=-._~").rstrip("/")
    return f"{parts.scheme.lower()}://{netloc}{path}"


def podcast_guid(feed_url: str) -> str:
    """podcast:guid: UUIDv5 of the feed URL without scheme and trailing slashes (the spec's rule)."""
    bare = feed_url.split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))
