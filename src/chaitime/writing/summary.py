"""The post's opening paragraph: who talks with whom, who the guest is, what they talk about, and
one point the guest makes, in three sentences (two when nobody makes a quotable point).

Extractive: the guest's description is the host's own introduction ("my guest is Ada Guest, a
computational biologist at ...") or the guest's ("I'm a ..."); the topics are the chapter titles in
order, each word as the talk spells it ("getting into Kaggle", "the new paper"); the point is a
short sentence of the guest's, in their words. A ``description`` the host wrote in episode.toml
replaces it all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from ..transcript.chapters import Chapter
from .text import Sentence, Spelling, clean_text, normalize_space, spelled_as_given, spelling

INTRO_S = 180.0  # the introduction is in the first minutes
MAX_WHO_WORDS = 25
MAX_TOPICS = 6
NO_SPEECH_SUMMARY = "No speech was found in this recording."
# "Ada Guest, a computational biologist at ..." / "Ada Guest, who ..." / "Ada Guest is a ..."
_APPOSITIVE = r",?\s+(?:(?:is|was)\s+)?((?:an?|the|one of|who|our|my)\s+[^.?!;]+)"
_SELF = re.compile(r"\bI(?:'m| am)\s+((?:an?|the)\s+[^.?!;,]+(?:,\s*(?:and|at|in|with|working)\s+[^.?!;,]+)?)", re.IGNORECASE)
# "My guest today is <a name heard wrong>, a computational biologist ...": the apposition, whatever the name became.
_MY_GUEST = re.compile(r"\b(?:my|our) guests? (?:today |this week |tonight |on the show )?(?:is|are) [^,.;?!]{2,40},\s+"
                       r"((?:an?|the)\s+[^.?!;]+)", re.IGNORECASE)


def summary(hosts: Sequence[str], guests: Sequence[str], chapters: Sequence[Chapter], sents: Sequence[Sentence],
            names: dict[str, str], *, point: tuple[str, str | None] | None = None, vocabulary: Iterable[str] = ()) -> str:
    """Three sentences: 'Sam Host talks with Ada Guest, a computational biologist at the
    Northfield Institute. They talk about childhood, competitions, the new paper and advice for a
    student. Ada Guest says, “Failed experiments are data.”' ``point``: (a short sentence of the
    guest's, verbatim, who said it). Names and the ``vocabulary`` are spelled as given."""
    if not sents:  # nothing was said: never "Sam Host talks." over a silent file
        return NO_SPEECH_SUMMARY
    hosts = [h for h in hosts if h]
    who = _and_list(hosts) or "We"
    verb = "talk" if who == "We" or len(hosts) > 1 else "talks"
    intro = [s for s in sents if s.start_s < INTRO_S]
    entries = [*vocabulary, *hosts, *guests]
    out = []
    if guests:
        about = guest_description(guests[0], intro, names, hosts) if len(guests) == 1 else None
        out.append(f"{who} {verb} with {_and_list(list(guests))}" + (f", {about}" if about else "") + ".")
    topics = chapter_topics(chapters, spelling(sents, entries))
    if topics:
        pronoun = "They" if guests else who
        verb2 = "talk" if guests or verb == "talk" else "talks"
        if not out:
            out.append(f"{who} {verb2} about {_and_list(topics)}.")
        else:
            out.append(f"{pronoun} {verb2} about {_and_list(topics)}.")
    if not out:
        out.append(f"{who} {verb}.")
    if point:
        said, speaker = point
        said = normalize_space(said).strip("\"“”")
        out.append(f"{speaker} says, “{said}”" if speaker else f"One point from the conversation: “{said}”")
    return spelled_as_given(" ".join(out), entries)


def guest_description(guest: str, intro: Sequence[Sentence], names: dict[str, str], hosts: Sequence[str]) -> str | None:
    """Who the guest is, in the words of the introduction: the host's apposition after the guest's
    name, else the guest's own 'I'm a ...'."""
    host_keys = {h.casefold() for h in hosts}
    variants = sorted({guest, guest.split()[0]}, key=len, reverse=True)
    for s in intro:
        speaker = names.get(s.speaker, s.speaker) if s.speaker else None
        if speaker and speaker.casefold() not in host_keys and (s.speaker or "").casefold() not in host_keys:
            continue
        text = clean_text(s.text)
        for name in variants:
            m = re.search(re.escape(name) + _APPOSITIVE, text)
            if m:
                return _trimmed(m.group(1))
    for s in intro:
        speaker = names.get(s.speaker, s.speaker) if s.speaker else None
        if speaker and speaker.casefold() not in host_keys and (s.speaker or "").casefold() not in host_keys:
            continue
        m = _MY_GUEST.search(clean_text(s.text))
        if m:
            return _trimmed(m.group(1))
    for s in intro:
        speaker = names.get(s.speaker, s.speaker) if s.speaker else None
        if speaker is not None and speaker != guest:
            continue
        m = _SELF.search(clean_text(s.text))
        if m:
            return _trimmed(m.group(1))
    return None


def _trimmed(phrase: str) -> str | None:
    words = normalize_space(phrase).rstrip(",").split()
    if len(words) < 2 or len(words) > MAX_WHO_WORDS:
        return None
    if words[0] in ("my", "our"):  # "my guest today" is not who they are
        return None
    return " ".join(words)


def chapter_topics(chapters: Sequence[Chapter], spelt: Spelling | None = None) -> list[str]:
    """Each chapter's title, in order, once each, each word as the talk spells it ("Getting into
    Kaggle" -> "getting into Kaggle"); "Introduction" and "Conversation" name no topic."""
    spelt = spelt or Spelling({})
    topics: list[str] = []
    for c in chapters:
        title = c.title.strip().rstrip(".?!:")
        if not title or title in ("Introduction", "Conversation"):
            continue
        phrase = spelt.phrase(title)
        if phrase.casefold() not in (t.casefold() for t in topics):
            topics.append(phrase)
    return topics[:MAX_TOPICS]


def _and_list(items: Sequence[str]) -> str:
    items = [i for i in items if i]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""
