"""Markdown for post.md, show notes and descriptions, through markdown-it-py (CommonMark).

This is the one escaping path of the site and the feed: ``escape`` for any user text placed in
HTML (text or attribute), ``render`` for Markdown. Raw HTML is off, so markup a post carries is
shown as text; markdown-it's link validation refuses javascript:, vbscript:, file: and data:
URLs (a refused link stays text). Control characters are dropped before anything is parsed.
``render(..., link=...)`` passes every link's href and image's src through a function: the feed
makes them absolute with it (a relative link works on the site, not in a podcast app).
post.md's YAML front matter is split off once (``split_front_matter``) and never rendered.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from functools import lru_cache

# Characters XML forbids (C0 controls but tab and newlines, lone surrogates, U+FFFE/FFFF) and C1
# controls: dropped from anything user-written before it reaches a page or the feed.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_FRONT_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s*(.*)$")


def clean(text: str) -> str:
    """``text`` without the control characters HTML and XML can't carry."""
    return _UNSAFE.sub("", str(text))


def escape(text: object, quote: bool = True) -> str:
    """User text as HTML text or a quoted attribute value: control characters dropped, & < > " ' escaped."""
    return html.escape(clean(str(text)), quote=quote)


@lru_cache(maxsize=1)
def _parser():
    try:
        from markdown_it import MarkdownIt
    except ImportError as exc:  # pragma: no cover - a declared dependency
        from ..errors import ChaitimeError

        raise ChaitimeError("markdown-it-py is missing: `pip install markdown-it-py`.") from exc
    # "html": False escapes raw HTML blocks and inline tags; tables and strikethrough are GFM habits.
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def render(markdown: str, heading_offset: int = 0, link: Callable[[str], str] | None = None) -> str:
    """Markdown text -> HTML fragment. ``heading_offset`` demotes headings (# -> h2 with 1);
    ``link`` rewrites each link's href and image's src (already checked and percent-encoded)."""
    md = _parser()
    tokens = md.parse(clean(markdown).replace("\r\n", "\n"))
    if heading_offset:
        for tok in tokens:
            if tok.type in ("heading_open", "heading_close"):
                tok.tag = f"h{min(6, int(tok.tag[1]) + heading_offset)}"
    if link is not None:
        for tok in tokens:
            for child in tok.children or ():
                name = {"link_open": "href", "image": "src"}.get(child.type)
                value = child.attrGet(name) if name else None
                if isinstance(value, str):
                    child.attrSet(name, link(value))
    return md.renderer.render(tokens, md.options, {}).strip()


def plain(markdown: str, limit: int = 300) -> str:
    """Markdown as one line of plain text (meta tags, the index, search), at most ``limit`` characters."""
    spaced = re.sub(r"</?(?:p|li|h[1-6]|br|div|blockquote|ul|ol|pre|tr|td|th|hr)\b[^>]*>", " ", render(markdown))
    text = html.unescape(re.sub(r"<[^>]+>", "", spaced))
    return " ".join(text.split())[:limit]


def offset_to(body: str, top: int = 2) -> int:
    """The heading offset that makes the post's highest heading an h``top`` (h1 is the page's title)."""
    levels = [level for _, level, _ in _headings(body.split("\n"))]
    return top - min(levels) if levels else 0


def _headings(lines: list[str]) -> list[tuple[int, int, str]]:
    """(line index, level, text) of every ATX heading outside fenced code."""
    found, fenced = [], False
    for n, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and (m := _HEADING.match(line)):
            found.append((n, len(m.group(1)), m.group(2)))
    return found


def section(markdown: str, title_pattern: str) -> str | None:
    """The body of the first heading matching ``title_pattern`` (case-insensitive), up to the
    next heading of the same or a higher level; None when there is no such heading."""
    lines = markdown.replace("\r\n", "\n").split("\n")
    heads = _headings(lines)
    for i, (n, level, text) in enumerate(heads):
        if re.search(title_pattern, text, re.IGNORECASE):
            end = next((m for m, lv, _ in heads[i + 1:] if lv <= level), len(lines))
            return "\n".join(lines[n + 1:end]).strip()
    return None


def split_front_matter(markdown: str) -> tuple[dict[str, object], str]:
    """post.md's YAML front matter (a first line '---' up to the next '---' line) as a dict, and
    the post without it. The drafter writes one `key: value` per line, each value a JSON scalar
    or list (a JSON string is a valid YAML one); a value that is not JSON is kept as its text,
    unquoted, so a host's plain `title: My episode` reads too. Nested YAML is not read."""
    text = markdown.lstrip("\ufeff").replace("\r\n", "\n")
    if not text.startswith("---\n"):
        return {}, markdown
    end = re.search(r"^---[ \t]*$", text[4:], re.M)
    if not end:
        return {}, markdown
    meta: dict[str, object] = {}
    for line in text[4:4 + end.start()].split("\n"):
        m = _FRONT_KEY.match(line)
        if m:
            meta[m.group(1)] = _front_value(m.group(2).strip())
    return meta, text[4 + end.end():].lstrip("\n")


def _front_value(raw: str) -> object:
    try:
        return json.loads(raw)
    except ValueError:
        if raw.startswith("[") and raw.endswith("]"):
            return [v.strip().strip("\"'") for v in raw[1:-1].split(",") if v.strip()]
        return raw.strip("\"'")


def strip_title(markdown: str) -> tuple[str | None, str]:
    """Split the front matter and a leading '# Title' line off a post: (title or None, the rest)."""
    meta, body = split_front_matter(markdown)
    lines = body.lstrip("\ufeff").lstrip("\n").split("\n")
    m = _HEADING.match(lines[0]) if lines else None
    if m and len(m.group(1)) == 1:
        return m.group(2), "\n".join(lines[1:]).strip("\n")
    title = meta.get("title")
    return (str(title) if title else None), body
