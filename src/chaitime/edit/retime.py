"""Move a transcript and chapters from the original timeline to the edited one.

Always from the original-timeline copies (.chaitime/transcript.raw.json, chapters.orig.json), so
rendering twice with the same edit list gives the same files.
"""

from __future__ import annotations

from dataclasses import replace

from ..transcript.chapters import Chapter
from ..transcript.model import Segment, Transcript, Word
from .cutlist import CutList, TimeMap
from .lines import Token, tokens_of

MIN_CHAPTER_GAP_S = 1.0  # a chapter whose start moved within this of the next one is dropped


def retime_transcript(transcript: Transcript, cuts: CutList, timemap: TimeMap, duration_s: float) -> Transcript:
    """The transcript without the removed words, every time mapped through ``timemap``."""
    by_segment: dict[int, list[Token]] = {}
    for tok in tokens_of(transcript):
        by_segment.setdefault(tok.segment, []).append(tok)
    segments = []
    for si, seg in enumerate(transcript.segments):
        tokens = by_segment.get(si, [])
        kept = [t.word for t in tokens if t.index not in cuts.removed_words]
        moved = _retime_segment(seg, kept, len(tokens), timemap)
        if moved is not None:
            segments.append(moved)
    meta = {**transcript.meta, "timeline": "edited", "removed_s": round(cuts.removed_s(transcript.duration_s or duration_s), 3)}
    return replace(transcript, segments=tuple(segments), duration_s=duration_s, meta=meta)


def _retime_segment(seg: Segment, kept: list[Word], token_count: int, timemap: TimeMap) -> Segment | None:
    if not kept:
        return None
    if not seg.words:  # a segment without word times is one token
        return replace(seg, start_s=timemap(seg.start_s), end_s=timemap(seg.end_s))
    words = tuple(replace(w, start_s=timemap(w.start_s), end_s=max(timemap(w.start_s), timemap(w.end_s))) for w in kept)
    if len(kept) == token_count:
        return replace(seg, start_s=min(timemap(seg.start_s), words[0].start_s), end_s=max(timemap(seg.end_s), words[-1].end_s), words=words)
    text = "".join(w.text for w in kept).strip()
    if not kept[0].text.startswith(" "):
        text = " ".join(w.text.strip() for w in kept)
    return replace(seg, start_s=words[0].start_s, end_s=words[-1].end_s, text=_capitalized(text, seg.text), words=words)


def _capitalized(text: str, original: str) -> str:
    """Keep the segment's opening capital after its first word ("Um, I started" -> "I started")."""
    stripped = original.strip()
    if text and stripped[:1].isupper():
        return text[0].upper() + text[1:]
    return text


def retime_chapters(chapters: list[Chapter], timemap: TimeMap, duration_s: float) -> list[Chapter]:
    """Chapters on the edited timeline: the first stays at 0; one whose content was cut away
    (its start lands on the next chapter's) is dropped."""
    moved = [
        Chapter(0.0 if i == 0 else round(timemap(c.start_s), 3), c.title, None if c.end_s is None else round(timemap(c.end_s), 3))
        for i, c in enumerate(chapters)
    ]
    out: list[Chapter] = []
    for i, ch in enumerate(moved):
        following = moved[i + 1].start_s if i + 1 < len(moved) else duration_s
        if i == 0 or following - ch.start_s >= MIN_CHAPTER_GAP_S:
            out.append(ch)
    return out


def unretime_chapters(chapters: list[Chapter], timemap: TimeMap) -> list[Chapter]:
    """Chapters the host edited on the edited timeline, moved back to the original one."""
    return [
        Chapter(0.0 if i == 0 else round(timemap.inverse(c.start_s), 3), c.title, None if c.end_s is None else round(timemap.inverse(c.end_s), 3))
        for i, c in enumerate(chapters)
    ]
