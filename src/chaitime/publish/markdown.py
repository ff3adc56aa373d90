"""A small Markdown renderer for post.md and show notes: headings, paragraphs, lists, quotes,
code, links and emphasis. Everything else is escaped text, so a post can never inject markup."""

from __future__ import annotations

import html
import re

_INLINE = [
    (re.compile(r"`([^`]+)`"), lambda m: f"<code>{m.group(1)}</code>"),
    (re.compile(r"\*\*(.+?)\*\*"), lambda m: f"<strong>{m.group(1)}</strong>"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), lambda m: f"<em>{m.group(1)}</em>"),
    (re.compile(r"(?<!\w)_(?!\s)(.+?)(?<!\s)_(?!\w)"), lambda m: f"<em>{m.group(1)}</em>"),
]
_LINK = re.compile(r"\[([^\]]+)\]\(((?:https?://|/|\./|#|mailto:)[^\s)]*)\)")
_AUTOLINK = re.compile(r"&lt;(https?://[^\s&]+)&gt;")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")


def inline(text: str) -> str:
    """Escape ``text`` and turn inline Markdown into HTML."""
    out = html.escape(text, quote=False)
    out = _LINK.sub(lambda m: f'<a href="{html.escape(html.unescape(m.group(2)))}">{m.group(1)}</a>', out)
    out = _AUTOLINK.sub(lambda m: f'<a href="{m.group(1)}">{m.group(1)}</a>', out)
    for pattern, repl in _INLINE:
        out = pattern.sub(repl, out)
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
    blocks.append(f"<pre><code>{html.escape(chr(10).join(body), quote=False)}</code></pre>")
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


def strip_title(markdown: str) -> tuple[str | None, str]:
    """Split a leading '# Title' line off a post: (title or None, the rest)."""
    lines = markdown.lstrip("\ufeff").lstrip("\n").split("\n")
    m = _HEADING.match(lines[0]) if lines else None
    if m and len(m.group(1)) == 1:
        return m.group(2), "\n".join(lines[1:]).strip("\n")
    return None, markdown
