"""Changes to edit.md made for the host (by the studio) exactly as a hand edit would make them.

Only the rows a change touches are rewritten; every other byte of the file stays as the host left
it. Cutting words wraps them in ``~~ ~~``; keeping them removes the ``~~`` (a sentence the host
deleted comes back as a row with only those words kept); a pause, dead-air or untranscribed marker
is struck or un-struck as a whole. What the file asks for is always read back by
``markdown.parse_edit_md``, so the studio and ``chaitime render`` never disagree.
"""

from __future__ import annotations

import bisect
import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..transcript.formats import timestamp
from ..transcript.model import Transcript
from ..workspace import EDIT
from .lines import EditLine
from .markdown import LINE_RE, MARKER_RE, STRIKE, _kept_words, _Row, _row_words, context
from .suggest import normalize


@dataclass(frozen=True)
class Marker:
    """A marker row of edit.md: a pause, dead air or untranscribed speech, struck (cut) or not."""

    stamp: str
    kind: str
    start_s: float
    length_s: float
    struck: bool


@dataclass(frozen=True)
class _Placed:
    """An edit row with where it is in the file (index into the file's lines) and what it names."""

    at: int
    row: _Row
    key: tuple[float, int]
    item: object  # EditLine, or (span index, Gap) for a marker


def markers(text: str, transcript: Transcript, path: Path | str = EDIT) -> list[Marker]:
    """The marker rows the file holds, in order."""
    out = []
    for placed in _placed(text, transcript, path):
        if isinstance(placed.item, tuple):
            found = MARKER_RE.match(placed.row.plain.strip())
            gap = placed.item[1]
            out.append(Marker(found.group(1), gap.kind, gap.start_s, gap.length_s, all(placed.row.struck)))
    return out


def set_words(text: str, transcript: Transcript, indices: Iterable[int], cut: bool, path: Path | str = EDIT) -> str:
    """edit.md with the words at token ``indices`` struck (``cut``) or un-struck."""
    wanted = set(indices)
    lines = context(transcript).lines
    touched = [ln for ln in lines if any(t.index in wanted for t in ln.tokens)]
    if len(wanted) != sum(1 for ln in touched for t in ln.tokens if t.index in wanted):
        raise InputError(f"{path}: word {sorted(wanted)[-1]} is not in the transcript. Reload the page.")
    rows = text.splitlines(keepends=True)
    placed = _placed(text, transcript, path)
    by_line = {timestamp(p.item.start_s): p for p in placed if isinstance(p.item, EditLine)}
    inserts: list[tuple[int, str]] = []
    for line in touched:
        found = by_line.get(timestamp(line.start_s))
        if found is None:
            if not cut:  # a deleted sentence: back as a row that keeps only these words
                struck = {t.index for t in line.tokens} - wanted
                at = bisect.bisect_left([p.key for p in placed], (line.start_s, 1))
                inserts.append((placed[at].at if at < len(placed) else len(rows), _fresh_row(line, struck)))
            continue
        ending = rows[found.at][len(rows[found.at].rstrip("\r\n")):] or "\n"
        rows[found.at] = _rewritten(found.row, line, wanted, cut) + ending
    for at, row in sorted(inserts, reverse=True):
        if at == len(rows) and rows and not rows[-1].endswith("\n"):
            rows[-1] += "\n"
        rows.insert(at, row + "\n")
    return "".join(rows)


def set_marker(text: str, transcript: Transcript, stamp: str, cut: bool, path: Path | str = EDIT) -> str:
    """edit.md with the marker row at ``[stamp]`` struck (``cut``) or un-struck."""
    rows = text.splitlines(keepends=True)
    for placed in _placed(text, transcript, path):
        found = MARKER_RE.match(placed.row.plain.strip()) if isinstance(placed.item, tuple) else None
        if found and found.group(1) == stamp:
            ending = rows[placed.at][len(rows[placed.at].rstrip("\r\n")):]
            body = placed.row.plain.strip()
            rows[placed.at] = (f"{STRIKE}{body}{STRIKE}" if cut else body) + ending
            return "".join(rows)
    raise InputError(f"{path}: no marker at [{stamp}]. The file changed: reload the page.")


def _placed(text: str, transcript: Transcript, path: Path | str) -> list[_Placed]:
    """Every edit row with its place, as ``parse_edit_md`` reads them (comments skipped)."""
    ctx = context(transcript)
    out, in_comment = [], False
    for at, raw in enumerate(text.splitlines()):
        line = raw.strip()
        if in_comment or line.startswith("<!--"):
            in_comment = "-->" not in line
            continue
        if line:
            row = ctx.row(at + 1, line, path)
            key, item = ctx.identify(row, path)
            out.append(_Placed(at, row, key, item))
    return out


def _rewritten(row: _Row, line: EditLine, wanted: set[int], cut: bool) -> str:
    """The row with the wanted tokens' words struck or not; the host's own words kept as written."""
    words = _row_words(row)
    kept = _kept_words(line, row)
    want = [normalize(t.text) for t in line.tokens]
    have = [normalize(w) for w, _ in words]
    flags = [s for _, s in words]
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, want, have, autojunk=False).get_opcodes():
        if op == "equal":
            for k in range(i2 - i1):
                if line.tokens[i1 + k].index in wanted:
                    flags[j1 + k] = cut
        elif op == "replace" and all(line.tokens[i].index in wanted for i in range(i1, i2)):
            flags[j1:j2] = [cut] * (j2 - j1)
    # Words the host deleted from the row are cut already; keeping one brings it back.
    if not cut:
        missing = [t for t in line.tokens if t.index in wanted and t.index not in kept and not _matched(t.index, line, row)]
        if missing:
            struck = {t.index for t in line.tokens} - (kept | wanted)
            return _fresh_row(line, struck, _prefix(row))
    match = LINE_RE.match(row.plain.strip())
    prefix = row.plain.strip()[: match.start(2)] if match else ""
    return prefix + _join([w for w, _ in words], flags)


def _matched(index: int, line: EditLine, row: _Row) -> bool:
    """Whether the token is still written in the row (struck or not)."""
    want = [normalize(t.text) for t in line.tokens]
    have = [normalize(w) for w, _ in _row_words(row)]
    for op, i1, i2, _j1, _j2 in difflib.SequenceMatcher(None, want, have, autojunk=False).get_opcodes():
        if op in ("equal", "replace") and any(line.tokens[i].index == index for i in range(i1, i2)):
            return True
    return False


def _prefix(row: _Row) -> str:
    match = LINE_RE.match(row.plain.strip())
    return row.plain.strip()[: match.start(2)] if match else ""


def _fresh_row(line: EditLine, struck: set[int], prefix: str | None = None) -> str:
    """A row for ``line`` as the writer makes it, with ``struck`` tokens struck."""
    who = f"**{line.speaker}:** " if line.speaker else ""
    head = prefix if prefix is not None else f"[{timestamp(line.start_s)}] {who}"
    return head + _join([t.text for t in line.tokens], [t.index in struck for t in line.tokens])


def _join(words: list[str], flags: list[bool]) -> str:
    """Words with each run of flagged ones wrapped in one ``~~ ~~``."""
    out, run = [], []
    for word, flag in zip(words, flags):
        if flag:
            run.append(word)
            continue
        if run:
            out.append(STRIKE + " ".join(run) + STRIKE)
            run = []
        out.append(word)
    if run:
        out.append(STRIKE + " ".join(run) + STRIKE)
    return " ".join(out)
