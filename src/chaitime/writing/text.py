"""Sentences with times, content words, and cleaning spoken text for reading.

A Sentence is the unit every writer here works on: chapters start at one, the Q&A is built from
them, pull quotes are picked among them. A sentence ends at its full stop, not at an
abbreviation's ("Mr. Hale", "e.g."), a number's ("3.5") or a segment break; a few words that a
speaker change cut off go with the sentence they belong to. Cleaning removes filler words and
false starts ("I I think", "we- we"), which read badly on a page though they are fine to hear.

The show's vocabulary (names and terms, spelled as given) respells the words the draft is written
from (``respelled``), and ``Spelling`` gives every word its usual case ("Kaggle", "CASP", but
"competitions") wherever a phrase is written outside its sentence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from ..asr import vocabulary as vocab
from ..transcript.model import FILLERS, Segment, Transcript, Word

JOIN_PAUSE_S = 1.0  # a sentence broken across segments is joined over a pause shorter than this
JOIN_MAX_WORDS = 60  # ... unless it is this long already (unpunctuated talk is not one sentence)
FRAGMENT_WORDS = 8  # a speaker change this few words from a sentence's start or end leaves a fragment
UNSURE_PROBABILITY = 0.5  # a word the recogniser gave less than this, on average, may be misheard
_END = re.compile(r"[.?!…][\"')\]]*$")
# Points that never end a sentence (a title before a name, "e.g."); "etc." and "no." may.
_ABBREVIATIONS = frozenset("dr. mr. mrs. ms. mx. prof. e.g. i.e. eg. ie. st. mt. vs. cf. jr. sr. gen. gov. rev. sgt. lt. col. capt.".split())
_ATTACHES = set(".,;:!?%'’-/)")  # a word piece starting with one of these continues the word before
_SPLIT_TEXT = re.compile(r"(?<=[.?!…])[\"')\]]*\s+(?=\S)")


@dataclass(frozen=True)
class Sentence:
    start_s: float
    end_s: float
    text: str
    speaker: str | None
    pause_before_s: float  # silence since the previous sentence ended
    turn_start: bool  # first sentence of a speaker's turn
    segment_start: bool = False  # first sentence of a transcript segment (an utterance)

    @property
    def is_question(self) -> bool:
        return self.text.rstrip("\"') ").endswith("?")


def sentences(transcript: Transcript) -> list[Sentence]:
    """Every sentence of the transcript in order, timed from its words (or interpolated)."""
    out: list[Sentence] = []
    for seg in transcript.segments:
        for n, (start, end, text, speaker) in enumerate(_segment_sentences(seg)):
            prev = out[-1] if out else None
            if prev and n == 0 and _continues(prev, start, text, speaker):
                # A segment that ends mid-sentence ("... the side chains of", "Mr.") goes on in the
                # next; across a speaker change, the sentence is the speaker's who said most of it.
                joined = f"{prev.text} {text}"
                if speaker != prev.speaker and len(text.split()) > len(prev.text.split()):
                    before = out[-2] if len(out) > 1 else None
                    turn = before is None or before.speaker != speaker
                    out[-1] = replace(prev, end_s=end, text=joined, speaker=speaker, turn_start=turn)
                else:
                    out[-1] = replace(prev, end_s=end, text=joined)
                continue
            pause = max(0.0, start - prev.end_s) if prev else start
            turn = prev is None or speaker != prev.speaker
            out.append(Sentence(start, end, text, speaker, pause, turn, n == 0))
    return out


def _continues(prev: Sentence, start: float, text: str, speaker: str | None) -> bool:
    """Whether ``text``, the first sentence of a segment, goes on with ``prev``: ``prev`` has no
    end and the pause is short; by another speaker only when one side is a few words and the
    other side's words read on ("the side chains of" / "a designed enzyme")."""
    if ends_sentence(prev.text) or start - prev.end_s >= JOIN_PAUSE_S or len(prev.text.split()) >= JOIN_MAX_WORDS:
        return False
    if speaker == prev.speaker:
        return True
    first = text.lstrip("\"'“‘(")[:1]
    short = min(len(prev.text.split()), len(text.split())) <= FRAGMENT_WORDS
    return short and (first.islower() or first.isdigit())


def ends_sentence(text: str) -> bool:
    """Whether ``text`` ends a sentence: a full stop, question or exclamation mark that isn't an
    abbreviation's ("Mr.", "e.g.") or an initial's ("J.")."""
    text = text.rstrip()
    if not _END.search(text):
        return False
    words = text.split()
    bare = words[-1].lstrip("\"'“‘([")
    if bare.lower() in _ABBREVIATIONS:
        return False
    # An initial ("J. R. Smith", "John F. Kennedy"): a capital and a point after a name or another initial.
    before = words[-2].lstrip("\"'“‘([") if len(words) > 1 else ""
    initial = re.fullmatch(r"[A-Z]\.", bare) is not None and bare != "I."
    return not (initial and (not before or before[:1].isupper()))


