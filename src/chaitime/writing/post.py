"""post.md: the blog-post draft, from transcript, chapters and episode.toml.

Front matter (YAML that Jekyll, Hugo and MkDocs read), an opening paragraph, show notes with a
0:00 chapter list, one to three pull quotes (whole sentences found verbatim in the transcript) in
every episode of a minute or more, the interview as Q&A under chapter headings (filler words and
false starts removed, paragraphs split at pauses), and the links mentioned. The show's vocabulary
([transcribe] vocabulary, the hosts', guests' and speakers' names) is spelled as given in all of
it. Once the host edits post.md it is theirs: see ``write_draft``.
"""

from __future__ import annotations

import bisect
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ..config import Settings
from ..errors import ChaitimeError
from ..transcript.chapters import Chapter
from ..transcript.formats import clock
from ..transcript.model import Transcript
from ..workspace import POST, Episode, EpisodeMeta
from . import llm
from .keyphrases import section_phrases, topic_phrase
from .links import Link, find_links, write_urls
from .notes import chapter_lines
from .owned import draft_name, write_owned
from .summary import summary
from .text import (
    FILLERS,
    Sentence,
    clean_text,
    content_stems,
    ends_sentence,
    has_disfluency,
    normalize_space,
    respelled,
    sentences,
    spelled_as_given,
    spelling,
    stem,
    tokens,
    unsure_words,
)

log = logging.getLogger("chaitime")

POST_DRAFT = draft_name(POST)
PARAGRAPH_PAUSE_S = 1.2  # a pause this long inside a turn starts a new paragraph
PARAGRAPH_MAX_WORDS = 120
QUOTE_WORDS = (10, 40)
QUOTE_WORDS_AT_LEAST = (6, 50)  # when no sentence of the usual length stands alone
QUOTE_COUNT = 3
QUOTE_MIN_EPISODE_S = 60.0  # a shorter episode has no highlights; a longer one at least one
POINT_WORDS = (6, 25)  # the summary's one point: a short sentence of the guest's
UNSURE_QUOTE_PENALTY = 3.0  # per misheard-looking word: a quote should read right
CONFIDENCE_WEIGHT = 10.0  # x (1 - the words' mean probability): a sentence heard surely quotes better
_STANDS_ALONE = re.compile(r"^[\"“']?[A-Z0-9].*[.!][\"”')]*$")  # begins as a sentence, ends with a full stop
_DANGLING = {"of", "the", "a", "an", "and", "or", "to", "with", "for", "in", "on", "at", "but", "so", "that", "because", "like", "my", "your", "our"}
_NEEDS_CONTEXT = {"and", "but", "so", "because", "or", "yes", "no", "yeah", "it", "that", "this", "they", "he", "she", "then", "also", "which"}


@dataclass(frozen=True)
class Paragraph:
    speaker: str | None  # a display name; None when the transcript has no speakers
    text: str
    start_s: float
    continues_turn: bool = False


@dataclass(frozen=True)
class Quote:
    text: str  # verbatim from the transcript
    speaker: str | None
    start_s: float


@dataclass(frozen=True)
class DraftContent:
    """Everything post.md says, before it is formatted."""

    meta: EpisodeMeta
    hosts: tuple[str, ...]
    summary: str
    tags: tuple[str, ...]
    chapters: tuple[Chapter, ...]
    sections: tuple[tuple[Paragraph, ...], ...]  # one per chapter
    quotes: tuple[Quote, ...]
    links: tuple[Link, ...]
    audio_path: str
    video_path: str | None
    duration_s: float
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # one line per chapter for the show notes (the LLM's), or none


def draft_post(
    transcript: Transcript,
    meta: EpisodeMeta,
    settings: Settings,
    chapters: Sequence[Chapter],
    *,
    audio_path: str,
    video_path: str | None,
    duration_s: float,
) -> str:
    """The post.md text (polished by the configured LLM when [draft] llm_url is set)."""
    content = compose(transcript, meta, settings, chapters, audio_path=audio_path, video_path=video_path, duration_s=duration_s)
    return render(content)


