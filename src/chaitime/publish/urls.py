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
# The Podcasting 2.0 spec's namespace for podcast:guid (podcast-namespace docs, "guid").
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")


@dataclass(frozen=True)
class SiteUrls:
    base: str  # no trailing slash

    @classmethod
    def from_base(cls, base_url: str | None, where: str = "chaitime.toml [publish] base_url") -> SiteUrls:
        """Validate a base URL (http or https, with a host) and normalise it."""
        text = str(base_url or "").strip()
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"{where}: {text!r} is not an http(s) URL. Set it to where the site will be served, "
                "like https://example.com/podcast."
            )
        return cls(text.rstrip("/"))

    @property
    def site(self) -> str:
        return self.base + "/"

    @property
    def feed(self) -> str:
        return f"{self.base}/{FEED_NAME}"

    def cover(self, suffix: str) -> str:
        return f"{self.base}/cover{suffix.lower()}"

    def page(self, slug: str) -> str:
        return f"{self.base}/episodes/{quote(slug)}/"

    def file(self, slug: str, name: str) -> str:
        return f"{self.base}/episodes/{quote(slug)}/{quote(name)}"


def podcast_guid(feed_url: str) -> str:
    """podcast:guid: UUIDv5 of the feed URL without scheme and trailing slashes (the spec's rule)."""
    bare = feed_url.split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))
