"""Links mentioned in the conversation: URLs as written or as spoken ("github dot com slash
fastai"), and paper or book titles ("a paper called Attention Is All You Need")."""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

from .text import STOPWORDS, Sentence

TLDS = frozenset(
    "com org net io ai dev co edu gov app me info xyz tech so sh gg tv fm us uk de fr in ca au jp ly to page site".split()
)
# Spoken, these are everyday words ("a dot in the corner"): not taken as the end of an address.
SPOKEN_TLDS = TLDS - {"in", "to", "me", "so", "us", "co", "sh", "tv", "fm", "page", "site", "app", "info"}
SPOKEN = {"dot": ".", "slash": "/", "dash": "-", "hyphen": "-", "underscore": "_"}
_WRITTEN_URL = re.compile(
    r"\b(?:https?://[^\s<>\"]+|(?:www\.)?[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:" + "|".join(sorted(TLDS)) + r")\b(?:/[^\s<>\"]*)?)",
    re.IGNORECASE,
)
_PAPER = re.compile(
    r"\b(?:paper|article|book|blog post|essay)\s+(?:(?:called|titled|named)\s+)?[\"“]([^\"”]{4,120})[\"”]"
    r"|\b(?:paper|article|book|blog post|essay)\s+(?:called|titled|named)\s+([^,.;?!]{4,120}?)(?=\s+by\b|[,.;?!]|$)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Link:
    kind: str  # "url" or "paper"
    text: str  # what to show
    url: str  # where it goes (a search for a paper's title)
    start_s: float  # when it was mentioned


def find_links(sents: list[Sentence]) -> list[Link]:
    """Every URL and paper title mentioned, first mention first, each once."""
    found: dict[str, Link] = {}
    for s in sents:
        for link in [*_urls(s), *_papers(s)]:
            found.setdefault(link.url.lower().rstrip("/"), link)
    return list(found.values())


def _urls(s: Sentence) -> list[Link]:
    texts = [m.group(0) for m in _WRITTEN_URL.finditer(s.text)] + spoken_urls(s.text)
    links = []
    for text in texts:
        text = text.rstrip(".,;:!?)\"'")
        if "." not in text.split("//")[-1].split("/")[0]:
            continue
        url = text if "://" in text else f"https://{text}"
        links.append(Link("url", text.split("://")[-1], url, s.start_s))
    return links


def spoken_urls(text: str) -> list[str]:
    """'github dot com slash fastai slash fastbook' -> 'github.com/fastai/fastbook'."""
    words = [(w.strip(",.;:!?\"'()").lower(), w[-1:] in ",.;:!?") for w in text.split()]
    out, i = [], 0
    while i < len(words):
        url, used = _spoken_at(words, i)
        if url:
            out.append(url)
            i += used
        else:
            i += 1
    return out


def write_urls(text: str) -> str:
    """Spoken addresses in ``text`` written as addresses: '... at github dot com slash x.' ->
    '... at github.com/x.' (for reading; quotes keep the words as said)."""
    raw = text.split()
    words = [(w.strip(",.;:!?\"'()").lower(), w[-1:] in ",.;:!?") for w in raw]
    out, i = [], 0
    while i < len(words):
        url, used = _spoken_at(words, i)
        if url:
            last = raw[i + used - 1]
            out.append(url + last[len(last.rstrip(",.;:!?\"')")) :])
            i += used
        else:
            out.append(raw[i])
            i += 1
    return " ".join(out)


def _spoken_at(words: list[tuple[str, bool]], i: int) -> tuple[str | None, int]:
    """Read 'host dot tld (slash path)*' from position ``i``; returns (url, words used)."""
    parts, j = [words[i][0]], i + 1
    if not re.fullmatch(r"[a-z0-9-]+", parts[0]) or words[i][1]:
        return None, 0
    while j + 1 < len(words) and words[j][0] in SPOKEN and not words[j - 1][1]:
        piece = words[j + 1][0]
        if not re.fullmatch(r"[a-z0-9_-]+", piece):
            break
        parts += [SPOKEN[words[j][0]], piece]
        j += 2
        if words[j - 1][1]:
            break  # a comma or full stop ends the address
    url = "".join(parts)
    host = url.split("/")[0]
    labels = host.split(".")
    if len(labels) < 2 or labels[-1] not in SPOKEN_TLDS or any(label in STOPWORDS for label in labels[:-1]):
        return None, 0
    if "dot" not in (w for w, _ in words[i:j]):
        return None, 0  # written already: the written-URL pattern has it
    return url, j - i


def _papers(s: Sentence) -> list[Link]:
    links = []
    for m in _PAPER.finditer(s.text):
        title = (m.group(1) or m.group(2) or "").strip()
        if len(title.split()) >= 2:
            query = urllib.parse.quote_plus(title)
            links.append(Link("paper", title, f"https://scholar.google.com/scholar?q={query}", s.start_s))
    return links
