"""What the studio shows and changes, on the episode files as they are.

The studio works on the original timeline (the lossless master, .chaitime/transcript.raw.json and
edit.md), the one edit.md's times are on, so a cut heard in the preview is the cut `chaitime render`
makes. Every change reads the file, checks the version the page saw (a content hash), changes it
through the same code a hand edit or the CLI goes through, and writes it atomically under the
episode's lock: a file changed on disk meanwhile is a Conflict, never overwritten.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import fsutil
from ..errors import BusyError, ChaitimeError, InputError
from ..transcript.model import FILLERS, Transcript
from ..workspace import (
    AUDIO,
    CHAPTERS,
    EDIT,
    EPISODE_FILES,
    EPISODE_TOML,
    MACHINE_DIR,
    MASTER_FLAC,
    PEAKS,
    POST,
    RAW,
    SOUND_FLAC,
    SOUND_S16,
    SPEECH,
    TRANSCRIPT,
    TRANSCRIPT_FILES,
    Episode,
    Workspace,
)
from .history import History

log = logging.getLogger("chaitime")
RAW_NAME = f"{MACHINE_DIR}/{RAW}"  # the raw transcript, by its name in the episode folder (the history's)
PEAKS_PER_S = 20  # waveform resolution: 72,000 peaks for an hour
PEAKS_VERSION = 1


_TRANSCRIPTS: dict[tuple[str, str | None], Transcript] = {}  # by path and content hash


class Conflict(ChaitimeError):
    """The file changed on disk since the page read it."""

    exit_code = 9


def version(path: Path) -> str | None:
    """A file's version as the page sees it: its content hash (None when it doesn't exist)."""
    return fsutil.file_hash(path) if path.is_file() else None


def check_version(path: Path, seen: object) -> None:
    if version(path) != seen:
        raise Conflict(f"{path.name} changed on disk since the page loaded it (edited in another program?). "
                       "Reload to see the new version; your change was not saved.")


# --- the episode list --------------------------------------------------------------------------------
def summaries(ws: Workspace) -> dict:
    """Every episode with its state, duration, guests and `chaitime check` problems; a broken one
    shows its problem instead of failing the list."""
    problems = _check_problems(ws)
    items = []
    for ep in ws.episodes():
        mine = [p for p in problems["episodes"] if p["where"] == f"episodes/{ep.slug}" or p["where"].startswith(f"episodes/{ep.slug}/")]
        try:
            item = _summary(ws, ep)
            if item["state"] == "running":  # not "interrupted?": it is running; the list updates when it is done
                mine = [p for p in mine if not p["what"].startswith("incomplete")]
            items.append({**item, "problems": mine})
        except (ChaitimeError, OSError, ValueError) as exc:
            items.append({"slug": ep.slug, "title": ep.slug, "state": "broken", "error": str(exc), "problems": mine,
                          "guests": [], "duration_s": None})
    return {"episodes": items, "workspace_problems": problems["workspace"]}


def _summary(ws: Workspace, ep: Episode) -> dict:
    from .. import pipeline

    running = _running(ep)
    if running:  # an ingest (or a render) holds the episode: its files are being written
        return {"slug": ep.slug, "title": _title(ep), "number": None, "date": None, "guests": [], "draft": False,
                "state": "running", "note": running, "duration_s": None, "incomplete": None}
    meta = ep.meta()
    render = pipeline.render_record(ep)
    raw = ep.machine_dir / RAW
    duration = render.get("duration_s") if render else None
    if duration is None and raw.is_file():
        duration = Files(ep).transcript().duration_s
    found = state(ws, ep, meta.draft, render)
    return {"slug": ep.slug, "title": meta.title, "number": meta.number, "date": meta.date, "guests": list(meta.guests),
            "draft": meta.draft, "state": found["state"], "note": found.get("note", ""), "duration_s": duration,
            "incomplete": ep.incomplete_reason()}


def _title(ep: Episode) -> str:
    try:
        return ep.meta().title
    except ChaitimeError:
        return ep.slug


def _running(ep: Episode) -> str | None:
    """"ingest running" (or render, draft...) while another chaitime holds the episode's lock (the
    lock's own file, probed without waiting: a held lock can't be taken shared); None when free.
    The studio's own short saves don't count."""
    import fcntl
    import os
    import re

    lock = ep.machine_dir / "lock"
    if _busy_here(ep) or not lock.is_file():
        return None
    fd = os.open(lock, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            reason = ep.incomplete_reason() or ""
            found = re.match(r"`?(?:chaitime )?(\w+)`? started", reason)
            return f"{found.group(1) if found else 'chaitime'} running"
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def state(ws: Workspace, ep: Episode, draft: bool, render: dict) -> dict:
    """What happened to the episode, from its files: incomplete; edited (the host changed the cuts,
    words, speakers or chapters since the ingest, or since the last render once rendered);
    published (the site in the workspace's public/ has this episode's files as they are now, by
    the site's own size-and-time rule); rendered; else ingested. ``note`` says what changed."""
    reason = ep.incomplete_reason()
    if reason is not None and not (_busy_here(ep) and reason.startswith("`chaitime draft` started")):  # (the studio's own draft)
        return {"state": "incomplete"}
    changed = changes_since_render(ws, ep, render) if render else host_changes(ws, ep)
    site = _site_copy(ws, ep, draft)
    if changed:
        return {"state": "edited", "note": ", ".join(changed) + (" since the render" if render else "")}
    if site == "current":
        return {"state": "published"}
    note = "published before: publish again to update the site" if site == "older" else ""
    return {"state": "rendered" if render else "ingested", "note": note}


_DEFAULT_CUTS: dict[tuple, frozenset[int]] = {}


def host_changes(ws: Workspace, ep: Episode) -> list[str]:
    """What the host changed since the ingest: words cut beyond the suggestions edit.md starts with,
    corrections and speaker fixes recorded in the transcript, and anything the studio changed
    (its history's files differ from what they were before its first change)."""
    from ..edit.lines import tokens_of
    from ..edit.markdown import write_edit_md

    files = Files(ep)
    found = []
    if not files.raw.is_file():
        return found
    transcript = files.transcript()
    fixes = [c for c in transcript.meta.get("corrections", []) if isinstance(c, dict)]
    words = sum(c.get("kind") == "word" for c in fixes)
    if words:
        found.append(f"{words} word{'s' if words != 1 else ''} corrected")
    if any(c.get("kind") == "speaker" for c in fixes):
        found.append("speakers")
    cut: frozenset[int] | set[int] = frozenset()
    if files.edit.is_file():
        key = (str(files.raw), version(files.raw))
        if key not in _DEFAULT_CUTS:  # the suggestions (without the audio check, which only takes some back)
            if len(_DEFAULT_CUTS) > 32:
                _DEFAULT_CUTS.clear()
            _DEFAULT_CUTS[key] = frozenset(edit_state(ws, ep, transcript, write_edit_md(transcript))["removed"])
        cut = edit_state(ws, ep, transcript, files.edit_text())["removed"] - _DEFAULT_CUTS[key]
        if cut:
            found.append(f"{len(cut)} of {len(tokens_of(transcript))} words cut")
    studio = History(ep).changed({EDIT: version(files.edit), RAW_NAME: version(files.raw),
                                  CHAPTERS: version(ep.path(CHAPTERS)), EPISODE_TOML: version(ep.meta_path)})
    names = {EDIT: "cuts", RAW_NAME: "transcript", CHAPTERS: "chapters", EPISODE_TOML: "names"}
    covered = {EDIT: bool(cut), RAW_NAME: bool(words) or "speakers" in found}
    found += [names[n] for n in studio if not covered.get(n)]
    return found


def changes_since_render(ws: Workspace, ep: Episode, render: dict) -> list[str]:
    """What changed since the last render: the cuts (edit.md's keeps against the render's), the
    corrections or speakers (the raw transcript against the rendered one), chapters.json (against
    the hash the render recorded)."""
    from ..edit.markdown import parse_edit_md
    from ..pipeline import _suggest_settings

    files = Files(ep)
    found = []
    keeps = render.get("keeps") or []
    if files.edit.is_file() and files.raw.is_file() and keeps:
        transcript = files.transcript()
        options = _suggest_settings(ws.settings)
        cuts = parse_edit_md(files.edit_text(), transcript, path=files.edit, silence_max_s=options["silence_max_s"],
                             silence_keep_s=options["silence_keep_s"])
        now = cuts.keeps(max(float(keeps[-1][1]), 0.0))
        # (a video's cuts are snapped to its frames: a boundary within a frame is the same one)
        if len(now) != len(keeps) or any(abs(a - c) > 0.05 or abs(b - d) > 0.05 for (a, b), (c, d) in zip(now, keeps)):
            found.append("cuts")
        rendered = _rendered_transcript(ep)
        if rendered is not None:
            if (transcript.meta.get("corrections") or []) != (rendered.meta.get("corrections") or []):
                found.append("corrections")
            elif sorted(transcript.speakers()) != sorted(rendered.speakers()):
                found.append("speakers")
    chapters = ep.path(CHAPTERS)
    if render.get("chapters_hash") and version(chapters) != render["chapters_hash"]:
        found.append("chapters")
    return found


def _rendered_transcript(ep: Episode) -> Transcript | None:
    path = ep.path(TRANSCRIPT)
    if not path.is_file():
        return None
    key = (str(path), version(path))
    if key not in _TRANSCRIPTS:
        if len(_TRANSCRIPTS) > 8:
            _TRANSCRIPTS.clear()
        _TRANSCRIPTS[key] = Transcript.load(path)
    return _TRANSCRIPTS[key]


def _site_copy(ws: Workspace, ep: Episode, draft: bool) -> str:
    """"current" when the workspace's site (public/) has the episode's page and every one of its
    files as they are (size and time: the copies publish makes keep the time), "older" when it
    has the page with older files, else "none"."""
    site = ws.root / "public" / "episodes" / ep.slug
    if draft or not (site / "index.html").is_file():
        return "none"
    for f in EPISODE_FILES:
        mine, theirs = ep.path(f.name), site / f.name
        if mine.is_file():
            if not theirs.is_file():
                return "older"
            a, b = mine.stat(), theirs.stat()
            if a.st_size != b.st_size or a.st_mtime_ns != b.st_mtime_ns:
                return "older"
    return "current"


def _check_problems(ws: Workspace) -> dict:
    from ..publish.check import check_workspace

    try:
        found = check_workspace(ws, loudness=False)
    except (ChaitimeError, OSError, ValueError) as exc:
        return {"episodes": [], "workspace": [{"level": "error", "where": "workspace", "what": f"check failed: {exc}", "fix": ""}]}
    as_dict = [{"level": p.level, "where": p.where, "what": p.what, "fix": p.fix} for p in found]
    return {"episodes": [p for p in as_dict if p["where"].startswith("episodes/")],
            "workspace": [p for p in as_dict if not p["where"].startswith("episodes/")]}


# --- the editor ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Files:
    """The files of one episode the editor reads and writes."""

    episode: Episode

    @property
    def raw(self) -> Path:
        return self.episode.machine_dir / RAW

    @property
    def edit(self) -> Path:
        return self.episode.path(EDIT)

    def transcript(self) -> Transcript:
        """The raw transcript, the same object while the file's content is the same (parsing edit.md
        against it is then cached: see edit.markdown.context)."""
        key = (str(self.raw), version(self.raw))
        cached = _TRANSCRIPTS.get(key)
        if cached is not None:
            return cached
        t = Transcript.load(self.raw)
        if t.duration_s <= 0 and t.segments:
            t = Transcript(t.segments, t.language, max(s.end_s for s in t.segments), t.meta)
        if len(_TRANSCRIPTS) > 8:
            _TRANSCRIPTS.clear()
        _TRANSCRIPTS[key] = t
        return t

    def edit_text(self) -> str:
        from ..edit.markdown import read_edit_md

        if not self.edit.is_file():
            raise InputError(f"{self.edit}: missing. Run `chaitime render {self.episode.slug}` once to write it from the transcript.")
        return read_edit_md(self.edit)

    def audio(self, ws: Workspace) -> Path:
        """The sound on the original timeline: the lossless master render and clips start from
        (pipeline.master_source: the cleaned sound only while studio sound is on), else audio.mp3
        before any render."""
        from .. import pipeline

        master = pipeline.master_source(self.episode, ws)
        if master.is_file():
            return master
        if not pipeline.rendered(self.episode) and self.episode.path(AUDIO).is_file():
            return self.episode.path(AUDIO)
        raise InputError(f"{self.episode.folder}: no audio on the original timeline (.chaitime/master.flac). Run `chaitime ingest` again.")


_FILLERS: dict[tuple, tuple] = {}  # the suggested fillers of the last transcript (kept with it: its id stays its own)


def editor(ws: Workspace, ep: Episode) -> dict:
    """Everything the episode page draws: words (with their line, speaker and whether they are cut),
    suggested cuts, the markers, the cut list for the preview, speakers, and the files' versions."""
    from .. import pipeline
    from ..edit.markdown import context
    from ..edit.suggest import filler_indices

    files = Files(ep)
    meta = ep.meta()
    transcript = files.transcript()
    text = files.edit_text()
    ctx = context(transcript)  # lines and tokens made once per transcript (the parse of edit.md uses them too)
    lines = ctx.lines
    line_of = {t.index: i for i, ln in enumerate(lines) for t in ln.tokens}
    fillers = ws.settings.data.get("audio", {}).get("fillers")
    key = (id(transcript), repr(fillers))
    if key not in _FILLERS:
        _FILLERS.clear()
        _FILLERS[key] = (transcript, filler_indices(ctx.tokens, fillers))
    suggested = _FILLERS[key][1]
    state = edit_state(ws, ep, transcript, text)
    corrected = {round(c["start"], 3) for c in transcript.meta.get("corrections", []) if isinstance(c, dict) and c.get("kind") == "word"}
    removed = state["removed"]
    words = [[round(t.start_s, 3), round(t.end_s, 3), t.text, line_of[t.index], int(t.index in removed),
              int(t.index in suggested), int(round(t.start_s, 3) in corrected)] for t in ctx.tokens]
    return {
        "slug": ep.slug, "title": meta.title, "guests": list(meta.guests), "duration_s": transcript.duration_s,
        "speakers": transcript.speakers(), "people": people(ws, ep, transcript),
        "lines": [{"speaker": ln.speaker, "start_s": round(ln.start_s, 3), "end_s": round(ln.end_s, 3),
                   "first": ln.tokens[0].index, "last": ln.tokens[-1].index} for ln in lines],
        "words": words,  # [start, end, text, line, cut, suggested, corrected]
        "markers": state["markers"], "cuts": state["cuts"], "removed_s": state["removed_s"],
        "chapters": chapters_of(ep),
        "versions": {"edit": version(files.edit), "transcript": version(files.raw), "chapters": version(ep.path(CHAPTERS)),
                     "meta": version(ep.meta_path)},
        "history": history_state(ep), "reviewed": _reviewed_now(ep, transcript),
        "rendered": pipeline.rendered(ep), "fillers": sorted(FILLERS),
    }


def edit_state(ws: Workspace, ep: Episode, transcript: Transcript, text: str) -> dict:
    """What edit.md asks for now: removed words, the cut intervals (what the preview skips), markers."""
    from ..edit.markdown import parse_edit_md
    from ..edit.revise import markers
    from ..pipeline import _suggest_settings

    options = _suggest_settings(ws.settings)
    path = ep.path(EDIT)
    cuts = parse_edit_md(text, transcript, path=path, silence_max_s=options["silence_max_s"], silence_keep_s=options["silence_keep_s"])
    end = transcript.duration_s
    return {
        "removed": set(cuts.removed_words),
        "cuts": [[round(a, 3), round(min(b, end) if math.isinf(b) else b, 3)] for a, b in cuts.cuts],
        "removed_s": round(cuts.removed_s(end), 3),
        "markers": [m.__dict__ for m in markers(text, transcript, path)],
    }


# --- changes --------------------------------------------------------------------------------------------
def cut_words(ws: Workspace, ep: Episode, indices: list[int], cut: bool, seen: object, review: bool = False) -> dict:
    """Strike (or keep) words in edit.md, as a hand edit would; ``review``: they were suggestions
    the host decided on (the page shows them reviewed)."""
    from ..edit.lines import token_at
    from ..edit.revise import set_words

    what = f"{'cut' if cut else 'kept'} {len(indices)} word{'s' if len(indices) != 1 else ''}"

    def reviewed(t: Transcript) -> None:
        if review:
            _mark_reviewed(ep, words=[round(tok.start_s, 3) for tok in (token_at(t, i) for i in indices) if tok is not None])

    return _revise_edit(ws, ep, seen, lambda text, t: set_words(text, t, indices, cut, path=ep.path(EDIT)), what, then=reviewed)


def cut_markers(ws: Workspace, ep: Episode, stamps: list[str], cut: bool, seen: object, review: bool = False) -> dict:
    """Marker rows (pauses, dead air, untranscribed speech) struck or un-struck, as one change."""
    from ..edit.revise import set_marker

    def change(text: str, t: Transcript) -> str:
        for stamp in stamps:
            text = set_marker(text, t, stamp, cut, path=ep.path(EDIT))
        return text

    what = f"{'cut' if cut else 'kept'} " + (f"the {stamps[0]} pause" if len(stamps) == 1 else f"{len(stamps)} pauses")
    return _revise_edit(ws, ep, seen, change, what, then=lambda t: review and _mark_reviewed(ep, markers=stamps))


def cut_marker(ws: Workspace, ep: Episode, stamp: str, cut: bool, seen: object) -> dict:
    return cut_markers(ws, ep, [stamp], cut, seen)


# Suggestions the host decided on (Cut or Keep, one by one or all of a kind): shown as reviewed.
REVIEWED = "studio-reviewed.json"


def reviewed_of(ep: Episode) -> dict:
    try:
        data = json.loads((ep.machine_dir / REVIEWED).read_text(encoding="utf-8"))
        return {"words": [float(x) for x in data.get("words", [])], "markers": [str(x) for x in data.get("markers", [])]}
    except (OSError, ValueError, TypeError, AttributeError):
        return {"words": [], "markers": []}


def _mark_reviewed(ep: Episode, words: list[float] = (), markers: list[str] = ()) -> None:
    data = reviewed_of(ep)
    new = {"words": sorted(set(data["words"]) | set(words)), "markers": sorted(set(data["markers"]) | set(markers))}
    if new != data:
        fsutil.write_text(ep.machine_dir / REVIEWED, json.dumps(new, separators=(",", ":")))


def _revise_edit(ws: Workspace, ep: Episode, seen: object, change, what: str = "cut", then=None) -> dict:
    files = Files(ep)
    with held(ep):
        check_version(files.edit, seen)
        transcript = files.transcript()
        before = files.edit.read_bytes()
        new = change(files.edit_text(), transcript)
        state = edit_state(ws, ep, transcript, new)  # never write a file render would refuse
        fsutil.write_text(files.edit, new)
        History(ep).record("edit", what, {EDIT: before}, {EDIT: new.encode("utf-8")})
        if then is not None:
            then(transcript)
    return {"removed": sorted(state["removed"]), "cuts": state["cuts"], "markers": state["markers"],
            "removed_s": state["removed_s"], "versions": {"edit": version(files.edit)}, "history": history_state(ep),
            "reviewed": _reviewed_now(ep, transcript)}


def _reviewed_now(ep: Episode, transcript: Transcript) -> dict:
    """The reviewed suggestions as the page numbers them: word numbers, marker stamps."""
    from ..edit.markdown import context

    seen = reviewed_of(ep)
    if not seen["words"]:
        return {"words": [], "markers": seen["markers"]}
    starts = set(seen["words"])
    return {"words": [t.index for t in context(transcript).tokens if round(t.start_s, 3) in starts], "markers": seen["markers"]}


def correct(ws: Workspace, ep: Episode, index: int, text: str, seen: object) -> dict:
    """A misheard word fixed in transcript.raw.json (recorded as a correction) and the episode's
    transcript files; after a render they follow at the next render."""
    from ..edit.lines import token_at
    from ..transcript import corrections

    def change(t: Transcript) -> Transcript:
        token = token_at(t, index) if isinstance(index, int) and not isinstance(index, bool) else None
        if token is None:
            raise InputError(f"no word {index!r} in the transcript. Reload the page.")
        return _no_empty_correction(corrections.correct_word(t, token.start_s, token.text, same_sentences(token.text, text)),
                                    token.start_s)

    return _revise_transcript(ws, ep, seen, change, what=f"corrected a word to “{' '.join(text.split())}”", words=True)


def _no_empty_correction(t: Transcript, start_s: float) -> Transcript:
    """A word corrected back to what the transcript first said is no correction: its record goes."""
    from dataclasses import replace

    items = t.meta.get("corrections")
    if not isinstance(items, list):
        return t
    kept = [c for c in items if not (isinstance(c, dict) and c.get("kind") == "word" and abs(c.get("start", -1) - round(start_s, 3)) < 0.0015
                                     and str(c.get("text", "")).strip() == str(c.get("was", "")).strip())]
    if len(kept) == len(items):
        return t
    meta = {k: v for k, v in t.meta.items() if k != "corrections"}
    return replace(t, meta={**meta, "corrections": kept} if kept else meta)


def same_sentences(was: str, text: str) -> str:
    """``text`` ending a sentence exactly where ``was`` did: edit.md's lines break after a sentence's
    last word, so a correction that ended or joined sentences would move the lines the host's cuts are on."""
    from ..edit.lines import SENTENCE_END

    text = " ".join(text.split())
    ends = was.strip().endswith(SENTENCE_END)
    if ends and not text.endswith(SENTENCE_END):
        tail = was.strip()[len(was.strip().rstrip("".join(SENTENCE_END) + "\"')")):]
        return text + tail
    if not ends:
        return text.rstrip("".join(SENTENCE_END)) or text
    return text


def replace_all(ws: Workspace, ep: Episode, index: object, text: str, vocabulary: bool, seen: object) -> dict:
    """Every word reading like word ``index`` corrected to ``text`` (each kept where its sentence
    ends); with ``vocabulary``, ``text`` also goes into chaitime.toml's [transcribe] vocabulary."""
    from ..edit.lines import token_at
    from ..transcript import corrections

    count = {"n": 0}

    def change(t: Transcript) -> Transcript:
        token = token_at(t, index) if isinstance(index, int) and not isinstance(index, bool) else None
        if token is None:
            raise InputError(f"no word {index!r} in the transcript. Reload the page.")
        new, count["n"] = corrections.replace_everywhere(t, token.text, text)
        return new

    result = _revise_transcript(ws, ep, seen, change, what=f"replaced every “{' '.join(text.split())}”", words=True)
    result["replaced"] = count["n"]
    if vocabulary:
        result["vocabulary"] = add_vocabulary(ws, text.strip().strip(".,!?;:\"'()…"))
    return result


def add_vocabulary(ws: Workspace, term: str) -> str:
    """``term`` added to chaitime.toml's [transcribe] vocabulary by changing that one line (comments
    and layout kept); the file is written only if it reads back as before plus the term."""
    import re
    import tomllib

    from .. import config

    path = ws.root / config.CONFIG_NAME
    config.check_text(term, "vocabulary term", max_len=config.MAX_TERM, required=True, error=InputError)
    said: list[str] = []

    def add(text: str) -> str | None:
        before = tomllib.loads(text)
        have = before.get("transcribe", {}).get("vocabulary", [])
        if term in have:
            said.append(f"{term!r} is already in the vocabulary.")
            return None
        line = re.compile(r"^(vocabulary\s*=\s*\[)(.*)(\].*)$", re.M)
        found = line.search(text.split("[transcribe]", 1)[1]) if "[transcribe]" in text else None
        quoted = json.dumps(term, ensure_ascii=False)  # a JSON string is a TOML basic string
        if found and "vocabulary" in before.get("transcribe", {}):
            head, rest = text.split("[transcribe]", 1)
            inner = found.group(2).rstrip()
            rest = rest[: found.start()] + found.group(1) + (inner + ", " if inner else "") + quoted + found.group(3) + rest[found.end():]
            new = head + "[transcribe]" + rest
        elif "[transcribe]" in text and "vocabulary" not in before.get("transcribe", {}):
            new = re.sub(r"^\[transcribe\][^\n]*\n", lambda m: m.group(0) + f"vocabulary = [{quoted}]\n", text, count=1, flags=re.M)
        else:
            new = None
        expected = {**before, "transcribe": {**before.get("transcribe", {}), "vocabulary": [*have, term]}}
        try:
            ok = new is not None and tomllib.loads(new) == expected
        except tomllib.TOMLDecodeError:
            ok = False
        if not ok:
            said.append(f"add {term!r} to [transcribe] vocabulary in chaitime.toml by hand (the file's layout wasn't one the studio edits safely).")
            return None
        return new

    config.edit_settings_text(path, add)
    if said:
        return said[0]
    return f"{term!r} added to the show's vocabulary (chaitime.toml)."


# --- people: who speaks, matched by name whatever its case --------------------------------------------
def _key(name: object) -> str:
    return " ".join(str(name).split()).casefold()


def people(ws: Workspace, ep: Episode, transcript: Transcript) -> list[str]:
    """Everyone the episode knows, for the page's picker: who speaks in the transcript, the show's
    hosts, the episode's guests; one spelling each (the first met), compared without case."""
    from ..speakers.names import real_names

    seen: dict[str, str] = {}
    for name in [*transcript.speakers(), *real_names(ws.settings.hosts), *real_names(ep.meta().guests)]:
        if _key(name):
            seen.setdefault(_key(name), " ".join(str(name).split()))
    return list(seen.values())


def known_as(ws: Workspace, ep: Episode, transcript: Transcript, name: str) -> str:
    """``name`` as the episode already spells that person ("guest one" is "Guest One"), else as typed."""
    wanted = _key(name)
    return next((p for p in people(ws, ep, transcript) if _key(p) == wanted), " ".join(name.split()))


def _generic(name: str) -> bool:
    """A diarization label or a role, not a person's name: never listed as a guest."""
    import re

    from ..config import PLACEHOLDER_NAME
    from ..speakers.names import HOST_ROLE

    return bool(re.fullmatch(r"(speaker|spk|s)[ _-]?\d+|unknown|\?", _key(name))) or name in (PLACEHOLDER_NAME, HOST_ROLE)


def _update_people(ws: Workspace, ep: Episode, old: str | None, new: str) -> None:
    """episode.toml after ``new`` speaks (``old`` renamed to ``new``, or a line given to ``new``):
    [speakers] names ``old``'s label ``new``; ``guests`` has ``new`` (unless a host or a label) in
    ``old``'s place, once. The feed and the site take the people from episode.toml."""
    from ..speakers.names import real_names
    from ..workspace import update_meta

    meta = ep.meta()
    hosts = {_key(h) for h in real_names(ws.settings.hosts)}
    mapping = dict(meta.speakers)
    guests = list(meta.guests)
    if old is not None:
        mapping = {label: (new if _key(name) == _key(old) else name) for label, name in mapping.items()}
        guests = [new if _key(g) == _key(old) else g for g in guests]
    if _key(new) in hosts or _generic(new):
        guests = [g for g in guests if _key(g) != _key(new)]
    elif all(_key(g) != _key(new) for g in guests):
        guests.append(new)
    once: dict[str, str] = {}
    for g in guests:
        once.setdefault(_key(g), g)
    guests = list(once.values())
    if mapping != meta.speakers or tuple(guests) != meta.guests:
        ep.write_meta(update_meta(meta, speakers=mapping, guests=tuple(guests)))


def _people_result(ws: Workspace, ep: Episode, result: dict, name: str) -> dict:
    transcript = Files(ep).transcript()
    return {**result, "speaker": name, "speakers": transcript.speakers(), "people": people(ws, ep, transcript),
            "guests": list(ep.meta().guests)}


def reassign(ws: Workspace, ep: Episode, line: int, speaker: str, seen: object) -> dict:
    """A whole edit line said by ``speaker`` (an existing person matched without case; a new one
    goes into episode.toml's guests)."""
    from ..edit.lines import split_lines
    from ..transcript import corrections

    chosen = {}

    def change(t: Transcript) -> Transcript:
        lines = split_lines(t)
        if not isinstance(line, int) or not 0 <= line < len(lines):
            raise InputError(f"no line {line!r} in the transcript. Reload the page.")
        chosen["name"] = known_as(ws, ep, t, speaker)
        return corrections.reassign(t, lines[line].start_s, lines[line].end_s, chosen["name"])

    result = _revise_transcript(ws, ep, seen, change, then=lambda: _update_people(ws, ep, None, chosen["name"]),
                                what=f"line {line} given to {' '.join(speaker.split())}")
    return _people_result(ws, ep, result, chosen["name"])


def rename(ws: Workspace, ep: Episode, old: str, new: str, seen: object) -> dict:
    """A speaker renamed in the transcript and in episode.toml's [speakers] table and guests (so a
    re-ingest names them alike, and the feed and site list them); a name another speaker has
    (without case) merges the two."""
    from ..transcript import corrections

    chosen = {}

    def change(t: Transcript) -> Transcript:
        chosen["name"] = known_as(ws, ep, t, new) if _key(new) != _key(old) else " ".join(new.split())
        return corrections.rename(t, old, chosen["name"])

    result = _revise_transcript(ws, ep, seen, change, then=lambda: _update_people(ws, ep, old, chosen["name"]),
                                what=f"{old} renamed {' '.join(new.split())}")
    return _people_result(ws, ep, result, chosen["name"])


def _changed_words(old: Transcript, new: Transcript) -> list[list]:
    """The words whose text changed, as the page numbers them: [word, text, corrected]. A segment
    a correction didn't touch is the same object in both (only the touched ones are compared)."""
    corrected = {round(c["start"], 3) for c in new.meta.get("corrections", []) if isinstance(c, dict) and c.get("kind") == "word"}
    out, index = [], 0
    for si, seg in enumerate(new.segments):
        words = _segment_words(seg)
        if si < len(old.segments) and old.segments[si] is seg:
            index += len(words)
            continue
        before = _segment_words(old.segments[si]) if si < len(old.segments) else []
        for k, w in enumerate(words):
            if k >= len(before) or before[k].text != w.text:
                out.append([index + k, w.text.strip(), int(round(w.start_s, 3) in corrected)])
        index += len(words)
    return out


def _segment_words(seg) -> list:
    """A segment's words as edit.lines.tokens_of counts them (one for a segment without word times)."""
    return [w for w in seg.words if w.text.strip()] or ([seg] if seg.text.strip() else [])


def _revise_transcript(ws: Workspace, ep: Episode, seen: object, change, then=None, what: str = "transcript", words: bool = False) -> dict:
    """A change of the raw transcript (a correction, a speaker), saved at once; ``then()`` runs
    under the same hold (episode.toml's names). Not rendered yet: the transcript files, and then the
    untouched post and show notes, follow on the formats thread. Rendered: render brings them."""

    files = Files(ep)
    with held(ep):
        check_version(files.raw, seen)
        before = {RAW_NAME: files.raw.read_bytes(), EPISODE_TOML: _read(ep.meta_path)}
        old = files.transcript()
        new = change(old)
        text = new.to_json()
        fsutil.write_text(files.raw, text)
        seen_now = version(files.raw)
        _TRANSCRIPTS[(str(files.raw), seen_now)] = new
        if then is not None:
            then()
        History(ep).record("transcript", what, before, {RAW_NAME: text.encode("utf-8"), EPISODE_TOML: _read(ep.meta_path)})
        _follow_transcript(ws, ep, text)
    result = {"versions": {"transcript": seen_now, "meta": version(ep.meta_path)}, "history": history_state(ep)}
    if words:  # the page changes only these
        result["words"] = _changed_words(old, new)
    return result


def _follow_transcript(ws: Workspace, ep: Episode, text: str) -> None:
    """Not rendered: the episode's transcript files are the raw transcript (transcript.json now, the
    formats on their thread). Rendered: render brings them."""
    from .. import pipeline

    if not pipeline.rendered(ep):
        fsutil.write_if_changed(ep.path(TRANSCRIPT), text)
        _schedule_formats(ws, ep)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


# VTT, SRT, text and the Podcasting 2.0 JSON follow a correction on one worker thread once the host
# has paused (QUIET_S without another transcript change: a run of corrections is written once);
# they never hold up a save (saves and this thread hold different locks of the episode, see held).
# The draft stage (an untouched post follows) waits for a longer pause, DRAFT_QUIET_S, and holds
# the saves while it runs (it sweeps the episode's temporary files, a save's among them).
_FORMATS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="studio-formats")
QUIET_S = 0.8
DRAFT_QUIET_S = 4.0
_LAST_CHANGE: dict[Path, float] = {}
_FORMATTED: dict[Path, str | None] = {}  # the raw transcript version the formats were last written from
_DRAFTED: dict[Path, str | None] = {}  # ... and the draft stage run on
_HURRY = threading.Event()  # settle(): no waiting for a pause