def _segment_sentences(seg: Segment) -> list[tuple[float, float, str, str | None]]:
    words = [w for w in seg.words if w.text.strip()]
    if words:
        return [(g[0].start_s, g[-1].end_s, join_words(g), seg.speaker) for g in _word_groups(words)]
    texts = split_text(seg.text)
    total = sum(len(t) for t in texts) or 1
    out, t0 = [], seg.start_s
    for text in texts:
        t1 = t0 + (seg.end_s - seg.start_s) * len(text) / total
        out.append((t0, t1, text, seg.speaker))
        t0 = t1
    return out


def split_text(text: str) -> list[str]:
    """``text`` cut into sentences, never after an abbreviation ("Mr. Hale") or an initial."""
    out: list[str] = []
    for piece in (t.strip() for t in _SPLIT_TEXT.split(normalize_space(text))):
        if not piece:
            continue
        if out and not ends_sentence(out[-1]):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


def _word_groups(words: list[Word]) -> list[list[Word]]:
    groups: list[list[Word]] = [[]]
    for i, w in enumerate(words):
        groups[-1].append(w)
        token = w.text.strip()
        following = words[i + 1].text if i + 1 < len(words) else " "
        if not following[:1].isspace() and following[:1] in _ATTACHES:
            continue  # the next piece goes on this word (" 3" ".5", " St" ".")
        if ends_sentence(join_words(groups[-1][-4:]) if token[:1] in _ATTACHES else token):
            groups.append([])
    return [g for g in groups if g]


def join_words(words: Iterable[Word]) -> str:
    """Words as the transcript spells them: Whisper words carry their own leading space, and a
    piece without one that starts with punctuation goes on the word before (" GitHub" ".com",
    " age" "-old")."""
    text = "".join(w.text if w.text[:1].isspace() or w.text[:1] in _ATTACHES else " " + w.text for w in words)
    return re.sub(r"\s+", " ", text).strip()


