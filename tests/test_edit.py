"""Editing by editing the transcript: edit.md, suggested cuts, cut lists, re-timing (fast, no media)."""

from __future__ import annotations

import math

import pytest

from chaitime.edit.cutlist import PAD_S, CutList, TimeMap, merge
from chaitime.edit.lines import split_lines
from chaitime.edit.markdown import HEADER, parse_edit_md, write_edit_md
from chaitime.edit.retime import retime_chapters, retime_transcript, unretime_chapters
from chaitime.errors import InputError
from chaitime.transcript.model import Segment, Transcript, Word
from chaitime.writing.chapters import Chapter


def make_transcript(lines: list[tuple[str, str, float, float]], duration_s: float) -> Transcript:
    """One segment per (speaker, text, start, end), words spread evenly over the span."""
    segments = []
    for speaker, text, start, end in lines:
        words = text.split()
        step = (end - start) / len(words)
        ws = tuple(Word(start + i * step, start + (i + 0.8) * step, " " + w, 0.9, speaker) for i, w in enumerate(words))
        segments.append(Segment(start, end, " " + text, ws, speaker))
    return Transcript(tuple(segments), "en", duration_s)


LINES = [
    ("Maya", "Welcome to the show.", 2.0, 4.0),
    ("Sam", "Um, thanks for having me.", 4.6, 7.0),
    ("Maya", "Tell me about Kaggle.", 7.6, 9.6),
    ("Sam", "It was fun. I learned a lot.", 12.6, 16.0),
    ("Maya", "Thanks for listening.", 16.6, 18.6),
]


@pytest.fixture
def transcript() -> Transcript:
    return make_transcript(LINES, duration_s=21.0)


def body(text: str) -> list[str]:
    return [ln for ln in text.split("-->\n", 1)[1].splitlines() if ln.strip()]


def test_edit_md_has_one_timed_line_per_sentence_and_premarked_suggestions(transcript):
    text = write_edit_md(transcript)
    assert text.startswith(HEADER) and HEADER.count("\n") == 2
    assert body(text) == [
        "~~[00:00:00.000] [dead air 2.00 s]~~",
        "[00:00:02.000] **Maya:** Welcome to the show.",
        "[00:00:04.600] **Sam:** ~~Um,~~ thanks for having me.",
        "[00:00:07.600] **Maya:** Tell me about Kaggle.",
        "~~[00:00:09.500] [pause 3.10 s]~~",
        "[00:00:12.600] **Sam:** It was fun.",
        "[00:00:14.057] **Sam:** I learned a lot.",
        "[00:00:16.600] **Maya:** Thanks for listening.",
        "~~[00:00:18.467] [dead air 2.53 s]~~",
    ]


def test_unedited_file_cuts_the_suggestions(transcript):
    cuts = parse_edit_md(write_edit_md(transcript), transcript, path="edit.md")
    um = transcript.segments[1].words[0]
    thanks = transcript.segments[1].words[1]
    # dead air before the first word, down to 0.3 s
    assert cuts.cuts[0] == pytest.approx((0.0, 1.7))
    # the filler: from just before it to just before the next word, the same length as um.start..thanks.start
    a, b = cuts.cuts[1]
    assert b - a == pytest.approx(thanks.start_s - um.start_s)
    assert um.start_s - PAD_S <= a < um.start_s
    # the 3.10 s pause shortened to 0.5 s, cut from its middle
    assert cuts.cuts[2] == pytest.approx((9.5 + 0.25, 12.6 - 0.25))
    # dead air after the last word
    assert cuts.cuts[3][0] == pytest.approx(16.6 + 2.8 * 2 / 3 + 0.3) and cuts.cuts[3][1] == math.inf
    assert cuts.removed_words == {transcript.words.index(um)}


def test_unmarking_keeps_the_pause_and_the_filler(transcript):
    text = write_edit_md(transcript).replace("~~[00:00:09.500] [pause 3.10 s]~~", "[00:00:09.500] [pause 3.10 s]").replace("~~Um,~~", "Um,")
    cuts = parse_edit_md(text, transcript, path="edit.md")
    assert not cuts.removed_words
    assert len(cuts.cuts) == 2  # only the dead air at both ends


