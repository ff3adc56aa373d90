"""Short titles and tags drawn from what was said: phrases particular to one section of talk.

A phrase is a run of one to three content words (no stopword, punctuation or misheard word
inside). It scores by how often its section says it against how many sections say it (tf-idf),
with words from a section's opening sentences (where a host names the topic) counted extra.

A title names the section's topic in words a person would use: the host's opening question
condensed ("How did you get into Kaggle?" -> "Getting into Kaggle", "What advice would you give a
student?" -> "Advice for a Student") when it names something the section talks about, else the
section's most particular noun phrase ("Kaggle Competitions"), never two phrases glued with "and".
No title uses a word of the names it is given (people, the show's title) in any inflection, nor
a word the recogniser was unsure of.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .text import STOPWORDS, stem, tokens

OPENING_SENTENCES = 3  # the host's lead-in usually names the topic
OPENING_WEIGHT = 2  # extra counts for a phrase said in the opening
MIN_RELATIVE_SCORE = 0.5  # a second phrase joins the title only when nearly as particular


@dataclass(frozen=True)
class Phrases:
    """Content-word phrases of one section: weighted counts by stem key, the usual spelling, and
    how many times each was said (unweighted)."""

    counts: Counter
    spellings: dict[str, str]
    said: Counter = field(default_factory=Counter)


def section_phrases(sections: list[list[str]], exclude: Iterable[str] = (), unsure: Iterable[str] = ()) -> list[Phrases]:
    """Phrases of each section (a list of sentences), leaving out the words of ``exclude``
    (speaker names make poor titles) and the ``unsure`` words (lower case: likely misheard)."""
    skip = _skip_stems(exclude)
    doubt = frozenset(unsure)
    return [_phrases(sentences, skip, unsure=doubt) for sentences in sections]


def _skip_stems(exclude: Iterable[str]) -> set[str]:
    return {stem(t) for name in exclude for t in tokens(name or "")}


def _phrases(sentences: list[str], skip: set[str], weighted: bool = True, unsure: frozenset[str] = frozenset()) -> Phrases:
    counts: Counter = Counter()
    spellings: dict[str, Counter] = {}
    for index, sentence in enumerate(sentences):
        weight = 1 + (OPENING_WEIGHT if weighted and index < OPENING_SENTENCES else 0)
        for run in _content_runs(sentence, skip, unsure):
            for size in (1, 2, 3):
                for i in range(len(run) - size + 1):
                    words = run[i : i + size]
                    key = " ".join(stem(w) for w in words)
                    counts[key] += weight
                    spellings.setdefault(key, Counter())[" ".join(words)] += 1
    return Phrases(counts, {k: c.most_common(1)[0][0] for k, c in spellings.items()}, Counter({k: sum(c.values()) for k, c in spellings.items()}))


def _content_runs(text: str, skip: set[str], unsure: frozenset[str] = frozenset()) -> list[list[str]]:
    runs: list[list[str]] = []
    for clause in re.split(r"[.,;:?!()\"“”—–]+", text):
        run: list[str] = []
        for word in clause.split():
            core = word.strip("'\"‘’")
            low = core.lower()
            if (low in STOPWORDS or stem(low) in skip or len(low) < 3 or not any(ch.isalpha() for ch in low) or _adverb(low)
                    or low in unsure or low in _SPOKEN_ADDRESS):
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
_SPOKEN_ADDRESS = frozenset("slash dot com org net www http https".split())  # "github dot com slash ..." names no topic


def _scored(phrase_sets: list[Phrases], n: int) -> list[tuple[float, str]]:
    """(score, stem key) of section ``n``'s phrases, best first."""
    scored = []
    for key, tf in phrase_sets[n].counts.items():
        words = key.count(" ") + 1
        if words > 1 and phrase_sets[n].said.get(key, tf) < 2:
            continue  # a phrase said once in passing (if in the opening) is not a topic
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


