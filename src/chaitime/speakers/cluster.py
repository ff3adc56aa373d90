"""Group embedding windows by voice with average-linkage agglomerative clustering on cosine
similarity, after centering (what all windows share, the channel and the room, is removed), then
refined by nearest centroid. Long recordings cluster a bounded sample and assign the rest to the
centroids.

The count, unless given, is estimated from the audio: the split into k voices (k = 2..8, each
voice at least MIN_SHARE of the speech) whose silhouette is best, kept only if it is a real split:
a silhouette of at least SPLIT_SILHOUETTE and labels that persist in time (one voice speaks for a
while: TURN_KAPPA, see _persistence), or a silhouette of CLEAR_SILHOUETTE alone. One person's windows split in two give silhouettes of
0.08-0.16 and labels that alternate at random; two real voices 0.2-0.64 and turns. Measured on
the five LibriSpeech readers alone and in conversations, the telephone sample and the
synthesized voices (scripts/trust_speakers.py).
"""

from __future__ import annotations

import numpy as np

MAX_CLUSTERED = 1500  # windows clustered directly; O(n^2) memory, about 9 MB at this size
MIN_SHARE = 0.1  # a speaker holds at least this share of the speech windows
MAX_SPEAKERS = 8
MIN_WINDOWS = 10  # under ~10 s of speech there is too little to tell a second voice from variation
SPLIT_SILHOUETTE = 0.18
TURN_KAPPA = 0.4
CLEAR_SILHOUETTE = 0.35  # a split this clean needs no turns (quick exchanges alternate every window)
MORE_SILHOUETTE = 0.05  # a split into more voices must beat the best so far by this much
# The people named are believed when their split is this clean and this persistent (a single
# reader split in two: silhouette 0.08-0.16 with kappa 0.0-0.3 for most).
HINT_SILHOUETTE, HINT_KAPPA = 0.12, 0.3


def cluster(embeddings: np.ndarray, *, num_speakers: int | None = None, expected: int | None = None,
            split_silhouette: float = SPLIT_SILHOUETTE) -> np.ndarray:
    """Cluster index for each row of ``embeddings`` (0..k-1, numbered by first appearance), rows
    in time order. ``num_speakers``: the count, given. ``expected``: how many people were named
    for the episode, a hint: it raises an estimate that the audio allows raising, and never lowers
    one. ``split_silhouette``: the bar for a second voice (higher where one voice is the norm)."""
    x = unit(embeddings)
    if len(x) < 2:
        return np.zeros(len(x), dtype=int)
    sample = _sample(len(x))
    z = unit(x - x.mean(axis=0))
    if num_speakers:
        k = min(num_speakers, len(sample))
        labels = _splits(z[sample], [k])[k] if k > 1 else np.zeros(len(sample), dtype=int)
    else:
        k, labels = estimate(z[sample], expected, split_silhouette)
    if k == 1:
        return np.zeros(len(x), dtype=int)
    return _by_first_appearance(_refine(z, _centroids(z[sample], labels)))


def estimate_count(x: np.ndarray, expected: int | None = None) -> int:
    """The number of voices among raw embeddings ``x`` (rows in time order)."""
    x = unit(x)
    return estimate(unit(x - x.mean(axis=0))[_sample(len(x))], expected)[0]


def estimate(z: np.ndarray, expected: int | None = None, split_silhouette: float = SPLIT_SILHOUETTE) -> tuple[int, np.ndarray]:
    """(count, labels) for centered unit vectors ``z`` in time order."""
    n = len(z)
    ones = np.zeros(n, dtype=int)
    top = min(MAX_SPEAKERS, max(1, int(n / max(2, MIN_SHARE * n))))
    if n < MIN_WINDOWS or top < 2:
        return 1, ones
    splits = _splits(z, list(range(2, top + 1)))
    scores = {k: silhouette(z, labels) for k, labels in splits.items() if _sizes_ok(labels, n)}
    best = None
    for k in sorted(scores):
        if best is None or scores[k] > scores[best] + MORE_SILHOUETTE:
            best = k
    if best is not None and (scores[best] >= CLEAR_SILHOUETTE or (scores[best] >= split_silhouette and _persistence(splits[best]) >= TURN_KAPPA)):
        count, labels = best, splits[best]
    else:
        count, labels = 1, ones
    if (expected and count < expected <= top and expected in scores and scores[expected] >= HINT_SILHOUETTE
            and _persistence(splits[expected]) >= HINT_KAPPA):
        count, labels = expected, splits[expected]
    return count, labels


