"""A small Markdown renderer for post.md and show notes: headings, paragraphs, lists, quotes,
code, links and emphasis. Everything else is escaped text, so a post can never inject markup.

This is the one escaping path of the site and the feed: ``escape`` for any user text placed in
HTML (text or attribute), ``render``/``inline`` for Markdown. Code spans, links, autolinks and
backslash escapes are cut out of the raw text first and put back as finished HTML, so emphasis
never runs inside an attribute and a URL is escaped as an attribute value, never spliced raw."""

from __future__ import annotations

import html
import re

_INLINE = [
    (re.compile(r"\*\*(.+?)\*\*"), lambda m: f"<strong>{m.group(1)}</strong>"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), lambda m: f"<em>{m.group(1)}</em>"),
    (re.compile(r"(?<!\w)_(?!\s)(.+?)(?<!\s)_(?!\w)"), lambda m: f"<em>{m.group(1)}</em>"),
]
_LINK = re.compile(r"\[([^\]]+)\]\(((?:https?://|/|\./|#|mailto:)[^\s()<>\"'`]*)\)")
_AUTOLINK = re.compile(r"<(https?://[^\s<>\"'`]+)>")
_CODE = re.compile(r"`([^`]+)`")
_BACKSLASH = re.compile(r"\\([\\`*_\[\]{}()<>#+\-.!|~\"'])")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")
# Characters XML forbids (C0 controls but tab and newlines, lone surrogates, U+FFFE/FFFF) and C1
# controls: dropped from anything user-written before it reaches a page or the feed.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_SLOT = re.compile("\x00(\\d+)\x00")


def clean(text: str) -> str:
    """``text`` without the control characters HTML and XML can't carry."""
    return _UNSAFE.sub("", str(text))


def escape(text: object, quote: bool = True) -> str:
    """User text as HTML text or a quoted attribute value: control characters dropped, & < > " ' escaped."""
    return html.escape(clean(str(text)), quote=quote)


def inline(text: str) -> str:
    """Escape ``text`` and turn inline Markdown into HTML."""
    slots: list[str] = []

    def slot(markup: str) -> str:
        slots.append(markup)
        return f"\x00{len(slots) - 1}\x00"

    def link(label: str, url: str) -> str:
        href = escape(url)
        return slot(f'<a href="{href}">') + label + slot("</a>")

    out = clean(text)
    out = _CODE.sub(lambda m: slot(f"<code>{escape(m.group(1), quote=False)}</code>"), out)
    out = _BACKSLASH.sub(lambda m: slot(escape(m.group(1), quote=False)), out)
    out = _AUTOLINK.sub(lambda m: link(slot(escape(m.group(1), quote=False)), m.group(1)), out)
    out = _LINK.sub(lambda m: link(m.group(1), m.group(2)), out)
    out = html.escape(out, quote=False)
    for pattern, repl in _INLINE:
        out = pattern.sub(repl, out)
    while _SLOT.search(out):  # a link's label may hold slots of its own
        out = _SLOT.sub(lambda m: slots[int(m.group(1))], out)
    return out


def render(markdown: str, heading_offset: int = 0) -> str:
    """Markdown text -> HTML fragment. ``heading_offset`` demotes headings (# -> h2 with 1)."""
    blocks: list[str] = []
    lines = markdown.replace("\r\n", "\n").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
        elif line.startswith("```"):
            i = _code(lines, i, blocks)
        elif m := _HEADING.match(line):
            level = min(6, len(m.group(1)) + heading_offset)
            blocks.append(f"<h{level}>{inline(m.group(2))}</h{level}>")
            i += 1
        elif re.match(r"^\s*([-*_])(\s*\1){2,}\s*$", line):
            blocks.append("<hr>")
            i += 1
        elif _BULLET.match(line) or _NUMBERED.match(line):
            i = _list(lines, i, blocks)
        elif line.startswith(">"):
            i = _quote(lines, i, blocks, heading_offset)
        else:
            i = _paragraph(lines, i, blocks)
    return "\n".join(blocks)


def _code(lines: list[str], i: int, blocks: list[str]) -> int:
    body: list[str] = []
    i += 1
    while i < len(lines) and not lines[i].startswith("```"):
        body.append(lines[i])
        i += 1
    blocks.append(f"<pre><code>{escape(chr(10).join(body), quote=False)}</code></pre>")
    return i + 1


def _list(lines: list[str], i: int, blocks: list[str]) -> int:
    pattern = _BULLET if _BULLET.match(lines[i]) else _NUMBERED
    tag = "ul" if pattern is _BULLET else "ol"
    items: list[str] = []
    while i < len(lines) and lines[i].strip():
        m = pattern.match(lines[i])
        if m:
            items.append(m.group(1))
        elif items and lines[i].startswith((" ", "\t")):
            items[-1] += " " + lines[i].strip()
        else:
            break
        i += 1
    blocks.append(f"<{tag}>" + "".join(f"<li>{inline(item)}</li>" for item in items) + f"</{tag}>")
    return i


def _quote(lines: list[str], i: int, blocks: list[str], heading_offset: int) -> int:
    body: list[str] = []
    while i < len(lines) and lines[i].startswith(">"):
        body.append(lines[i][1:].lstrip())
        i += 1
    blocks.append(f"<blockquote>{render(chr(10).join(body), heading_offset)}</blockquote>")
    return i


def _paragraph(lines: list[str], i: int, blocks: list[str]) -> int:
    body: list[str] = []
    while i < len(lines) and lines[i].strip() and not _starts_block(lines[i]):
        body.append(lines[i].strip())
        i += 1
    blocks.append(f"<p>{inline(' '.join(body))}</p>")
    return i


def _starts_block(line: str) -> bool:
    return bool(_HEADING.match(line) or line.startswith(("```", ">")) or _BULLET.match(line) or _NUMBERED.match(line))


def section(markdown: str, title_pattern: str) -> str | None:
    """The body of the first heading matching ``title_pattern`` (case-insensitive), up to the
    next heading of the same or a higher level; None when there is no such heading."""
    lines = markdown.replace("\r\n", "\n").split("\n")
    for n, line in enumerate(lines):
        m = _HEADING.match(line)
        if m and re.search(title_pattern, m.group(2), re.IGNORECASE):
            level = len(m.group(1))
            body = []
            for later in lines[n + 1 :]:
                h = _HEADING.match(later)
                if h and len(h.group(1)) <= level:
                    break
                body.append(later)
            return "\n".join(body).strip()
    return None


def strip_front_matter(markdown: str) -> str:
    """A post without its YAML front matter (a first line '---' up to the next '---' line):
    the page shows the post, not its metadata."""
    text = markdown.lstrip("\ufeff").replace("\r\n", "\n")
    if text.startswith("---\n"):
        end = re.search(r"^---[ \t]*$", text[4:], re.M)
        if end:
            return text[4 + end.end():].lstrip("\n")
    return markdown


def strip_title(markdown: str) -> tuple[str | None, str]:
    """Split the front matter and a leading '# Title' line off a post: (title or None, the rest)."""
    markdown = strip_front_matter(markdown)
    lines = markdown.lstrip("\ufeff").lstrip("\n").split("\n")
    m = _HEADING.match(lines[0]) if lines else None
    if m and len(m.group(1)) == 1:
        return m.group(2), "\n".join(lines[1:]).strip("\n")
    return None, markdown
