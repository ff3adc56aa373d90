"""Where someone is speaking, from level alone: frames well above the recording's noise floor,
with short gaps bridged and blips dropped. Good enough to place embedding windows; words from
the transcript fill in whatever it misses."""

from __future__ import annotations

import numpy as np

from .audio import FRAME_S, to_db

BRIDGE_S = 0.3
MIN_SPEECH_S = 0.2


def speech_regions(power: np.ndarray) -> list[tuple[float, float]]:
    """(start_s, end_s) spans of speech from per-10 ms power."""
    db = to_db(power)
    floor, loud = np.percentile(db, 10), np.percentile(db, 97)
    threshold = floor + max(6.0, 0.3 * (loud - floor))
    return _spans(_bridge(db > threshold, int(BRIDGE_S / FRAME_S)), int(MIN_SPEECH_S / FRAME_S))


def _bridge(active: np.ndarray, gap: int) -> np.ndarray:
    out = active.copy()
    idx = np.flatnonzero(active)
    for a, b in zip(idx[:-1], idx[1:]):
        if 1 < b - a <= gap:
            out[a:b] = True
    return out


def _spans(active: np.ndarray, min_len: int) -> list[tuple[float, float]]:
    edges = np.diff(np.concatenate([[0], active.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [(s * FRAME_S, e * FRAME_S) for s, e in zip(starts, ends) if e - s >= min_len]