def _schedule_formats(ws: Workspace, ep: Episode) -> None:
    _LAST_CHANGE[ep.folder] = time.monotonic()
    _FORMATS.submit(_refresh_formats, ws, ep)


def _quiet(ep: Episode, seconds: float) -> None:
    while not _HURRY.is_set() and time.monotonic() - _LAST_CHANGE.get(ep.folder, 0.0) < seconds:
        time.sleep(0.05)


def _refresh_formats(ws: Workspace, ep: Episode) -> None:
    """The transcript formats from the raw transcript, unless a render has re-timed them since;
    then the draft stage (pipeline.writing.refresh): an untouched post follows the correction."""
    from .. import pipeline
    from ..transcript.formats import WRITERS

    files = Files(ep)
    try:
        _quiet(ep, QUIET_S)
        seen = version(files.raw)
        if _FORMATTED.get(ep.folder) != seen:
            transcript = files.transcript()
            texts = {name: WRITERS[fmt](transcript) for fmt, name in TRANSCRIPT_FILES.items()}  # outside the lock: saves go on
            if not _while_free(ep, lambda: _write_formats(ep, files, seen, texts), sources=False):
                return
        _quiet(ep, DRAFT_QUIET_S)
        if _DRAFTED.get(ep.folder) == seen or version(files.raw) != seen:  # done, or corrected again: that one's refresh drafts
            return

        def draft() -> None:
            if not pipeline.rendered(ep) and version(files.raw) == seen:
                for note in pipeline.refresh_writing(ep, ws):
                    log.info("%s: %s", ep.slug, note)
            _DRAFTED[ep.folder] = seen

        _while_free(ep, draft, sources=True)
    except (ChaitimeError, OSError) as exc:
        log.warning("%s: transcript formats not refreshed: %s", ep.slug, exc)