def compose(
    transcript: Transcript,
    meta: EpisodeMeta,
    settings: Settings,
    chapters: Sequence[Chapter],
    *,
    audio_path: str,
    video_path: str | None,
    duration_s: float,
    polish: bool = True,
) -> DraftContent:
    """Gather the post's parts offline, then let the LLM (if configured) polish them."""
    chapters = tuple(chapters) or (Chapter(0.0, "Conversation", duration_s),)
    names = speaker_names(meta)
    vocabulary = draft_vocabulary(settings, meta)
    spelled = respelled(transcript, vocabulary)
    sents = sentences(spelled)
    unsure = unsure_words(spelled, trusted=vocabulary)
    spelt = spelling(sents, vocabulary)
    chapters = tuple(replace(c, title=spelled_as_given(c.title, vocabulary)) for c in chapters)
    by_chapter = split_by_chapter(sents, chapters)
    show_title = str(settings.show.get("title", ""))
    exclude = [*settings.hosts, *meta.guests, *names.values(), show_title]
    phrase_sets = section_phrases([[s.text for s in part] for part in by_chapter], exclude=exclude, unsure=unsure)
    topics = [t for t in (topic_phrase(phrase_sets, n) for n in range(len(chapters))) if t]
    fillers = FILLERS | {f.lower() for f in settings.get("audio", "fillers", []) or []}
    guests = guests_of(meta, names, settings.hosts)
    candidates = quote_candidates(sents, by_chapter, names, settings.hosts, transcript.text, fillers, show_title, unsure,
                                  confidence=sentence_confidence(spelled, sents), people=guests)
    quotes = pull_quotes(sents, by_chapter, names, settings.hosts, transcript.text, fillers, show_title, candidates=candidates, people=guests)
    content = DraftContent(
        meta=meta,
        hosts=tuple(h for h in settings.hosts if h),
        summary=meta.description.strip() or summary(settings.hosts, guests, chapters, sents, names,
                                                    point=summary_point(candidates, quotes), vocabulary=vocabulary),
        tags=tuple(dict.fromkeys(spelled_as_given(spelt.phrase(t), vocabulary) for t in topics))[:6],
        chapters=chapters,
        sections=tuple(tuple(paragraphs(part, names, fillers)) for part in by_chapter),
        quotes=tuple(quotes),
        links=tuple(find_links(sents)),
        audio_path=audio_path,
        video_path=video_path,
        duration_s=duration_s,
    )
    endpoint = llm.endpoint_from(settings) if polish else None
    if not endpoint:
        return content
    return _polished(content, endpoint, by_chapter, transcript.text, sents, names, show_title, vocabulary)


def draft_vocabulary(settings: Settings, meta: EpisodeMeta) -> list[str]:
    """What the draft spells as given: [transcribe] vocabulary, the hosts', guests' and speakers'
    names, and the show's title (the template's placeholder host is no name)."""
    from ..config import PLACEHOLDER_NAME

    terms = settings.get("transcribe", "vocabulary", []) or []
    people = [h for h in settings.hosts if h and h != PLACEHOLDER_NAME]
    return [str(t) for t in dict.fromkeys([*terms, *people, *meta.guests, *map(str, meta.speakers.values()),
                                           str(settings.show.get("title", ""))]) if str(t).strip()]


def guests_of(meta: EpisodeMeta, names: dict[str, str], hosts: Sequence[str]) -> list[str]:
    """The guests episode.toml names, else the named speakers who aren't hosts."""
    if meta.guests:
        return list(meta.guests)
    host_keys = {h.casefold() for h in hosts if h}
    return [n for n in dict.fromkeys(names.values()) if n.casefold() not in host_keys]


