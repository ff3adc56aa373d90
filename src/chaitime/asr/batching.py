"""Device-free logic of the batched GPU engine: pack speech regions into windows of at most 30 s,
group windows into fixed-size batches, size batches from free GPU memory, and group a window's
aligned words into segments; and, for every engine, the second pass over speech the first decode
left without words (``fill_gaps``). Tested on the CPU."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..intervals import merge, split_long
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


# --- the second pass: speech the first decode left without words ---------------------------
GAP_MIN_S = 2.0  # voice activity this long without a word is decoded again
GAP_CONTEXT_S = 1.0  # ... with this much of the audio on each side, so the decoder hears where it starts
WORD_SLACK_S = 0.3  # a word's sound runs on a little past Whisper's word times
GAP_JOIN_S = 1.0  # stretches without words this close (a pause, no word between) are decoded as one


@dataclass(frozen=True)
class Refill:
    """One stretch of speech that the first decode left without words, and what the second found."""

    start_s: float
    end_s: float
    words: int  # words found there on the second pass (0: still untranscribed)

    def to_dict(self) -> dict:
        return {"start": round(self.start_s, 3), "end": round(self.end_s, 3), "words": self.words}


def untranscribed(segments: Sequence[Segment], speech_s: Sequence[tuple[float, float]], min_s: float = GAP_MIN_S,
                  slack_s: float = WORD_SLACK_S, join_s: float = GAP_JOIN_S) -> list[tuple[float, float]]:
    """Stretches of voice activity (``speech_s``, seconds) where no word (each widened by
    ``slack_s``) was decoded, holding at least ``min_s`` of voice, in order. Such stretches less
    than ``join_s`` apart with no word between are one (a sentence's pauses)."""
    cover = sorted([(w.start_s - slack_s, w.end_s + slack_s) for s in segments for w in s.words]
                   + [(s.start_s, s.end_s) for s in segments if not s.words and s.text.strip()])
    holes: list[tuple[float, float]] = []
    for start, end in merge(sorted(speech_s), gap=slack_s):  # the detector cuts long speech into touching regions
        pos = start
        for a, b in cover:
            if b <= pos or a >= end:
                continue
            if a > pos:
                holes.append((pos, a))
            pos = max(pos, b)
        if end > pos:
            holes.append((pos, end))
    joined: list[list[float]] = []  # start, end, seconds of voice
    for a, b in holes:
        if joined and a - joined[-1][1] < join_s and not any(x < a and y > joined[-1][1] for x, y in cover):
            joined[-1][1], joined[-1][2] = b, joined[-1][2] + b - a
        else:
            joined.append([a, b, b - a])
    return [(a, b) for a, b, voiced in joined if voiced >= min_s]


def fill_gaps(segments: Sequence[Segment], speech_s: Sequence[tuple[float, float]],
              redecode: Callable[[float, float], Sequence[Segment]], *, min_s: float = GAP_MIN_S,
              context_s: float = GAP_CONTEXT_S, end_s: float | None = None) -> tuple[list[Segment], list[Refill]]:
    """``segments`` with the words of every untranscribed stretch of speech decoded again on its
    own, and a Refill per stretch. ``redecode(start_s, end_s)`` decodes that much of the audio by
    itself and returns segments on the same timeline; each stretch is asked with ``context_s`` on
    each side, then, if that finds nothing, bare. Only words whose middle lies in the stretch and
    that overlap no word already there are merged in: the context's words are the first pass's."""
    found = list(segments)
    refills = []
    for a, b in untranscribed(segments, speech_s, min_s):
        added: list[Segment] = []
        for lo, hi in ((max(0.0, a - context_s), b + context_s if end_s is None else min(end_s, b + context_s)), (a, b)):
            added = _new_words(redecode(lo, hi), a, b, found)
            if added:
                break
        found += added
        refills.append(Refill(a, b, sum(len(s.words) for s in added)))
    return sorted(found, key=lambda s: s.start_s), refills


def _new_words(decoded: Sequence[Segment], a: float, b: float, have: Sequence[Segment]) -> list[Segment]:
    taken = [(w.start_s, w.end_s) for s in have for w in s.words]

    def fresh(w: Word) -> bool:
        middle = (w.start_s + w.end_s) / 2
        return a <= middle <= b and not any(min(w.end_s, e) - max(w.start_s, s) > 0.5 * max(w.end_s - w.start_s, 1e-3) for s, e in taken)

    out = []
    for seg in decoded:
        words = tuple(w for w in seg.words if fresh(w) and w.text.strip())
        if words:
            out.append(Segment(words[0].start_s, words[-1].end_s, "".join(w.text for w in words).strip(), words, seg.speaker, seg.flag))
    return out
