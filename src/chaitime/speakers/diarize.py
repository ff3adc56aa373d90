"""Who spoke when in a single mixed recording: speech regions, a voice embedding every
WINDOW_S, clustering (count estimated unless given), then a label for every speech frame."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..intervals import merge
from . import cluster, embed
from .audio import FRAME_S, RATE, frame_power
from .der import Turn
from .vad import speech_regions

WINDOW_S = 1.5
HOP_S = 1.0  # 1.5 s windows every 1 s: DER 8.2% vs 4.7% at 0.5 s, at half the encoder time (bench_speakers.py)
MIN_WINDOW_S = 0.4
HOP = 160  # a window never comes out shorter than one mel frame
TARGET_DBFS = -30.0  # the encoder was trained on speech normalized to this level


@dataclass(frozen=True)
class Diarization:
    frame_labels: np.ndarray  # per 10 ms frame: speaker index, or -1 where nobody speaks
    method: str
    voices: Voices | None = None  # the speakers' centroids, to score other stretches of the audio

    @property
    def num_speakers(self) -> int:
        return int(self.frame_labels.max()) + 1 if self.frame_labels.size and self.frame_labels.max() >= 0 else 0

    def turns(self, prefix: str = "S") -> list[Turn]:
        labels = self.frame_labels
        change = np.flatnonzero(np.diff(np.concatenate([[-1], labels, [-1]])) != 0)
        return [
            Turn(a * FRAME_S, b * FRAME_S, f"{prefix}{labels[a] + 1}")
            for a, b in zip(change[:-1], change[1:])
            if labels[a] >= 0
        ]


def diarize(samples: np.ndarray, *, num_speakers: int | None = None, method: str | None = None, speech: list[tuple[float, float]] | None = None,
            expected: int | None = None, split_silhouette: float = cluster.SPLIT_SILHOUETTE) -> Diarization:
    """Diarize 16 kHz mono int16 ``samples``. ``speech`` gives the spans that hold speech (the
    transcript's words); without it a level-based detector finds them. ``expected``: the number
    of people named, a hint for the estimated count (cluster.cluster)."""
    method = method or embed.available()[0]
    power = frame_power(samples)
    regions = _merge(list(speech) if speech else speech_regions(power))
    spans = window_spans(regions)
    labels_out = np.full(len(power), -1, dtype=int)
    if not spans:
        return Diarization(labels_out, method)
    vectors = embed_spans(samples, spans, _gain(power, regions), method)
    centers = [(a + b) / 2 for a, b in spans]
    labels = cluster.cluster(vectors, num_speakers=num_speakers, expected=expected, split_silhouette=split_silhouette)
    voices = Voices.of(vectors, labels, samples, _gain(power, regions), method)
    return Diarization(_label_frames(labels_out, regions, centers, labels), method, voices)


@dataclass(frozen=True)
class Voices:
    """The speakers' voices as centroids of their windows' embeddings, in the centered space
    the clustering used (cluster.py): any stretch of the recording can be scored against them."""

    center: np.ndarray  # mean of the recording's unit embeddings
    centroids: np.ndarray  # (speakers, d) unit centroids of the centered unit embeddings
    samples: np.ndarray
    gain: float
    method: str

    @classmethod
    def of(cls, vectors: np.ndarray, labels: np.ndarray, samples: np.ndarray, gain: float, method: str) -> Voices | None:
        if len(vectors) < 2 or labels.max() < 1 or method != "dvector":
            return None  # one voice, or cepstral statistics that only compare within one batch
        x = cluster.unit(vectors)
        center = x.mean(axis=0)
        z = cluster.unit(x - center)
        centroids = cluster.unit(np.stack([z[labels == k].mean(axis=0) for k in range(int(labels.max()) + 1)]))
        return cls(center, centroids, samples, gain, method)

    def similarity(self, spans: list[tuple[float, float]]) -> np.ndarray:
        """(len(spans), speakers) cosine similarity of each span's own audio to each voice; a
        span shorter than MIN_WINDOW_S is widened around its middle, as the windows were."""
        if not spans:
            return np.zeros((0, len(self.centroids)))
        vectors = embed_spans(self.samples, [_widened(a, b) for a, b in spans], self.gain, self.method)
        return cluster.unit(cluster.unit(vectors) - self.center) @ self.centroids.T


def _widened(a: float, b: float) -> tuple[float, float]:
    if b - a >= MIN_WINDOW_S:
        return a, b
    mid = (a + b) / 2
    return max(0.0, mid - MIN_WINDOW_S / 2), mid + MIN_WINDOW_S / 2


def _merge(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    return list(merge(spans, gap=0.05))


def _gain(power: np.ndarray, regions: list[tuple[float, float]]) -> float:
    """Linear gain bringing the speech to TARGET_DBFS (raise only, like the encoder's training)."""
    mask = np.zeros(len(power), dtype=bool)
    for a, b in regions:
        mask[int(a / FRAME_S) : int(b / FRAME_S)] = True
    if not mask.any():
        return 1.0
    level = 10 * np.log10(max(float(power[mask].mean()), 1e-10))
    return float(10 ** (max(0.0, TARGET_DBFS - level) / 20))


def window_spans(regions) -> list[tuple[float, float]]:
    """Windows of WINDOW_S every HOP_S inside each region; short regions give one window."""
    spans: list[tuple[float, float]] = []
    for a, b in regions:
        if b - a < MIN_WINDOW_S:
            mid = (a + b) / 2
            a, b = max(0.0, mid - MIN_WINDOW_S / 2), mid + MIN_WINDOW_S / 2
        length = min(WINDOW_S, b - a)
        count = 1 + int(max(0.0, (b - a) - length) / HOP_S)
        spans.extend((float(s), float(s + length)) for s in np.linspace(a, b - length, count))
    return spans


def embed_spans(samples: np.ndarray, spans: list[tuple[float, float]], gain: float, method: str, batch: int = 256) -> np.ndarray:
    """Embeddings of ``spans`` of int16 ``samples``, a batch at a time so that memory stays
    bounded (a 3-hour recording has ~20,000 windows: 1.7 GB as float all at once)."""
    parts = []
    for i in range(0, len(spans), batch):
        windows = [_cut(samples, a, b, gain) for a, b in spans[i : i + batch]]
        parts.append(embed.embed(windows, method))
    return embed.finish(np.concatenate(parts), method)


def _cut(samples: np.ndarray, start_s: float, end_s: float, gain: float) -> np.ndarray:
    chunk = samples[int(start_s * RATE) : int(end_s * RATE)].astype(np.float32) * (gain / 32768.0)
    return np.clip(chunk, -1.0, 1.0) if len(chunk) else np.zeros(HOP, dtype=np.float32)


def _label_frames(out: np.ndarray, regions, centers: list[float], labels: np.ndarray) -> np.ndarray:
    """Each speech frame takes the label of the window whose center is nearest."""
    c = np.asarray(centers)
    for a, b in regions:
        lo, hi = int(a / FRAME_S), min(len(out), int(np.ceil(b / FRAME_S)))
        if hi <= lo:
            continue
        t = (np.arange(lo, hi) + 0.5) * FRAME_S
        nearest = np.abs(t[:, None] - c[None, :]).argmin(axis=1) if len(t) * len(c) < 5e7 else _nearest_sorted(t, c)
        out[lo:hi] = labels[nearest]
    return out


def _nearest_sorted(t: np.ndarray, c: np.ndarray) -> np.ndarray:
    i = np.clip(np.searchsorted(c, t), 1, len(c) - 1)
    return np.where(np.abs(t - c[i - 1]) <= np.abs(c[i] - t), i - 1, i)