def _write_formats(ep: Episode, files: Files, seen: str | None, texts: dict[str, str]) -> None:
    from .. import pipeline

    # Rendered since, or corrected again (that correction queued its own refresh): nothing to do.
    if pipeline.rendered(ep) or version(files.raw) != seen:
        return
    for name, text in texts.items():
        fsutil.write_if_changed(ep.path(name), text)
    _FORMATTED[ep.folder] = seen


def _while_free(ep: Episode, fn, sources: bool) -> bool:
    """``fn()`` holding the episode's derived files (and its sources with ``sources``), waiting
    while a render (the CLI's) holds the episode; False if it stayed busy for 30 s."""
    for _ in range(600):
        try:
            with held(ep, sources=sources, derived=True):
                fn()
                return True
        except BusyError:
            time.sleep(0.05)
    log.warning("%s: transcript formats not refreshed: the episode stayed busy", ep.slug)
    return False


@dataclass
class _Hold:
    """One episode as the studio holds it: ``sources`` serializes the saves of the host's files
    (edit.md, the raw transcript, episode.toml), ``derived`` the files made from them (captions,
    the draft, post.md); the episode's lock (the flock another chaitime process is kept out by) is
    held once while any of them is."""

    sources: threading.Lock = field(default_factory=threading.Lock)
    derived: threading.Lock = field(default_factory=threading.Lock)
    guard: threading.Lock = field(default_factory=threading.Lock)
    count: int = 0
    flock: ExitStack | None = None


