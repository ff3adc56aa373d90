"""edit.md: the transcript as an edit list the host changes in any text editor.

One line per sentence, each starting with its time: delete a line to cut it, wrap words in
``~~ ~~`` to cut just those words. Suggested cuts come pre-marked (struck): filler words, long
pauses (a marker line ``~~[time] [pause 2.50 s]~~``, shortened when struck, kept in full when
un-struck) and dead air at both ends (``~~[time] [dead air 3.10 s]~~``, cut when struck).

Written with the audio heard (``audiocheck.Hearing``), a pause or dead air is suggested only where
no speech is heard; speech the transcript lacks is a line ``[time] [untranscribed 12.30 s]``, kept
unless struck; filler cuts are measured from the filler's sound, and the measured cuts are kept in
a note at the end of the file (render uses them). A marker line says where it starts and how long
it is. A long stretch between lines that the file mentions nothing of (its markers deleted) is cut
as the word times suggest.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..transcript.formats import timestamp
from ..transcript.model import Transcript
from ..workspace import EDIT
from .cutlist import CutList, Interval, gap_cut, merge, word_cuts
from .lines import EditLine, Token, split_lines, tokens_of
from .suggest import SILENCE_KEEP_S, SILENCE_MAX_S, Gap, Span, checked, filler_indices, normalize, spans_between, unchecked

HEADER = (
    "<!-- Edit by deleting a line to cut it, or wrap words in ~~ ~~ to cut just those words; keep the [times] as they are.\n"
    "     Struck (~~) lines and words are suggested cuts: remove the ~~ to keep them; [untranscribed] speech is kept unless struck. Then run `chaitime render`. -->\n"
)
TIME = r"\[(\d{2}:\d{2}:\d{2}\.\d{3})\]"
LINE_RE = re.compile(rf"^{TIME}\s+(?:\*\*[^*]*?:\*\*\s*)?(.*)$")
MARKER_RE = re.compile(rf"^{TIME}\s+\[(pause|dead air|untranscribed)\s+([\d.]+)\s*s\]$")
NOTE_START = "<!-- Measured from the audio, used by `chaitime render` (keep this note): filler cuts"
NOTE_RE = re.compile(re.escape(NOTE_START) + r"(.*?)-->", re.S)
NOTE_ITEM_RE = re.compile(r"(\d{2}:\d{2}:\d{2}\.\d{3})\+(\d+)=([\d.]+)-([\d.]+)")
STRIKE = "~~"


# --- writing ---------------------------------------------------------------------------------


def write_edit_md(
    transcript: Transcript, *, fillers: list[str] | None = None, silence_max_s: float = SILENCE_MAX_S, silence_keep_s: float = SILENCE_KEEP_S,
    hearing=None,
) -> str:
    """edit.md for ``transcript`` with fillers, pauses over ``silence_max_s`` and dead air pre-struck.

    With ``hearing`` (``audiocheck.listen``), every suggestion is checked against the audio (see
    the module docstring). ``silence_keep_s`` is applied at render time; it is taken here so
    callers pass one set of settings.
    """
    lines = split_lines(transcript)
    tokens = tokens_of(transcript)
    struck = filler_indices(tokens, fillers)
    duration = transcript.duration_s or (hearing.duration_s if hearing is not None else 0.0)
    measured: dict[int, tuple[int, Interval]] = {}
    if hearing is None:
        gaps = unchecked(lines, duration, silence_max_s)
    else:
        gaps = checked(lines, duration, hearing, silence_max_s)
        struck, measured = _snap_fillers(tokens, struck, hearing)
    items = sorted([(g.start_s, 0, _marker(g, cut)) for g, cut in gaps] + [(ln.start_s, 1, _line_text(ln, struck)) for ln in lines])
    return HEADER + "\n" + "".join(text + "\n" for _, _, text in items) + _note(tokens, measured)


def _snap_fillers(tokens: Sequence[Token], struck: set[int], hearing) -> tuple[set[int], dict[int, tuple[int, Interval]]]:
    """Each run of filler words measured in the audio; a run without a clean cut is not suggested."""
    from .audiocheck import snap_filler

    kept, measured, i = set(), {}, 0
    while i < len(tokens):
        if tokens[i].index not in struck:
            i += 1
            continue
        j = i
        while j + 1 < len(tokens) and tokens[j + 1].index in struck:
            j += 1
        cut = snap_filler(hearing, tokens[i - 1].end_s if i > 0 else None, tokens[i].start_s, tokens[j].end_s,
                          tokens[j + 1].start_s if j + 1 < len(tokens) else None)
        if cut is not None:
            kept |= {tokens[k].index for k in range(i, j + 1)}
            measured[tokens[i].index] = (j - i + 1, cut)
        i = j + 1
    return kept, measured


def _note(tokens: Sequence[Token], measured: dict[int, tuple[int, Interval]]) -> str:
    if not measured:
        return ""
    items = " ".join(f"{timestamp(tokens[i].start_s)}+{n}={a:.4f}-{b:.4f}" for i, (n, (a, b)) in sorted(measured.items()))
    return f"\n{NOTE_START} {items} -->\n"


def _marker(gap: Gap, cut: bool = True) -> str:
    text = f"[{timestamp(gap.start_s)}] [{gap.kind} {gap.length_s:.2f} s]"
    return f"{STRIKE}{text}{STRIKE}" if cut else text


def _line_text(line: EditLine, struck: set[int]) -> str:
    words, run = [], []
    for n, tok in enumerate(line.tokens):
        if n and _hyphen_piece(tok) and (tok.index in struck) == (line.tokens[n - 1].index in struck):
            # " age" "-old": one word, as it was said ("age -old" would read as two)
            (run if tok.index in struck else words)[-1] += tok.text
            continue
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


def _hyphen_piece(tok: Token) -> bool:
    """A word piece that goes on the word before it: Whisper's "-old" of "age-old" (no leading space)."""
    return tok.word.text[:1] == "-" and tok.word.text[1:2].isalnum()


