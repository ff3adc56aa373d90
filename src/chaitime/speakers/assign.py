"""Put speaker labels on a transcript: every word gets one, segments split where it changes."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import replace

from ..transcript.model import Segment, Transcript, Word
from .turns import settle_turns

log = logging.getLogger("chaitime")
WhoSpoke = Callable[[float, float], str]  # (start_s, end_s) -> label


# A run of words this short (first word's start to last word's end) is a possible flip: the
# diarization's 1.5 s windows every 1 s measure longer runs themselves, shorter ones take the
# label of the nearest window's center, which at a turn change or in a pause can be the wrong one.
SHORT_RUN_S = 2.0
# A short run keeps its own label only when its own audio sounds more like that voice than like
# its neighbours' by this much cosine similarity (centered d-vectors). Measured: real short turns
# of the LibriSpeech conversations with interjections (0.2-2 s, "For", "Fortune!", "But a mob")
# score +0.44 to +1.5; the flip "deploying models. What" inside one synthesized voice's sentence
# (same-pitch eSpeak voices, --speakers 2) +0.17 (scripts/trust_speakers.py, speaker-blocks rows).
KEEP_MARGIN = 0.3
STRAY_WORD_S = 0.3  # without voices to score against: a lone word this short joins its neighbours

# Given word spans, each span's similarity to each speaker label's voice.
Rescore = Callable[[list[tuple[float, float]]], list[dict[str, float]]]


def label_transcript(transcript: Transcript, who: WhoSpoke, *, smooth: bool = False, rescore: Rescore | None = None,
                     turns: bool | None = None) -> Transcript:
    """Label each word with ``who(start, end)`` and split segments at speaker changes.

    ``smooth`` re-judges short runs of words whose label differs from their neighbours' (for
    guessed, not measured, labels: see ``smooth_flips``), with ``rescore`` when the voices are known.
    ``turns`` (default: as ``smooth``) first moves each change that falls inside a sentence to a
    sentence end or pause the voice allows (turns.settle_turns).
    """
    labeled = [[replace(w, speaker=who(w.start_s, w.end_s)) for w in seg.words] for seg in transcript.segments]
    turns = smooth if turns is None else turns
    if smooth or turns:
        flat = [w for ws in labeled for w in ws]
        # Edges first: a short run's own audio is judged once its edges hold only its own words.
        flat = settle_turns(flat, rescore) if turns else flat
        flat = smooth_flips(flat, rescore) if smooth else flat
        it = iter(flat)
        labeled = [[next(it) for _ in ws] for ws in labeled]
    segments: list[Segment] = []
    for seg, words in zip(transcript.segments, labeled):
        segments.extend(_split(seg, words, who))
    return renumber(transcript.with_segments(segments))


def _split(seg: Segment, words: list[Word], who: WhoSpoke) -> list[Segment]:
    if not words:
        return [replace(seg, speaker=who(seg.start_s, seg.end_s))]
    runs = _runs(words)
    if len(runs) == 1:
        return [replace(seg, words=tuple(words), speaker=words[0].speaker)]
    return [_segment_of(words[a:b], seg, i == 0, i == len(runs) - 1) for i, (a, b) in enumerate(runs)]


def _runs(words: list[Word]) -> list[tuple[int, int]]:
    """(start, end) indexes of the runs of one label."""
    bounds = [0] + [i for i in range(1, len(words)) if words[i].speaker != words[i - 1].speaker] + [len(words)]
    return list(zip(bounds[:-1], bounds[1:]))


def smooth_flips(words: list[Word], rescore: Rescore | None = None, *, short_s: float = SHORT_RUN_S,
                 margin: float = KEEP_MARGIN) -> list[Word]:
    """Words (in time order) with short label flips settled by the voice of their own audio.

    A flip is a run of words under ``short_s`` long whose label differs from the run before or
    after it. ``rescore`` scores the run's own audio against every voice: the run keeps its label
    when that voice beats the best neighbouring voice by ``margin`` (a real "yes" or "right" from
    the other person stays a turn), and otherwise joins the neighbour it sounds most like. A run
    too short to embed is scored over a window widened around it, which holds its neighbours'
    audio too, so only a clear voice of its own keeps it. Without ``rescore`` (no voice model) a
    lone word under STRAY_WORD_S between two runs of one speaker joins them."""
    runs = _runs(words)
    if len(runs) < 2:
        return list(words)
    short = [(a, b) for a, b in runs if words[b - 1].end_s - words[a].start_s < short_s]
    if rescore is None:
        short = [(a, b) for a, b in short if b - a == 1 and words[a].end_s - words[a].start_s < STRAY_WORD_S]
        scores = [None] * len(short)
    else:
        scores = rescore([(words[a].start_s, words[b - 1].end_s) for a, b in short]) if short else []
    out = list(words)
    # Shortest first, each against its neighbours as they stand: a run that a neighbour has
    # joined meanwhile is longer now and left alone.
    for (a, b), score in sorted(zip(short, scores), key=lambda item: words[item[0][1] - 1].end_s - words[item[0][0]].start_s):
        own = out[a].speaker
        if (a and out[a - 1].speaker == own) or (b < len(out) and out[b].speaker == own):
            continue
        around = sorted({out[i].speaker for i in (a - 1, b) if 0 <= i < len(out)})
        if score is None:  # no voices: a lone stray word between two runs of one speaker
            if len(around) == 1 and 0 < a and b < len(out):
                out[a:b] = [replace(w, speaker=around[0]) for w in out[a:b]]
            continue
        nearest = max(around, key=lambda label: score.get(label, -1.0))
        lead = score.get(own, -1.0) - score.get(nearest, -1.0)
        log.debug("speaker flip %.2f-%.2f %s (%s) vs %s: %+.3f, %s", words[a].start_s, words[b - 1].end_s, own,
                  "".join(w.text for w in words[a:b]).strip(), nearest, lead, "kept" if lead >= margin else "joined")
        if lead < margin:
            out[a:b] = [replace(w, speaker=nearest) for w in out[a:b]]
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