_HOLDS: dict[Path, _Hold] = {}
_HOLDS_GUARD = threading.Lock()


def _hold_of(ep: Episode) -> _Hold:
    with _HOLDS_GUARD:
        return _HOLDS.setdefault(ep.folder, _Hold())


@contextmanager
def held(ep: Episode, *, sources: bool = True, derived: bool = False) -> Iterator[None]:
    """The episode for one studio change: studio threads changing the same files wait for each
    other (a save is a few ms; the caption thread never holds up a save), another chaitime process
    (a render from the CLI) makes it BusyError at once."""
    hold = _hold_of(ep)
    with ExitStack() as stack:
        if sources:
            stack.enter_context(hold.sources)
        if derived:
            stack.enter_context(hold.derived)
        with hold.guard:
            if hold.count == 0:
                flock = ExitStack()
                flock.enter_context(ep.lock())
                hold.flock = flock
            hold.count += 1
        try:
            yield
        finally:
            with hold.guard:
                hold.count -= 1
                if hold.count == 0 and hold.flock is not None:
                    hold.flock.close()
                    hold.flock = None


def _busy_here(ep: Episode) -> bool:
    """Whether this studio holds the episode now (a save or the caption thread)."""
    hold = _HOLDS.get(ep.folder)
    return hold is not None and hold.count > 0


