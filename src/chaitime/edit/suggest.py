"""Suggested cuts, pre-marked in edit.md: filler words, long pauses, dead air at both ends."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..transcript.model import FILLERS
from .lines import EditLine, Token

DEAD_AIR_KEEP_S = 0.3  # silence left before the first word and after the last
DEAD_AIR_MIN_S = 0.5  # shorter dead air is not worth a marker
SILENCE_MAX_S = 1.5
SILENCE_KEEP_S = 0.5


@dataclass(frozen=True)
class Gap:
    """Silence between lines ("pause"), before the first / after the last word ("dead air"), or
    speech heard where the transcript has no words ("untranscribed")."""

    kind: str  # "pause" | "dead air" | "untranscribed"
    start_s: float
    end_s: float

    @property
    def length_s(self) -> float:
        return self.end_s - self.start_s


def normalize(text: str) -> str:
    """Lower case, letters, digits and inner hyphens only: how words are compared."""
    return re.sub(r"[^\w-]+", "", text.lower()).strip("-")


def filler_indices(tokens: Sequence[Token], fillers: Sequence[str] | None = None) -> set[int]:
    """Indices of tokens that are filler words; a multi-word filler ("you know") matches a run."""
    phrases = [tuple(normalize(w) for w in f.split()) for f in (sorted(FILLERS) if fillers is None else fillers)]
    phrases = [p for p in phrases if p and all(p)]
    words = [normalize(t.text) for t in tokens]
    found: set[int] = set()
    for i in range(len(words)):
        for phrase in phrases:
            if tuple(words[i : i + len(phrase)]) == phrase:
                found.update(tokens[j].index for j in range(i, i + len(phrase)))
    return found


def long_pauses(lines: Sequence[EditLine], silence_max_s: float = SILENCE_MAX_S) -> list[Gap]:
    """Silences between consecutive lines longer than ``silence_max_s``."""
    return [
        Gap("pause", a.end_s, b.start_s)
        for a, b in zip(lines, lines[1:])
        if b.start_s - a.end_s > silence_max_s
    ]


def dead_air(lines: Sequence[EditLine], duration_s: float) -> list[Gap]:
    """Silence before the first word and after the last, when longer than DEAD_AIR_MIN_S."""
    if not lines:
        return []
    gaps = [Gap("dead air", 0.0, lines[0].start_s), Gap("dead air", lines[-1].end_s, max(duration_s, lines[-1].end_s))]
    return [g for g in gaps if g.length_s > DEAD_AIR_MIN_S]


# --- checked against the audio ------------------------------------------------------------------

EDGE_S = 0.6  # sound this long next to a line is its words' tail or head (Whisper's times are rough)
FLAG_JOIN_S = 1.0  # flagged speech this close together is one line (a sentence's pauses)
FLAG_MIN_S = 0.3  # shorter speech without words is not flagged (but never inside a suggested cut)


@dataclass(frozen=True)
class Span:
    """A stretch between transcript lines: "lead" (before the first), "between", "tail" (after the last)."""

    where: str
    start_s: float
    end_s: float

    def long(self, silence_max_s: float) -> bool:
        """Whether the gap was worth a suggestion before the audio was checked (and still is by default)."""
        limit = silence_max_s if self.where == "between" else DEAD_AIR_MIN_S
        return self.end_s - self.start_s > limit


def spans_between(lines: Sequence[EditLine], duration_s: float) -> list[Span]:
    """Every stretch of the timeline outside the lines, in order."""
    if not lines:
        return []
    out = [Span("lead", 0.0, lines[0].start_s)]
    out += [Span("between", a.end_s, b.start_s) for a, b in zip(lines, lines[1:])]
    out.append(Span("tail", lines[-1].end_s, max(duration_s, lines[-1].end_s)))
    return [s for s in out if s.end_s > s.start_s]


def unchecked(lines: Sequence[EditLine], duration_s: float, silence_max_s: float) -> list[tuple[Gap, bool]]:
    """The suggestions from word times alone: every long pause and dead air, struck."""
    return [(g, True) for g in long_pauses(lines, silence_max_s) + dead_air(lines, duration_s)]


def checked(lines: Sequence[EditLine], duration_s: float, hearing, silence_max_s: float) -> list[tuple[Gap, bool]]:
    """Suggestions (gap, struck) where the audio was heard: a pause or dead air only where no
    speech is heard; heard speech without words becomes an "untranscribed" gap, never struck.
    Every long stretch gets at least one item, so a file that mentions nothing there was edited."""
    items: list[tuple[Gap, bool]] = []
    for span in spans_between(lines, duration_s):
        items += _check_span(span, hearing, silence_max_s, duration_s)
    return items


def _check_span(span: Span, hearing, silence_max_s: float, duration_s: float) -> list[tuple[Gap, bool]]:
    a, b = span.start_s, span.end_s
    heard = hearing.heard(a, b)
    flagged = []
    for s, e in hearing.voiced(a, b):
        # A voice running on from a line by up to EDGE_S is that line's words (Whisper times words
        # roughly); what is left beyond that is speech without words.
        lo = s + EDGE_S if span.where != "lead" and s <= a + 1e-3 else s
        hi = e - EDGE_S if span.where != "tail" and e >= b - 1e-3 else e
        if hi - lo < FLAG_MIN_S:
            continue
        if flagged and s - flagged[-1][0].end_s < FLAG_JOIN_S:  # one answer, one line
            s = flagged.pop()[0].start_s
        flagged.append((Gap("untranscribed", s, e), False))
    silent, cursor = [], a
    for s, e in heard:
        if s > cursor:
            silent.append((cursor, s))
        cursor = max(cursor, e)
    if b > cursor:
        silent.append((cursor, b))
    out = list(flagged)
    for s, e in silent:
        outer = (span.where == "lead" and s <= 0.0) or (span.where == "tail" and e >= duration_s - 1e-3)
        if outer and e - s > DEAD_AIR_MIN_S:
            out.append((Gap("dead air", s, e), True))
        elif not outer and e - s > silence_max_s:
            out.append((Gap("pause", s, e), True))
    if not out and span.long(silence_max_s):
        if silent:  # kept unless the host strikes it
            s, e = max(silent, key=lambda g: g[1] - g[0])
            outer = (span.where == "lead" and s <= 0.0) or (span.where == "tail" and e >= duration_s - 1e-3)
            out.append((Gap("dead air" if outer else "pause", s, e), False))
        else:
            out.append((Gap("untranscribed", a, b), False))
    return sorted(out, key=lambda item: item[0].start_s)
