"""The post's opening paragraph: who talks with whom, who the guest is, what they talk about.

Extractive: the guest's description is the host's own introduction ("my guest is Ada Guest, a
computational biologist at ...") or the guest's ("I'm a ..."), and the topics are the phrases the
chapters are named by, in order. A ``description`` the host wrote in episode.toml replaces it all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .chapters import Chapter
from .text import Sentence, clean_text, normalize_space

INTRO_S = 180.0  # the introduction is in the first minutes
MAX_WHO_WORDS = 25
MAX_TOPICS = 6
NO_SPEECH_SUMMARY = "No speech was found in this recording."
# "Ada Guest, a computational biologist at ..." / "Ada Guest, who ..." / "Ada Guest is a ..."
_APPOSITIVE = r",?\s+(?:(?:is|was)\s+)?((?:an?|the|one of|who|our|my)\s+[^.?!;]+)"
_SELF = re.compile(r"\bI(?:'m| am)\s+((?:an?|the)\s+[^.?!;,]+(?:,\s*(?:and|at|in|with|working)\s+[^.?!;,]+)?)", re.IGNORECASE)


def summary(hosts: Sequence[str], guests: Sequence[str], chapters: Sequence[Chapter], sents: Sequence[Sentence],
            names: dict[str, str]) -> str:
    """Two or three sentences: 'Sam Host talks with Ada Guest, a computational biologist at the
    Northfield Institute. They talk about childhood, competitions, the paper and advice.'"""
    if not sents:  # nothing was said: never "Sam Host talks." over a silent file
        return NO_SPEECH_SUMMARY
    hosts = [h for h in hosts if h]
    who = _and_list(hosts) or "We"
    verb = "talk" if who == "We" or len(hosts) > 1 else "talks"
    intro = [s for s in sents if s.start_s < INTRO_S]
    out = []
    if guests:
        about = guest_description(guests[0], intro, names, hosts) if len(guests) == 1 else None
        out.append(f"{who} {verb} with {_and_list(list(guests))}" + (f", {about}" if about else "") + ".")
    topics = chapter_topics(chapters)
    if topics:
        pronoun = "They" if guests else who
        verb2 = "talk" if guests or verb == "talk" else "talks"
        if not out:
            out.append(f"{who} {verb2} about {_and_list(topics)}.")
        else:
            out.append(f"{pronoun} {verb2} about {_and_list(topics)}.")
    if not out:
        out.append(f"{who} {verb}.")
    return " ".join(out)


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


def chapter_topics(chapters: Sequence[Chapter]) -> list[str]:
    """Each chapter's leading phrase, in order, once each: 'Childhood and Farm' -> 'childhood';
    a one-word lead gives way to a longer second phrase: 'Paper and Side Chain Packing' -> 'side
    chain packing'."""
    topics: list[str] = []
    for c in chapters:
        parts = [p.strip() for p in c.title.split(" and ")]
        lead = parts[1] if len(parts) == 2 and len(parts[0].split()) == 1 and len(parts[1].split()) > 1 else parts[0]
        if lead and lead not in ("Introduction", "Conversation"):
            phrase = lead if any(w.isupper() and len(w) > 1 or w[1:].lower() != w[1:] for w in lead.split()) else lead.lower()
            if phrase.casefold() not in (t.casefold() for t in topics):
                topics.append(phrase)
    return topics[:MAX_TOPICS]


def _and_list(items: Sequence[str]) -> str:
    items = [i for i in items if i]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""