def settle() -> None:
    """Write the transcript formats and the draft queued by corrections now, without waiting for
    a pause, and wait until they are written (before a render, in tests)."""
    _HURRY.set()
    try:
        _FORMATS.submit(lambda: None).result()
    finally:
        _HURRY.clear()


# --- chapters: shown and edited on the original timeline ------------------------------------------------
def _render_map(ep: Episode):
    """The last render's time map (original -> edited), or None before any render."""
    from .. import pipeline
    from ..edit.cutlist import TimeMap

    record = pipeline.render_record(ep)
    keeps = record.get("keeps")
    return TimeMap(tuple(tuple(k) for k in keeps), float(record.get("offset_s", 0.0))) if keeps else None


def _timeline_end(ep: Episode, original_s: float) -> float:
    """Where chapters.json's timeline ends: the rendered audio's length once rendered, else the recording's."""
    from .. import pipeline

    rendered = pipeline.render_record(ep).get("duration_s")
    return float(rendered) if isinstance(rendered, (int, float)) and not isinstance(rendered, bool) else original_s


def chapters_of(ep: Episode) -> list[dict]:
    """chapters.json on the original timeline (after a render it is on the edited one: moved back)."""
    from ..edit.retime import unretime_chapters
    from ..writing.chapters import load_chapters

    path = ep.path(CHAPTERS)
    if not path.is_file():
        return []
    chapters = load_chapters(path)
    timemap = _render_map(ep)
    if timemap is not None:
        chapters = unretime_chapters(chapters, timemap)
    return [{"start_s": round(c.start_s, 3), "title": c.title} for c in chapters]


