"""Put speaker labels on a transcript: every word gets one, segments split where it changes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace

from ..transcript.model import Segment, Transcript, Word

WhoSpoke = Callable[[float, float], str]  # (start_s, end_s) -> label


def label_transcript(transcript: Transcript, who: WhoSpoke, *, smooth: bool = False) -> Transcript:
    """Label each word with ``who(start, end)`` and split segments at speaker changes.

    ``smooth`` lets a lone short word take its neighbours' label (for guessed, not measured, labels).
    """
    segments: list[Segment] = []
    for seg in transcript.segments:
        segments.extend(_split(seg, who, smooth))
    return renumber(transcript.with_segments(segments))


def _split(seg: Segment, who: WhoSpoke, smooth: bool) -> list[Segment]:
    if not seg.words:
        return [replace(seg, speaker=who(seg.start_s, seg.end_s))]
    words = [replace(w, speaker=who(w.start_s, w.end_s)) for w in seg.words]
    words = _absorb_stray_words(words) if smooth else words
    runs: list[list[Word]] = [[words[0]]]
    for w in words[1:]:
        if w.speaker == runs[-1][-1].speaker:
            runs[-1].append(w)
        else:
            runs.append([w])
    if len(runs) == 1:
        return [replace(seg, words=tuple(words), speaker=words[0].speaker)]
    return [_segment_of(run, seg, i == 0, i == len(runs) - 1) for i, run in enumerate(runs)]


def _absorb_stray_words(words: list[Word]) -> list[Word]:
    """A lone one-word run between two runs of the same speaker, lasting under 0.3 s, joins them:
    short words inherit their neighbours' voice more reliably than their own few frames show."""
    out = list(words)
    for i in range(1, len(out) - 1):
        before, here, after = out[i - 1], out[i], out[i + 1]
        if before.speaker == after.speaker != here.speaker and here.end_s - here.start_s < 0.3:
            out[i] = replace(here, speaker=before.speaker)
    return out


def _segment_of(run: list[Word], seg: Segment, first: bool, last: bool) -> Segment:
    start = seg.start_s if first else run[0].start_s
    end = seg.end_s if last else run[-1].end_s
    text = "".join(w.text for w in run).strip()
    return Segment(start, end, text, tuple(run), run[0].speaker)


def renumber(transcript: Transcript, prefix: str = "S") -> Transcript:
    """Rename generic labels S<n> in order of first appearance (S1 speaks first); names stay."""
    order: dict[str, str] = {}
    for label in _labels_in_order(transcript):
        if _is_generic(label, prefix):
            order[label] = f"{prefix}{len(order) + 1}"
    return relabel(transcript, order) if any(k != v for k, v in order.items()) else transcript


def _is_generic(label: str, prefix: str) -> bool:
    return label.startswith(prefix) and label[len(prefix) :].isdigit()


def _labels_in_order(transcript: Transcript) -> list[str]:
    seen: dict[str, None] = {}
    for seg in transcript.segments:
        for label in [w.speaker for w in seg.words] or [seg.speaker]:
            if label:
                seen.setdefault(label, None)
    return list(seen)


def relabel(transcript: Transcript, mapping: dict[str, str]) -> Transcript:
    """Replace speaker labels on segments and words; labels not in ``mapping`` stay."""

    def name(label: str | None) -> str | None:
        return mapping.get(label, label) if label else label

    segments = [
        replace(s, speaker=name(s.speaker), words=tuple(replace(w, speaker=name(w.speaker)) for w in s.words))
        for s in transcript.segments
    ]
    return transcript.with_segments(segments)


def relabel_words(transcript: Transcript, who: Callable[[float, float, str], str]) -> Transcript:
    """New labels from ``who(start, end, old_label)`` for every word, segments split where the
    new label changes (a label only ever splits: words of one old label may take several)."""
    return label_transcript(transcript.with_segments(list(transcript.segments)), _Relabel(transcript, who))


class _Relabel:
    """A WhoSpoke that looks up each word's old label by its times (words are unique by span)."""

    def __init__(self, transcript: Transcript, who: Callable[[float, float, str], str]) -> None:
        self.old = {(w.start_s, w.end_s): w.speaker for w in transcript.words}
        self.seg = {(s.start_s, s.end_s): s.speaker for s in transcript.segments}
        self.who = who

    def __call__(self, start_s: float, end_s: float) -> str:
        old = self.old.get((start_s, end_s)) or self.seg.get((start_s, end_s)) or "C0"
        return self.who(start_s, end_s, old)


def speaking_time(transcript: Transcript) -> Counter:
    """Seconds of words per speaker label."""
    total: Counter = Counter()
    for seg in transcript.segments:
        for w in seg.words or ():
            total[w.speaker] += max(0.0, w.end_s - w.start_s)
        if not seg.words:
            total[seg.speaker] += max(0.0, seg.end_s - seg.start_s)
    return total
