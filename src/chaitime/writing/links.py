"""Links mentioned in the conversation: URLs as written, as spoken ("github dot com slash fastai",
"www dot example dot org") or half and half as Whisper writes them ("GitHub.com slash Ada slash
tools"), and paper, book and project titles ("the paper is called X", "a book called X", "the book
X by Y"), each with the time it was said."""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

from .keyphrases import titlecase
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
_KINDS = r"paper|article|book|blog post|essay|project|library|podcast|talk"
_TITLE_END = r"(?=\s+(?:by|from|in|on|and it|which|that)\b|[,.;?!]|$)"
_TITLED = [
    # '... a paper called "X"' / 'the book titled X'
    re.compile(rf"\b({_KINDS})\s+(?:(?:is|was)\s+)?(?:(?:called|titled|named)\s+)?[\"“]([^\"”]{{4,120}})[\"”]", re.IGNORECASE),
    # 'the paper is called X.' / 'a book called X by Y'
    re.compile(rf"\b({_KINDS})\s+(?:(?:is|was|'s)\s+)?(?:called|titled|named)\s+([^,.;?!]{{4,120}}?){_TITLE_END}", re.IGNORECASE),
    # 'the book Deep Work by Cal Newport': a capitalised title, then its author
    re.compile(r"\bthe\s+(book|paper)\s+((?:[A-Z0-9][\w'-]*)(?:\s+(?:[A-Z0-9][\w'-]*|of|the|and|a|an|in|on|for|to|with|is|all))*?)\s+by\s+[A-Z]"),
]
SEARCH = {
    "paper": "https://scholar.google.com/scholar?q=",
    "book": "https://openlibrary.org/search?q=",
    "project": "https://github.com/search?q=",
}
_KIND_OF = {"article": "paper", "essay": "paper", "blog post": "paper", "talk": "paper", "library": "project", "podcast": "project"}


@dataclass(frozen=True)
class Link:
    kind: str  # "url", or a title's kind: "paper", "book", "project"
    text: str  # what to show
    url: str  # where it goes (a search for a title)
    start_s: float  # when it was mentioned


def find_links(sents: list[Sentence]) -> list[Link]:
    """Every URL and title mentioned, first mention first, each once."""
    found: dict[str, Link] = {}
    for s in sents:
        for link in [*_urls(s), *_titles(s)]:
            found.setdefault(link.url.lower().rstrip("/"), link)
    return list(found.values())


def _urls(s: Sentence) -> list[Link]:
    texts = [m.group(0) for m in _WRITTEN_URL.finditer(s.text)] + spoken_urls(s.text)
    urls: list[str] = []
    for text in texts:
        text = text.rstrip(".,;:!?)\"'")
        if "." not in text.split("//")[-1].split("/")[0]:
            continue
        urls.append(text if "://" in text else f"https://{text}")
    # 'GitHub.com slash ada slash tools': the written 'GitHub.com' is part of the spoken address.
    keep = [u for u in urls if not any(o != u and _bare(o).startswith(_bare(u)) for o in urls)]
    return [Link("url", u.split("://")[-1], u, s.start_s) for u in dict.fromkeys(keep)]


def _bare(url: str) -> str:
    return url.split("://")[-1].lower().rstrip("/")


def spoken_urls(text: str) -> list[str]:
    """'github dot com slash fastai slash fastbook', 'GitHub.com slash Ada slash tools',
    'www dot example dot org' -> 'github.com/fastai/fastbook', 'github.com/ada/tools', 'www.example.org'."""
    words = _words(text)
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
    words = _words(text)
    out, i, done = [], 0, 0  # done: raw words already written out
    while i < len(words):
        url, used = _spoken_at(words, i)
        first = words[i].raw
        if url and first >= done:
            out += raw[done:first]
            last = raw[words[i + used - 1].raw]
            out.append(url + last[len(last.rstrip(",.;:!?\"')")) :])
            done = words[i + used - 1].raw + 1
            i += used
        else:
            i += 1
    return " ".join(out + raw[done:])


@dataclass(frozen=True)
class _Word:
    text: str  # lower case, outer punctuation gone; "." for a written dot
    ends: bool  # a comma or full stop follows: the address ends here
    raw: int  # index of the whitespace-separated word it came from


def _words(text: str) -> list[_Word]:
    """Lower-case words, with written addresses ('GitHub.com') split into labels and dots."""
    out: list[_Word] = []
    for n, w in enumerate(text.split()):
        core = w.strip(",.;:!?\"'()").lower()
        ends = w[-1:] in ",.;:!?"
        if re.fullmatch(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+", core) and core.rsplit(".", 1)[-1] in TLDS:
            labels = core.split(".")
            for k, label in enumerate(labels):
                if k:
                    out.append(_Word(".", False, n))
                out.append(_Word(label, ends and k == len(labels) - 1, n))
        else:
            out.append(_Word(core, ends, n))
    return out


def _spoken_at(words: list[_Word], i: int) -> tuple[str | None, int]:
    """Read 'host dot tld (slash path)*' from position ``i``; returns (url, words used)."""
    parts, j = [words[i].text], i + 1
    if not re.fullmatch(r"[a-z0-9-]+", parts[0]) or words[i].ends:
        return None, 0
    while j + 1 < len(words) and (words[j].text in SPOKEN or words[j].text == ".") and not words[j - 1].ends:
        piece = words[j + 1].text
        if not re.fullmatch(r"[a-z0-9_-]+", piece):
            break
        parts += [SPOKEN.get(words[j].text, "."), piece]
        j += 2
        if parts[0] == "www" and len(parts) == 3:
            # 'www dot protein build dot org': the name between the dots is one label
            k = j
            while k < min(j + 2, len(words) - 1) and not words[k - 1].ends and re.fullmatch(r"[a-z0-9-]+", words[k].text) \
                    and words[k].text not in SPOKEN:
                k += 1
            if k > j and words[k].text == "dot" and not words[k - 1].ends:
                parts[2] += "".join(w.text for w in words[j:k])
                j = k
        if words[j - 1].ends:
            break  # a comma or full stop ends the address
    url = "".join(parts)
    host = url.split("/")[0]
    labels = host.split(".")
    written_tld = any(w.text == "." for w in words[i:j])
    if len(labels) < 2 or labels[-1] not in (TLDS if written_tld else SPOKEN_TLDS) or any(label in STOPWORDS for label in labels[:-1]):
        return None, 0
    if not any(w.text in SPOKEN for w in words[i:j]):
        return None, 0  # written already: the written-URL pattern has it
    return url, j - i


def _titles(s: Sentence) -> list[Link]:
    links = []
    for pattern in _TITLED:
        for m in pattern.finditer(s.text):
            title = m.group(2).strip().strip("\"“”")
            if len(title.split()) < 2 or title.split()[0].lower() in STOPWORDS - {"a", "the", "an"}:
                continue
            if title.islower():  # as a transcriber may write it: "fast side chain packing with ..."
                title = titlecase(title)
            kind = _KIND_OF.get(m.group(1).lower(), m.group(1).lower())
            links.append(Link(kind, title, SEARCH[kind] + urllib.parse.quote_plus(title), s.start_s))
    return links