def silhouette(z: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette with cosine distance (1 - similarity) of unit rows."""
    ks = np.unique(labels)
    if len(ks) < 2:
        return 0.0
    sim = z @ z.T
    member = labels[:, None] == ks[None, :]  # (n, k)
    counts = member.sum(axis=0).astype(float)
    own = member.astype(float)
    mean_sim = (sim @ member - own) / np.maximum(counts[None, :] - own, 1.0)  # excluding the row itself
    dist = 1.0 - mean_sim
    idx = np.searchsorted(ks, labels)
    a = dist[np.arange(len(z)), idx]
    dist[np.arange(len(z)), idx] = np.inf
    b = dist.min(axis=1)
    return float(np.mean((b - a) / np.maximum(np.maximum(a, b), 1e-9)))


def _persistence(labels: np.ndarray) -> float:
    """How much more often neighbouring windows share a label than chance would give (Cohen's
    kappa of label[i] vs label[i+1]): ~0 for one voice split by accident, 0.5+ for turns."""
    same = float(np.mean(labels[1:] == labels[:-1]))
    share = np.bincount(labels) / len(labels)
    chance = float(np.sum(share**2))
    return (same - chance) / max(1.0 - chance, 1e-9)


def _sizes_ok(labels: np.ndarray, n: int) -> bool:
    counts = np.bincount(labels)
    return bool(counts.min() >= max(2, MIN_SHARE * n))


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)


def _sample(n: int) -> np.ndarray:
    return np.arange(n) if n <= MAX_CLUSTERED else np.linspace(0, n - 1, MAX_CLUSTERED).astype(int)


def _splits(x: np.ndarray, ks: list[int]) -> dict[int, np.ndarray]:
    """For each k in ``ks``: average-linkage clusters cut at k, refined by nearest centroid,
    labels 0..k-1. One merge pass serves every k."""
    n = len(x)
    sim = x @ x.T
    np.fill_diagonal(sim, -np.inf)
    sizes = np.ones(n)
    members = np.arange(n)
    alive = n
    out: dict[int, np.ndarray] = {}
    wanted = {k for k in ks if k < n}
    if n in ks:
        out[n] = np.arange(n)
    while alive > min(wanted, default=n):
        i, j = np.unravel_index(np.argmax(sim), sim.shape)
        merged = (sizes[i] * sim[i] + sizes[j] * sim[j]) / (sizes[i] + sizes[j])
        sim[i, :], sim[:, i] = merged, merged
        sim[i, i] = -np.inf
        sim[j, :], sim[:, j] = -np.inf, -np.inf
        sizes[i] += sizes[j]
        members[members == j] = i
        alive -= 1
        if alive in wanted:
            out[alive] = _refine(x, _centroids(x, members))
    return {k: _dense(v) for k, v in out.items()}


def _dense(labels: np.ndarray) -> np.ndarray:
    return np.unique(labels, return_inverse=True)[1].reshape(-1)


def _centroids(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return unit(np.stack([x[labels == k].mean(axis=0) for k in np.unique(labels)]))


def _refine(x: np.ndarray, centroids: np.ndarray, rounds: int = 3) -> np.ndarray:
    """A few nearest-centroid passes (k-means on the sphere) over all windows."""
    labels = np.argmax(x @ centroids.T, axis=1)
    for _ in range(rounds):
        present = [k for k in range(len(centroids)) if np.any(labels == k)]
        centroids = unit(np.stack([x[labels == k].mean(axis=0) for k in present]))
        labels = np.argmax(x @ centroids.T, axis=1)
    return labels


def _by_first_appearance(labels: np.ndarray) -> np.ndarray:
    order: dict[int, int] = {}
    for label in labels:
        order.setdefault(int(label), len(order))
    return np.array([order[int(label)] for label in labels], dtype=int)
