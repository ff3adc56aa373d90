"""A re-ingest keeps the host's work: edit.md's cuts carried onto a new transcript (fast, no media)."""

from __future__ import annotations

from dataclasses import replace

from chaitime import config, pipeline
from chaitime.edit.carry import carry_edit
from chaitime.edit.lines import tokens_of
from chaitime.edit.markdown import parse_edit_md, write_edit_md
from chaitime.edit.revise import markers, set_marker, set_words
from chaitime.transcript.model import Transcript
from chaitime.workspace import Episode, EpisodeMeta, Workspace
from test_corrections import shifted
from test_edit import LINES, make_transcript

OLD = make_transcript(LINES, duration_s=21.0)


def another_model(t: Transcript) -> Transcript:
    """The same talk a little later, with "fun." heard as "great." (as another model would)."""
    moved = shifted(t, 0.07)
    segments = list(moved.segments)
    seg = segments[3]
    words = tuple(replace(w, text=" great.") if w.text == " fun." else w for w in seg.words)
    segments[3] = replace(seg, words=words, text="".join(w.text for w in words))
    return moved.with_segments(segments)


def host_edit() -> str:
    """The host cut "Tell me about Kaggle.", the word "fun.", kept the suggested "Um," and the pause."""
    text = write_edit_md(OLD)
    tokens = tokens_of(OLD)
    pick = lambda *ws: [t.index for t in tokens if t.text.strip(",.").lower() in ws]  # noqa: E731
    text = set_words(text, OLD, [t.index for t in tokens if t.segment == 2], cut=True)
    text = set_words(text, OLD, pick("fun"), cut=True)
    text = set_words(text, OLD, pick("um"), cut=False)
    pause = next(m for m in markers(text, OLD) if m.kind == "pause")
    return set_marker(text, OLD, pause.stamp, cut=False)


def test_cuts_kept_suggestions_and_markers_follow_the_words_and_the_lost_are_listed():
    new = another_model(OLD)
    text, lost = carry_edit(host_edit(), OLD, new, write_edit_md(new))
    removed = parse_edit_md(text, new).removed_words
    words = {t.index: t.text.strip(",.").lower() for t in tokens_of(new)}
    assert sorted(words[i] for i in removed) == ["about", "kaggle", "me", "tell"]
    assert "Um, thanks" in text  # the suggestion they rejected stays rejected
    assert not next(m for m in markers(text, new) if m.kind == "pause").struck
    assert len(lost) == 1 and "'fun.'" in lost[0]


def test_a_re_ingest_rewrites_edit_md_for_the_new_transcript(tmp_path):
    config.init(tmp_path)
    ws = Workspace.open(tmp_path)
    ep = Episode(tmp_path / "episodes" / "001-x")
    ep.machine_dir.mkdir(parents=True)
    ep.write_meta(EpisodeMeta(title="x", guid="g", date="2024-01-01"))
    (ep.machine_dir / "transcript.raw.json").write_text(OLD.to_json())
    hand = host_edit()
    ep.path("edit.md").write_text(hand)
    new = another_model(OLD)
    pipeline._write_transcripts(ep, new, ws.settings)  # what ingest --force --model ... writes
    text = ep.path("edit.md").read_text()
    removed = parse_edit_md(text, new).removed_words  # render accepts it
    assert {t.text.strip(",.").lower() for t in tokens_of(new) if t.index in removed} == {"tell", "me", "about", "kaggle"}
    assert "found no place" in text and "'fun.'" in text
    assert (ep.machine_dir / "edit.before-reingest.md").read_text() == hand
    pipeline._write_transcripts(ep, new, ws.settings)  # the same transcript again: edit.md left alone
    assert ep.path("edit.md").read_text() == text
