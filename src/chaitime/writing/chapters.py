"""Chapters from the transcript: where the topic changes, and a short title for each.

Segmentation is lexical: the split into chapters whose words are most predictable from their own
chapter's vocabulary wins (Utiyama & Isahara 2001, a dynamic programme over candidate starts).
Starts are only placed where a listener expects one, at a host's question or after a pause, and
the count follows the length and the content: about one chapter per 2-5 minutes, at least
three from 6 minutes on (YouTube shows no fewer), none shorter than ``min_chapter_s``. Only numpy is needed; an hour of talk takes well under a second.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..transcript.chapters import Chapter, chapters_json, load_chapters  # noqa: F401  (the type lives with the transcript)
from ..transcript.model import Transcript
from .keyphrases import lead_phrase, section_phrases, title_for
from .text import Sentence, content_stems, respelled, sentences, unsure_words

MIN_CHAPTER_S = 30.0  # [draft] min_chapter_s: no chapter is shorter
MINUTES_PER_CHAPTER = (1, 5)  # at most one chapter a minute, at least one per 5 (the content picks between)
YOUTUBE_LENGTH_S = 360.0  # from 6 minutes, at least three chapters: YouTube shows no fewer
SNAP_S = 20.0  # a start on a pause moves to a host's question this close
OPENING_LOOKAHEAD = 8  # sentences of a chapter searched for the host's opening question
PAUSE_S = 1.0  # a silence this long between sentences is a natural place to start a chapter
SPLIT_PENALTY = 3.0  # x log(words) per extra chapter; 1.0 (the paper's prior) and 2.0 over-split short talk


def make_chapters(
    transcript: Transcript,
    *,
    hosts: list[str],
    min_chapter_s: float = MIN_CHAPTER_S,
    count: int | None = None,
    names: Sequence[str] = (),
    vocabulary: Sequence[str] = (),
) -> list[Chapter]:
    """Chapters for ``transcript``: first at 0, ascending, each at least ``min_chapter_s`` long.

    ``hosts`` are the speaker values (names or labels) of the host(s): the start of a host's
    turn, or a sentence after a pause, is where a chapter may begin. ``count`` asks for that many
    chapters (as many as fit); by default the content picks within ``chapter_count_range``.
    ``names`` (people, the show's title) are kept out of the titles; they and the show's
    ``vocabulary`` are spelled as given, and words the recogniser was unsure of make no title.
    """
    spelled = respelled(transcript, [*vocabulary, *names])
    unsure = unsure_words(spelled, trusted=[*vocabulary, *names])
    sents = sentences(spelled)
    duration_s = _duration(transcript, sents)
    low, high = chapter_count_range(duration_s, min_chapter_s, count)
    starts = [0]
    if sents and high > 1:
        costs = segment_costs(sents, eligible_starts(sents, hosts), duration_s, min_chapter_s)
        starts = snap_to_questions(sents, best_segmentation(costs, low, high), hosts, duration_s, min_chapter_s)
    return _titled(sents, starts, duration_s, hosts, [*hosts, *names, *transcript.speakers()], unsure)


def chapter_count_range(duration_s: float, min_chapter_s: float = MIN_CHAPTER_S, count: int | None = None) -> tuple[int, int]:
    """(fewest, most) chapters for a length: about one per 2-5 minutes, at least three once the
    episode is long enough for YouTube's chapter rule (``YOUTUBE_LENGTH_S``), never more than
    ``min_chapter_s`` allows. ``count`` (the host's target) fixes both ends."""
    fit = max(1, math.floor(duration_s / max(min_chapter_s, 1e-6)))
    if count:
        n = min(max(1, count), fit)
        return n, n
    high = min(fit, max(1, math.floor(duration_s / MINUTES_PER_CHAPTER[0] / 60)))
    low = max(1, round(duration_s / MINUTES_PER_CHAPTER[1] / 60))
    if duration_s >= YOUTUBE_LENGTH_S:
        low = max(low, 3)
    return min(low, high), high


def _duration(transcript: Transcript, sents: list[Sentence]) -> float:
    return max(transcript.duration_s, sents[-1].end_s if sents else 0.0)


# --- where topics change ------------------------------------------------------------------------


def eligible_starts(sents: list[Sentence], hosts: list[str]) -> list[int]:
    """Sentence indexes where a chapter may start: a host's turn begins, or after a pause.

    With no speakers known, an utterance (segment) that doesn't answer a question stands in for
    a host's turn; with none of those, any sentence.
    """
    host_keys = {h.casefold() for h in hosts if h}
    known = any(s.speaker for s in sents)

    def ok(i: int) -> bool:
        s = sents[i]
        if s.pause_before_s >= PAUSE_S:
            return True
        if known:
            return s.turn_start and (s.speaker or "").casefold() in host_keys
        return s.segment_start and not sents[i - 1].is_question

    found = [i for i in range(1, len(sents)) if ok(i)]
    return found or list(range(1, len(sents)))


def snap_to_questions(sents: list[Sentence], starts: list[int], hosts: list[str], duration_s: float, min_s: float) -> list[int]:
    """Each chapter start that fell on a pause inside an answer (not where a host takes the word)
    moves to the host's question within ``SNAP_S`` that the answer answers (else the next one), as long as every chapter stays at least ``min_s`` long."""
    host_keys = {h.casefold() for h in hosts if h}
    opens = [i for i in range(1, len(sents)) if _opens_topic(sents, i, host_keys)]
    if not opens:
        return starts
    out = list(starts)
    for n in range(1, len(out)):
        a = out[n]
        if sents[a].turn_start and (sents[a].speaker or "").casefold() in host_keys:
            continue  # already where a host takes the word
        # The question this answer answers first, then the next one.
        near = sorted((i for i in opens if abs(sents[i].start_s - sents[a].start_s) <= SNAP_S), key=lambda i: (i > a, abs(i - a)))
        for i in near:
            times = [0.0, *(sents[b].start_s for b in (out[1:n] + [i] + out[n + 1 :])), duration_s]
            if out[n - 1] < i and (n + 1 == len(out) or i < out[n + 1]) and all(t1 - t0 >= min_s for t0, t1 in zip(times, times[1:])):
                out[n] = i
                break
    return out


def _opens_topic(sents: list[Sentence], i: int, host_keys: set[str]) -> bool:
    """A host's turn starts at sentence ``i`` and asks a question within its first sentences."""
    s = sents[i]
    if not s.turn_start or (s.speaker or "").casefold() not in host_keys:
        return False
    turn = [x for x in sents[i : i + 3] if x.speaker == s.speaker]
    return any(x.is_question for x in turn)


@dataclass(frozen=True)
class SegmentCosts:
    """Cost of every possible chapter between two candidate starts (inf where too short)."""

    starts: list[int]  # sentence indexes: 0, the eligible starts, then len(sentences) as the end
    cost: np.ndarray  # cost[a, b]: negative log-likelihood of sentences starts[a]..starts[b]
    words: int  # content words in the whole transcript


def segment_costs(sents: list[Sentence], eligible: list[int], duration_s: float, min_s: float) -> SegmentCosts:
    """Each chapter's words scored under its own smoothed word distribution (Utiyama & Isahara,
    2001): a chapter that keeps to one topic repeats its words and costs less."""
    counts, vocab_size = _count_matrix(sents)
    cum = np.vstack([np.zeros((1, counts.shape[1])), np.cumsum(counts, axis=0)])
    totals = np.concatenate([[0.0], np.cumsum([len(content_stems(s.text)) for s in sents])])
    starts = [0, *eligible, len(sents)]
    times = np.array([0.0, *(sents[i].start_s for i in eligible), duration_s])
    m = len(starts)
    cost = np.full((m, m), np.inf)
    for a in range(m - 1):
        ends = np.arange(a + 1, m)
        seg = cum[[starts[b] for b in ends]] - cum[starts[a]]
        n = totals[[starts[b] for b in ends]] - totals[starts[a]]
        nll = n * np.log(n + vocab_size) - (seg * np.log1p(seg)).sum(axis=1)
        long_enough = times[ends] - times[a] >= min_s
        cost[a, ends[long_enough]] = nll[long_enough]
    return SegmentCosts(starts, cost, int(totals[-1]))


def _count_matrix(sents: list[Sentence]) -> tuple[np.ndarray, int]:
    """Sentence x word counts for words said more than once (a word said once adds the same to any
    split, through the chapter's word total only), and the full vocabulary size for smoothing."""
    bags = [Counter(content_stems(s.text)) for s in sents]
    seen = Counter(w for bag in bags for w in bag.elements())
    repeated = {w: i for i, w in enumerate(sorted(w for w, c in seen.items() if c > 1))}
    counts = np.zeros((len(sents), max(1, len(repeated))), dtype=np.float64)
    for row, bag in enumerate(bags):
        for w, c in bag.items():
            if w in repeated:
                counts[row, repeated[w]] = c
    return counts, len(seen)


def best_segmentation(costs: SegmentCosts, low: int, high: int) -> list[int]:
    """Sentence indexes starting each chapter: the cheapest split into k chapters for k in
    [low, high], each extra chapter paying ``SPLIT_PENALTY`` x log(words) (its description length)."""
    m = len(costs.starts)
    best, back = costs.cost[0].copy(), []
    penalty = SPLIT_PENALTY * math.log(max(costs.words, 2))
    winner, winner_score = [0], math.inf
    for k in range(1, high + 1):
        if k > 1:
            totals = best[:, None] + costs.cost  # totals[a, b]: k-1 chapters up to a, then a..b
            back.append(np.argmin(totals, axis=0))
            best = totals[back[-1], np.arange(m)]
        score = best[m - 1] + k * penalty
        if k >= low and math.isfinite(score) and score < winner_score:
            winner, winner_score = _trace(back, m - 1, costs.starts), score
    return winner


def _trace(back: list[np.ndarray], end: int, starts: list[int]) -> list[int]:
    found, b = [], end
    for pointers in reversed(back):
        b = int(pointers[b])
        found.append(starts[b])
    return [0, *sorted(found)]


# --- titles ---------------------------------------------------------------------------------------


def _titled(sents: list[Sentence], starts: list[int], duration_s: float, hosts: list[str], names: list[str],
            unsure: frozenset[str] = frozenset()) -> list[Chapter]:
    spans = [sents[a:b] for a, b in zip(starts, starts[1:] + [len(sents)])] if sents else [[]]
    texts = [[s.text for s in span] for span in spans]
    found = section_phrases(texts, exclude=names, unsure=unsure)
    chapters: list[Chapter] = []
    for n, a in enumerate(starts):
        start_s = 0.0 if n == 0 else sents[a].start_s
        end_s = duration_s if n + 1 == len(starts) else sents[starts[n + 1]].start_s
        question = opening_question(spans[n], hosts)
        lead = lead_phrase(found, n, question, texts[n], exclude=names)
        asked = f"{opening_turn(spans[n], hosts)} {question}".strip()  # "Let's talk about touring." may come without a question
        title = title_for(found, n, lead=lead, question=asked, section=texts[n], exclude=names, unsure=unsure,
                          taken=[c.title for c in chapters])
        chapters.append(Chapter(round(start_s, 3), title, round(end_s, 3)))
    return chapters


def opening_turn(span: Sequence[Sentence], hosts: Sequence[str], most: int = 3) -> str:
    """The first words a host says in a chapter: up to ``most`` sentences of the host's first turn
    within the chapter's first few sentences (with no speakers known, the chapter's first)."""
    host_keys = {h.casefold() for h in hosts if h}
    known = any(s.speaker for s in span)
    head = list(span[:OPENING_LOOKAHEAD])
    for i, s in enumerate(head):
        if not known or (s.speaker or "").casefold() in host_keys:
            turn = [s]
            for x in head[i + 1 :]:
                if len(turn) == most or x.speaker != s.speaker or (not known and x.segment_start):
                    break
                turn.append(x)
            return " ".join(x.text for x in turn)
    return ""


def opening_question(span: Sequence[Sentence], hosts: Sequence[str]) -> str:
    """The host's words that open a chapter: the first turn (of a host, when speakers are known)
    up to and including its first question, within the chapter's first few sentences."""
    host_keys = {h.casefold() for h in hosts if h}
    known = any(s.speaker for s in span)
    for i, s in enumerate(span[:OPENING_LOOKAHEAD]):
        if s.is_question and (not known or (s.speaker or "").casefold() in host_keys):
            first = i
            while first > 0 and span[first - 1].speaker == s.speaker and not span[first - 1].is_question and i - first < 2:
                first -= 1
            return " ".join(x.text for x in span[first : i + 1])
    return ""
