"""From labels to people: S1/S2 (or track names) become the host and guest names.

Who is the host: the label the episode's `speakers` table says; else the label whose voice
matched host_voice (recorded by attribute() in meta); else whoever speaks first and asks the
most questions. Guests take the other labels in order of first speech.
"""

from __future__ import annotations

from ..transcript.model import Transcript
from .assign import _labels_in_order, relabel

FIRST_SPEAKER_POINTS = 1.5  # speaking first counts like a question and a half


def name_speakers(transcript: Transcript, *, hosts: list[str], guests: list[str], mapping: dict[str, str]) -> tuple[Transcript, dict[str, str]]:
    """The transcript with names for labels, and the label -> name mapping used."""
    labels = _labels_in_order(transcript)
    used = {label: name for label, name in (mapping or {}).items() if label in labels and str(name).strip()}
    free = [label for label in labels if label not in used]
    people = [p for p in _clean(hosts) + _clean(guests)]
    for label in free:
        if label in people:  # track names that already are the people's names
            used[label] = label
    free = [label for label in free if label not in used]
    waiting = [p for p in _clean(hosts) if p not in used.values()]
    if waiting and free:
        host = _host_label(transcript, free)
        used[host] = waiting.pop(0)
        free.remove(host)
    others = [g for g in _clean(guests) if g not in used.values()] + waiting
    for label, name in zip(list(free), others):
        used[label] = name
    mapping_out = {label: used.get(label, label) for label in labels}
    return relabel(transcript, mapping_out), mapping_out


def _clean(names: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for n in names or ():
        if n and str(n).strip():
            seen.setdefault(str(n).strip(), None)
    return list(seen)


def _host_label(transcript: Transcript, candidates: list[str]) -> str:
    enrolled = (transcript.meta.get("speakers") or {}).get("host_label")
    if enrolled in candidates:
        return enrolled
    scores = questions_asked(transcript)
    first = candidates[0] if candidates else None
    for label in _labels_in_order(transcript):
        if label in candidates:
            first = label
            break
    return max(candidates, key=lambda c: scores.get(c, 0) + (FIRST_SPEAKER_POINTS if c == first else 0))


def questions_asked(transcript: Transcript) -> dict[str, int]:
    """Sentences ending in '?' per label (from words, else segment text)."""
    counts: dict[str, int] = {}
    for seg in transcript.segments:
        if seg.words:
            for w in seg.words:
                if w.speaker and w.text.strip().endswith("?"):
                    counts[w.speaker] = counts.get(w.speaker, 0) + 1
        elif seg.speaker:
            counts[seg.speaker] = counts.get(seg.speaker, 0) + seg.text.count("?")
    return counts
