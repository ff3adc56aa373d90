"""edit.md: the transcript as an edit list the host changes in any text editor.

One line per sentence, each starting with its time: delete a line to cut it, wrap words in
``~~ ~~`` to cut just those words. Suggested cuts come pre-marked (struck): filler words, long
pauses (a marker line ``~~[time] [pause 2.50 s]~~``, shortened when struck, kept in full when
un-struck) and dead air at both ends (``~~[time] [dead air 3.10 s]~~``, cut when struck or deleted).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..transcript.formats import timestamp
from ..transcript.model import Transcript
from .cutlist import CutList, gap_cut, merge, word_cuts
from .lines import EditLine, split_lines, tokens_of
from .suggest import SILENCE_KEEP_S, SILENCE_MAX_S, Gap, dead_air, filler_indices, long_pauses, normalize

HEADER = (
    "<!-- Edit by deleting a line to cut it, or wrap words in ~~ ~~ to cut just those words; keep the [times] as they are.\n"
    "     Struck (~~) lines and words are suggested cuts: remove the ~~ to keep them. Then run `chaitime render`. -->\n"
)
TIME = r"\[(\d{2}:\d{2}:\d{2}\.\d{3})\]"
LINE_RE = re.compile(rf"^{TIME}\s+(?:\*\*[^*]*?:\*\*\s*)?(.*)$")
MARKER_RE = re.compile(rf"^{TIME}\s+\[(pause|dead air)\s+[\d.]+\s*s\]$")
STRIKE = "~~"


# --- writing ---------------------------------------------------------------------------------


def write_edit_md(
    transcript: Transcript, *, fillers: list[str] | None = None, silence_max_s: float = SILENCE_MAX_S, silence_keep_s: float = SILENCE_KEEP_S
) -> str:
    """edit.md for ``transcript`` with fillers, pauses over ``silence_max_s`` and dead air pre-struck.

    ``silence_keep_s`` is applied at render time; it is taken here so callers pass one set of settings.
    """
    lines = split_lines(transcript)
    struck = filler_indices(tokens_of(transcript), fillers)
    gaps = long_pauses(lines, silence_max_s) + dead_air(lines, transcript.duration_s)
    items = sorted([(g.start_s, 0, _marker(g)) for g in gaps] + [(ln.start_s, 1, _line_text(ln, struck)) for ln in lines])
    return HEADER + "\n" + "".join(text + "\n" for _, _, text in items)


def _marker(gap: Gap) -> str:
    return f"{STRIKE}[{timestamp(gap.start_s)}] [{gap.kind} {gap.length_s:.2f} s]{STRIKE}"


def _line_text(line: EditLine, struck: set[int]) -> str:
    words, run = [], []
    for tok in line.tokens:
        if tok.index in struck:
            run.append(tok.text)
            continue
        if run:
            words.append(STRIKE + " ".join(run) + STRIKE)
            run = []
        words.append(tok.text)
    if run:
        words.append(STRIKE + " ".join(run) + STRIKE)
    who = f"**{line.speaker}:** " if line.speaker else ""
    return f"[{timestamp(line.start_s)}] {who}{' '.join(words)}"


# --- parsing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    """One edit line of the file: its number, its text without ~~, and which characters were struck."""

    number: int
    plain: str
    struck: tuple[bool, ...]


def read_edit_md(path: Path) -> str:
    """The host's edit.md as text; InputError naming the file for anything that isn't UTF-8 text."""
    try:
        data = Path(path).read_bytes()
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start}). Save it as UTF-8, or delete it to get a fresh one from the transcript.") from exc
    if "\x00" in text:
        raise InputError(f"{path}: holds NUL bytes (not a text file). Delete it to get a fresh one from the transcript.")
    return text


def parse_edit_md(
    text: str, transcript: Transcript, *, path: Path | str = "edit.md",
    silence_max_s: float = SILENCE_MAX_S, silence_keep_s: float = SILENCE_KEEP_S,
) -> CutList:
    """The cut list the host's edit.md asks for; InputError naming the line for anything malformed."""
    lines = split_lines(transcript)
    tokens = tokens_of(transcript)
    rows = _rows(text, path)
    by_time = {timestamp(ln.start_s): ln for ln in lines}
    pauses = {timestamp(a.end_s): Gap("pause", a.end_s, b.start_s) for a, b in zip(lines, lines[1:])}
    ends = dead_air(lines, transcript.duration_s)
    removed = {t.index for t in tokens}
    gap_choice: dict[Gap, bool] = {g: True for g in long_pauses(lines, silence_max_s) + ends}  # True = cut
    last_key: tuple[float, int] | None = None
    last_row: _Row | None = None
    for row in rows:
        key, item = _identify(row, by_time, pauses, ends, path)
        if last_key is not None and key <= last_key:
            raise InputError(
                f"{path}, line {row.number}: out of order (its time comes before line {last_row.number}'s). "
                "Lines can't be moved or repeated: put it back where it was, or delete it to cut it."
            )
        last_key, last_row = key, row
        if isinstance(item, Gap):
            gap_choice[item] = all(row.struck)
        else:
            removed -= _kept_words(item, row)
    cuts = word_cuts(tokens, removed)
    keep_s = max(0.0, float(silence_keep_s))
    cuts += [c for g, cut in gap_choice.items() if cut and (c := gap_cut(g, keep_s))]
    return CutList(merge(cuts), frozenset(removed))


