"""From labels to people: S1/S2 become the host and guest names; track names stay.

Who is who: the labels the episode's `speakers` table names; else the label whose voice matched
host_voice (recorded by attribute() in meta) is the host; the rest from the evidence of what each
voice says, combined (``evidence``), never one rule alone:
- who welcomes and introduces ("welcome to the show", "my guest today is X", "joining me is X"):
  the host; who thanks for the invitation ("thanks for having me"): a guest;
- who names themselves ("I'm X", "my name is X"): X;
- who says a guest's name: the host (people rarely say their own name but to introduce themselves);
  who says X's name is not X;
- who asks the questions (their share of the transcript's questions);
- who speaks first, and who speaks most (weak: an interview's guest often speaks most).
The names then go to the labels by the best total score over every way of giving them
(``assign``), ties to the voices in order of first speech.

The `init` template's placeholder host (config.PLACEHOLDER_NAME) is nobody's name: until the
host writes theirs, the host's label reads HOST_ROLE, and neither is binding in the episode's
table, so the real name replaces them on the next ingest once it is set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import combinations, permutations
from math import comb, perm

from ..config import PLACEHOLDER_NAME
from ..transcript.model import Transcript
from .assign import _is_generic, _labels_in_order, relabel, speaking_time

HOST_ROLE = "Host"  # the host's label while the show's host name is still the template's placeholder

# Points (combined, see ``evidence``): what each cue adds to a voice being the host, or one person.
WELCOME_POINTS = 2.0  # per welcome or introduction, at most two of each count
GUEST_PHRASE_POINTS = 2.0  # "thanks for having me": taken off, at most twice
QUESTION_POINTS = 3.0  # times the voice's share of all the questions asked
FIRST_POINTS = 1.0  # speaking first
MOST_POINTS = 0.5  # times (the voice's share of the speaking time - an even share)
SAYS_GUEST_POINTS = 1.0  # per guest named (at most two): the host introduces and addresses guests
SELF_NAME_POINTS = 4.0  # "I'm Sam Okafor": this voice is Sam Okafor
SAYS_NAME_POINTS = 1.5  # says X's name (outside "I'm X"): taken off this voice being X, at most twice
MAX_CHOICES = 200_000  # pairings tried for the best total; beyond, the host first, then guests in turn
NOT_NAMES = frozenset({"guest", "host", "show", "mr", "mrs", "ms", "dr", "the", "and"})  # words in a name that aren't one

WELCOME = re.compile(r"\bwelcome\b(?!\s+to\s+(?:me|us)\b)|\bthanks? (?:you )?(?:all )?for (?:joining|tuning in|listening)\b"
                     r"|\bgood to have you\b|\bi'?m your host\b|\bi am your host\b", re.IGNORECASE)
INTRO = re.compile(r"\b(?:my|our) guests? (?:today |this week |tonight |here )?(?:is|are)\b|\bjoining (?:me|us)\b|\bwith (?:me|us) "
                   r"(?:today|tonight|now|here|this week)\b|\btoday'?s guest\b|\bour guests?\b|\bmy guests?\b|\bwe'?re joined by\b"
                   r"|\bwe are joined by\b|\bplease welcome\b|\btoday (?:we have|i have|i'?m (?:talking|speaking) (?:to|with))\b", re.IGNORECASE)
GUEST_PHRASE = re.compile(r"\bthanks? (?:you )?(?:so much |very much )?for (?:having|inviting) (?:me|us)\b|\b(?:glad|great|happy|good"
                          r"|nice|lovely|a pleasure|pleasure|wonderful|excited) to be (?:here|on)\b|\bthanks? (?:you )?for the invitation\b",
                          re.IGNORECASE)
YOURE_WELCOME = re.compile(r"\b(?:you'?re|you are|you're very|you are very|you're most) welcome\b", re.IGNORECASE)  # a reply, not a greeting
SELF = r"\b(?:i'?m|i am|my name is|my name's|this is|it'?s)\s+"


@dataclass
class Evidence:
    """One voice's cues: its host score, the reasons in words, and per person a score of being them."""

    host: float = 0.0
    reasons: list[str] = field(default_factory=list)  # the cues for (or against) being the host
    person: dict[str, float] = field(default_factory=dict)
    named: dict[str, str] = field(default_factory=dict)  # person -> the cue that names them ("says \"I'm X\"")


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
    if placeholder_host and HOST_ROLE not in used.values():
        waiting = [HOST_ROLE]
    people = [(p, True) for p in waiting] + [(g, False) for g in real_guests if g not in used.values()]
    if free and people:
        enrolled = (transcript.meta.get("speakers") or {}).get("host_label")
        if enrolled in free and waiting:  # the host's recorded voice outranks anything said
            used[enrolled] = waiting[0]
            free.remove(enrolled)
            people = [p for p in people if p[0] != waiting[0]]
        scores = evidence(transcript, hosts=[p for p, host in people if host], guests=[p for p, host in people if not host],
                          labels=free)
        used.update(assign(free, people, scores))
    mapping_out = {label: used.get(label, label) for label in labels}
    return relabel(transcript, mapping_out), mapping_out