def title_for(phrase_sets: list[Phrases], n: int, max_chars: int = 48, lead: str | None = None, *, question: str = "",
              section: Sequence[str] = (), exclude: Iterable[str] = (), unsure: Iterable[str] = (), taken: Iterable[str] = ()) -> str:
    """The title of section ``n``: the host's opening ``question`` condensed when it names what
    the section (its sentences: ``section``) talks about, else its most particular noun phrase
    (``lead``, the phrase the host's question named, first), lengthened to its head ("Kaggle"
    -> "Kaggle Competitions" when the section says that twice). ``taken``: titles of the other
    sections, not repeated."""
    skip, doubt = _skip_stems(exclude), frozenset(unsure)
    said = _phrases(list(section), skip, weighted=False, unsure=doubt).counts if section else phrase_sets[n].counts
    used = {t.casefold() for t in taken}
    options = [t for t in (condensed_question(question, said, skip, doubt),) if t]
    phrases = [p for p in ([lead] if lead else []) + ranked(phrase_sets, n) if _noun_phrase(p)]
    options += [_with_head(p, said, phrase_sets[n]) for p in phrases]
    for title in options:
        title = titlecase(title)
        if len(title) <= max_chars and title.casefold() not in used:
            return title
    return "Conversation" if n else "Introduction"


def topic_phrase(phrase_sets: list[Phrases], n: int) -> str | None:
    """Section ``n``'s most particular noun phrase, lengthened to its head: a tag."""
    for phrase in ranked(phrase_sets, n):
        if _noun_phrase(phrase):
            return _with_head(phrase, phrase_sets[n].counts, phrase_sets[n])
    return None


# --- the host's question, condensed ----------------------------------------------------------------

_POSSESSIVE = {"your", "my", "our", "his", "her", "their"}
_GENERIC = frozenset("beginning end moment part story point idea reason bit side kind sort piece".split())
_DOUBLED = frozenset("get set sit put run stop plan begin swim shop win cut hit let drop ship chat quit forget admit commit submit "
                     "dig grab map tap scan step skip spin swap drag prefer refer occur".split())
_TOPIC_VERBS = frozenset("get start make come go take find keep learn work use choose talk help change call".split())  # "how do you talk to the public"
_NOT_A_VERB = frozenset("think feel mean know say see guess would could should".split())
_OPEN = r"^(?:(?:so|now|okay|ok|well|and|but|then|alright|right)\W+)*"
_QUESTIONS: tuple[tuple[re.Pattern, str], ...] = tuple((re.compile(_OPEN + pattern, re.IGNORECASE), form) for pattern, form in (
    (r"(?:let's|let us|i'd like to|i want to|i wanted to|we should|can we|could we|we need to)\s+(?:now\s+|also\s+)?"
     r"(?:talk|chat|speak|turn|move on|get|come|go back)\s+(?:a (?:little )?bit\s+|more\s+|now\s+)?(?:about|to|on)\s+(?P<x>.+)$", "{x}"),
    (r"(?:(?:can|could|would|will) you\s+)?(?:please\s+)?(?:tell|talk to|walk)\s+(?:me|us)\s+(?:a (?:little )?bit\s+|more\s+)?"
     r"(?:about|through)\s+(?P<x>.+)$", "{x}"),
    (r"what(?: kind of| sort of)? (?P<kind>advice|tips?|lessons?|recommendations?) (?:would|will|do|can|could|should|did|might) you "
     r"(?:give|offer|have|share|pass on)(?: for| to)?\s*(?P<x>.*)$", "{kind} for {x}"),
    (r"what (?:got|brought|drew|led|pulled) you (?:into|to) (?P<x>.+)$", "getting into {x}"),
    (r"what (?:was|is) it like (?:to |being |growing )?(?P<v>[a-z]+)(?P<x>.*)$", "{v} {x}"),
    (r"what (?:was|is|were|are) (?P<x>.+?) like$", "{x}"),
    (r"what (?:do|did) you (?:think|make|feel) (?:about|of) (?P<x>.+)$", "{x}"),
    (r"how (?:do|did) you (?:think|feel) about (?P<x>.+)$", "{x}"),
    (r"how (?:did|do|does|would|can|could|should|will) you (?:first |actually |even |ever |go about )?(?P<v>[a-z]+)(?P<x>.*)$", "{v} {x}"),
    (r"why (?:did|do|does|would|should) you (?:ever |first )?(?P<v>[a-z]+)(?P<x>.*)$", "{v} {x}"),
    (r"where (?:did|do|would) you (?:first )?(?P<v>[a-z]+)(?P<x>.*)$", "{v} {x}"),
    (r"(?:what|which) (?:is|are|was|were) (?P<x>.+)$", "{x}"),
))
_CUT = re.compile(r"\s+(?:who|which|whom|whose|because|if|when|while|before|after|so that|now|today|here|these days|right now|"
                  r"at the moment|for you|at all|like that|like this|in this field|in this area|in your field|in your life|exactly|"
                  r"and|or|but|then|though|anyway)\b.*$", re.IGNORECASE)
