"""Word error rate, shared by the tests and the benchmark scripts (scripts/ put tests/ on sys.path)."""

from __future__ import annotations

import re

import numpy as np


def normalize(text: str) -> list[str]:
    """Lower-case words without punctuation (hyphens split words)."""
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("-", " ")).split()


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate by edit distance on normalized words, one numpy row at a time (hours of
    words stay fast): substitutions and deletions come from the previous row; insertions are a
    running minimum."""
    r, h = normalize(reference), normalize(hypothesis)
    if not r:
        return float(bool(h))
    vocab = {w: i for i, w in enumerate(dict.fromkeys(r + h))}
    hyp_ids = np.array([vocab[w] for w in h], dtype=np.int64)
    cols = np.arange(len(h) + 1)
    row = cols.copy()
    for i, word in enumerate(r, start=1):
        sub = row[:-1] + (hyp_ids != vocab[word])
        cur = np.concatenate(([i], np.minimum(row[1:] + 1, sub)))
        row = np.minimum.accumulate(cur - cols) + cols
    return float(row[-1]) / len(r)