def assign(labels: list[str], people: list[tuple[str, bool]], scores: dict[str, Evidence]) -> dict[str, str]:
    """label -> name with the best total score; ``people`` are (name, is_host) in order. Each host
    scores a voice's host evidence plus its evidence of being them; a guest only the latter. On a
    tie the earlier voices (first speech) take the earlier people."""
    def score(label: str, person: tuple[str, bool]) -> float:
        ev = scores.get(label) or Evidence()
        return (ev.host if person[1] else 0.0) + ev.person.get(person[0], 0.0)

    count = min(len(labels), len(people))
    if count == 0:
        return {}
    if perm(len(labels), count) * comb(len(people), count) > MAX_CHOICES:  # a large panel: one person at a time
        free, out = list(labels), {}
        for person in people[:count]:
            best = max(free, key=lambda lb: score(lb, person))  # ties: the earliest voice
            out[best] = person[0]
            free.remove(best)
        return out
    chosen = max(_choices(labels, people, count), key=lambda pairs: round(sum(score(lb, p) for lb, p in pairs), 9))
    return {label: person[0] for label, person in chosen}


def _choices(labels: list[str], people: list[tuple[str, bool]], count: int):
    """Every way of pairing ``count`` labels with ``count`` of the people, in order of preference
    on a tie (max keeps the first of equals): the earlier people, then the labels in their order."""
    for who in combinations(range(len(people)), count):
        for ls in permutations(labels, count):
            yield list(zip(ls, (people[i] for i in who)))


def evidence(transcript: Transcript, *, hosts: list[str], guests: list[str], labels: list[str] | None = None) -> dict[str, Evidence]:
    """Each label's cues for being the host and for being each person named (module docstring)."""
    labels = labels if labels is not None else _labels_in_order(transcript)
    said = _text_by_label(transcript)
    questions = questions_asked(transcript)
    total_q = sum(questions.get(label, 0) for label in labels)
    seconds = speaking_time(transcript)
    total_s = sum(seconds.get(label, 0.0) for label in labels) or 1.0
    first = next((label for label in _labels_in_order(transcript) if label in labels), None)
    out = {}
    for label in labels:
        text, ev = said.get(label, ""), Evidence()
        welcomes, intros, thanks = (len(p.findall(text)) for p in (WELCOME, INTRO, GUEST_PHRASE))
        welcomes -= len(YOURE_WELCOME.findall(text))
        ev.host += WELCOME_POINTS * (min(welcomes, 2) + min(intros, 2)) - GUEST_PHRASE_POINTS * min(thanks, 2)
        if welcomes or intros:
            ev.reasons.append("welcomes and introduces" if welcomes and intros else "welcomes" if welcomes else "introduces")
        if thanks:
            ev.reasons.append("thanks for the invitation")
        if total_q:
            ev.host += QUESTION_POINTS * questions.get(label, 0) / total_q
            if questions.get(label):
                ev.reasons.append(f"asks {questions[label]} of {total_q} questions")
        if label == first and len(labels) > 1:
            ev.host += FIRST_POINTS
            ev.reasons.append("speaks first")
        share = seconds.get(label, 0.0) / total_s
        ev.host += MOST_POINTS * (share - 1 / len(labels))
        for person in [*hosts, *guests]:
            own, other = _mentions(text, person)
            ev.person[person] = SELF_NAME_POINTS * min(own, 1) - SAYS_NAME_POINTS * min(other, 2)
            if own:
                ev.named[person] = f"says \"I'm {person}\""
            if other and person in guests:
                ev.host += SAYS_GUEST_POINTS * min(other, 2)
                ev.reasons.append(f"says {person}'s name")
        out[label] = ev
    return out


def _text_by_label(transcript: Transcript) -> dict[str, str]:
    parts: dict[str, list[str]] = {}
    for seg in transcript.segments:
        if seg.words:
            for w in seg.words:
                if w.speaker:
                    parts.setdefault(w.speaker, []).append(w.text)
        elif seg.speaker:
            parts.setdefault(seg.speaker, []).append(" " + seg.text)
    return {label: " ".join("".join(ws).split()).replace("’", "'") for label, ws in parts.items()}


