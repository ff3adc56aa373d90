"""The host's corrections to a transcript: a misheard word's text, who said a stretch, a name.

They are recorded in the transcript itself (``meta["corrections"]``, on the original timeline) and
applied to its words, so `chaitime render` (which re-times the raw transcript, meta and all) keeps
them, and ``carry`` puts them back onto a freshly written transcript (ingest run again, or a new
model: each placed by time and by the word it replaced). What can't be placed is returned, never
dropped silently.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..errors import InputError
from .model import Segment, Transcript, Word

KEY = "corrections"
NEAR_S = 0.25  # a word of a new transcript within this of the corrected one's start is the same word


def _norm(text: str) -> str:
    return re.sub(r"[^\w'-]+", "", text.lower())


def correct_word(transcript: Transcript, start_s: float, was: str, text: str) -> Transcript:
    """``transcript`` with the word ``was`` starting at ``start_s`` reading ``text``, recorded."""
    text = " ".join(text.split())
    if not text or len(text) > 200:
        raise InputError("a corrected word must be 1-200 characters of text.")
    item = {"kind": "word", "start": round(start_s, 3), "was": was.strip(), "text": text}
    earlier = [c for c in _items(transcript) if not (c.get("kind") == "word" and abs(c.get("start", -1) - item["start"]) < 0.0015)]
    prior = next((c for c in _items(transcript) if c not in earlier), None)
    if prior:  # correcting a correction: the first transcript's word stays what it replaced
        item["was"] = prior["was"]
    fixed, ok = _apply_word(transcript, {**item, "was": was.strip()}, exact=True)
    if not ok:
        raise InputError(f"no word {was!r} at {start_s:.3f} s in the transcript. Reload the page.")
    return _recorded(fixed, earlier + [item])


def replace_everywhere(transcript: Transcript, was: str, text: str) -> tuple[Transcript, int]:
    """Every word reading ``was`` (letters compared, punctuation kept per word) corrected to ``text``;
    and how many were."""
    target, core = _norm(was), text.strip().strip(".,!?;:\"'()…")
    if not target or not core:
        raise InputError("replace everywhere needs a word to find and a word to put.")
    out, count = transcript, 0
    for w in transcript.words:
        if _norm(w.text) != target or w.text.strip() == "":
            continue
        stripped = w.text.strip()
        head = stripped[: len(stripped) - len(stripped.lstrip(".,!?;:\"'()…"))]
        tail = stripped[len(stripped.rstrip(".,!?;:\"'()…")):]
        if head + core + tail != stripped:
            out = correct_word(out, w.start_s, stripped, head + core + tail)
            count += 1
    return out, count


def reassign(transcript: Transcript, start_s: float, end_s: float, speaker: str) -> Transcript:
    """``transcript`` with every word from ``start_s`` to ``end_s`` said by ``speaker``, recorded."""
    speaker = " ".join(speaker.split())
    if not speaker or len(speaker) > 100:
        raise InputError("a speaker's name must be 1-100 characters.")
    if end_s <= start_s:
        raise InputError(f"the stretch {start_s:.3f}-{end_s:.3f} s is empty.")
    item = {"kind": "speaker", "start": round(start_s, 3), "end": round(end_s, 3), "speaker": speaker}
    return _recorded(_apply_speaker(transcript, item), _items(transcript) + [item])


def rename(transcript: Transcript, old: str, new: str) -> Transcript:
    """Every line of speaker ``old`` said by ``new`` (their recorded reassignments too)."""
    new = " ".join(new.split())
    if not new or len(new) > 100:
        raise InputError("a speaker's name must be 1-100 characters.")
    if old not in transcript.speakers() and all(w.speaker != old for w in transcript.words):
        raise InputError(f"no speaker {old!r} in the transcript. Speakers: {', '.join(transcript.speakers())}.")
    swap = lambda s: new if s == old else s  # noqa: E731
    segments = [replace(seg, speaker=swap(seg.speaker), words=tuple(replace(w, speaker=swap(w.speaker)) for w in seg.words))
                for seg in transcript.segments]
    items = [{**c, "speaker": swap(c["speaker"])} if c.get("kind") == "speaker" else c for c in _items(transcript)]
    return _recorded(transcript.with_segments(segments), items)


def carry(fresh: Transcript, previous: Transcript) -> tuple[Transcript, list[dict]]:
    """``fresh`` with ``previous``'s corrections applied; the ones that found no place are returned."""
    placed, lost, out = [], [], fresh
    for item in _items(previous):
        if item.get("kind") == "word":
            out, ok = _apply_word(out, item, exact=False)
        elif item.get("kind") == "speaker":
            out, ok = _apply_speaker(out, item), True
        else:
            ok = False
        (placed if ok else lost).append(item)
    return (_recorded(out, placed) if placed or KEY in fresh.meta else out), lost