def set_chapters(ws: Workspace, ep: Episode, items: object, seen: object) -> dict:
    """chapters.json as the page lists them (added, moved, renamed, deleted), written on the timeline
    the file is on; `chaitime render` moves them with the cuts and into the MP3's chapters."""
    from .. import config
    from ..writing.chapters import Chapter, chapters_json

    duration = Files(ep).transcript().duration_s
    if not isinstance(items, list) or len(items) > 500:
        raise InputError("chapters must be a list (500 at most).")
    chapters = []
    for n, item in enumerate(items, start=1):
        start = item.get("start_s") if isinstance(item, dict) else None
        if isinstance(start, bool) or not isinstance(start, (int, float)) or not 0 <= start <= duration:
            raise InputError(f"chapter {n}: start_s must be a time from 0 to {duration:.3f} s.")
        config.check_text(item.get("title"), f"chapter {n}: title", required=True, max_len=200, error=InputError)
        chapters.append(Chapter(round(float(start), 3), " ".join(item["title"].split())))
    chapters.sort(key=lambda c: c.start_s)
    if any(b.start_s - a.start_s < 1.0 for a, b in zip(chapters, chapters[1:])):
        raise InputError("two chapters start less than 1 s apart: move one, or delete it.")
    timemap = _render_map(ep)
    on_file = [Chapter(round(timemap(c.start_s), 3), c.title) if timemap else c for c in chapters]
    # Each ends where the next starts, the last at the end of the timeline the file is on (as the
    # draft writes them: Podcasting 2.0 players show endTime, and the MP3's CHAP frames carry it).
    end = _timeline_end(ep, duration)
    on_file = [Chapter(c.start_s, c.title, round(max(c.start_s, nxt.start_s if nxt else end), 3))
               for c, nxt in zip(on_file, [*on_file[1:], None])]
    path = ep.path(CHAPTERS)
    with held(ep, derived=True):
        check_version(path, seen)
        before = _read(path)
        text = chapters_json(on_file)
        fsutil.write_text(path, text)
        History(ep).record("chapters", "chapters changed", {CHAPTERS: before}, {CHAPTERS: text.encode("utf-8")})
    return {"chapters": chapters_of(ep), "versions": {"chapters": version(path)}, "history": history_state(ep)}


