"""A cut list: which stretches of the original timeline are removed, and the time mapping
from the original timeline to the edited one.

Cuts are placed at word boundaries with a little padding: a removed run of words is cut from
just before its first word to just before the next kept word, so the pause before the run stays
and the next word's onset is never clipped. Lengths are exact; fades happen at render time.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass

from ..intervals import Interval, merge
from .lines import Token
from .suggest import DEAD_AIR_KEEP_S, Gap

PAD_S = 0.05  # cut this far before a word boundary (never more than half the silence there)



@dataclass(frozen=True)
class CutList:
    """Removed intervals of the original timeline (sorted, disjoint; math.inf = to the end),
    and the transcript words (token indices) that are removed with them."""

    cuts: tuple[Interval, ...]
    removed_words: frozenset[int] = frozenset()

    def keeps(self, duration_s: float) -> list[Interval]:
        """The kept intervals of a ``duration_s`` long original, in order."""
        out, cursor = [], 0.0
        for a, b in self.cuts:
            a, b = max(0.0, a), min(b, duration_s)
            if a > cursor:
                out.append((cursor, a))
            cursor = max(cursor, b)
        if cursor < duration_s:
            out.append((cursor, duration_s))
        return [(a, b) for a, b in out if b - a > 1e-6]

    def removed_s(self, duration_s: float) -> float:
        return duration_s - sum(b - a for a, b in self.keeps(duration_s))

    def snapped(self, fps: float, duration_s: float) -> CutList:
        """The same cuts with every boundary on the video frame grid, so audio and video cut alike."""
        grid = lambda t: round(t * fps) / fps  # noqa: E731
        keeps = [(grid(a), grid(b) if b < duration_s else duration_s) for a, b in self.keeps(duration_s)]
        return CutList(complement([k for k in keeps if k[1] > k[0]], duration_s), self.removed_words)


def complement(keeps: Sequence[Interval], duration_s: float) -> tuple[Interval, ...]:
    cuts, cursor = [], 0.0
    for a, b in keeps:
        if a > cursor:
            cuts.append((cursor, a))
        cursor = max(cursor, b)
    cuts.append((cursor, math.inf))
    return merge(cuts)


def word_cuts(tokens: Sequence[Token], removed: set[int], measured: dict[int, tuple[int, Interval]] | None = None) -> list[Interval]:
    """One cut per run of removed words: from its first word to the next kept word's start, or,
    for a run measured in the audio (``measured``: first token index -> (run length, cut)), the
    measured cut."""
    cuts, i = [], 0
    while i < len(tokens):
        if tokens[i].index not in removed:
            i += 1
            continue
        j = i
        while j + 1 < len(tokens) and tokens[j + 1].index in removed:
            j += 1
        known = (measured or {}).get(tokens[i].index)
        cuts.append(known[1] if known and known[0] == j - i + 1 else _run_cut(tokens, i, j))
        i = j + 1
    return cuts


def _run_cut(tokens: Sequence[Token], i: int, j: int) -> Interval:
    a = tokens[i].start_s
    silence_before = a - (tokens[i - 1].end_s if i > 0 else 0.0)
    if j + 1 >= len(tokens):
        return (a - max(0.0, min(PAD_S, silence_before / 2)), math.inf)
    b = tokens[j + 1].start_s
    shift = max(0.0, min(PAD_S, silence_before / 2, (b - tokens[j].end_s) / 2))
    return (a - shift, b - shift)


def gap_cut(gap: Gap, keep_s: float) -> Interval | None:
    """Shorten a pause to ``keep_s`` (cut from its middle), or dead air to DEAD_AIR_KEEP_S; an
    untranscribed stretch is cut whole."""
    if gap.kind == "untranscribed":
        return (gap.start_s, gap.end_s)
    if gap.kind == "dead air":
        if gap.start_s <= 0.0:
            return (0.0, gap.end_s - DEAD_AIR_KEEP_S) if gap.length_s > DEAD_AIR_KEEP_S else None
        return (gap.start_s + DEAD_AIR_KEEP_S, math.inf)
    if gap.length_s <= keep_s:
        return None
    return (gap.start_s + keep_s / 2, gap.end_s - keep_s / 2)


@dataclass(frozen=True)
class TimeMap:
    """Original time -> edited time for a list of kept intervals, shifted by ``offset_s`` (an intro)."""

    keeps: tuple[Interval, ...]
    offset_s: float = 0.0

    def __post_init__(self) -> None:
        starts, total = [], 0.0
        for a, b in self.keeps:
            starts.append(total)
            total += b - a
        object.__setattr__(self, "_starts", tuple(starts))
        object.__setattr__(self, "length_s", total)

    def __call__(self, t: float) -> float:
        """Edited time of original ``t``; a time inside a cut maps to where the cut joins."""
        k = bisect.bisect_right([a for a, _ in self.keeps], t) - 1
        if k < 0:
            return self.offset_s
        a, b = self.keeps[k]
        return self.offset_s + self._starts[k] + min(t, b) - a

    def inverse(self, t: float) -> float:
        """Original time of edited ``t`` (for chapters the host moved on the edited timeline)."""
        k = max(0, bisect.bisect_right(list(self._starts), t - self.offset_s) - 1)
        if not self.keeps:
            return 0.0
        a, b = self.keeps[k]
        return min(b, a + max(0.0, t - self.offset_s - self._starts[k]))

    def is_cut(self, t: float) -> bool:
        k = bisect.bisect_right([a for a, _ in self.keeps], t) - 1
        return k < 0 or t > self.keeps[k][1]