def speaker_names(meta: EpisodeMeta) -> dict[str, str]:
    """Speaker label -> display name, from episode.toml's [speakers] table."""
    return {str(k): str(v) for k, v in meta.speakers.items() if v}


def split_by_chapter(sents: list[Sentence], chapters: Sequence[Chapter]) -> list[list[Sentence]]:
    starts = [c.start_s for c in chapters]
    parts: list[list[Sentence]] = [[] for _ in chapters]
    for s in sents:
        # A sentence belongs to the chapter it starts in (a little slack for rounded times).
        parts[max(0, bisect.bisect_right(starts, s.start_s + 0.05) - 1)].append(s)
    return parts


# --- the interview as Q&A ----------------------------------------------------------------------


def paragraphs(sents: Sequence[Sentence], names: dict[str, str], fillers: frozenset[str] | set[str] = FILLERS) -> list[Paragraph]:
    """Cleaned sentences joined into paragraphs: a new one at each turn, long pause or ~120 words."""
    out: list[Paragraph] = []
    words, after_question = 0, False
    asks = _utterance_asks(sents)
    for s, asking in zip(sents, asks):
        text = write_urls(clean_text(s.text, fillers))
        if not tokens(text):
            continue
        speaker = names.get(s.speaker, s.speaker) if s.speaker else None
        prev = out[-1] if out else None
        # Without speakers, an utterance that asks, or answers, a question is taken as a new turn.
        new_turn = speaker is None and s.segment_start and (after_question or asking)
        same_turn = prev is not None and prev.speaker == speaker and not new_turn
        after_question = s.is_question
        if same_turn and s.pause_before_s < PARAGRAPH_PAUSE_S and words < PARAGRAPH_MAX_WORDS:
            out[-1] = replace(prev, text=f"{prev.text} {text}")
            words += len(text.split())
        else:
            out.append(Paragraph(speaker, text, s.start_s, continues_turn=same_turn))
            words = len(text.split())
    return out


def _utterance_asks(sents: Sequence[Sentence]) -> list[bool]:
    """For each sentence, whether its utterance (transcript segment) contains a question."""
    flags: list[bool] = []
    group: list[Sentence] = []
    for s in [*sents, None]:
        if s is None or (s.segment_start and group):
            asks = any(g.is_question for g in group)
            flags += [asks] * len(group)
            group = []
        if s is not None:
            group.append(s)
    return flags


# --- pull quotes ---------------------------------------------------------------------------------


def pull_quotes(sents, by_chapter, names: dict[str, str], hosts: Sequence[str], transcript_text: str, fillers=FILLERS,
                show_title: str = "", *, candidates: list[list[tuple[float, Quote]]] | None = None, people: Sequence[str] = ()) -> list[Quote]:
    """One to three quotable guest sentences, verbatim, spread over the chapters: whole sentences
    that stand alone (no filler or false start, no dangling end, not a pleasantry naming the show).
    None in an episode under ``QUOTE_MIN_EPISODE_S``: there is nothing to highlight."""
    if not sents or sents[-1].end_s - sents[0].start_s < QUOTE_MIN_EPISODE_S:
        return []
    per_chapter = candidates if candidates is not None else quote_candidates(sents, by_chapter, names, hosts, transcript_text, fillers,
                                                                             show_title, people=people)
    # The best of each chapter first (spread), then the next best anywhere to reach two.
    picked = sorted((part[0] for part in per_chapter if part), key=lambda c: -c[0])[:QUOTE_COUNT]
    rest = sorted((c for part in per_chapter for c in part[1:]), key=lambda c: -c[0])
    picked += rest[: max(0, 2 - len(picked))]
    if not picked:  # none of the usual length: the best whole sentence of any length that stands alone
        loose = quote_candidates(sents, by_chapter, names, hosts, transcript_text, fillers, show_title, words=QUOTE_WORDS_AT_LEAST,
                                 people=people)
        picked = sorted((c for part in loose for c in part), key=lambda c: -c[0])[:1]
    return sorted((q for _, q in picked), key=lambda q: q.start_s)


