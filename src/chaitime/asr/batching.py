"""Device-free logic of the batched GPU engine: pack speech regions into windows of at most 30 s,
group windows into fixed-size batches, size batches from free GPU memory, and group a window's
aligned words into segments. Tested on the CPU."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..intervals import split_long
from ..transcript.model import Segment, Word
from .audio import SAMPLE_RATE_HZ

WINDOW_S = 30.0  # Whisper's receptive field
PAUSE_S = 1.0  # a silence this long starts a new segment
MAX_SEGMENT_S = 15.0  # caption-sized segments
SENTENCE_END = (".", "?", "!")
MAX_BATCH = 32  # a 10-minute chunk (asr.transcribe_pcm) makes 20-40 windows: one or two batches


@dataclass(frozen=True)
class Window:
    """A stretch of the audio decoded as one 30 s Whisper window (sample indices, end exclusive)."""

    start: int
    end: int

    @property
    def offset_s(self) -> float:
        return self.start / SAMPLE_RATE_HZ

    @property
    def duration_s(self) -> float:
        return (self.end - self.start) / SAMPLE_RATE_HZ


def pack_windows(spans: Sequence[tuple[int, int]], window_s: float = WINDOW_S) -> list[Window]:
    """Greedily merge consecutive speech regions while the merged stretch (gaps included, so times
    stay a plain offset) fits one window; a region longer than a window is cut into pieces."""
    limit = int(window_s * SAMPLE_RATE_HZ)
    windows: list[Window] = []
    for start, end in split_long(spans, limit):
        if windows and end - windows[-1].start <= limit:
            windows[-1] = Window(windows[-1].start, end)
        else:
            windows.append(Window(start, end))
    return windows


def fixed_batches(count: int, size: int, *, pad: bool = True) -> list[list[int]]:
    """Indices 0..count-1 in batches of exactly ``size``; the last is padded by repeating its last
    index, so the GPU sees one batch shape (no per-shape warm-up) and padding never decodes
    longer than the real windows do. The caller keeps the first occurrence of each index."""
    batches = []
    for lo in range(0, count, size):
        batch = list(range(lo, min(count, lo + size)))
        batches.append(batch + [batch[-1]] * (size - len(batch)) if pad else batch)
    return batches


def batch_size_for(free_bytes: int, dims: dict[str, int], cap: int = MAX_BATCH) -> int:
    """Windows per batch that fit in ``free_bytes`` of GPU memory with fp16 weights: per window,
    the cross-attention key/value cache (1500 audio positions per decoder layer), the self-attention
    cache for 448 text positions, and the encoder's widest activation (the 4x MLP), with a 2x margin
    for the allocator and attention scores. A power of two, 1..cap."""
    fp16 = 2
    cache = dims["n_text_layer"] * 2 * (dims["n_audio_ctx"] + dims["n_text_ctx"]) * dims["n_text_state"] * fp16
    encoder = dims["n_audio_ctx"] * 2 * dims["n_audio_state"] * 4 * fp16 + dims["n_audio_head"] * dims["n_audio_ctx"] ** 2 * fp16
    per_window = 2 * (cache + encoder)
    fits = max(1, int(free_bytes * 0.8) // per_window)
    size = 1
    while size * 2 <= min(fits, cap):
        size *= 2
    return size


def sentences(words: Sequence[Word], pause_s: float = PAUSE_S, max_s: float = MAX_SEGMENT_S) -> list[Segment]:
    """Group a window's timed words into segments: a new segment after a sentence end, a pause of
    ``pause_s`` or more, or once a segment is ``max_s`` long."""
    groups: list[list[Word]] = []
    for word in words:
        last = groups[-1][-1] if groups else None
        if last is None or last.text.rstrip().endswith(SENTENCE_END) or word.start_s - last.end_s >= pause_s or word.end_s - groups[-1][0].start_s > max_s:
            groups.append([word])
        else:
            groups[-1].append(word)
    return [Segment(g[0].start_s, g[-1].end_s, "".join(w.text for w in g).strip(), tuple(g)) for g in groups]
