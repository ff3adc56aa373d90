"""The draft reads like a person wrote it (issue 28): chapter titles that name their topic, a
three-or-four-sentence summary, the show's spelling everywhere, whole verbatim quotes in every
episode of a minute or more, sentences that survive abbreviations, numbers, hyphens and speaker
changes, and the optional LLM path against a local OpenAI-compatible server.

Fast tier: transcripts built in code with evenly timed words (as tests/test_writing.py does); no
Whisper, no rendering. The three four-topic interviews (tests/fourtopics.py and the two below)
are also what scripts/bench_draft.py measures, spoken and transcribed as well.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

import fourtopics
from chaitime import config
from chaitime.sample import Line
from chaitime.transcript.model import Segment, Transcript, Word
from chaitime.workspace import EpisodeMeta
from chaitime.writing import llm, text
from chaitime.writing.chapters import Chapter, make_chapters
from chaitime.writing.post import compose, render
from test_writing import transcript_from

# --- three interviews with four known topics ---------------------------------------------------


@dataclass(frozen=True)
class Interview:
    name: str
    host: str
    guest: str
    show: str
    script: tuple[Line, ...]
    boundaries: tuple[int, ...]  # the line opening each topic after the first
    topics: tuple[tuple[str, ...], ...]  # per topic, key terms: a title or summary naming one names the topic
    vocabulary: tuple[str, ...]  # [transcribe] vocabulary: spelled as given everywhere


def _interview(name, host, guest, show, parts, topics, vocabulary) -> Interview:
    script, bounds = [], []
    for part in parts:
        if script:
            bounds.append(len(script))
        script += part
    return Interview(name, host, guest, show, tuple(script), tuple(bounds), topics, vocabulary)


PROTEINS = Interview(
    "proteins", fourtopics.HOST, fourtopics.GUEST, fourtopics.SHOW, fourtopics.SCRIPT, fourtopics.BOUNDARIES,
    (("childhood", "growing up", "grew up", "farm"), ("competition", "kaggle", "casp", "leaderboard"),
     ("paper", "side chain", "packing", "rotamer"), ("advice", "student", "mentor")),
    ("Kaggle", "CASP", "Northfield Institute"),
)

_M_HOST, _M_GUEST = "Lena Park", "Marcus Webb"
MUSIC = _interview("music", _M_HOST, _M_GUEST, "Loud Rooms", (
    (
        Line(_M_HOST, "Welcome to Loud Rooms, where musicians talk about the work behind the songs. I'm Lena Park."),
        Line(_M_HOST, "My guest is Marcus Webb, a guitarist and producer from Leeds who has played with Josh Homme."),
        Line(_M_GUEST, "Thanks, Lena. It's good to be here."),
        Line(_M_HOST, "How did you get into the guitar?"),
        Line(_M_GUEST, "My uncle left an old acoustic guitar at our house when I was nine, and he never came back for it."),
        Line(_M_GUEST, "I learned three chords from a library book and played them until my fingers hurt."),
        Line(_M_HOST, "Did you have a guitar teacher?"),
        Line(_M_GUEST, "Mr. Hale, who ran the music shop on our street, gave me lessons on Saturday mornings for a pound each."),
        Line(_M_GUEST, "He made me practise scales on the guitar before I was allowed to play a single song."),
        Line(_M_HOST, "When did you know the guitar would be your job?"),
        Line(_M_GUEST, "At fifteen I played guitar in a school concert, and the age-old rule held: once people clap, you never stop."),
        Line(_M_HOST, "Which guitar players did you copy as a kid?"),
        Line(_M_GUEST, "Anyone on the radio. I slowed the tapes down and learned every guitar solo one note at a time."),
        Line(_M_GUEST, "My mother bought me an electric guitar for my twelfth birthday, and the neighbours have never forgiven her."),
    ),
    (
        Line(_M_HOST, "Let's talk about touring. You spent years on the road."),
        Line(_M_GUEST, "Our first tour was twelve shows in a borrowed van, and we slept on the floors of whoever let us in."),
        Line(_M_GUEST, "Touring teaches you fast. You learn which songs hold a room and which ones lose it."),
        Line(_M_HOST, "What was the hardest part of touring?"),
        Line(_M_GUEST, "The driving. On one tour we drove 1,000 miles in two days, and the van broke down outside St. Louis."),
        Line(_M_GUEST, "A mechanic fixed the van for free because his daughter had our record."),
        Line(_M_HOST, "And the best night of a tour?"),
        Line(_M_GUEST, "Opening for Josh Homme in Berlin. The crowd sang our chorus back to us, and I still don't know how they knew it."),
        Line(_M_HOST, "Do you still enjoy life on the road?"),
        Line(_M_GUEST, "I love the shows and hate the motorways. After a long tour I sleep for a week."),
        Line(_M_GUEST, "These days the band tours in a bus, not a van, and we keep every tour under five weeks."),
        Line(_M_HOST, "How do you stay healthy on tour?"),
        Line(_M_GUEST, "Sleep, water and no parties after the show. A tour is a marathon, not a night out."),
    ),
    (
        Line(_M_HOST, "Tell me about recording your new album."),
        Line(_M_GUEST, "We recorded the album in nine days at a small studio in Wales, all of us playing live in one room."),
        Line(_M_GUEST, "Recording live keeps the mistakes, and the mistakes are what make an album feel human."),
        Line(_M_HOST, "Who produced the album?"),
        Line(_M_GUEST, "I produced it myself, with Dr. Ruth Ames, an engineer who has worked at Abbey Road for twenty years."),
        Line(_M_GUEST, "She taught me to put one microphone in the corner of the studio and record the room itself."),
        Line(_M_HOST, "What gear did you use in the studio?"),
        Line(_M_GUEST, "Old ribbon microphones, a tape machine from the seventies, and my first guitar amplifier on every song of the album."),
        Line(_M_HOST, "How long did the mixing take?"),
        Line(_M_GUEST, "Mixing took longer than recording. We spent six weeks on the album, mostly arguing about the drums."),
        Line(_M_HOST, "Is there a song on the album you're proudest of?"),
        Line(_M_GUEST, "The last song on the album. We recorded it at three in the morning in one take, and nobody wanted to touch it after."),
        Line(_M_HOST, "Would you record the next album the same way?"),
        Line(_M_GUEST, "Yes. Recording in one room with the whole band is faster, cheaper, and the album sounds like us."),
    ),
    (
        Line(_M_HOST, "What do you think about streaming?"),
        Line(_M_GUEST, "Streaming put our music in front of people in countries we will never tour."),
        Line(_M_GUEST, "But our last single had 3.5 million plays on Spotify, and streaming paid us less than one good night of shows."),
        Line(_M_HOST, "So how does a band make money from music now?"),
        Line(_M_GUEST, "Shows, shirts and records sold at the merch table. Streaming is an advert for the music, not an income."),
        Line(_M_GUEST, "The music business changes every few years, so we own our masters and keep our costs low."),
        Line(_M_HOST, "Would you sign with a major label today?"),
        Line(_M_GUEST, "Only if they paid for the touring. A label that takes the streaming money and the shows is a bad deal for a band."),
        Line(_M_GUEST, "My advice to a young band is to keep the rights to your music and sell your records yourself, at every show."),
        Line(_M_HOST, "Does streaming change how you write songs?"),
        Line(_M_GUEST, "A little. Streaming rewards a chorus in the first thirty seconds, so some bands write for the playlist instead of the album."),
        Line(_M_HOST, "Thank you, Marcus. That's all for this week on Loud Rooms.", pause_after_s=1.0),
    ),
), (("guitar", "growing up", "childhood", "lessons"), ("tour", "road", "van"), ("album", "record", "studio"),
    ("streaming", "spotify", "money", "music business")),
    ("Josh Homme", "Abbey Road", "Spotify"))

_I_HOST, _I_GUEST = "Priya Nair", "Erik Lund"
ICE = _interview("ice", _I_HOST, _I_GUEST, "Cold Facts", (
    (
        Line(_I_HOST, "This is Cold Facts, conversations about a warming planet. I'm Priya Nair."),
        Line(_I_HOST, "Today I'm talking with Erik Lund, a glaciologist at the University of Tromso who studies Thwaites Glacier."),
        Line(_I_GUEST, "Hello Priya, and thank you for having me."),
        Line(_I_HOST, "Where did you grow up?"),
        Line(_I_GUEST, "I grew up in a fishing village in the north of Norway, where the winter sun never rises."),
        Line(_I_GUEST, "As a child I skied to school in the dark, and the snow was the biggest thing in my world."),
        Line(_I_HOST, "Was there snow science in your childhood?"),
        Line(_I_GUEST, "My father measured the snow on our roof every morning and wrote the numbers in a notebook."),
        Line(_I_GUEST, "Forty years of his notebooks show the snow season getting shorter, e.g. the first snow now comes three weeks later."),
        Line(_I_HOST, "Did growing up in the dark shape the scientist you became?"),
        Line(_I_GUEST, "Growing up in the north, you learn to read the snow, the sea ice and the sky before you can read a book."),
        Line(_I_GUEST, "My childhood taught me patience with winter, and Norway taught me that cold places are full of life."),
        Line(_I_HOST, "What did you do as a child in the long winter?"),
        Line(_I_GUEST, "We skied, we fished through holes in the sea ice, and every child in the village learned to read the snow."),
    ),
    (
        Line(_I_HOST, "Let's talk about fieldwork in Antarctica. What is a season on the ice like?"),
        Line(_I_GUEST, "A field season on Thwaites Glacier lasts about ten weeks, and we live in tents at a camp on the ice."),
        Line(_I_GUEST, "Antarctica is the quietest place I know. At the camp you hear your own heartbeat."),
        Line(_I_HOST, "What goes wrong in the field?"),
        Line(_I_GUEST, "Storms. One storm kept us in the tents for six days, and we played chess with pieces carved from candles."),
        Line(_I_GUEST, "Fieldwork is mostly waiting for the weather, then working twenty hours a day when it clears."),
        Line(_I_HOST, "How do you get to Thwaites Glacier?"),
        Line(_I_GUEST, "Two flights from New Zealand, then a small plane on skis that lands on the glacier itself."),
        Line(_I_HOST, "What do you measure at the camp?"),
        Line(_I_GUEST, "In the field we drill through the glacier with hot water and lower instruments into the ocean underneath."),
        Line(_I_GUEST, "The warm ocean water under Thwaites Glacier is melting it from below, faster than anyone expected."),
        Line(_I_HOST, "What is daily life like in a field camp?"),
        Line(_I_GUEST, "The field camp runs on frozen food and tea. Everyone cooks once a week, and the best cook gets the warmest tent."),
    ),
    (
        Line(_I_HOST, "Tell me about the ice cores you drill."),
        Line(_I_GUEST, "An ice core is a cylinder of ice, and each layer of the core is one year of snow."),
        Line(_I_GUEST, "Bubbles in the ice core hold the air of the past, so we can measure old carbon dioxide directly."),
        Line(_I_HOST, "How do the ice cores feed the climate models?"),
        Line(_I_GUEST, "The climate models are tested against the ice cores. A model that can't explain the past can't be trusted about the future."),
        Line(_I_GUEST, "Our best ice core goes back 3.2 thousand years, and the models match it well."),
        Line(_I_HOST, "Are the climate models getting better?"),
        Line(_I_GUEST, "Yes. The newest climate models include the ice sheet itself, which the old models left out."),
        Line(_I_HOST, "What does an ice core tell a climate model that a satellite can't?"),
        Line(_I_GUEST, "Satellites have watched the ice for fifty years. An ice core gives a climate model thousands of years of history."),
        Line(_I_HOST, "How do you keep an ice core frozen on the way home?"),
        Line(_I_GUEST, "Every ice core flies home in freezer boxes at minus thirty, and a broken freezer is the worst news a glaciologist can get."),
    ),
    (
        Line(_I_HOST, "How do you talk to the public about climate change?"),
        Line(_I_GUEST, "I show people the ice core and let them hold it. A piece of ice from before Rome is a well-known way to start a conversation."),
        Line(_I_GUEST, "Talking to the public works better with one clear story than with ten graphs."),
        Line(_I_HOST, "And politicians?"),
        Line(_I_GUEST, "With politicians I bring one number and one map. The public and the politicians both remember a map."),
        Line(_I_GUEST, "The IPCC reports are careful, but careful writing rarely reaches the public."),
        Line(_I_HOST, "Do you talk to journalists?"),
        Line(_I_GUEST, "Often. A journalist can reach more of the public in one afternoon than I can in a year of talks."),
        Line(_I_GUEST, "I tell young scientists to talk to the public early, before a crisis makes every word political."),
        Line(_I_HOST, "Has talking to the public changed your research?"),
        Line(_I_GUEST, "Yes. The public asks the simplest questions, and the simplest questions are often the ones we can't answer yet."),
        Line(_I_HOST, "Thank you, Erik, and thanks for listening to Cold Facts.", pause_after_s=1.0),
    ),
), (("childhood", "growing up", "grew up", "norway", "snow"), ("fieldwork", "antarctica", "thwaites", "field", "camp"),
    ("ice core", "climate model", "model"), ("public", "politician", "talk", "communicat")),
    ("Thwaites Glacier", "IPCC", "Tromso"))

INTERVIEWS = (PROTEINS, MUSIC, ICE)


def names_topic(written: str, terms: tuple[str, ...]) -> bool:
    """``written`` (a title, a summary) names a topic: it holds one of its key terms (any case)."""
    low = written.lower()
    return any(term in low for term in terms)


def topic_spans(interview: Interview, tr: Transcript) -> list[tuple[float, float]]:
    starts = [0.0] + [tr.segments[i].start_s for i in interview.boundaries]
    return list(zip(starts, starts[1:] + [tr.duration_s]))


def titled_topics(interview: Interview, chapters, spans) -> int:
    """Topics named by the title of a chapter that lies mostly inside the topic."""
    named = 0
    for (a, b), terms in zip(spans, interview.topics):
        inside = [c for c in chapters if min(b, c.end_s) - max(a, c.start_s) > 0.5 * (c.end_s - c.start_s)]
        named += any(names_topic(c.title, terms) for c in inside)
    return named


def settings_of(root: Path, interview: Interview, extra: str = "") -> config.Settings:
    vocab = ", ".join(json.dumps(v) for v in interview.vocabulary)
    (root / "chaitime.toml").write_text(
        f'[show]\ntitle = "{interview.show}"\nauthor = "{interview.host}"\nhosts = ["{interview.host}"]\n'
        f"[transcribe]\nvocabulary = [{vocab}]\n" + extra
    )
    return config.load(root)


def meta_of(interview: Interview, **kw) -> EpisodeMeta:
    return EpisodeMeta(**{"title": interview.name.title(), "guid": f"g-{interview.name}", "date": "2024-05-01",
                          "guests": (interview.guest,), **kw})


def draft(interview: Interview, root: Path, tr: Transcript | None = None, extra: str = ""):
    """(transcript, chapters, DraftContent) of the interview through the draft."""
    tr = tr or transcript_from(interview.script, word_s=0.5)
    settings = settings_of(root, interview, extra)
    names = [interview.host, interview.guest, interview.show]
    chapters = make_chapters(tr, hosts=[interview.host], names=names, vocabulary=interview.vocabulary)
    content = compose(tr, meta_of(interview), settings, chapters, audio_path="audio.mp3", video_path=None, duration_s=tr.duration_s)
    return tr, chapters, content


def sentence_count(summary: str) -> int:
    return len(re.findall(r"[.!?][\"”]?(?:\s|$)", summary))


# --- titles -------------------------------------------------------------------------------------


@pytest.mark.parametrize("interview", INTERVIEWS, ids=lambda i: i.name)
def test_titles_name_their_topic_without_gluing_phrases(tmp_path, interview):
    tr, chapters, _ = draft(interview, tmp_path)
    titles = [c.title for c in chapters]
    assert titled_topics(interview, chapters, topic_spans(interview, tr)) >= 3, titles
    for title in titles:
        assert " and " not in title.lower(), title
        assert not {text.stem(w) for w in text.tokens(interview.show)} & {text.stem(w) for w in text.tokens(title)}, title
        assert not {"slash", "dot"} & set(text.tokens(title)), title


def test_titles_condense_the_hosts_question():
    tr = transcript_from(PROTEINS.script, word_s=0.5)
    titles = [c.title for c in make_chapters(tr, hosts=[PROTEINS.host], names=[PROTEINS.host, PROTEINS.guest, PROTEINS.show])]
    assert titles == ["Childhood", "Competitions", "The New Paper", "Advice for a Student"]
    music = [c.title for c in make_chapters(transcript_from(MUSIC.script, word_s=0.5), hosts=[MUSIC.host],
                                            names=[MUSIC.host, MUSIC.guest, MUSIC.show])]
    assert music[0] == "Getting into the Guitar"


@pytest.mark.parametrize("question, title", [
    ("How did you get into Kaggle?", "Getting into Kaggle"),
    ("Let's talk about competitions. You have entered a lot of them. How did that start?", "Competitions"),
    ("Before we finish, what advice would you give a student who wants to start in this field?", "Advice for a student"),
    ("What was your childhood like?", "Childhood"),
    ("Where did you grow up?", "Growing up"),
    ("Tell me about your new paper. What problem does it solve?", "The new paper"),
    ("How do you organise a team for a competition like that?", "Organising a team for a competition"),
    ("Why did you leave academia?", "Leaving academia"),
    ("So what was it like to grow up on a farm?", "Growing up on a farm"),
])
def test_a_question_condensed(question, title):
    from chaitime.writing import keyphrases

    said = keyphrases._phrases([question, question], set(), weighted=False).counts  # every word said twice
    assert keyphrases.condensed_question(question, said) == title


def test_misheard_words_make_no_title():
    """Words the recogniser was unsure of (low probability) stay out of titles: "cattle" for
    Kaggle, said three times in the chapter, is not its title."""
    lines = [Line(PROTEINS.host, "Welcome. My guest is Ada Guest."),
             Line(PROTEINS.host, "So, you won several cattle competitions. Which one was first?"),
             *(Line(PROTEINS.guest, f"The first cattle challenge was on protein stability, round {n}.") for n in range(6))]
    tr = transcript_from(lines, word_s=0.5)
    tr = tr.with_segments(replace(s, words=tuple(replace(w, probability=0.2 if "cattle" in w.text else 0.9) for w in s.words))
                          for s in tr.segments)
    (chapter,) = make_chapters(tr, hosts=[PROTEINS.host], names=[PROTEINS.host, PROTEINS.guest])
    assert "cattle" not in chapter.title.lower() and " and " not in chapter.title, chapter.title


# --- the summary ----------------------------------------------------------------------------------


@pytest.mark.parametrize("interview", INTERVIEWS, ids=lambda i: i.name)
def test_summary_says_who_what_and_one_point(tmp_path, interview):
    tr, chapters, content = draft(interview, tmp_path)
    summary = content.summary
    assert 3 <= sentence_count(summary) <= 4, summary
    assert summary.startswith(f"{interview.host} talks with {interview.guest}, "), summary
    named = [n for n, terms in enumerate(interview.topics) if names_topic(summary, terms)]
    assert len(named) >= 3, summary
    points = re.findall(r"“([^”]+)”", summary)
    assert points and all(p in text.normalize_space(tr.text) for p in points), summary  # the guest's own words


def test_summary_keeps_proper_names_and_the_vocabulary(tmp_path):
    tr, chapters, content = draft(MUSIC, tmp_path)
    assert "Josh Homme" in content.summary and "josh homme" not in content.summary
    said = [Line(MUSIC.host, "Let's talk about josh homme and kaggle. What did josh homme teach you?"),
            *(Line(MUSIC.guest, f"Josh Homme taught me about spotify and Kaggle, lesson {n}.") for n in range(8))]
    tr = transcript_from(said, word_s=0.5)
    chapters = make_chapters(tr, hosts=[MUSIC.host], names=[MUSIC.host, MUSIC.guest], vocabulary=MUSIC.vocabulary)
    content = compose(tr, meta_of(MUSIC), settings_of(tmp_path, MUSIC), chapters, audio_path="a.mp3", video_path=None,
                      duration_s=tr.duration_s)
    written = " ".join([content.summary, *content.tags, *(c.title for c in content.chapters), render(content)])
    assert "Josh Homme" in written and "Spotify" in written
    assert not re.search(r"josh homme|spotify|JOSH|Josh homme", written), written
    assert all(t[:1].isupper() or t.islower() for t in content.tags)
    assert not [t for t in content.tags if t.lower() == "josh homme" and t != "Josh Homme"]


def test_vocabulary_respells_a_name_heard_twice():
    """One of two 'Josh Hommy' was respelled by the recogniser: the draft spells both as given."""
    words = []
    for i, (w, p) in enumerate([("Opening", .9), ("for", .9), ("Josh", .9), ("Homme", .6), ("was", .9), ("great.", .9),
                                ("Josh", .8), ("Hommy", .85), ("sang", .9), ("well.", .9)]):
        words.append(Word(i * 0.5, i * 0.5 + 0.4, " " + w, p, "G"))
    tr = Transcript((Segment(0.0, 5.0, "".join(w.text for w in words).strip(), tuple(words), "G"),), "en", 6.0)
    out = text.respelled(tr, ["Josh Homme"])
    assert out.segments[0].text == "Opening for Josh Homme was great. Josh Homme sang well."
    assert len(out.words) == len(tr.words) and out.words[6].start_s == tr.words[6].start_s and out.words[7].end_s == tr.words[7].end_s
    lower = text.respelled(Transcript((Segment(0.0, 2.0, "we love kaggle and casp.", (), "G"),), "en", 2.0), ["Kaggle", "CASP"])
    assert lower.segments[0].text == "we love Kaggle and CASP."


def test_the_recogniser_respells_a_confirmed_mishearing_everywhere():
    """asr.vocabulary.correct: a near-match a batch decode missed is decoded again alone, and a
    confirmed mishearing is respelled where the same words recur, however sure the decoder was."""
    from chaitime.asr import vocabulary as vocab

    def seg(t0, *pairs):
        words = tuple(Word(t0 + i * 0.5, t0 + i * 0.5 + 0.4, f" {w}", p) for i, (w, p) in enumerate(pairs))
        return Segment(t0, t0 + len(pairs) * 0.5, "".join(w.text for w in words).strip(), words)

    segments = [seg(0, ("Opening", .9), ("for", .9), ("Josh", .9), ("Hommy", .4)), seg(10, ("Josh", .95), ("Hommy", .95), ("sang.", .9)),
                seg(20, ("A", .9), ("cattle", .3), ("challenge.", .9))]
    calls = []

    def decode(spans, entries):
        calls.append(spans)
        if len(spans) > 1:  # the batch hears the name, not the competition
            return [seg(0, ("Opening", .9), ("for", .9), ("Josh", .9), ("Homme", .9)), seg(20, ("A", .9), ("kettle", .5), ("challenge.", .9))]
        return [seg(20, ("A", .9), ("Kaggle", .8), ("challenge.", .9))]

    out = vocab.correct(segments, ("Josh Homme", "Kaggle"), decode, 16000)
    assert [s.text for s in out] == ["Opening for Josh Homme", "Josh Homme sang.", "A Kaggle challenge."]
    assert len(calls) == 2 and len(calls[1]) == 1
    assert [len(s.words) for s in out] == [len(s.words) for s in segments]


# --- quotes ---------------------------------------------------------------------------------------


def test_an_episode_of_a_minute_or_more_has_a_whole_verbatim_quote(tmp_path):
    """A 1.6-minute interview (two quotes in the release before last, none in the last) has one."""
    lines = list(PROTEINS.script[:12])
    tr = transcript_from(lines, word_s=0.45)
    assert 60 <= tr.duration_s <= 110
    _, _, content = draft(PROTEINS, tmp_path, tr)
    assert content.quotes
    spoken = text.normalize_space(tr.text)
    for q in content.quotes:
        assert q.text in spoken and q.text[0].isupper() and q.text.endswith((".", "!")) and q.speaker == PROTEINS.guest
    assert any(q.text in {s.text for s in text.sentences(tr)} for q in content.quotes)  # whole sentences


@pytest.mark.parametrize("interview", INTERVIEWS, ids=lambda i: i.name)
def test_quotes_are_verbatim(tmp_path, interview):
    tr, _, content = draft(interview, tmp_path)
    spoken = text.normalize_space(tr.text)
    assert 1 <= len(content.quotes) <= 3
    assert all(q.text in spoken for q in content.quotes)


# --- sentences ------------------------------------------------------------------------------------


def _segments(*parts: tuple[str, str]) -> Transcript:
    """Segments of (speaker, text), words evenly timed, back to back."""
    segments, t = [], 0.0
    for speaker, said in parts:
        words = []
        for w in said.split():
            words.append(Word(round(t, 3), round(t + 0.3, 3), " " + w, 0.9, speaker))
            t += 0.35
        segments.append(Segment(words[0].start_s, words[-1].end_s, said, tuple(words), speaker))
        t += 0.2
    return Transcript(tuple(segments), "en", t + 1)


def test_mr_hale_stays_in_one_sentence():
    tr = _segments(("G", "Margaret said Mr."), ("G", "Hale, as he returned, was tired. Then she left."))
    assert [s.text for s in text.sentences(tr)] == ["Margaret said Mr. Hale, as he returned, was tired.", "Then she left."]
    no_words = Transcript((Segment(0, 9, "Margaret said Mr. Hale was tired, e.g. at 3.5 hours. Dr. Ames agreed. It cost 1,000 pounds.", (), "G"),),
                          "en", 9)
    assert [s.text for s in text.sentences(no_words)] == ["Margaret said Mr. Hale was tired, e.g. at 3.5 hours.", "Dr. Ames agreed.",
                                                          "It cost 1,000 pounds."]
    pieces = [" It", " was", " St", ".", " Louis", " at", " 3", ".5", " miles."]
    words = tuple(Word(i * 0.3, i * 0.3 + 0.2, w, 0.9, "G") for i, w in enumerate(pieces))
    assert [s.text for s in text.sentences(Transcript((Segment(0, 3, "", words, "G"),), "en", 3))] == ["It was St. Louis at 3.5 miles."]


def test_age_old_is_one_word_in_the_post_and_edit_md(tmp_path):
    from chaitime.edit.markdown import parse_edit_md, write_edit_md

    pieces = [" The", " age", "-old", " rule", " held", " for", " a", " well", "-known", " band."]
    words = tuple(Word(i * 0.4, i * 0.4 + 0.3, w, 0.9, "G") for i, w in enumerate(pieces))
    tr = Transcript((Segment(0.0, 4.0, "".join(pieces).strip(), words, "G"),), "en", 5.0)
    (sent,) = text.sentences(tr)
    assert sent.text == "The age-old rule held for a well-known band."
    assert text.clean_text(sent.text) == sent.text
    edit = write_edit_md(tr)
    assert "age-old" in edit and "age -old" not in edit and "well-known" in edit
    assert parse_edit_md(edit, tr).removed_words == frozenset()  # read back: every word kept
    struck = edit.replace("age-old", "~~age-old~~")
    assert parse_edit_md(struck, tr).removed_words == {1, 2}


def test_a_speaker_change_mid_sentence_makes_no_fragment(tmp_path):
    """Diarization gave the last word of the guest's sentence, and the first of the host's
    question, to the other speaker: the post's turns still begin at sentences."""
    tr = _segments(("G", "We packed the side chains of every designed"), ("H", "enzyme in under a minute."),
                   ("H", "That is fast. And what"), ("G", "do you think about the reviewers?"), ("G", "They were kind."))
    sents = text.sentences(tr)
    assert [(s.speaker, s.text) for s in sents] == [
        ("G", "We packed the side chains of every designed enzyme in under a minute."),
        ("H", "That is fast."),
        ("G", "And what do you think about the reviewers?"),
        ("G", "They were kind."),
    ]
    content = compose(tr, EpisodeMeta(title="T", guid="g", date="2024-05-01", speakers={"G": "Ada Guest", "H": "Sam Host"}),
                      config.Settings(Path("."), config._merge({})), [Chapter(0, "All")], audio_path="a.mp3", video_path=None,
                      duration_s=tr.duration_s, polish=False)
    firsts = [p.text.split()[0] for p in content.sections[0]]
    assert all(w[0].isupper() for w in firsts), [p.text for p in content.sections[0]]