# --- parsing ---------------------------------------------------------------------------------


@dataclass
class Context:
    """What parsing edit.md needs from one transcript, made once per transcript: its lines, tokens,
    the stretches between lines, and each row's identification (by its text) as it is met."""

    lines: list[EditLine]
    tokens: list[Token]
    by_time: dict[str, EditLine]
    spans: list[Span]
    span_starts: list[float]
    identified: dict[str, tuple] = field(default_factory=dict)
    kept_words: dict[tuple, frozenset[int]] = field(default_factory=dict)
    rows: dict[str, _Row] = field(default_factory=dict)

    def identify(self, row: _Row, path) -> tuple[tuple[float, int], EditLine | tuple[int, Gap]]:
        text = row.plain.strip()
        found = self.identified.get(text)
        if found is None:
            found = self.identified[text] = _identify(row, self.by_time, self.spans, path, self.span_starts)
        return found

    def kept(self, line: EditLine, row: _Row) -> frozenset[int]:
        key = (line.start_s, row.plain, row.struck)
        found = self.kept_words.get(key)
        if found is None:
            found = self.kept_words[key] = _kept_words(line, row)
        return found

    def row(self, number: int, line: str, path) -> _Row:
        found = self.rows.get(line)
        if found is None:
            found = self.rows[line] = _strikes(number, line, path)
        return found if found.number == number else _Row(number, found.plain, found.struck)


_LAST: list[tuple[Transcript, Context]] = []  # the last transcript parsed against (immutable: identity is enough)


