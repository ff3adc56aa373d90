"""Half-open intervals (start, end), in seconds or in samples: the one set of helpers that
speech detection, transcription's windows, cut lists and speaker turns share."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

Interval = tuple[float, float]


def merge(intervals: Iterable[tuple], gap: float = 0) -> tuple[tuple, ...]:
    """The union, sorted: empty intervals dropped, those overlapping or within ``gap`` joined."""
    out: list[list] = []
    for a, b in sorted(i for i in intervals if i[1] > i[0]):
        if out and a <= out[-1][1] + gap:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return tuple((a, b) for a, b in out)


def clip(intervals: Iterable[tuple], lo: float, hi: float) -> list[tuple]:
    """Each interval cut to [lo, hi]; those outside it dropped."""
    return [(max(lo, a), min(hi, b)) for a, b in intervals if b > lo and a < hi and min(hi, b) > max(lo, a)]


def split_long(intervals: Iterable[tuple], limit: float) -> list[tuple]:
    """Intervals longer than ``limit`` cut into pieces of ``limit`` (the last one shorter)."""
    out = []
    for start, end in intervals:
        while end - start > limit:
            out.append((start, start + limit))
            start += limit
        out.append((start, end))
    return out


def overlap(a: Iterable[tuple], b: Sequence[tuple]) -> float:
    """How much of ``b`` lies inside ``a`` (each a list of intervals; math.inf allowed)."""
    return sum(max(0.0, min(e1, e2) - max(s1, s2)) for s1, e1 in a for s2, e2 in b)


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) index of each run of True in a boolean array."""
    if not len(mask):
        return []
    edges = np.diff(np.concatenate([[0], np.asarray(mask).astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return list(zip(starts.tolist(), ends.tolist()))
