"""Where a turn changes: at a pause or a sentence end, never between two touching words of one
sentence ("how did | you get Josh Homme?"), unless the voice clearly says so.

The labels of a mix come from 1.5 s voice windows every 1 s (diarize.py), so a change of speaker
lands up to a second away from the true one, often inside a sentence. ``settle_turns`` judges each
change that falls between touching words (under TOUCH_S apart) with no sentence end before it:

1. a short back-channel ("Mm-hmm", "Right", "Yeah") keeps its own words and edges: it is its own
   turn, and the other person's words around it stay theirs;
2. else the change moves to the nearest sentence end or pause within REACH_WORDS words on either
   side that the voice allows: the words it hands over are scored against both speakers' voices
   (their own audio, ``rescore``), and a move is refused when they sound like the speaker they
   would leave by more than MOVE_MARGIN; of the allowed moves the one with the most evidence wins
   (how much more the words sound like their new speaker, times their seconds), the nearest on a tie;
3. else the fragment (the shorter side of the sentence) joins the speaker who holds most of the
   sentence, unless its own voice holds its label by KEEP_MARGIN (a real interruption that the
   transcript did not punctuate).

Words are never split or reordered: a change only ever falls between two words, and never before
a word that continues the previous one (text without a leading space, e.g. "-hmm").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import replace

from ..transcript.model import Word

log = logging.getLogger("chaitime")

Rescore = Callable[[list[tuple[float, float]]], list[dict[str, float]]]

TOUCH_S = 0.25  # words closer than this are one stretch of speech: a change between them is suspect
REACH_WORDS = 4  # a change moves to a sentence end or pause at most this many words away
REACH_S = 2.5  # ... and at most this far in time (a slow speaker's four words)
MOVE_MARGIN = 0.1  # the words handed over may sound more like their old speaker by at most this much
KEEP_MARGIN = 0.3  # a fragment keeps a mid-sentence change when its own voice leads by this much
DISTANCE_COST = 0.02  # per word moved (in similarity-seconds): of two moves the voice can't tell apart, the nearer wins
SENTENCE_END = (".", "?", "!", "…")
BACKCHANNEL_WORDS = frozenset({
    "mm-hmm", "mhm", "mm", "mmm", "hmm", "uh-huh", "huh", "right", "yeah", "yes", "yep", "yup", "okay", "ok",
    "sure", "exactly", "wow", "really", "oh", "ah", "aha", "true", "absolutely", "indeed", "totally", "definitely",
    "cool", "nice", "great", "no", "nope", "uh", "um", "alright",
})
BACKCHANNEL_PHRASES = frozenset({"i see", "got it", "that's right", "of course", "oh wow", "oh really", "all right", "that's true",
                                 "for sure", "i know", "sure thing", "oh yeah", "yeah yeah", "right right", "yes yes"})
BACKCHANNEL_MAX_WORDS = 3
BACKCHANNEL_MAX_S = 1.5
_TRAILING = "\"'”’)]}"


def ends_sentence(word: Word) -> bool:
    return word.text.strip().rstrip(_TRAILING).endswith(SENTENCE_END)


def continues(word: Word) -> bool:
    """A word whose text has no leading space continues the one before (part of one spoken word)."""
    return bool(word.text) and not word.text[0].isspace()


def clean_boundary(words: list[Word], i: int, touch_s: float = TOUCH_S) -> bool:
    """Whether a turn may start at ``words[i]``: after a sentence end or a pause, never inside a word."""
    if i <= 0 or i >= len(words):
        return True
    if continues(words[i]):
        return False
    return ends_sentence(words[i - 1]) or words[i].start_s - words[i - 1].end_s >= touch_s


def is_backchannel(words: list[Word]) -> bool:
    """A short acknowledgement: at most BACKCHANNEL_MAX_WORDS words within BACKCHANNEL_MAX_S,
    each one of BACKCHANNEL_WORDS or together one of BACKCHANNEL_PHRASES."""
    if not words or continues(words[0]) or len(words) > BACKCHANNEL_MAX_WORDS or words[-1].end_s - words[0].start_s > BACKCHANNEL_MAX_S:
        return False
    tokens = [_norm(w.text) for w in words]
    return all(t in BACKCHANNEL_WORDS for t in tokens) or " ".join(tokens) in BACKCHANNEL_PHRASES


def _norm(text: str) -> str:
    return re.sub(r"[^\w'\-]", "", text.lower().replace("’", "'")).strip("-'")


def settle_turns(words: list[Word], rescore: Rescore | None = None, *, touch_s: float = TOUCH_S) -> list[Word]:
    """Words (in time order) with every speaker change at a pause or sentence end where the voice
    allows (see the module docstring). Only labels change; the words, their order and times stay."""
    out = list(words)
    i = 1
    while i < len(out):
        if out[i].speaker == out[i - 1].speaker or clean_boundary(out, i, touch_s):
            i += 1
            continue
        if continues(out[i]):  # the rest of a word: it is the word's first part's
            out[i] = replace(out[i], speaker=out[i - 1].speaker)
            continue
        a0, b1 = _run_start(out, i - 1), _run_end(out, i)
        if is_backchannel(out[a0:i]) or is_backchannel(out[i:b1]):
            i += 1  # a back-channel is its own turn, edges and all
            continue
        moved = _move(out, i, a0, b1, rescore, touch_s)
        if moved is None:
            moved = _join(out, i, a0, b1, rescore, touch_s)
        i = max(i, moved) if moved is not None else i + 1  # the change's new place is looked at in turn
    return out


def _run_start(words: list[Word], i: int) -> int:
    while i > 0 and words[i - 1].speaker == words[i].speaker:
        i -= 1
    return i


def _run_end(words: list[Word], i: int) -> int:
    """One past the last word of the run that holds ``words[i]``."""
    while i + 1 < len(words) and words[i + 1].speaker == words[i].speaker:
        i += 1
    return i + 1


def _candidates(words: list[Word], i: int, a0: int, b1: int, touch_s: float) -> list[int]:
    """Clean boundaries a change at ``i`` may move to: within reach, each side keeping a word."""
    out = []
    for k in range(max(a0 + 1, i - REACH_WORDS), min(b1 - 1, i + REACH_WORDS) + 1):
        lo, hi = min(k, i), max(k, i)
        if k != i and clean_boundary(words, k, touch_s) and words[hi - 1].end_s - words[lo].start_s <= REACH_S:
            out.append(k)
    return out


def _move(words: list[Word], i: int, a0: int, b1: int, rescore: Rescore | None, touch_s: float) -> int | None:
    """Move the change at ``i`` to the best allowed clean boundary (in place); its index, or None."""
    candidates = _candidates(words, i, a0, b1, touch_s)
    if not candidates:
        return None
    left, right = words[i - 1].speaker, words[i].speaker
    spans = [(words[min(k, i)].start_s, words[max(k, i) - 1].end_s) for k in candidates]
    scores = rescore(spans) if rescore is not None else [None] * len(candidates)
    best, best_value = None, None
    for k, score in zip(candidates, scores):
        new, old = (right, left) if k < i else (left, right)
        lead = 0.0 if not score else score.get(new, -1.0) - score.get(old, -1.0)
        log.debug("turn change %.2f s, move %+d words to %s: voice %+.3f", words[i].start_s, k - i, new, lead)
        if lead < -MOVE_MARGIN:
            continue
        lo, hi = min(k, i), max(k, i)
        value = lead * _seconds(words[lo:hi]) - DISTANCE_COST * abs(k - i)  # evidence grows with the words it covers
        if best_value is None or value > best_value:
            best, best_value = k, value
    if best is None:
        return None
    lo, hi = min(best, i), max(best, i)
    label = right if best < i else left
    log.debug("turn change %.2f s moved %+d words to %.2f s: %s", words[i].start_s, best - i, words[best].start_s,
              "".join(w.text for w in words[lo:hi]).strip())
    words[lo:hi] = [replace(w, speaker=label) for w in words[lo:hi]]
    return best


def _join(words: list[Word], i: int, a0: int, b1: int, rescore: Rescore | None, touch_s: float) -> int | None:
    """The shorter side of the sentence around the change at ``i`` takes the other side's label,
    unless its own voice clearly holds it. Returns the index past the relabelled words."""
    start = next((k for k in range(i - 1, a0, -1) if clean_boundary(words, k, touch_s)), a0)
    end = next((k for k in range(i + 1, b1) if clean_boundary(words, k, touch_s)), b1)
    tail, head = words[start:i], words[i:end]
    left, right = words[i - 1].speaker, words[i].speaker
    if _seconds(tail) <= _seconds(head):
        lo, hi, own, other = start, i, left, right
    else:
        lo, hi, own, other = i, end, right, left
    if rescore is not None:
        score = rescore([(words[lo].start_s, words[hi - 1].end_s)])[0]
        lead = score.get(own, -1.0) - score.get(other, -1.0)
        if lead >= KEEP_MARGIN:
            log.debug("mid-sentence turn change %.2f s kept: its voice leads by %+.3f", words[i].start_s, lead)
            return None
    log.debug("mid-sentence fragment %.2f-%.2f s joins %s: %s", words[lo].start_s, words[hi - 1].end_s, other,
              "".join(w.text for w in words[lo:hi]).strip())
    words[lo:hi] = [replace(w, speaker=other) for w in words[lo:hi]]
    return hi


def _seconds(words: list[Word]) -> float:
    return sum(max(0.0, w.end_s - w.start_s) for w in words)


def mid_sentence_share(words: list[Word], touch_s: float = 0.15) -> tuple[float, int, int]:
    """(share, changes, mid-sentence changes): speaker changes between words under ``touch_s``
    apart where the first ends no sentence (as ../shared/tools/midsentence_turns.py counts them)."""
    changes = mid = 0
    for a, b in zip(words, words[1:]):
        if a.speaker and b.speaker and a.speaker != b.speaker:
            changes += 1
            mid += b.start_s - a.end_s < touch_s and not a.text.strip().endswith((".", "?", "!"))
    return (mid / changes if changes else 0.0), changes, mid
