"""Short titles and tags drawn from what was said: phrases particular to one section of talk.

A phrase is a run of one to three content words (no stopword or punctuation inside). It scores
by how often its section says it against how many sections say it (tf-idf), with words from a
section's opening sentences (where a host names the topic) counted extra. A title prefers a phrase
the host said in the question that opens the section ("what was your childhood like?"), and never
uses a word of the names it is given (people, the show's title) in any inflection.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from .text import STOPWORDS, stem, tokens

OPENING_SENTENCES = 3  # the host's lead-in usually names the topic
OPENING_WEIGHT = 2  # extra counts for a phrase said in the opening
MIN_RELATIVE_SCORE = 0.5  # a second phrase joins the title only when nearly as particular


@dataclass(frozen=True)
class Phrases:
    """Content-word phrases of one section: weighted counts by stem key, and the usual spelling."""

    counts: Counter
    spellings: dict[str, str]


def section_phrases(sections: list[list[str]], exclude: Iterable[str] = ()) -> list[Phrases]:
    """Phrases of each section (a list of sentences), leaving out the words of ``exclude``
    (speaker names make poor titles)."""
    skip = _skip_stems(exclude)
    return [_phrases(sentences, skip) for sentences in sections]


def _skip_stems(exclude: Iterable[str]) -> set[str]:
    return {stem(t) for name in exclude for t in tokens(name or "")}


def _phrases(sentences: list[str], skip: set[str], weighted: bool = True) -> Phrases:
    counts: Counter = Counter()
    spellings: dict[str, Counter] = {}
    for index, sentence in enumerate(sentences):
        weight = 1 + (OPENING_WEIGHT if weighted and index < OPENING_SENTENCES else 0)
        for run in _content_runs(sentence, skip):
            for size in (1, 2, 3):
                for i in range(len(run) - size + 1):
                    words = run[i : i + size]
                    key = " ".join(stem(w) for w in words)
                    counts[key] += weight
                    spellings.setdefault(key, Counter())[" ".join(words)] += 1
    return Phrases(counts, {k: c.most_common(1)[0][0] for k, c in spellings.items()})


def _content_runs(text: str, skip: set[str]) -> list[list[str]]:
    runs: list[list[str]] = []
    for clause in re.split(r"[.,;:?!()\"“”—–]+", text):
        run: list[str] = []
        for word in clause.split():
            core = word.strip("'\"‘’")
            low = core.lower()
            if low in STOPWORDS or stem(low) in skip or len(low) < 3 or not any(ch.isalpha() for ch in low) or _adverb(low):
                if run:
                    runs.append(run)
                run = []
            else:
                run.append(core)
        if run:
            runs.append(run)
    return runs


def _adverb(word: str) -> bool:
    """'properly', 'carefully': not part of a noun phrase ('family' and 'assembly' are nouns)."""
    return len(word) > 5 and word.endswith("ly") and word not in _LY_NOUNS


_LY_NOUNS = frozenset("family assembly supply italy anomaly butterfly monopoly jelly belly rally ally reply melancholy".split())


def _scored(phrase_sets: list[Phrases], n: int) -> list[tuple[float, str]]:
    """(score, stem key) of section ``n``'s phrases, best first."""
    scored = []
    for key, tf in phrase_sets[n].counts.items():
        words = key.count(" ") + 1
        if words > 1 and tf < 2:
            continue  # a phrase said once in passing is not a topic
        df = sum(1 for p in phrase_sets if key in p.counts)
        idf = math.log(1 + len(phrase_sets) / df)
        scored.append((tf * idf * (1 + 0.6 * (words - 1)), key))
    scored.sort(key=lambda x: (-x[0], x[1]))
    return scored


def ranked(phrase_sets: list[Phrases], n: int, limit: int = 5) -> list[str]:
    """Phrases of section ``n`` best first, title-cased, none contained in a better one."""
    scored = _scored(phrase_sets, n)
    top = scored[0][0] if scored else 0.0
    out: list[str] = []
    for score, key in scored:
        if score < top * MIN_RELATIVE_SCORE:
            break
        phrase = titlecase(phrase_sets[n].spellings[key])
        if not any(set(tokens(phrase)) <= set(tokens(p)) for p in out):
            out.append(phrase)
        if len(out) == limit:
            break
    return out


def lead_phrase(phrase_sets: list[Phrases], n: int, lead: str, section: list[str], exclude: Iterable[str] = ()) -> str | None:
    """The most particular phrase of section ``n`` (its sentences: ``section``) that the host's
    opening question ``lead`` says and the section says again: what the host named as the topic."""
    skip = _skip_stems(exclude)
    said = _phrases([lead], skip, weighted=False).counts
    again = _phrases(section, skip, weighted=False).counts
    scored = {key: score for score, key in _scored(phrase_sets, n) if key in said and again[key] > said[key]}
    if not scored:
        return None
    # The host names the topic first ("what advice would you give a student"); a longer phrase
    # wins over its own words when nearly as particular. Spelt as the host said it.
    said_as = _phrases([lead], skip, weighted=False).spellings
    order = [" ".join(stem(w) for w in run[i : i + size]) for run in _content_runs(lead, skip) for i in range(len(run)) for size in (3, 2, 1)]
    best = max(scored.values())
    for key in order:
        if scored.get(key, 0) >= best * MIN_RELATIVE_SCORE:
            return titlecase(said_as[key])
    return None


def title_for(phrase_sets: list[Phrases], n: int, max_chars: int = 48, lead: str | None = None) -> str:
    """The one or two phrases most particular to section ``n``: "Kaggle Competitions and Teams".
    ``lead`` (the phrase the host's question named, from ``lead_phrase``) comes first."""
    best = ranked(phrase_sets, n)
    if lead:
        best = [lead, *(p for p in best if not _stems(p) & _stems(lead))]
    if not best:
        return "Conversation" if n else "Introduction"
    for other in best[1:3]:
        if not _stems(other) & _stems(best[0]) and len(best[0]) + 5 + len(other) <= max_chars:
            return f"{best[0]} and {other}"
    return best[0]


def _stems(phrase: str) -> set[str]:
    return {stem(t) for t in tokens(phrase)}


_SMALL_WORDS = frozenset("a an and as at but by for in nor of on or the to vs via with".split())


def titlecase(phrase: str) -> str:
    """Capitalise plain lower-case words as a title does (small words stay small inside); keep
    acronyms and brand spellings (GPU, XGBoost) as said."""
    words = phrase.split()
    return " ".join(
        w if not w.islower() or (0 < i < len(words) - 1 and w in _SMALL_WORDS) else w[:1].upper() + w[1:] for i, w in enumerate(words)
    )
