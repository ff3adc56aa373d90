"""Suggested cuts, pre-marked in edit.md: filler words, long pauses, dead air at both ends."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .lines import EditLine, Token

DEFAULT_FILLERS = ("um", "umm", "uh", "uhm", "uh-huh", "erm", "er", "ah", "hmm", "mm", "mhm")
DEAD_AIR_KEEP_S = 0.3  # silence left before the first word and after the last
DEAD_AIR_MIN_S = 0.5  # shorter dead air is not worth a marker
SILENCE_MAX_S = 1.5
SILENCE_KEEP_S = 0.5


@dataclass(frozen=True)
class Gap:
    """Silence between lines ("pause") or before the first / after the last word ("dead air")."""

    kind: str  # "pause" | "dead air"
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
    phrases = [tuple(normalize(w) for w in f.split()) for f in (DEFAULT_FILLERS if fillers is None else fillers)]
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