def quote_candidates(sents, by_chapter, names: dict[str, str], hosts: Sequence[str], transcript_text: str, fillers=FILLERS,
                     show_title: str = "", unsure: frozenset[str] = frozenset(), *, words: tuple[int, int] = QUOTE_WORDS,
                     confidence: dict[float, float] | None = None, people: Sequence[str] = ()) -> list[list[tuple[float, Quote]]]:
    """Per chapter, (score, quote) of each guest sentence that may be quoted, best first; a
    sentence the recogniser heard less surely (``confidence``: its words' mean probability, by
    start time) scores less, and one naming a host or one of ``people`` (the guests) is an
    introduction or a pleasantry ("My guest is ...", "Thanks, Sam"), never a quote."""
    host_keys = {h.casefold() for h in hosts}
    common = _topical_stems(sents)
    boilerplate = show_title.strip().casefold()
    sure = confidence or {}
    named = {t for person in [*hosts, *people, *names.values()] for t in tokens(person or "") if len(t) > 2}
    out = []
    for part in by_chapter:
        found = []
        for s in part:
            c = None if named & set(tokens(s.text)) else _quote_candidate(s, names, host_keys, common, transcript_text, fillers, boilerplate,
                                                                          unsure, words)
            if c:
                found.append((c[0] - CONFIDENCE_WEIGHT * (1.0 - sure.get(s.start_s, 1.0)), c[1]))
        out.append(sorted(found, key=lambda c: -c[0]))
    return out


def sentence_confidence(transcript: Transcript, sents: Sequence[Sentence]) -> dict[float, float]:
    """Each sentence's mean word probability, by its start time (1.0 without word times)."""
    words = sorted((w.start_s, w.probability) for w in transcript.words)
    starts = [t for t, _ in words]
    out = {}
    for s in sents:
        found = [p for _, p in words[bisect.bisect_left(starts, s.start_s - 1e-6) : bisect.bisect_right(starts, s.end_s + 1e-6)]]
        out[s.start_s] = sum(found) / len(found) if found else 1.0
    return out


_FINITE = frozenset("is are was were am be been has have had do does did can could will would should must may might means makes "
                    "made taught teaches learned learnt keeps kept gives gave pays paid works worked".split())
_SUBJECTS = frozenset("i we you they he she it".split())


def _claims(sentence: str) -> bool:
    """A sentence that says something (a verb, or a subject that has one), not a list of things
    ("Old ribbon microphones, a tape machine ...") nor a title ("The paper is called ...")."""
    words = tokens(sentence)
    if set(words) & {"called", "named", "titled", "slash", "dot"}:
        return False  # names a title or an address: a link, not a point
    return bool(set(words) & _FINITE) or any(w in _SUBJECTS for w in words[:-1])


def summary_point(candidates: list[list[tuple[float, Quote]]], quotes: Sequence[Quote]) -> tuple[str, str | None] | None:
    """The summary's one point: the best short quotable sentence (``POINT_WORDS``) that is no
    pull quote, else the shortest pull quote; (text, speaker)."""
    short = [c for part in candidates for c in part if POINT_WORDS[0] <= len(c[1].text.split()) <= POINT_WORDS[1] and _claims(c[1].text)]
    quoted = {q.text for q in quotes}
    short = [c for c in short if c[1].text not in quoted] or short  # the highlights say the others
    if short:
        best = max(short, key=lambda c: c[0])[1]
        return best.text, best.speaker
    if quotes:
        best = min(quotes, key=lambda q: len(q.text))
        return best.text, best.speaker
    return None


def _topical_stems(sents: Sequence[Sentence]) -> set[str]:
    counts: dict[str, int] = {}
    for s in sents:
        for w in set(content_stems(s.text)):
            counts[w] = counts.get(w, 0) + 1
    return {w for w, c in counts.items() if c >= 2}