def normalize_space(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# --- content words ------------------------------------------------------------------------

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are aren't as at be because been before
    being below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't
    down during each few for from further had hadn't has hasn't have haven't having he he'd he'll he's her
    here here's hers herself him himself his how how's i i'd i'll i'm i've if in into is isn't it it's its
    itself let's me more most mustn't my myself no nor not of off on once only or other ought our ours
    ourselves out over own same shan't she she'd she'll she's should shouldn't so some such than that
    that's the their theirs them themselves then there there's these they they'd they'll they're they've
    this those through to too under until up very was wasn't we we'd we'll we're we've were weren't what
    what's when when's where where's which while who who's whom why why's with won't would wouldn't you
    you'd you'll you're you've your yours yourself yourselves
    um umm uh uhh erm er ah ahh hmm mm mhm oh okay ok yeah yes yep right well like just really actually
    basically literally kind sort thing things stuff lot lots bit much many maybe pretty quite sure
    know think mean say said says go going gone get got getting make made want wanted see look come
    came take took give gave tell told thank thanks welcome today now also even still always never
    something anything everything someone anyone everyone people way ways time times one two first
    back good great really lot will shall may might must us let yeah hey hi hello guess feel felt
    year years day days able since ever every another already around across onto upon via per
    different new big small simple best better important whole real hard easy high low large little
    long short next last early wonderful happy nice cool interesting amazing awesome love loved
    start started learn learned work worked use used help try tried need needed keep put find
    call called talk talking talked change changed sounds question questions show
    episode guest host podcast listening listen three four five six seven eight nine ten hundred
    thousand million finally firstly secondly lastly anyway hear heard subject topic""".split()
)
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9'+\-]*[A-Za-z0-9+]|[A-Za-z]")


def tokens(text: str) -> list[str]:
    """Lower-case word tokens (letters, digits, inner apostrophes and hyphens)."""
    return [t.lower() for t in _TOKEN.findall(text)]


def stem(word: str) -> str:
    """A light suffix stripper: enough to make 'models' meet 'model' and 'training' meet 'train'."""
    w = word.lower().removesuffix("'s")
    for suffix, repl, min_len in (("ies", "y", 5), ("sses", "ss", 6), ("ing", "", 6), ("ed", "", 5), ("s", "", 4)):
        if w.endswith(suffix) and len(w) >= min_len and not (suffix == "s" and w.endswith(("ss", "us", "is"))):
            return w[: len(w) - len(suffix)] + repl
    return w


def content_stems(text: str) -> list[str]:
    return [stem(t) for t in tokens(text) if t not in STOPWORDS and len(t) > 2 and not t.isdigit()]


# --- cleaning spoken text -------------------------------------------------------------------

# Multi-word fillers only when set off by commas (", you know," is filler; "you know the answer" is not).
_PHRASE_FILLERS = re.compile(r"(^|,)\s*(?:you know|i mean|like|sort of|kind of)\s*(?:,|(?=[.?!]$))", re.IGNORECASE)


def clean_text(text: str, fillers: Iterable[str] = FILLERS) -> str:
    """``text`` without filler words, stutters and repeated false starts, punctuation tidied."""
    filler_set = {f.lower() for f in fillers}
    text = _PHRASE_FILLERS.sub(" ", normalize_space(text))
    words = [w for w in text.split(" ") if w]
    words = _drop_fillers(words, filler_set)
    words = _drop_cut_off_words(words)
    words = _drop_repeats(words)
    return _tidy(" ".join(words))


def has_disfluency(text: str, fillers: Iterable[str] = FILLERS) -> bool:
    return _tidy(clean_text(text, fillers)) != _tidy(normalize_space(text))


def _core(word: str) -> str:
    return word.strip(".,;:!?\"'()[]…").lower()


def _drop_fillers(words: list[str], fillers: set[str]) -> list[str]:
    out: list[str] = []
    for w in words:
        if _core(w) in fillers:
            # "so, um." keeps its full stop on the word before: "so."
            end = w.rstrip(",;:")[len(w.rstrip(",;:.?!…")) :]
            if end and out and out[-1][-1:] not in ".?!":
                out[-1] = out[-1].rstrip(",;:") + end
            continue
        out.append(w)
    return out


def _drop_cut_off_words(words: list[str]) -> list[str]:
    """'we- we went' -> 'we went': a word broken off with a dash is a false start."""
    return [w for w in words if not (len(w) > 1 and w.endswith(("-", "—", "–")) and w[:-1].isalpha())]


def _drop_repeats(words: list[str]) -> list[str]:
    """'I I think', 'it was it was': drop an n-gram (3, 2, 1 words) said twice in a row."""
    for n in (3, 2, 1):
        i, out = 0, []
        while i < len(words):
            here = [_core(w) for w in words[i : i + n]]
            nxt = [_core(w) for w in words[i + n : i + 2 * n]]
            if len(nxt) == n and here == nxt and all(here) and not any(w[-1:] in ".?!" for w in words[i : i + n]):
                i += n
                continue
            out.append(words[i])
            i += 1
        words = out
    return words


def _tidy(text: str) -> str:
    text = re.sub(r"\s+([,.;:?!])", r"\1", text)
    text = re.sub(r",\s*,+", ",", text)
    text = re.sub(r",([.?!])", r"\1", text)
    text = re.sub(r"^[\s,;:]+", "", text).strip()
    return text[:1].upper() + text[1:] if text else text


# --- the show's spelling ------------------------------------------------------------------------

ATTESTED_SIMILARITY = 0.8  # a run this much like an entry spelled as given elsewhere in the talk ...
ATTESTED_PROBABILITY = 0.9  # ... and (a name of two words or more) heard less surely than this is respelled


def vocabulary_entries(entries: Iterable[str]) -> list[str]:
    """Usable vocabulary entries, once each, longest first (so "Josh Homme" wins over "Josh")."""
    found = [normalize_space(e) for e in entries if isinstance(e, str) and re.search(r"[A-Za-z]", e or "")]
    found = [e for e in dict.fromkeys(found) if len(e) <= vocab.MAX_ENTRY_CHARS]
    return sorted(found, key=lambda e: (-len(e.split()), -len(e)))


def respelled(transcript: Transcript, vocabulary: Iterable[str]) -> Transcript:
    """``transcript`` with the vocabulary's spellings (words and times otherwise unchanged): a run
    that differs from an entry only in case or punctuation ("kaggle", "josh homme"), one the
    recogniser was unsure of that sounds much like the entry (``asr.vocabulary.near_matches``,
    ``ATTESTED_SIMILARITY``) when the talk spells the entry as given somewhere else, and a name of
    two words or more that sounds much like such an entry (the same name heard twice, respelled
    once: "Josh Hommy" beside "Josh Homme"). Without the audio to check against, that is all."""
    entries = vocabulary_entries(vocabulary)
    if not entries or not transcript.segments:
        return transcript
    said = " " + " ".join(join_words(s.words) if s.words else s.text for s in transcript.segments) + " "
    attested = {e for e in entries if re.search(r"(?<![\w])" + re.escape(e) + r"(?![\w])", said)}
    segments = []
    for seg in transcript.segments:
        words = [w for w in seg.words]
        if not words:
            segments.append(replace(seg, text=_case_respelled(seg.text, entries)) if seg.text.strip() else seg)
            continue
        changes = _respellings(words, entries, attested)
        if not changes:
            segments.append(seg)
            continue
        for i, j, entry in sorted(changes, reverse=True):
            words[i:j] = vocab.respell(words[i:j], entry)
        segments.append(replace(seg, text="".join(w.text for w in words).strip(), words=tuple(words)))
    return transcript.with_segments(segments)


def _respellings(words: list[Word], entries: list[str], attested: set[str]) -> list[tuple[int, int, str]]:
    found = []
    for i, j, entry, same in vocab.near_matches(words, entries):
        score = 3.0 if same else vocab.similarity(" ".join(w.text.strip() for w in words[i:j]), entry)
        if same or (entry in attested and score >= ATTESTED_SIMILARITY):
            found.append((score, i, j, entry))
    for entry in attested:
        size = len(entry.split())
        if size < 2:
            continue  # one word alike is chance ("cattle" on a farm, "Kaggle" at work); a name of two is not
        for i in range(len(words) - size + 1):
            run = words[i : i + size]
            text = " ".join(w.text.strip() for w in run)
            if min(w.probability for w in run) >= ATTESTED_PROBABILITY or vocab.key(text)[:1] != vocab.key(entry)[:1]:
                continue
            score = vocab.similarity(text, entry)
            if score >= ATTESTED_SIMILARITY and text.strip(".,!?;:\"'") != entry:
                found.append((score, i, i + size, entry))
    taken: set[int] = set()
    out = []
    for _, i, j, entry in sorted(found, key=lambda f: (-f[0], f[1])):
        if taken.isdisjoint(range(i, j)):
            taken.update(range(i, j))
            out.append((i, j, entry))
    return out


def spelled_as_given(text: str, entries: Iterable[str]) -> str:
    """``text`` with each vocabulary entry, in any case, spelled as given ("spotify" -> "Spotify")."""
    return _case_respelled(text, vocabulary_entries(entries))


def _case_respelled(text: str, entries: Sequence[str]) -> str:
    for entry in entries:
        text = re.sub(r"(?<![\w])" + re.escape(entry) + r"(?![\w])", lambda m, e=entry: e, text, flags=re.IGNORECASE)
    return text


def unsure_words(transcript: Transcript, trusted: Iterable[str] = ()) -> frozenset[str]:
    """Lower-case words the recogniser gave a low probability on average (``UNSURE_PROBABILITY``):
    likely misheard ("cattle" for Kaggle), so no title or tag is made of them. Words of
    ``trusted`` (the vocabulary, the names) never are."""
    keep = {t for entry in trusted for t in tokens(entry or "")}
    seen: dict[str, list[float]] = {}
    for w in transcript.words:
        for t in tokens(w.text):
            seen.setdefault(t, []).append(w.probability)
    return frozenset(t for t, ps in seen.items() if t not in keep and sum(ps) / len(ps) < UNSURE_PROBABILITY)


@dataclass(frozen=True)
class Spelling:
    """How the talk spells each word inside a sentence ("Kaggle", "CASP", "competitions"), and
    the vocabulary's entries as given: a phrase written outside its sentence (a summary's topic,
    a tag) keeps proper names and terms and lower-cases the rest."""

    usual: dict[str, str]
    entries: tuple[str, ...] = ()

    def word(self, word: str) -> str:
        low = word.lower()
        if low in self.usual:
            return self.usual[low]
        return word if (word.isupper() and len(word) > 1) or word[1:] != word[1:].lower() else low

    def phrase(self, phrase: str) -> str:
        """``phrase`` with each word as the talk spells it, the entries as given."""
        out = " ".join(self.word(w) if w.isalpha() else w for w in phrase.split())
        return _case_respelled(out, self.entries)


def spelling(sents: Sequence[Sentence], vocabulary: Iterable[str] = ()) -> Spelling:
    """The usual spelling of each word said inside a sentence (a sentence's first word tells
    nothing: "Competitions reward ..."); the vocabulary's entries as given."""
    entries = vocabulary_entries(vocabulary)
    counts: dict[str, dict[str, int]] = {}
    for s in sents:
        said = _case_respelled(s.text, entries)
        for entry in entries:  # "Abbey Road" says nothing of "road"
            said = re.sub(r"(?<![\w])" + re.escape(entry) + r"(?![\w])", " , ", said)
        for n, word in enumerate(said.split()):
            core = word.strip(".,;:!?\"'()[]…“”‘’")
            if not core.isalpha() or (n == 0 and not (core.isupper() and len(core) > 1)):
                continue
            counts.setdefault(core.lower(), {}).setdefault(core, 0)
            counts[core.lower()][core] += 1
    usual = {low: max(forms.items(), key=lambda kv: (kv[1], kv[0].islower()))[0] for low, forms in counts.items()}
    usual["i"] = "I"
    return Spelling(usual, tuple(entries))
