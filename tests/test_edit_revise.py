"""edit.md changed for the host (the studio's cuts) exactly as a hand edit would be (fast, no media)."""

from __future__ import annotations

from chaitime.edit.lines import tokens_of
from chaitime.edit.markdown import parse_edit_md, write_edit_md
from chaitime.edit.revise import markers, set_marker, set_words
from test_edit import LINES, make_transcript

T = make_transcript(LINES, duration_s=21.0)


def indices(*words: str) -> list[int]:
    return [t.index for t in tokens_of(T) if t.text.strip(",.").lower() in words]


def test_cutting_words_strikes_them_and_touches_no_other_row():
    text = write_edit_md(T)
    cut = set_words(text, T, indices("kaggle"), cut=True)
    before, after = text.splitlines(), cut.splitlines()
    changed = [(a, b) for a, b in zip(before, after) if a != b]
    assert changed == [("[00:00:07.600] **Maya:** Tell me about Kaggle.", "[00:00:07.600] **Maya:** Tell me about ~~Kaggle.~~")]
    hand = text.replace("about Kaggle.", "about ~~Kaggle.~~")
    assert cut == hand
    assert parse_edit_md(cut, T).removed_words == parse_edit_md(hand, T).removed_words


def test_keeping_a_suggested_filler_unstrikes_it_and_adjacent_runs_join():
    text = write_edit_md(T)
    assert "~~Um,~~ thanks" in text
    kept = set_words(text, T, indices("um"), cut=False)
    assert "** Um, thanks for having me." in kept
    both = set_words(text, T, indices("thanks"), cut=True)
    assert "~~Um, thanks~~ for having me." in both or "~~Um, thanks~~ for" in both


def test_a_deleted_sentence_comes_back_with_only_the_kept_words():
    text = write_edit_md(T)
    gone = "".join(r for r in text.splitlines(keepends=True) if "Kaggle" not in r)
    back = set_words(gone, T, indices("kaggle"), cut=False)
    assert "[00:00:07.600] **Maya:** ~~Tell me about~~ Kaggle." in back
    assert parse_edit_md(back, T)  # still a valid file, in order


def test_markers_are_struck_and_unstruck_whole():
    text = write_edit_md(T)
    found = markers(text, T)
    pause = next(m for m in found if m.kind == "pause")
    assert pause.struck
    kept = set_marker(text, T, pause.stamp, cut=False)
    assert next(m for m in markers(kept, T) if m.kind == "pause").struck is False
    assert set_marker(kept, T, pause.stamp, cut=True) == text