def _quote_candidate(s: Sentence, names, host_keys, common, transcript_text, fillers, boilerplate="", unsure=frozenset(),
                     size: tuple[int, int] = QUOTE_WORDS) -> tuple[float, Quote] | None:
    words = s.text.split()
    name = names.get(s.speaker, s.speaker) if s.speaker else None
    if name and (name.casefold() in host_keys or (s.speaker or "").casefold() in host_keys):
        return None
    if not size[0] <= len(words) <= size[1] or s.is_question or has_disfluency(s.text, fillers):
        return None
    if words[0].strip(",.").lower() in _NEEDS_CONTEXT or not llm.is_verbatim(s.text, transcript_text):
        return None  # leans on what came before; or respelled, so no longer word for word
    if not _STANDS_ALONE.search(s.text) or words[-1].strip(".!\"'”").lower() in _DANGLING or (boilerplate and boilerplate in s.text.casefold()):
        return None  # a broken-off sentence, or a pleasantry naming the show
    stems = set(content_stems(s.text))
    doubtful = sum(1 for t in tokens(s.text) if t in unsure)
    score = len(stems) + 2 * len(stems & common) - 0.15 * abs(len(words) - 22) - UNSURE_QUOTE_PENALTY * doubtful
    return score, Quote(normalize_space(s.text), name, s.start_s)


# --- LLM polish ----------------------------------------------------------------------------------


def _polished(content: DraftContent, endpoint, by_chapter, transcript_text: str, sents, names, show_title: str = "",
              vocabulary: Sequence[str] = ()) -> DraftContent:
    try:
        result = llm.polish(
            endpoint,
            transcript_text=transcript_text,
            summary=content.summary,
            titles=[c.title for c in content.chapters],
            chapter_texts=[" ".join(s.text for s in part) for part in by_chapter],
            vocabulary=vocabulary,
        )
    except ChaitimeError as exc:
        log.warning("LLM polish skipped: %s", exc)
        return replace(content, warnings=content.warnings + (f"LLM polish skipped: {exc}",))
    quotes = [q for q in (_locate_quote(text, sents, names) for text in result.quotes) if q]
    return replace(
        content,
        summary=content.meta.description.strip() or result.summary,  # the host's words win
        # A model's title may not borrow the show's name either.
        chapters=tuple(c if _shares_words(t, show_title) else replace(c, title=t) for c, t in zip(content.chapters, result.titles)),
        quotes=tuple(quotes[:QUOTE_COUNT]) if len(quotes) >= min(2, len(content.quotes) or 1) else content.quotes,
        notes=result.notes,
    )


def _shares_words(title: str, show_title: str) -> bool:
    return bool({stem(w) for w in tokens(title)} & {stem(w) for w in tokens(show_title)})


def _locate_quote(text: str, sents: Sequence[Sentence], names) -> Quote | None:
    """The quote with the speaker and time of its first sentence, when it is one or more whole
    sentences of one speaker, word for word (a model's words, or half a sentence, are no quote)."""
    quote = normalize_space(text).strip("\"“” ")
    for i, s in enumerate(sents):
        body = normalize_space(s.text)
        if not body or not quote.startswith(body[: max(1, min(len(body), 20))]):
            continue
        said = body
        for nxt in sents[i + 1 :]:
            if len(said) >= len(quote) or nxt.speaker != s.speaker:
                break
            said = f"{said} {normalize_space(nxt.text)}"
        if said.startswith(quote) and (len(said) == len(quote) or ends_sentence(quote) and said[len(quote)] == " "):
            return Quote(quote, names.get(s.speaker, s.speaker) if s.speaker else None, s.start_s)
    return None


# --- formatting ----------------------------------------------------------------------------------