_CONTACT = re.compile(r"(?<=\w)\s+(?:you|we|i|they|he|she)\s+\w.*$", re.IGNORECASE)  # "the ice cores [you drill]"
_TRAILING = {"a", "an", "the", "to", "of", "for", "in", "on", "at", "with", "about", "and", "or", "that", "this", "it", "you"}


def condensed_question(question: str, said: Counter, skip: set[str] = frozenset(), unsure: frozenset[str] = frozenset()) -> str | None:
    """The host's question as a title, when one clause of it fits a known shape and names a word
    the section says again (``said``: its phrase counts): "How did you get into Kaggle?" ->
    "Getting into Kaggle", "What was your childhood like?" -> "Childhood", "Tell me about your new
    paper." -> "The new paper". None when nothing fits, or it names no topic."""
    best, best_score = None, 0
    for clause in _clauses(question):
        title = _condense(clause)
        if not title:
            continue
        words = [w.strip(".,;:!?\"'").lower() for w in title.split()]
        asked = {w.strip(".,;:!?\"'").lower() for w in clause.split()}  # a gerund made of "grow" is as sure as "grow"
        if len(words) > 7 or any((w in unsure and w in asked) or stem(w) in skip for w in words):
            continue
        score = sum(_said(said, w) for w in words if w not in STOPWORDS and w not in _GENERIC and len(w) > 2 and _said(said, w) >= 2)
        if score > best_score:
            best, best_score = title, score
    return best


def _said(said: Counter, word: str) -> int:
    """How often the section says ``word``, its stem or, for a gerund the question made, the verb
    in any form ("growing" counts "grow" and "grew")."""
    count = said.get(stem(word), 0)
    if word.endswith("ing") and len(word) > 5:
        base = word[:-3]
        forms = {base, base + "e", base[:-1] if len(base) > 2 and base[-1] == base[-2] else base}
        forms |= {past for past, verb in _PAST.items() if verb in forms}
        count += sum(said.get(stem(f), 0) for f in forms if stem(f) != stem(word))
    return count


_PAST = {"grew": "grow", "grown": "grow", "got": "get", "began": "begin", "begun": "begin", "came": "come", "became": "become",
         "went": "go", "made": "make", "took": "take", "taken": "take", "wrote": "write", "written": "write", "ran": "run",
         "won": "win", "left": "leave", "built": "build", "taught": "teach", "learnt": "learn", "found": "find", "chose": "choose",
         "chosen": "choose", "fell": "fall", "met": "meet", "spent": "spend", "brought": "bring", "sold": "sell", "held": "hold",
         "kept": "keep", "lost": "lose", "drew": "draw", "drawn": "draw", "flew": "fly", "drove": "drive", "driven": "drive",
         "sang": "sing", "sung": "sing", "swam": "swim", "thought": "think", "understood": "understand"}


def _clauses(question: str) -> list[str]:
    parts = re.split(r"(?<=[.?!;])\s+|,\s*(?:and\s+|or\s+|but\s+)?|\s+(?:and|or)\s+(?=(?:what|how|why|where|when|who|which|did|do|was|is)\b)",
                     question.strip())
    return [p.strip(" ?.!;:\"'") for p in parts if p and p.strip(" ?.!;:\"'")]


def _condense(clause: str) -> str | None:
    for pattern, form in _QUESTIONS:
        m = pattern.match(clause)
        if not m:
            continue
        groups = m.groupdict()
        if "v" in groups:
            verb = groups["v"].lower()
            if verb in STOPWORDS - _TOPIC_VERBS or verb in _NOT_A_VERB:
                return None
            groups["v"] = gerund(verb)
        if "kind" in groups:
            groups["kind"] = groups["kind"].capitalize()
        x = _object(groups.get("x") or "")
        if "{x}" in form and not x and "{kind}" not in form:
            return None
        text = re.sub(r"\s+", " ", form.format(**{**groups, "x": x})).strip()
        text = re.sub(r"\s+for\s*$", "", text)  # "Advice for " with no one named
        return text[:1].upper() + text[1:] if text else None
    return None


