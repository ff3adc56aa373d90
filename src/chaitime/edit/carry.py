"""The host's edit.md carried onto a new transcript of the same recording (a re-ingest, with another
model for example), so their cuts survive instead of leaving an edit.md that `render` refuses.

Words are aligned by their text (difflib over normalized words) where their times agree; the new
transcript's own edit.md (its suggestions) is then changed as the host changed the old one: words
they cut are cut, suggested cuts they kept are kept, and each pause or dead-air marker takes the
state of the old marker it overlaps. Cuts that find no word or marker are returned as lines to show,
never dropped silently.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from ..transcript.formats import clock
from ..transcript.model import Transcript
from .lines import Token, tokens_of
from .markdown import parse_edit_md
from .revise import markers, set_marker, set_words
from .suggest import normalize

SAME_WORD_S = 1.0  # an aligned word more than this away in time is not the same word


def align(old: Sequence[Token], new: Sequence[Token]) -> dict[int, int]:
    """Old token index -> new token index, for words that read the same at about the same time."""
    a, b = [normalize(t.text) for t in old], [normalize(t.text) for t in new]
    out = {}
    for block in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks():
        for k in range(block.size):
            o, n = old[block.a + k], new[block.b + k]
            if abs(o.start_s - n.start_s) <= SAME_WORD_S:
                out[o.index] = n.index
    return out


def carry_edit(old_text: str, old: Transcript, new: Transcript, fresh_text: str, **settings) -> tuple[str, list[str]]:
    """``fresh_text`` (edit.md written for ``new``) with the decisions of ``old_text`` (the host's
    edit.md for ``old``); and one line per cut of theirs that found no place."""
    old_tokens, new_tokens = tokens_of(old), tokens_of(new)
    was_cut = parse_edit_md(old_text, old, **settings).removed_words
    suggested = parse_edit_md(fresh_text, new, **settings).removed_words
    mapping = align(old_tokens, new_tokens)
    want = {mapping[i] for i in was_cut if i in mapping}
    kept = {mapping[t.index] for t in old_tokens if t.index not in was_cut and t.index in mapping}
    text = fresh_text
    if want - suggested:
        text = set_words(text, new, sorted(want - suggested), cut=True)
    if kept & suggested:
        text = set_words(text, new, sorted(kept & suggested), cut=False)
    lost = _unplaced_words(old_tokens, was_cut, mapping)
    new_markers = markers(text, new)
    for m in markers(old_text, old):
        twin = next((n for n in new_markers if n.kind == m.kind and _overlap(m, n) > 0), None)
        if twin is None:
            if m.struck:
                lost.append(f"[{m.stamp}] {m.kind} {m.length_s:.2f} s (cut): no such stretch in the new transcript")
            continue
        if twin.struck != m.struck:
            text = set_marker(text, new, twin.stamp, cut=m.struck)
    return text, lost


def _overlap(a, b) -> float:
    return min(a.start_s + a.length_s, b.start_s + b.length_s) - max(a.start_s, b.start_s)


def _unplaced_words(tokens: Sequence[Token], cut: frozenset[int], mapping: dict[int, int]) -> list[str]:
    """Runs of cut words with no counterpart, as "0:12 'so um like'"."""
    out, run = [], []
    for t in tokens:
        if t.index in cut and t.index not in mapping:
            run.append(t)
            continue
        if run:
            out.append(f"{clock(run[0].start_s)} {' '.join(w.text for w in run)!r}: cut, but the new transcript has no such words")
            run = []
    if run:
        out.append(f"{clock(run[0].start_s)} {' '.join(w.text for w in run)!r}: cut, but the new transcript has no such words")
    return out