def render(c: DraftContent) -> str:
    """The Markdown text of post.md."""
    lines = chapter_lines(c.chapters)
    if len(c.notes) == len(lines):
        lines = [f"{line} — {_escape(note)}" for line, note in zip(lines, c.notes)]
    blocks = [front_matter(c), _escape(c.summary), "## Show notes", "\n".join(f"- {line}" for line in lines)]
    if c.links:
        blocks += ["Mentioned in this episode:", "\n".join(_link_line(link) for link in c.links)]
    if c.quotes:
        blocks += ["## Highlights", *(_quote_block(q, c.audio_path) for q in c.quotes)]
    blocks.append("## The conversation")
    for chapter, section in zip(c.chapters, c.sections):
        blocks.append(f"### {_escape(chapter.title)}")
        blocks += [_paragraph(p) for p in section]
    if c.links:
        blocks += ["## Links", "\n".join(_link_line(link, c.audio_path) for link in c.links)]
    return "\n\n".join(blocks) + "\n"


def front_matter(c: DraftContent) -> str:
    """YAML front matter; every string double-quoted (a JSON string is a valid YAML one)."""
    m = c.meta
    fields: list[tuple[str, object]] = [
        ("title", m.title),
        ("date", _Raw(m.date)),
        ("guests", list(m.guests)),
        ("hosts", list(c.hosts)),
        ("summary", c.summary),
        ("description", c.summary),
        ("tags", list(c.tags)),
        ("duration", clock(c.duration_s)),
        ("audio", c.audio_path),
    ]
    if c.video_path:
        fields.append(("video", c.video_path))
    if m.number is not None:
        fields.append(("episode", _Raw(str(m.number))))
    if m.draft:
        fields.append(("draft", _Raw("true")))
    lines = [f"{key}: {_yaml(value)}" for key, value in fields]
    return "---\n" + "\n".join(lines) + "\n---"


@dataclass(frozen=True)
class _Raw:
    text: str


def _yaml(value: object) -> str:
    if isinstance(value, _Raw):
        return value.text
    if isinstance(value, list):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def _quote_block(q: Quote, audio_path: str) -> str:
    who = f"{_escape(q.speaker)}, " if q.speaker else ""
    return f"> {_escape(q.text)}\n>\n> — {who}[{clock(q.start_s)}]({_at(audio_path, q.start_s)})"


def _paragraph(p: Paragraph) -> str:
    if p.speaker and not p.continues_turn:
        return f"**{_escape(p.speaker)}:** {_escape(p.text)}"
    return _escape(p.text)


def _link_line(link: Link, audio_path: str | None = None) -> str:
    """'- [github.com/x](https://github.com/x)', or a title in italics with a search link; with
    ``audio_path``, the time it was said, linked into the audio."""
    when = f" (mentioned at [{clock(link.start_s)}]({_at(audio_path, link.start_s)}))" if audio_path else ""
    if link.kind != "url":
        return f"- *{_escape(link.text)}* ({link.kind}: [search]({link.url})){when}"
    return f"- [{_escape(link.text)}]({link.url}){when}"


def _at(audio_path: str, seconds: float) -> str:
    """A Media Fragments link to a time in the audio: players seek there."""
    return f"{audio_path}#t={int(seconds)}"


def _escape(text: str) -> str:
    """Keep spoken text and names literal in Markdown: no accidental emphasis, links, autolinks,
    HTML or headings (on any line). publish.markdown renders each backslash escape as the
    character itself, escaped for HTML."""
    text = re.sub(r"([\\`*_\[\]<>])", r"\\\1", text)
    text = re.sub(r"^(\s*)(\d+)([.)]\s)", r"\1\2\\\3", text, flags=re.M)
    return re.sub(r"^(\s*)([#>+-])(\s)", r"\1\\\2\3", text, flags=re.M)


# --- writing post.md without overwriting the host's edits ---------------------------------------


def write_draft(episode: Episode, text: str) -> Path:
    """Write post.md, or post.draft.md beside it when the host has edited post.md (``owned``)."""
    return write_owned(episode, POST, text)
