"""Diarization error rate, scored the usual way: 10 ms frames, a 0.25 s no-score collar around
every reference boundary, overlapping speech scored, and the best one-to-one mapping of
hypothesis labels to reference labels (brute force: speaker counts here are small)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

STEP_S = 0.01


@dataclass(frozen=True)
class Turn:
    start_s: float
    end_s: float
    speaker: str


@dataclass(frozen=True)
class DerResult:
    der: float
    missed_s: float
    false_alarm_s: float
    confusion_s: float
    scored_s: float
    mapping: dict[str, str]


def read_rttm(path: Path) -> list[Turn]:
    """SPEAKER <file> <chan> <start> <duration> <NA> <NA> <speaker> ... lines."""
    turns = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        f = line.split()
        if len(f) >= 8 and f[0] == "SPEAKER":
            start, dur = float(f[3]), float(f[4])
            turns.append(Turn(start, start + dur, f[7]))
    return turns


def diarization_error(reference: list[Turn], hypothesis: list[Turn], *, collar_s: float = 0.25) -> DerResult:
    n = int(np.ceil(max(t.end_s for t in reference + hypothesis) / STEP_S)) + 1
    ref_labels, ref = _activity(reference, n)
    hyp_labels, hyp = _activity(hypothesis, n)
    scored = _scored_frames(reference, n, collar_s)
    ref, hyp = ref[:, scored], hyp[:, scored]
    mapping, correct = _best_mapping(ref, hyp)
    n_ref, n_hyp = ref.sum(axis=0), hyp.sum(axis=0)
    missed = np.maximum(n_ref - n_hyp, 0).sum()
    false_alarm = np.maximum(n_hyp - n_ref, 0).sum()
    confusion = np.minimum(n_ref, n_hyp).sum() - correct
    total = max(n_ref.sum(), 1)
    names = {hyp_labels[h]: ref_labels[r] for h, r in mapping.items()}
    return DerResult((missed + false_alarm + confusion) / total, missed * STEP_S, false_alarm * STEP_S, confusion * STEP_S, total * STEP_S, names)


def _activity(turns: list[Turn], n: int) -> tuple[list[str], np.ndarray]:
    labels = sorted({t.speaker for t in turns})
    act = np.zeros((len(labels), n), dtype=bool)
    for t in turns:
        act[labels.index(t.speaker), int(round(t.start_s / STEP_S)) : int(round(t.end_s / STEP_S))] = True
    return labels, act


def _scored_frames(reference: list[Turn], n: int, collar_s: float) -> np.ndarray:
    scored = np.ones(n, dtype=bool)
    c = int(round(collar_s / STEP_S))
    for t in reference:
        for edge in (t.start_s, t.end_s):
            i = int(round(edge / STEP_S))
            scored[max(0, i - c) : i + c] = False
    return scored


def _best_mapping(ref: np.ndarray, hyp: np.ndarray) -> tuple[dict[int, int], int]:
    """hyp index -> ref index maximizing frames where both are active."""
    overlap = hyp.astype(np.int32) @ ref.T.astype(np.int32)  # (n_hyp, n_ref)
    n_hyp, n_ref = overlap.shape
    best: tuple[int, dict[int, int]] = (0, {})
    if n_hyp <= n_ref:
        for refs in itertools.permutations(range(n_ref), n_hyp):
            score = sum(overlap[h, r] for h, r in enumerate(refs))
            if score > best[0] or not best[1]:
                best = (score, dict(enumerate(refs)))
    else:
        for hyps in itertools.permutations(range(n_hyp), n_ref):
            score = sum(overlap[h, r] for r, h in enumerate(hyps))
            if score > best[0] or not best[1]:
                best = (score, {h: r for r, h in enumerate(hyps)})
    return best[1], int(best[0])