def context(transcript: Transcript) -> Context:
    """The parse context of ``transcript``, kept for the last one (the studio parses one episode's
    edit.md again after every change: an hour's transcript is not split into lines each time)."""
    last = _LAST[0] if _LAST else None
    if last is not None and last[0] is transcript:
        return last[1]
    lines = split_lines(transcript)
    spans = spans_between(lines, transcript.duration_s)
    ctx = Context(lines, tokens_of(transcript), {timestamp(ln.start_s): ln for ln in lines}, spans, [s.start_s for s in spans])
    _LAST[:] = [(transcript, ctx)]
    return ctx


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
    text: str, transcript: Transcript, *, path: Path | str = EDIT,
    silence_max_s: float = SILENCE_MAX_S, silence_keep_s: float = SILENCE_KEEP_S,
) -> CutList:
    """The cut list the host's edit.md asks for; InputError naming the line for anything malformed."""
    ctx = context(transcript)
    tokens, spans = ctx.tokens, ctx.spans
    rows = _rows(text, path, ctx)
    removed = {t.index for t in tokens}
    struck_gaps: list[Gap] = []
    mentioned: set[int] = set()
    last_key: tuple[float, int] | None = None
    last_row: _Row | None = None
    for row in rows:
        key, item = ctx.identify(row, path)
        if last_key is not None and key <= last_key:
            raise InputError(
                f"{path}, line {row.number}: out of order (its time comes before line {last_row.number}'s). "
                "Lines can't be moved or repeated: put it back where it was, or delete it to cut it."
            )
        last_key, last_row = key, row
        if isinstance(item, tuple):
            mentioned.add(item[0])
            if all(row.struck):
                struck_gaps.append(item[1])
        else:
            removed -= ctx.kept(item, row)
    # A long stretch the file says nothing about: its markers were deleted, so it is cut.
    struck_gaps += [_whole(s) for i, s in enumerate(spans) if i not in mentioned and s.long(silence_max_s)]
    cuts = word_cuts(tokens, removed, _measured(text, tokens))
    keep_s = max(0.0, float(silence_keep_s))
    cuts += [c for g in struck_gaps if (c := gap_cut(g, keep_s))]
    return CutList(merge(cuts), frozenset(removed))


def _whole(span: Span) -> Gap:
    return Gap("pause" if span.where == "between" else "dead air", span.start_s, span.end_s)


def _measured(text: str, tokens: Sequence[Token]) -> dict[int, tuple[int, Interval]]:
    """The filler cuts measured from the audio, from the note at the end of the file."""
    note = NOTE_RE.search(text)
    if not note:
        return {}
    by_time = {timestamp(t.start_s): t.index for t in reversed(tokens)}
    out = {}
    for stamp, count, a, b in NOTE_ITEM_RE.findall(note.group(1)):
        if stamp in by_time and float(b) > float(a):
            out[by_time[stamp]] = (int(count), (float(a), float(b)))
    return out


def _rows(text: str, path: Path | str, ctx: Context | None = None) -> list[_Row]:
    rows, in_comment = [], False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if in_comment or line.startswith("<!--"):
            in_comment = "-->" not in line
            continue
        if not line:
            continue
        rows.append(ctx.row(number, line, path) if ctx else _strikes(number, line, path))
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


def _seconds(stamp: str) -> float:
    h, m, sec = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(sec)


def _identify(row: _Row, by_time: dict, spans: Sequence[Span], path,
              span_starts: Sequence[float] | None = None) -> tuple[tuple[float, int], EditLine | tuple[int, Gap]]:
    marker = MARKER_RE.match(row.plain.strip())
    if marker:
        stamp, kind, length = marker.groups()
        found = _marker_gap(_seconds(stamp), float(length), kind, spans, span_starts)
        if found is None:
            raise InputError(f"{path}, line {row.number}: no {kind} starts at [{stamp}]. Don't edit the times: undo the change, or delete the line.")
        return (found[1].start_s, 0), found
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


def _marker_gap(start: float, length: float, kind: str, spans: Sequence[Span],
                span_starts: Sequence[float] | None = None) -> tuple[int, Gap] | None:
    """The stretch between lines a marker lies in, and the gap it names (its ends put back on the
    stretch's ends where the file's rounding moved them: times to 1 ms, lengths to 10 ms)."""
    candidates = range(len(spans))
    if span_starts is not None:  # spans are in order: only the one starting just before can hold it
        at = bisect.bisect_right(span_starts, start + 0.0015)
        candidates = range(max(0, at - 2), min(len(spans), at + 1))
    for i in candidates:
        span = spans[i]
        if not (span.start_s - 0.0015 <= start and start + length <= span.end_s + 0.0065 and start < span.end_s):
            continue
        a = span.start_s if abs(start - span.start_s) < 0.0015 else start
        b = span.end_s if abs(start + length - span.end_s) < 0.0065 else min(span.end_s, start + length)
        if kind == "dead air" and not ((span.where == "lead" and a <= 0.0) or (span.where == "tail" and b >= span.end_s)):
            return None
        return i, Gap(kind, a, b)
    return None


def _kept_words(line: EditLine, row: _Row) -> frozenset[int]:
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
    return frozenset(kept)


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