# --- the LLM path against a local OpenAI-compatible server -------------------------------------


class _FakeModel(BaseHTTPRequestHandler):
    requests: list[dict] = []
    reply: dict = {}

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "body": body})
        out = json.dumps({"id": "x", "object": "chat.completion", "model": body.get("model"),
                          "choices": [{"index": 0, "finish_reason": "stop",
                                       "message": {"role": "assistant", "content": json.dumps(self.reply)}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


@pytest.fixture()
def fake_model():
    _FakeModel.requests = []
    server = HTTPServer(("127.0.0.1", 0), _FakeModel)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_the_llm_writes_titles_summary_and_notes_and_quotes_stay_verbatim(tmp_path, fake_model):
    real = "Touring teaches you fast."
    _FakeModel.reply = {
        "summary": "Lena Park and Marcus Webb on a first guitar, touring, recording and streaming. He talks about josh homme and spotify.",
        "titles": ["A First Guitar", "Life on the Road", "Recording Live", "What Streaming Pays"],
        "notes": ["An uncle's guitar and Mr. Hale's lessons.", "A borrowed van and 1,000 miles.", "Nine days at a studio in Wales.",
                  "Why spotify is an advert."],
        "quotes": [real, "Touring teaches you everything.", "Streaming is an advert"],
    }
    tr, chapters, content = draft(MUSIC, tmp_path, extra=f'[draft]\nllm_url = "{fake_model}"\nllm_model = "fake"\n')
    assert _FakeModel.requests and _FakeModel.requests[0]["path"] == "/v1/chat/completions"
    sent = _FakeModel.requests[0]["body"]["messages"][-1]["content"]
    assert "borrowed van" in sent and "notes" in sent  # the chapter texts go to the model
    assert [c.title for c in content.chapters] == _FakeModel.reply["titles"]
    assert content.summary.startswith("Lena Park and Marcus Webb") and "Josh Homme" in content.summary and "Spotify" in content.summary
    assert content.notes[3] == "Why Spotify is an advert."
    post = render(content)
    assert "- 0:00 A First Guitar — An uncle's guitar and Mr. Hale's lessons." in post
    spoken = text.normalize_space(tr.text)
    assert [q.text for q in content.quotes] and all(q.text in spoken for q in content.quotes)
    assert "Touring teaches you everything." not in post and "> Streaming is an advert\n" not in post  # not said; not a sentence


def test_an_llm_answer_that_misses_keeps_the_offline_draft(tmp_path, fake_model):
    _FakeModel.reply = {"summary": "", "titles": ["Only one"], "notes": "nope", "quotes": ["Nobody said this."]}
    _, offline_chapters, offline = draft(ICE, tmp_path)
    _, _, content = draft(ICE, tmp_path, extra=f'[draft]\nllm_url = "{fake_model}"\n')
    assert content.summary == offline.summary and [c.title for c in content.chapters] == [c.title for c in offline_chapters]
    assert content.notes == () and content.quotes == offline.quotes


def test_endpoint_reads_the_settings(tmp_path):
    settings = settings_of(tmp_path, ICE, '[draft]\nllm_url = "http://127.0.0.1:1/v1"\nllm_model = "m"\n')
    assert llm.endpoint_from(settings) == llm.Endpoint("http://127.0.0.1:1/v1", "m", None)