def test_deleting_a_line_cuts_it_up_to_the_next_line(transcript):
    text = "\n".join(ln for ln in write_edit_md(transcript).splitlines() if "Tell me about" not in ln)
    cuts = parse_edit_md(text, transcript, path="edit.md")
    duration = 21.0
    before = parse_edit_md(write_edit_md(transcript), transcript, path="e").removed_s(duration)
    # the line runs to the next line's start; 2.6 s of the pause after it were cut already
    assert cuts.removed_s(duration) - before == pytest.approx((12.6 - 7.6) - 2.6, abs=1e-6)
    kept_text = retime_transcript(transcript, cuts, TimeMap(tuple(cuts.keeps(duration))), 10.0).text
    assert "Kaggle" not in kept_text and "It was fun." in kept_text


def test_struck_words_are_cut_and_the_text_follows(transcript):
    text = write_edit_md(transcript).replace("It was fun.", "It was ~~fun.~~")
    text = text.replace("I learned a lot.", "I learned lot.")  # a word deleted from the text is cut too
    cuts = parse_edit_md(text, transcript, path="edit.md")
    timemap = TimeMap(tuple(cuts.keeps(21.0)))
    edited = retime_transcript(transcript, cuts, timemap, timemap.length_s)
    assert [s.text for s in edited.segments] == [" Welcome to the show.", "Thanks for having me.", " Tell me about Kaggle.", "It was I learned lot.", " Thanks for listening."]
    # words keep their order and lengths; every start maps onto the new timeline
    for seg in edited.segments:
        for w in seg.words:
            assert 0 <= w.start_s <= w.end_s <= timemap.length_s


def test_fixing_a_typo_keeps_the_word(transcript):
    text = write_edit_md(transcript).replace("about Kaggle.", "about Kagle.")
    cuts = parse_edit_md(text, transcript, path="edit.md")
    assert "Kaggle." not in {transcript.words[i].text.strip() for i in cuts.removed_words}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace("[00:00:07.600] **Maya:**", "[00:00:07.700] **Maya:**"), "line 7: no sentence starts at [00:00:07.700]"),
        (lambda t: t.replace("~~[00:00:09.500] [pause", "~~[00:00:09.000] [pause"), "line 8: no pause starts at [00:00:09.000]"),
        (lambda t: t.replace("fun.", "fun.~~"), "line 9: a ~~ has no closing ~~"),
        (lambda t: t + "some note\n", "line 13: not an edit line"),
    ],
)
def test_malformed_edit_md_names_the_line(transcript, change, message):
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_edit_md(change(write_edit_md(transcript)), transcript, path="edit.md")


def test_a_moved_line_is_out_of_order(transcript):
    rows = write_edit_md(transcript).splitlines()
    moved = next(i for i, r in enumerate(rows) if "Tell me about" in r)
    line = rows.pop(moved)
    rows.insert(3, line)
    with pytest.raises(InputError, match=r"edit.md, line 5: out of order"):
        parse_edit_md("\n".join(rows), transcript, path="edit.md")


def test_lines_split_at_sentences_and_long_gaps():
    t = make_transcript([("A", "one two three four five six", 0.0, 6.0)], 6.0)
    words = list(t.segments[0].words)
    words[3] = Word(words[3].start_s + 1.5, words[3].end_s + 1.5, words[3].text)  # a long gap inside the segment
    t = t.with_segments([Segment(0.0, 7.5, t.segments[0].text, tuple(words), "A")])
    assert [len(line.tokens) for line in split_lines(t)] == [3, 3]


def test_time_map_and_its_inverse():
    timemap = TimeMap(((1.0, 3.0), (5.0, 6.0)), offset_s=10.0)
    assert timemap.length_s == 3.0
    assert timemap(1.5) == 10.5 and timemap(4.0) == 12.0 and timemap(5.5) == 12.5 and timemap(0.2) == 10.0
    assert timemap.inverse(12.5) == 5.5 and timemap.inverse(10.5) == 1.5


def test_snapping_puts_every_cut_on_the_frame_grid():
    cuts = CutList(merge([(1.013, 2.071), (5.5, math.inf)]))
    keeps = cuts.snapped(25.0, 8.0).keeps(8.0)
    assert keeps == [(0.0, 1.0), (2.08, 5.52)] or keeps == [(0.0, 1.0), (2.08, 5.48)] or all(
        abs(x * 25 - round(x * 25)) < 1e-9 for k in keeps for x in k
    )