def _object(x: str) -> str:
    """The noun phrase a question asks about: up to a relative clause or time word, with 'your'
    made 'the' (or dropped before a single word: 'your childhood' -> 'childhood')."""
    x = _CUT.sub("", " " + x.strip()).strip()
    if len(_CONTACT.sub("", x).split()) >= 2:
        x = _CONTACT.sub("", x)
    words = [w.strip(".,;:!?\"'") for w in x.split()]
    words = [w for w in words if w]
    while words and words[-1].lower() in _TRAILING:
        words.pop()
    if len(words) > 6:  # too long for a title: up to the second preposition
        cut = [i for i, w in enumerate(words) if i >= 2 and w.lower() in ("for", "in", "on", "at", "with", "to", "from", "of", "about")]
        words = words[: cut[0]] if cut else words
    out = []
    for i, w in enumerate(words):
        if w.lower() in _POSSESSIVE and i + 1 < len(words):
            if i == 0 and len(words) == 2:
                continue
            out.append("the")
        elif w.lower() == "you" and i:
            out.append("yourself" if i + 1 == len(words) else w)
        else:
            out.append(w)
    return " ".join(out)


def gerund(verb: str) -> str:
    """'get' -> 'getting', 'organise' -> 'organising', 'grow' -> 'growing', 'die' -> 'dying'."""
    v = verb.lower()
    if v.endswith("ie"):
        return v[:-2] + "ying"
    if v in ("be", "see", "flee", "agree", "free"):
        return v + "ing"
    if v.endswith("e") and not v.endswith(("ee", "ye", "oe")):
        return v[:-1] + "ing"
    if v in _DOUBLED:
        return v + v[-1] + "ing"
    return v + "ing"


# --- noun phrases ------------------------------------------------------------------------------------

# Verbs that end a run of content words ("won several", "based"): a phrase ending in one names no thing.
_VERBS = frozenset(
    """won win wins winning got gets made makes took takes went goes came comes saw sees gave gives grew grows knew knows ran runs
    wrote writes read reads told tells thought thinks found finds left leaves kept keeps met meets sat sits spent spends lost loses
    built builds taught teaches caught catches brought brings bought buys felt feels held holds became becomes began begins chose
    chooses drew draws fell falls heard lent lends meant means paid pays sent sends set sets stood stands understood wore became
    entered finished ranked reached celebrated asked watched pushed based submitted released placed packed wanted tried let
    lets put puts grow goes become begin write sing happen happens""".split()
)
_ED_NOUNS = frozenset("bed red seed need speed feed weed shed bread thread head hundred sacred breed greed creed".split())


def _noun_phrase(phrase: str) -> bool:
    """A phrase that can name a thing: it neither starts nor ends with a verb, nor ends with a
    past participle ("Clean Split Based")."""
    words = [w.lower() for w in phrase.split()]
    if not words:
        return False
    last = words[-1]
    if words[0] in _VERBS or last in _VERBS:
        return False
    return not (last.endswith("ed") and len(last) > 4 and last not in _ED_NOUNS)


def _with_head(phrase: str, said: Counter, phrases: Phrases) -> str:
    """A one-word phrase with the word the section says before it twice or more ("Kaggle" ->
    "Kaggle competitions"), when that makes a noun phrase."""
    if " " in phrase:
        return phrase
    key = stem(phrase)
    longer = [(c, k) for k, c in said.items() if k.count(" ") == 1 and key in k.split() and c >= 2]
    for _, k in sorted(longer, key=lambda item: (-item[0], item[1])):
        spelt = phrases.spellings.get(k)
        if spelt and _noun_phrase(spelt):
            return spelt
    return phrase


def _stems(phrase: str) -> set[str]:
    return {stem(t) for t in tokens(phrase)}


_SMALL_WORDS = frozenset("a about an and as at but by for from in into nor of on onto or over the to vs via with".split())


def titlecase(phrase: str) -> str:
    """Capitalise plain lower-case words as a title does (small words stay small inside); keep
    acronyms and brand spellings (GPU, XGBoost) as said."""
    words = phrase.split()
    return " ".join(
        w if not w.islower() or (0 < i < len(words) - 1 and w in _SMALL_WORDS) else w[:1].upper() + w[1:] for i, w in enumerate(words)
    )