def _rows(text: str, path: Path | str) -> list[_Row]:
    rows, in_comment = [], False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if in_comment or line.startswith("<!--"):
            in_comment = "-->" not in line
            continue
        if not line:
            continue
        rows.append(_strikes(number, line, path))
    return rows


def _strikes(number: int, line: str, path: Path | str) -> _Row:
    parts = line.split(STRIKE)
    if len(parts) % 2 == 0:
        raise InputError(f"{path}, line {number}: a ~~ has no closing ~~. Strike words as ~~like this~~, or delete the ~~.")
    plain, flags = [], []
    for i, part in enumerate(parts):
        plain.append(part)
        flags += [i % 2 == 1] * len(part)
    return _Row(number, "".join(plain), tuple(flags))


def _identify(row: _Row, by_time: dict, pauses: dict, ends: Sequence[Gap], path) -> tuple[tuple[float, int], EditLine | Gap]:
    marker = MARKER_RE.match(row.plain.strip())
    if marker:
        stamp, kind = marker.groups()
        gap = next((g for g in ends if timestamp(g.start_s) == stamp), None) if kind == "dead air" else pauses.get(stamp)
        if gap is None:
            raise InputError(f"{path}, line {row.number}: no {kind} starts at [{stamp}]. Don't edit the times: undo the change, or delete the line.")
        return (gap.start_s, 0), gap
    match = LINE_RE.match(row.plain.strip())
    if not match:
        raise InputError(
            f"{path}, line {row.number}: not an edit line (each line starts with its [HH:MM:SS.mmm] time). "
            "Put notes inside <!-- -->, or undo the change."
        )
    line = by_time.get(match.group(1))
    if line is None:
        raise InputError(
            f"{path}, line {row.number}: no sentence starts at [{match.group(1)}]. "
            "The times must stay as written: undo the change to the time, or delete the whole line to cut it."
        )
    return (line.start_s, 1), line


def _kept_words(line: EditLine, row: _Row) -> set[int]:
    """Token indices of ``line`` the row keeps: matched words not struck; a word that was changed
    (a typo fixed) is kept unless struck; a word deleted from the text is cut."""
    words = _row_words(row)
    want = [normalize(t.text) for t in line.tokens]
    have = [normalize(w) for w, _ in words]
    kept: set[int] = set()
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, want, have, autojunk=False).get_opcodes():
        if op == "equal":
            kept |= {line.tokens[i1 + k].index for k in range(i2 - i1) if not words[j1 + k][1]}
        elif op == "replace" and not all(s for _, s in words[j1:j2]):
            kept |= {line.tokens[i].index for i in range(i1, i2)}
    return kept


def _row_words(row: _Row) -> list[tuple[str, bool]]:
    """The row's words after its time and speaker, each with whether it is struck."""
    match = LINE_RE.match(row.plain)
    start = match.start(2) if match else 0
    words = []
    for m in re.finditer(r"\S+", row.plain[start:]):
        flags = row.struck[start + m.start() : start + m.end()]
        letters = [f for ch, f in zip(m.group(), flags) if ch.isalnum()] or list(flags)
        words.append((m.group(), all(letters)))
    return words