def test_chapters_move_by_the_cut_length_and_back():
    timemap = TimeMap(((0.0, 60.0), (90.0, 300.0)))
    chapters = [Chapter(0.0, "Intro"), Chapter(40.0, "Kaggle"), Chapter(70.0, "Gone"), Chapter(85.0, "Deploy"), Chapter(120.0, "Garden")]
    moved = retime_chapters(chapters, timemap, timemap.length_s)
    # a chapter after the cut moves by the cut length; one whose whole content was cut is dropped
    assert [(c.title, c.start_s) for c in moved] == [("Intro", 0.0), ("Kaggle", 40.0), ("Deploy", 60.0), ("Garden", 90.0)]
    assert [c.start_s for c in unretime_chapters(moved, timemap)] == [0.0, 40.0, 90.0, 120.0]


# --- suggestions checked against the audio (a hearing given directly: the logic alone) -----------


def hearing_of(voice: list[tuple[float, float]], duration_s: float = 21.0):
    import numpy as np

    from chaitime.edit.audiocheck import Hearing
    from chaitime.intervals import merge

    heard = merge(voice)
    return Hearing(heard, np.zeros(0, dtype=np.float32), 0.0, duration_s, heard)


# the transcript's speech as heard, plus 2.0 s of speech in the 3.1 s pause after "Kaggle." (9.5-12.6)
HEARD = [(1.9, 4.0), (4.5, 7.0), (7.5, 9.6), (10.0, 12.0), (12.5, 16.0), (16.5, 18.5)]


def test_a_pause_holding_speech_is_flagged_not_cut(transcript):
    text = write_edit_md(transcript, hearing=hearing_of(HEARD))
    assert "[00:00:10.000] [untranscribed 2.00 s]" in body(text)
    assert not any("pause" in ln for ln in body(text))  # the silences around it are short
    cuts = parse_edit_md(text, transcript)
    assert all(b <= 10.0 or a >= 12.0 for a, b in cuts.cuts)
    # struck by the host, it is cut whole
    struck = parse_edit_md(text.replace("[00:00:10.000] [untranscribed 2.00 s]", "~~[00:00:10.000] [untranscribed 2.00 s]~~"), transcript)
    assert (10.0, 12.0) in struck.cuts


def test_dead_air_stops_where_sound_starts(transcript):
    text = write_edit_md(transcript, hearing=hearing_of(HEARD))
    assert body(text)[0] == "~~[00:00:00.000] [dead air 1.90 s]~~"
    cuts = parse_edit_md(text, transcript)
    assert cuts.cuts[0] == pytest.approx((0.0, 1.6))  # 0.3 s kept before the sound at 1.9 s
    assert cuts.cuts[-1][0] == pytest.approx(18.5 + 0.3)


def test_a_silent_stretch_inside_a_gap_is_suggested_from_its_own_start(transcript):
    heard = [h for h in HEARD if h != (10.0, 12.0)] + [(9.5, 9.8)]  # a word's tail after "Kaggle."
    text = write_edit_md(transcript, hearing=hearing_of(heard))
    assert "~~[00:00:09.800] [pause 2.70 s]~~" in body(text)
    cuts = parse_edit_md(text, transcript)
    assert (9.8 + 0.25, 12.5 - 0.25) == pytest.approx(next(c for c in cuts.cuts if 9.5 < c[0] < 12.6))


def test_deleting_every_marker_of_a_gap_cuts_it_as_the_word_times_say(transcript):
    text = write_edit_md(transcript, hearing=hearing_of(HEARD))
    edited = "\n".join(ln for ln in text.splitlines() if "untranscribed" not in ln or ln.startswith("<!--") or ln.startswith("  "))
    cuts = parse_edit_md(edited, transcript)
    assert (9.5 + 0.25, 12.6 - 0.25) == pytest.approx(next(c for c in cuts.cuts if 9.5 < c[0] < 12.6))


def test_measured_filler_cuts_round_trip_through_the_note(transcript):
    from chaitime.edit.markdown import NOTE_START

    um = transcript.segments[1].words[0]
    text = write_edit_md(transcript) + f"\n{NOTE_START} 00:00:04.600+1={um.start_s - 0.1:.4f}-{um.end_s + 0.05:.4f} -->\n"
    cuts = parse_edit_md(text, transcript)
    assert (um.start_s - 0.1, um.end_s + 0.05) == pytest.approx(cuts.cuts[1])
    # once the host strikes the next word too, the run is cut by word times
    longer = parse_edit_md(text.replace("~~Um,~~ thanks", "~~Um, thanks~~"), transcript)
    assert longer.cuts[1][1] > um.end_s + 0.2