# --- the post -----------------------------------------------------------------------------------------
MAX_POST = 1 << 20


def post(ep: Episode) -> dict:
    """post.md as text, its version, and its HTML as the site renders it."""
    from ..publish.site import post_html

    path = ep.path(POST)
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    return {"text": text, "html": post_html(text), "version": version(path)}


def preview_post(text: object) -> dict:
    from ..publish.site import post_html

    return {"html": post_html(_post_text(text))}


def save_post(ep: Episode, text: object, seen: object) -> dict:
    """post.md as the host wrote it in the studio (from now on theirs: `chaitime draft` writes post.draft.md)."""
    text = _post_text(text)
    path = ep.path(POST)
    with held(ep, derived=True):
        check_version(path, seen)
        fsutil.write_text(path, text)
    return {"version": version(path)}


def quote(ep: Episode, first: object, last: object, seen: object) -> dict:
    """Words ``first``..``last`` of the transcript, verbatim, as a pull quote with its speaker and time
    link (the post's own form), put in post.md before "## The conversation" (or at its end)."""
    from ..edit.lines import tokens_of
    from ..writing.post import Quote, _quote_block

    transcript = Files(ep).transcript()
    tokens = tokens_of(transcript)
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in (first, last)) or not 0 <= first <= last < len(tokens) \
            or last - first > 200:
        raise InputError("a quote is a run of 1-200 words of the transcript: select them again.")
    run = tokens[first : last + 1]
    text = "".join(t.word.text for t in run).strip()
    timemap = _render_map(ep)  # the post goes with the rendered audio: its times are on the edited timeline
    start = timemap(run[0].start_s) if timemap else run[0].start_s
    block = _quote_block(Quote(text, run[0].word.speaker, start), AUDIO)
    path = ep.path(POST)
    with held(ep, derived=True):
        check_version(path, seen)
        current = path.read_text(encoding="utf-8") if path.is_file() else ""
        marker = "\n## The conversation"
        at = current.find(marker)
        new = current[:at].rstrip("\n") + "\n\n" + block + "\n" + current[at:] if at >= 0 else current.rstrip("\n") + "\n\n" + block + "\n"
        fsutil.write_text(path, new)
    return {"quote": block, "version": version(path)}


