"""From labels to people: S1/S2 become the host and guest names; track names stay.

Who is the host: the label the episode's `speakers` table says; else the label whose voice
matched host_voice (recorded by attribute() in meta); else whoever speaks first and asks the
most questions. Guests take the other labels in order of first speech.

The `init` template's placeholder host (config.PLACEHOLDER_NAME) is nobody's name: until the
host writes theirs, the host's label reads HOST_ROLE, and neither is binding in the episode's
table, so the real name replaces them on the next ingest once it is set.
"""

from __future__ import annotations

from ..config import PLACEHOLDER_NAME
from ..transcript.model import Transcript
from .assign import _is_generic, _labels_in_order, relabel

FIRST_SPEAKER_POINTS = 1.5  # speaking first counts like a question and a half
HOST_ROLE = "Host"  # the host's label while the show's host name is still the template's placeholder


def name_speakers(transcript: Transcript, *, hosts: list[str], guests: list[str], mapping: dict[str, str]) -> tuple[Transcript, dict[str, str]]:
    """The transcript with names for labels, and the label -> name mapping used. Labels that are
    not generic (track names from --track) keep their name unless ``mapping`` renames them."""
    labels = _labels_in_order(transcript)
    used = {label: str(name).strip() for label, name in (mapping or {}).items() if label in labels and _binding(name)}
    for label in labels:
        if label not in used and not _is_generic(label, "S"):
            used[label] = label  # a track's name is the person's name
    free = [label for label in labels if label not in used]
    real_hosts, real_guests = real_names(hosts), real_names(guests)
    waiting = [p for p in real_hosts if p not in used.values()]
    placeholder_host = not real_hosts and any(str(h).strip() == PLACEHOLDER_NAME for h in hosts or ())
    if (waiting or (placeholder_host and HOST_ROLE not in used.values())) and free:
        host = _host_label(transcript, free)
        used[host] = waiting.pop(0) if waiting else HOST_ROLE
        free.remove(host)
    others = [g for g in real_guests if g not in used.values()] + waiting
    for label, name in zip(list(free), others):
        used[label] = name
    mapping_out = {label: used.get(label, label) for label in labels}
    return relabel(transcript, mapping_out), mapping_out


def real_names(names) -> list[str]:
    """Names as given, stripped and deduplicated, without blanks and the template's placeholder."""
    seen: dict[str, None] = {}
    for n in names or ():
        if n and str(n).strip() and str(n).strip() != PLACEHOLDER_NAME:
            seen.setdefault(str(n).strip(), None)
    return list(seen)


def _binding(name) -> bool:
    """An episode-table entry that names someone (not blank, not a placeholder or the role)."""
    return bool(str(name).strip()) and str(name).strip() not in (PLACEHOLDER_NAME, HOST_ROLE)


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