def _mentions(text: str, person: str) -> tuple[int, int]:
    """(times ``text`` names ``person`` as itself, "I'm Sam"; other times it says their name).
    The full name counts in any case; a part of it ("Sam") only as written, and not where a
    sentence starts (a first name can be a word: "Will you...")."""
    if person == HOST_ROLE or not person.strip():
        return 0, 0
    parts = [t for t in re.findall(r"[\w'-]+", person) if t.lower() not in NOT_NAMES and (len(t) >= 3 or len(person.split()) == 1)]
    full = re.escape(person.strip())
    own = len(re.findall(SELF + r"(?:" + "|".join([full, *map(re.escape, parts)]) + r")\b", text, re.IGNORECASE))
    every = len(re.findall(r"\b" + full + r"\b", text, re.IGNORECASE))
    rest = re.sub(r"\b" + full + r"\b", " ", text, flags=re.IGNORECASE)
    for part in parts if len(parts) > 1 or parts[:1] != [person.strip()] else []:
        every += len(re.findall(r"(?<![.?!]\s)(?<!^)\b" + re.escape(part) + r"\b", rest))
    return own, max(0, every - own)


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


# --- who is who, for the ingest summary --------------------------------------------------------
@dataclass(frozen=True)
class Voice:
    label: str  # as in the episode's [speakers] table (S1, or a track's name)
    name: str
    seconds: float
    first_s: float
    first_line: str
    reasons: tuple[str, ...] = ()


def voices(named: Transcript, mapping: dict[str, str], *, hosts: list[str], guests: list[str]) -> list[Voice]:
    """Each label with its name, speaking time, first line and the cues that point to that name
    (in order of first speech). ``named``: the transcript after ``name_speakers``."""
    seconds = speaking_time(named)
    first: dict[str, tuple[float, str]] = {}
    for seg in named.segments:
        if seg.speaker and seg.speaker not in first and seg.text.strip():
            first[seg.speaker] = (seg.start_s, seg.text.strip())
    names = list(dict.fromkeys(mapping.values()))
    people_hosts = [n for n in names if n in real_names(hosts) or n == HOST_ROLE]
    cues = evidence(named, hosts=people_hosts, guests=[n for n in names if n in real_names(guests)], labels=names)
    out = []
    for label, name in mapping.items():
        start, line = first.get(name, (0.0, ""))
        out.append(Voice(label, name, seconds.get(name, 0.0), start, line, _why(cues.get(name), name, name in people_hosts)))
    return sorted(out, key=lambda v: v.first_s)


def _why(ev: Evidence | None, name: str, host: bool) -> tuple[str, ...]:
    """The cues that point to ``name``: the host's cues for a host; for a guest its own (naming
    themselves, thanking for the invitation), else that the host's cues were another voice's."""
    if ev is None:
        return ()
    own = [ev.named[name]] if name in ev.named else []
    if host:
        return tuple(own + ev.reasons)
    return tuple(own + [r for r in ev.reasons if r == "thanks for the invitation"]) or ("fewer of the host's cues",)


def summary_lines(found: list[Voice], *, hosts: list[str], given: dict[str, str], toml_path: str, line_chars: int = 60) -> list[str]:
    """The ingest summary's lines on who is who: each voice -> name, its speaking time and first
    line (and, for a name guessed now, why), then how to change them."""
    if not found:
        return []
    out = ["speakers:"]
    for v in found:
        role = " (host)" if v.name in real_names(hosts) or v.name == HOST_ROLE else ""
        line = v.first_line if len(v.first_line) <= line_chars else v.first_line[: line_chars - 2].rsplit(" ", 1)[0] + "..."
        how = ("" if v.label == v.name and not _is_generic(v.label, "S") else
               "; set in episode.toml" if _binding(given.get(v.label, "")) and given.get(v.label) == v.name else
               f"; guessed: {', '.join(v.reasons)}" if v.reasons and v.name != v.label else "")
        out.append(f"  {v.label} -> {v.name}{role}: {_minutes(v.seconds)}, first at {_clock(v.first_s)}: \"{line}\"{how}")
    example = next((v for v in found if _is_generic(v.label, "S")), None)
    if example is not None:
        out.append(f"  wrong? edit [speakers] in {toml_path} (e.g. {example.label} = \"Their Name\") and run `chaitime ingest` "
                   "on the recording again, or rename them in `chaitime studio`")
    return out


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"
