"""Draft figures for issue 28, this branch side by side with the baseline (the writing code at
BASE, loaded from git as a package of its own), in one run.

Interviews (four known topics each): tests/fourtopics.py, and the music and ice interviews of
tests/test_writing_draft.py. Each is drafted by ``draft_episode`` (what `chaitime draft` runs:
chapters.json, post.md, youtube.txt) from
  script            the script as a transcript with evenly timed words (no audio)
  spoken            the script spoken by eSpeak NG, transcribed by Whisper tiny.en (CPU) with the
                    show's vocabulary and names as `chaitime ingest` passes them; speakers from the
                    script's line times (perfect diarization)
  spoken, no spk    the same transcript without speakers

Figures, per case, base -> new:
  titles    topics named by the title of a chapter lying mostly inside the topic (a title names
            its topic when it holds one of the topic's key terms), of 4
  summary   sentences in the summary / topics it names (key terms), of 4
  vocab     places where a vocabulary term or a guest's or host's name is written (any case: titles,
            summary, tags, show notes, post, youtube.txt) that spell it as given; "+n" counts runs
            written otherwise that sound the same word for word ("Eric Lund"), not places above
  quotes    pull quotes whose text appears in the transcript's text, of all pull quotes
  glued     titles that join two phrases with "and"
  unsure    title words the recogniser was unsure of (mean probability under 0.5; "Candle")

Run: python scripts/bench_draft.py (``--quick``: the script cases only). Spoken transcripts are
cached under the system temp folder (keyed by the script, the vocabulary and asr/vocabulary.py).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import importlib.util
import json
import re
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "scripts"))
from gitbase import package_at  # noqa: E402

BASE = "da9e1ff"  # the writing code before issue 28
CACHE = Path(tempfile.gettempdir()) / "chaitime-bench-draft"
SLUG = "001-interview"


def baseline_package():
    """src/chaitime/writing as it was at BASE, as a package of its own (the rest of chaitime is today's)."""
    return package_at(BASE, "writing", CACHE)


# --- cases ------------------------------------------------------------------------------------


def script_transcript(interview):
    from test_writing import transcript_from

    tr = transcript_from(interview.script, word_s=0.5)
    starts = [0.0] + [tr.segments[i].start_s for i in interview.boundaries]
    return tr, list(zip(starts, starts[1:] + [tr.duration_s]))


def spoken_transcript(interview, with_speakers: bool):
    from chaitime import sample
    from chaitime.asr import AsrOptions, transcribe
    from chaitime.transcript.model import Transcript

    vocabulary = tuple(dict.fromkeys([*interview.vocabulary, interview.guest, interview.host]))  # as pipeline/transcribe.py passes them
    key = hashlib.sha256(json.dumps([[(line.speaker, line.text, line.pause_after_s) for line in interview.script], vocabulary,
                                     (ROOT / "src/chaitime/asr/vocabulary.py").read_text(), "tiny.en"]).encode()).hexdigest()[:12]
    CACHE.mkdir(parents=True, exist_ok=True)
    cached = CACHE / f"{interview.name}-{key}.json"
    samples, spoken = sample.synthesize(interview.script)
    if not cached.is_file():
        wav = CACHE / f"{interview.name}.wav"
        sample.write_wav(wav, samples, sample.ESPEAK_RATE_HZ)
        cached.write_text(transcribe(wav, AsrOptions(model="tiny.en", device="cpu", vocabulary=vocabulary)).to_json())
    tr = Transcript.load(cached)
    if with_speakers:
        turns = [(s.start_s, s.end_s, s.speaker) for s in spoken]

        def who(seg):
            return max(turns, key=lambda x: min(seg.end_s, x[1]) - max(seg.start_s, x[0]))[2]

        tr = tr.with_segments(replace(s, speaker=who(s), words=tuple(replace(w, speaker=who(s)) for w in s.words)) for s in tr.segments)
    starts = [0.0] + [spoken[i].start_s for i in interview.boundaries]
    return tr, list(zip(starts, starts[1:] + [tr.duration_s]))


def drafted(package: str, interview, tr, root: Path) -> dict:
    """What ``draft_episode`` of ``package`` writes for the interview: titles, summary, tags, quotes, texts."""
    import test_writing_draft as t
    from chaitime.workspace import Episode

    draft = importlib.import_module(f"{package}.draft")
    root.mkdir(parents=True)
    settings = t.settings_of(root, interview)
    episode = Episode(root / "episodes" / SLUG)
    episode.folder.mkdir(parents=True)
    episode.meta_path.write_text(t.meta_of(interview).to_toml())
    episode.path("transcript.json").write_text(tr.to_json())
    draft.draft_episode(episode, settings, new_chapters=True)
    post = episode.path("post.md").read_text(encoding="utf-8")
    _, front, body = post.split("---\n", 2)
    meta = yaml.safe_load(front)
    chapters_raw = json.loads(episode.path("chapters.json").read_text())["chapters"]
    from chaitime.writing.chapters import Chapter

    chapters = [Chapter(float(c["startTime"]), c["title"], float(c.get("endTime", tr.duration_s))) for c in chapters_raw]
    highlights = post.split("## Highlights", 1)[1].split("## The conversation", 1)[0] if "## Highlights" in post else ""
    quotes = [q.replace("\\", "") for q in re.findall(r"^> (?!—)(\S.*)$", highlights, re.MULTILINE)]
    youtube = episode.path("youtube.txt").read_text(encoding="utf-8")
    written = [*(c.title for c in chapters), meta["summary"], *meta.get("tags", []), body.replace("\\", ""), youtube]
    return {"chapters": chapters, "summary": meta["summary"], "tags": meta.get("tags", []), "quotes": quotes, "written": written}


def vocab_places(interview, written: list[str]) -> tuple[int, int]:
    """(spelled as given, places): every place a term or name is written, in any case."""
    good = total = 0
    for term in dict.fromkeys([*interview.vocabulary, interview.guest, interview.host]):
        pattern = re.compile(r"(?<![\w])" + re.escape(term).replace(r"\ ", r"\s+") + r"(?![\w])", re.IGNORECASE)
        for text in written:
            for m in pattern.finditer(text):
                total += 1
                good += re.sub(r"\s+", " ", m.group(0)) == term
    return good, total


def sound_alikes(interview, written: list[str]) -> int:
    """Runs written otherwise that sound like a term of two words or more, word for word."""
    from chaitime.asr.vocabulary import key

    found = 0
    for term in dict.fromkeys([*interview.vocabulary, interview.guest, interview.host]):
        parts = term.split()
        if len(parts) < 2:
            continue
        for text in written:
            words = re.findall(r"[\w'’]+", text)
            for i in range(len(words) - len(parts) + 1):
                run = words[i : i + len(parts)]
                found += " ".join(run).lower() != term.lower() and all(key(a) == key(b) for a, b in zip(run, parts))
    return found


def figures(interview, tr, spans, result) -> dict:
    import test_writing_draft as t
    from chaitime.writing.text import normalize_space, tokens, unsure_words

    spoken = normalize_space(tr.text)
    summary = result["summary"]
    good, places = vocab_places(interview, result["written"])
    unsure = unsure_words(tr, trusted=[*interview.vocabulary, interview.guest, interview.host])
    titles = [c.title for c in result["chapters"]]
    return {
        "titles": t.titled_topics(interview, result["chapters"], spans),
        "sentences": t.sentence_count(summary),
        "topics": sum(t.names_topic(summary, terms) for terms in interview.topics),
        "vocab": (good, places, sound_alikes(interview, result["written"])),
        "quotes": (sum(normalize_space(q) in spoken for q in result["quotes"]), len(result["quotes"])),
        "glued": sum(" and " in title for title in titles),
        "unsure": sum(w in unsure for title in titles for w in tokens(title)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the script cases only (no audio, no Whisper)")
    args = parser.parse_args()
    import test_writing_draft as t

    base = baseline_package().__name__
    modes = {"script": lambda iv: script_transcript(iv)}
    if not args.quick:
        modes["spoken"] = lambda iv: spoken_transcript(iv, True)
        modes["spoken, no spk"] = lambda iv: spoken_transcript(iv, False)
    rows, examples = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for mode, build in modes.items():
            for interview in t.INTERVIEWS:
                tr, spans = build(interview)
                case = f"{interview.name} / {mode}"
                out = {}
                for side, package in (("base", base), ("new", "chaitime.writing")):
                    result = drafted(package, interview, tr, Path(tmp) / f"{interview.name}-{mode}-{side}".replace(" ", "_").replace(",", ""))
                    out[side] = (figures(interview, tr, spans, result), result)
                rows.append((case, tr.duration_s, out["base"][0], out["new"][0]))
                examples.append((case, out["base"][1], out["new"][1]))

    def cell(f: dict, key: str) -> str:
        if key == "summary":
            return f"{f['sentences']}s {f['topics']}/4"
        if key == "titles":
            return f"{f['titles']}/4"
        if key in ("glued", "unsure"):
            return str(f[key])
        if key == "vocab":
            good, places, alike = f[key]
            return f"{good}/{places}" + (f" +{alike}" if alike else "")
        a, b = f[key]
        return f"{a}/{b}"

    keys = ("titles", "summary", "vocab", "quotes", "glued", "unsure")
    head = f"{'case':26} {'length':>6} | " + " | ".join(f"{k + ' base':>13} {'new':>7}" for k in keys)
    print(head)
    print("-" * len(head))
    for case, length, base, new in rows:
        print(f"{case:26} {length:5.0f}s | " + " | ".join(f"{cell(base, k):>13} {cell(new, k):>7}" for k in keys))
    print("\nwant: titles >= 3/4, summary >= 3 sentences naming >= 3/4 topics, vocab all places, quotes all verbatim (at least one),"
          " no glued titles, no unsure words in titles\n")
    for case, base, new in examples:
        print(f"== {case}")
        print(f"  titles  base: {' | '.join(c.title for c in base['chapters'])}")
        print(f"          new:  {' | '.join(c.title for c in new['chapters'])}")
        print(f"  summary base: {base['summary']}")
        print(f"          new:  {new['summary']}")
        print(f"  tags    base: {base['tags']}  new: {new['tags']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
