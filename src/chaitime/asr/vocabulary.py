"""Vocabulary (names and terms) as spelling, never as coverage.

A prompt (hotwords / initial prompt) on every window cost words: on shared/media/two-speakers.wav
with tiny.en, WER 0.123 -> 0.160; under noise 0.457 -> 0.531, with "Kaggle" invented twice
(scripts/trust_asr.py). So every window is decoded without the vocabulary, and the vocabulary only
respells words afterwards:

1. ``near_matches``: a run of words whose sound (``key``: letters folded the way Whisper confuses
   them) is close to an entry, and that the decoder was unsure of (low word probability).
2. A word that differs from an entry only in case is respelled at once ("kaggle" -> "Kaggle").
3. The others are checked against the acoustics: only the segments holding them are decoded again
   with the entries as a prompt (one batch; a close one the batch missed, alone), and a near-match
   is respelled only where that decode wrote the entry at the same time. The prompted decode's
   other words are thrown away, so the transcript keeps every word and time of the unprompted pass.
4. A confirmed mishearing is respelled wherever the same words recur.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import replace

from ..errors import InputError
from ..transcript.model import Segment, Word

MAX_ENTRY_CHARS = 200
MAX_PROBABILITY = 0.7  # a word the decoder was surer of is left alone
MIN_SIMILARITY = 0.55  # of the sound keys; the prompted decode must then confirm it
# A word the decoder barely believed may sound less alike ("Anirbe" for Adebayo: 0.43, p 0.27).
UNSURE_PROBABILITY, UNSURE_SIMILARITY = 0.3, 0.4
SLACK_S = 0.5  # how far apart the prompted and the plain word may start
RETRY_SIMILARITY = 0.7  # an unconfirmed near-match this alike is decoded again alone ...
MAX_RETRIES = 40  # ... up to this many segments a chunk

# Decode ``spans`` (sample indices on the chunk) with these entries as a prompt -> timed segments.
PromptedDecode = Callable[[list[tuple[int, int]], tuple[str, ...]], list[Segment]]


def check(entries: Sequence[str], key: str, where: str = "") -> None:
    """Reject an empty or absurdly long entry, naming the key (``--vocabulary``, or
    ``[transcribe] vocabulary`` with the file in ``where``)."""
    from ..errors import ConfigError

    error = ConfigError if where else InputError
    place = f"{where}: " if where else ""
    for entry in entries:
        if not isinstance(entry, str):
            raise error(f"{place}{key}: entry {entry!r} is not text. Write each name or term in quotes.")
        if not entry.strip():
            raise error(f"{place}{key}: entry {entry!r} is empty. Give a name or term, or remove the entry.")
        if len(entry) > MAX_ENTRY_CHARS:
            raise error(f"{place}{key}: entry {entry[:40]!r}... is {len(entry)} characters (at most {MAX_ENTRY_CHARS}). "
                        "Give one name or term per entry.")


def key(text: str) -> str:
    """A sound key: accents dropped, letters only, spellings of one sound and voiced/unvoiced pairs
    folded (Whisper writes "caggle" and "cattle" for Kaggle), doubled letters once."""
    t = "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if c.isascii() and c.isalpha())
    for a, b in (("ph", "f"), ("ck", "k"), ("gh", "g"), ("th", "t"), ("sh", "s"), ("ch", "s"), ("dh", "d"), ("qu", "k"), ("x", "ks")):
        t = t.replace(a, b)
    t = re.sub(r"c(?=[eiy])", "s", t).replace("c", "k").replace("q", "k").replace("y", "i").replace("w", "u")
    t = t[:1] + t[1:].replace("h", "")
    t = t.translate(str.maketrans("bdgvz", "ptkfs"))
    return re.sub(r"(.)\1+", r"\1", t)


def similarity(a: str, b: str) -> float:
    """1 - edit distance / longer length on sound keys; a vowel for a vowel, or a vowel more or
    less, costs half."""
    ka, kb = key(a), key(b)
    if not ka or not kb:
        return 0.0
    vowels = set("aeiou")
    cost = lambda c: 0.5 if c in vowels else 1.0  # noqa: E731
    prev = [0.0]
    for c in kb:
        prev.append(prev[-1] + cost(c))
    for ca in ka:
        row = [prev[0] + cost(ca)]
        for j, cb in enumerate(kb, 1):
            sub = 0.0 if ca == cb else (0.5 if ca in vowels and cb in vowels else 1.0)
            row.append(min(prev[j] + cost(ca), row[j - 1] + cost(cb), prev[j - 1] + sub))
        prev = row
    return 1.0 - prev[-1] / max(len(ka), len(kb))


def _bare(text: str) -> str:
    return re.sub(r"[^\w']", "", text).lower()


def near_matches(words: Sequence[Word], vocabulary: Sequence[str]) -> list[tuple[int, int, str, bool]]:
    """(first, end, entry, same) for runs ``words[first:end]`` of as many words as the entry that
    sound like it (so a respelling never changes the word count): ``same`` when they differ only
    in case/punctuation, or for a name of two words or more when each word has the entry's sound
    key ("Eric Lund" for Erik Lund), respelled without a check. Best match first, no overlaps; a
    run already spelled as an entry is never respelled as another."""
    found = []
    for entry in vocabulary:
        size, target = len(entry.split()), " ".join(_bare(p) for p in entry.split())
        for i in range(len(words) - size + 1):
            run = words[i : i + size]
            text = " ".join(w.text.strip() for w in run)
            if " ".join(_bare(w.text) for w in run) == target:
                if "".join(w.text.strip().strip(".,!?;:\"") for w in run) != entry.replace(" ", ""):
                    found.append((2.0, i, i + size, entry, True))
                continue
            if size > 1 and all(key(w.text) == key(part) for w, part in zip(run, entry.split())):
                found.append((1.5, i, i + size, entry, True))  # "Eric Lund" for Erik Lund: every word sounds the same
                continue
            prob = min(w.probability for w in run)
            if prob >= MAX_PROBABILITY:
                continue
            score = similarity(text, entry)
            lengths = sorted((len(key(text)), len(key(entry))))
            alike = score >= MIN_SIMILARITY or (prob < UNSURE_PROBABILITY and score >= UNSURE_SIMILARITY)
            if alike and lengths[0] >= 0.6 * lengths[1]:
                found.append((score, i, i + size, entry, False))
    taken: set[int] = set()
    out = []
    for _, i, j, entry, same in sorted(found, key=lambda f: (-f[0], f[1])):
        if taken.isdisjoint(range(i, j)):
            taken.update(range(i, j))
            out.append((i, j, entry, same))
    return sorted(out)


def correct(segments: list[Segment], vocabulary: Sequence[str], decode: PromptedDecode, sample_rate: int) -> list[Segment]:
    """Respell near-matches of ``vocabulary`` in ``segments`` (module docstring); words, times and
    segment count unchanged except the respelled runs.

    A near-match the batched prompted decode didn't confirm, though it sounds much like the entry
    (``RETRY_SIMILARITY``), is decoded again on its own (a batch decodes a window differently from
    one alone: "cattle" stayed in a batch of 34 and became "Kaggle" alone). And once a mishearing
    is confirmed, the same words elsewhere are respelled too, however sure the decoder was of them:
    one sound heard the same way twice is one name ("Josh Hommy" both times)."""
    if not vocabulary:
        return segments
    matches = {k: near_matches(seg.words, vocabulary) for k, seg in enumerate(segments)}
    unsure = {k: m for k, m in matches.items() if any(not same for *_, same in m)}
    heard: list[Word] = []

    def span(k: int) -> tuple[int, int]:
        return int(segments[k].start_s * sample_rate), int(segments[k].end_s * sample_rate) + sample_rate // 5

    if unsure:
        entries = tuple(dict.fromkeys(e for m in unsure.values() for _, _, e, same in m if not same))
        heard = [w for s in decode([span(k) for k in unsure], entries) for w in s.words]
        again = [k for k, m in unsure.items() if len(unsure) > 1  # a lone span was decoded alone already
                 and any(not same and not _confirmed(segments[k].words[i:j], e, heard)
                        and similarity(" ".join(w.text.strip() for w in segments[k].words[i:j]), e) >= RETRY_SIMILARITY
                        for i, j, e, same in m)]
        for k in again[:MAX_RETRIES]:
            alone = tuple(dict.fromkeys(e for _, _, e, same in unsure[k] if not same))
            heard += [w for s in decode([span(k)], alone) for w in s.words]
    chosen: dict[int, list[tuple[int, int, str]]] = {}
    mishearings: dict[str, str] = {}  # a confirmed run's bare words -> the entry
    for k, seg in enumerate(segments):
        chosen[k] = []
        for i, j, entry, same in matches[k]:
            if same or _confirmed(seg.words[i:j], entry, heard):
                chosen[k].append((i, j, entry))
                if not same:
                    mishearings[_bare_run(seg.words[i:j])] = entry
    for k, seg in enumerate(segments):
        taken = {n for i, j, _ in chosen[k] for n in range(i, j)}
        for said, entry in mishearings.items():
            size = len(said.split())
            for i in range(len(seg.words) - size + 1):
                if taken.isdisjoint(range(i, i + size)) and _bare_run(seg.words[i : i + size]) == said:
                    chosen[k].append((i, i + size, entry))
                    taken.update(range(i, i + size))
    out = []
    for k, seg in enumerate(segments):
        words = list(seg.words)
        for i, j, entry in sorted(chosen[k], reverse=True):
            words[i:j] = _respelled(words[i:j], entry)
        out.append(seg if words == list(seg.words) else replace(seg, text="".join(w.text for w in words).strip(), words=tuple(words)))
    return out


def _bare_run(run: Sequence[Word]) -> str:
    return " ".join(_bare(w.text) for w in run)


def _confirmed(run: list[Word], entry: str, heard: list[Word]) -> bool:
    """The prompted decode wrote ``entry`` starting near where ``run`` starts."""
    n, target = len(entry.split()), " ".join(_bare(p) for p in entry.split())
    for i, w in enumerate(heard):
        if abs(w.start_s - run[0].start_s) <= SLACK_S and " ".join(_bare(x.text) for x in heard[i : i + n]) == target:
            return True
    return False


def respell(run: Sequence[Word], entry: str) -> list[Word]:
    """``run`` respelled as ``entry`` (``_respelled``): also for the draft, which respells from the text alone."""
    return _respelled(list(run), entry)


def _respelled(run: list[Word], entry: str) -> list[Word]:
    """The entry's words over the run's time (split by length), keeping the run's leading space
    and trailing punctuation."""
    parts = entry.split()
    lead = run[0].text[: len(run[0].text) - len(run[0].text.lstrip())]
    last = run[-1].text.rstrip()
    tail = last[len(last.rstrip(".,!?;:\"')")) :]
    start, end = run[0].start_s, run[-1].end_s
    weights = [len(p) for p in parts]
    prob = min(w.probability for w in run)
    out, at = [], start
    for i, part in enumerate(parts):
        stop = end if i == len(parts) - 1 else round(at + (end - start) * weights[i] / sum(weights), 3)
        text = (lead if i == 0 else " ") + part + (tail if i == len(parts) - 1 else "")
        out.append(Word(at, stop, text, prob, run[0].speaker))
        at = stop
    return out
