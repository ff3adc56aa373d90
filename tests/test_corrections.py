"""The host's transcript corrections: recorded, applied, carried onto a new transcript (fast, no media)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chaitime import pipeline
from chaitime.errors import InputError
from chaitime.transcript import corrections
from chaitime.transcript.model import Transcript
from chaitime.workspace import Episode
from test_edit import LINES, make_transcript

T = make_transcript(LINES, duration_s=21.0)


def word(t: Transcript, text: str):
    return next(w for w in t.words if w.text.strip(" ,.!").lower() == text.strip(",.!"))


def shifted(t: Transcript, by_s: float) -> Transcript:
    """The same words a little later, as another model would time them."""
    return t.with_segments(replace(s, start_s=s.start_s + by_s, end_s=s.end_s + by_s,
                                   words=tuple(replace(w, start_s=w.start_s + by_s, end_s=w.end_s + by_s) for w in s.words))
                           for s in t.segments)


def test_a_corrected_word_is_recorded_and_its_segment_text_follows():
    w = word(T, "kaggle")
    fixed = corrections.correct_word(T, w.start_s, w.text, "Kaggle!")
    assert word(fixed, "kaggle!").text == " Kaggle!"
    assert fixed.segments[2].text == " Tell me about Kaggle!"
    assert fixed.meta["corrections"] == [{"kind": "word", "start": round(w.start_s, 3), "was": "Kaggle.", "text": "Kaggle!"}]
    again = corrections.correct_word(fixed, w.start_s, "Kaggle!", "Kaggle.")  # a correction of a correction
    assert again.meta["corrections"] == [{"kind": "word", "start": round(w.start_s, 3), "was": "Kaggle.", "text": "Kaggle."}]
    with pytest.raises(InputError):
        corrections.correct_word(T, 0.123, "nothing", "x")


def test_corrections_and_speakers_are_carried_onto_a_new_transcript_and_the_lost_listed():
    w = word(T, "kaggle")
    fixed = corrections.correct_word(T, w.start_s, w.text, "Kaggles.")
    fixed = corrections.reassign(fixed, 4.6, 7.0, "Maya")
    fresh = shifted(T, 0.08)
    carried, lost = corrections.carry(fresh, fixed)
    assert not lost
    assert word(carried, "kaggles").start_s == pytest.approx(w.start_s + 0.08)
    assert carried.segments[1].speaker == "Maya"
    elsewhere = shifted(T, 3.0)
    _, lost = corrections.carry(elsewhere, fixed)
    assert [c["kind"] for c in lost] == ["word"]


def test_a_re_ingest_keeps_the_corrections(tmp_path):
    ep = Episode(tmp_path / "ep")
    ep.machine_dir.mkdir(parents=True)
    w = word(T, "kaggle")
    (ep.machine_dir / "transcript.raw.json").write_text(corrections.correct_word(T, w.start_s, w.text, "Kaggles.").to_json())
    pipeline._write_transcripts(ep, shifted(T, 0.05))  # what the speakers stage writes after a new transcription
    raw = Transcript.load(ep.machine_dir / "transcript.raw.json")
    assert word(raw, "kaggles") and raw.meta["corrections"][0]["text"] == "Kaggles."


def test_the_fast_json_writer_is_byte_identical_to_json_dumps():
    import json
    import random

    from chaitime.transcript.model import Segment, Word

    rng = random.Random(3)
    texts = [" plain", ' "quoted"', " tab\there", " café ☕", " back\\slash", " \u2028line", "", " <b>&amp;"]
    segments = []
    for i in range(40):
        words = tuple(Word(rng.uniform(0, 100), rng.uniform(0, 100), rng.choice(texts), rng.random(), rng.choice([None, "Ada", "Ümit"]))
                      for _ in range(rng.randint(0, 4)))
        segments.append(Segment(i * 1.5, i * 1.5 + 1.0 / 3, rng.choice(texts), words, rng.choice([None, "Ada"]), rng.choice([None, "language"])))
    for t in (Transcript(tuple(segments), "en", 123.4567, {"corrections": [{"start": 1.0, "was": "x"}], "n": 1, "e": {}}),
              Transcript((), "de", 0.0), Transcript(tuple(segments[:1]), "en", 5, {"timeline": "edited", "removed_s": 1e-07})):
        assert t.to_json() == json.dumps(t.to_dict(), ensure_ascii=False, indent=1) + "\n"