def _post_text(text: object) -> str:
    if not isinstance(text, str) or len(text) > MAX_POST or "\x00" in text:
        raise InputError("post.md must be text (1 MB at most, no NUL bytes).")
    return text


# --- undo and redo: the studio's history of its own changes ----------------------------------------------
def history_state(ep: Episode) -> dict:
    """What Undo and Redo would do now (None: nothing)."""
    data = History(ep).load()
    return {"undo": data["done"][-1]["what"] if data["done"] else None, "redo": data["undone"][-1]["what"] if data["undone"] else None}


def step(ws: Workspace, ep: Episode, undo: bool) -> dict:
    """Undo (or redo) the studio's last change: its files put back exactly as they were before it
    (or after it), each only if it is still as the change left it (else a Conflict: a hand edit
    since is never overwritten). The transcript's files follow as after any correction."""
    history = History(ep)
    word = "undo" if undo else "redo"
    with held(ep, derived=True):
        data = history.load()
        source, target = ("done", "undone") if undo else ("undone", "done")
        if not data[source]:
            raise InputError(f"nothing to {word}.")
        entry = data[source][-1]
        put = {}
        for name, (before, after) in entry["files"].items():
            expected, wanted = (after, before) if undo else (before, after)
            if version(ep.folder / name) != expected:
                raise Conflict(f"{Path(name).name} changed since the studio's change ({entry['what']}), in another program or by "
                               f"a command: {word} would lose that. Reload to see it; change it back by hand if you want.")
            content = history.content(wanted)
            if wanted is not None and content is None:
                raise InputError(f"the studio's copy of {Path(name).name} for this {word} is gone (.chaitime/studio-history/). "
                                 "Change it back by hand.")
            put[name] = content
        for name, content in put.items():
            path = ep.folder / name
            if content is None:
                path.unlink(missing_ok=True)
            else:
                fsutil.write_bytes(path, content)
        data[source].pop()
        data[target].append(entry)
        history.save(data)
        if RAW_NAME in put and put[RAW_NAME] is not None:
            _follow_transcript(ws, ep, put[RAW_NAME].decode("utf-8"))
    result = {"kind": entry["kind"], "what": entry["what"], "files": sorted(put), "history": history_state(ep),
              "versions": {"edit": version(ep.path(EDIT)), "transcript": version(ep.machine_dir / RAW),
                           "chapters": version(ep.path(CHAPTERS)), "meta": version(ep.meta_path)}}
    return result


# --- the waveform -------------------------------------------------------------------------------------
def peaks(ws: Workspace, ep: Episode) -> Path:
    """Waveform peaks (PEAKS_PER_S a second, 0-1) as JSON, cached in .chaitime/ by the audio's identity."""
    files = Files(ep)
    audio = files.audio(ws)
    key = fsutil.text_hash("peaks", _audio_identity(ep, audio), PEAKS_PER_S, PEAKS_VERSION)
    cache = ep.machine_dir / PEAKS
    if cache.is_file():
        head = cache.read_bytes()[:80].decode("utf-8", "replace")
        if key in head:
            return cache
    samples = _samples(ep, audio)
    per = 16000 // PEAKS_PER_S
    n = len(samples) // per
    if n == 0:
        values: list[float] = []
    else:
        block = np.abs(samples[: n * per].astype(np.int32)).reshape(n, per).max(axis=1)
        top = max(1, int(block.max()))
        values = np.round(block / top, 3).tolist()
    fsutil.write_text(cache, json.dumps({"key": key, "per_s": PEAKS_PER_S, "peaks": values}, separators=(",", ":")))
    return cache


def _audio_identity(ep: Episode, audio: Path) -> str:
    """The master's content, by the extract stage's key when ingest recorded one (no re-hashing an hour of FLAC)."""
    from .. import pipeline

    stages = pipeline.records(ep)
    stage = {MASTER_FLAC: "extract", SOUND_FLAC: "sound"}.get(audio.name)
    if stage and stages.get(stage):
        return f"{stage}:{stages[stage]}"
    stat = audio.stat()  # hashed once per process while the file stays the same one
    seen = (str(audio), stat.st_size, stat.st_mtime_ns)
    if seen not in _HASHED:
        _HASHED[seen] = fsutil.file_hash(audio)
    return _HASHED[seen]


_HASHED: dict[tuple, str] = {}


def _samples(ep: Episode, audio: Path) -> np.ndarray:
    """16 kHz mono int16: ingest's copy of ``audio`` when there is one, else decoded from it."""
    speech = ep.machine_dir / (SOUND_S16 if audio.name == SOUND_FLAC else SPEECH)
    if speech.is_file():
        return np.fromfile(speech, dtype="<i2")
    from ..speakers.audio import decode

    return decode(audio, channels=1, rate=16000)[:, 0]