def _items(transcript: Transcript) -> list[dict]:
    value = transcript.meta.get(KEY)
    return [dict(c) for c in value if isinstance(c, dict)] if isinstance(value, list) else []


def _recorded(transcript: Transcript, items: list[dict]) -> Transcript:
    meta = {**transcript.meta, KEY: sorted(items, key=lambda c: (c.get("start", 0.0), c.get("kind", "")))}
    return replace(transcript, meta=meta)


def _apply_word(transcript: Transcript, item: dict, exact: bool) -> tuple[Transcript, bool]:
    """The word ``item`` names (same start when ``exact``; else the nearest start within NEAR_S
    reading what was replaced or its correction) set to the corrected text."""
    start, was, text = float(item["start"]), _norm(item["was"]), item["text"]
    best = None
    for si, seg in enumerate(transcript.segments):
        for wi, w in enumerate(seg.words):
            d = abs(w.start_s - start)
            if d > (0.0015 if exact else NEAR_S) or _norm(w.text) not in (was, _norm(text)):
                continue
            if best is None or d < best[0]:
                best = (d, si, wi)
    if best is None:
        return transcript, False
    _, si, wi = best
    seg = transcript.segments[si]
    old = seg.words[wi]
    lead = old.text[: len(old.text) - len(old.text.lstrip())]
    words = list(seg.words)
    words[wi] = replace(old, text=lead + text)
    segments = list(transcript.segments)
    segments[si] = replace(seg, words=tuple(words), text=_segment_text(seg, words))
    return transcript.with_segments(segments), True


def _segment_text(seg: Segment, words: list[Word]) -> str:
    return "".join(w.text for w in words) if seg.words else seg.text


def _apply_speaker(transcript: Transcript, item: dict) -> Transcript:
    """Words whose middle lies in the item's stretch said by its speaker; a segment that now holds
    two speakers is split where the speaker changes."""
    a, b, who = float(item["start"]), float(item["end"]), item["speaker"]
    segments: list[Segment] = []
    for seg in transcript.segments:
        if not seg.words:
            inside = a <= (seg.start_s + seg.end_s) / 2 <= b
            segments.append(replace(seg, speaker=who) if inside else seg)
            continue
        words = [replace(w, speaker=who) if a <= (w.start_s + w.end_s) / 2 <= b else w for w in seg.words]
        if all(w.speaker == seg.words[i].speaker for i, w in enumerate(words)):
            segments.append(seg)
            continue
        segments.extend(_split_by_speaker(seg, words))
    return transcript.with_segments(segments)


def _split_by_speaker(seg: Segment, words: list[Word]) -> list[Segment]:
    runs: list[list[Word]] = []
    for w in words:
        if runs and runs[-1][-1].speaker == w.speaker:
            runs[-1].append(w)
        else:
            runs.append([w])
    if len(runs) == 1:
        return [replace(seg, speaker=runs[0][0].speaker, words=tuple(words))]
    return [Segment(run[0].start_s, run[-1].end_s, "".join(w.text for w in run), tuple(run), run[0].speaker, seg.flag) for run in runs]
