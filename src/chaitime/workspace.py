"""A show workspace (a folder with chaitime.toml, episodes/, feeds/) and its episode folders.

What the host edits (episode.toml, edit.md, post.md) is never overwritten without their say;
what the machine owns lives in each episode's .chaitime/ folder.
"""

from __future__ import annotations

import fcntl
import os
import re
import tomllib
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import tomli_w

from . import config, fsutil
from .errors import BusyError, ConfigError

EPISODE_TOML = "episode.toml"
MACHINE_DIR = ".chaitime"
INCOMPLETE = "incomplete"  # .chaitime/incomplete: why the episode is not finished (absent: complete)
SOURCE_HASH = "source.hash"


# --- the folder contract: the one place the episode folder's file names are spelled -------------
AUDIO, VIDEO, CHAPTERS, TRANSCRIPT, POST = "audio.mp3", "video.mp4", "chapters.json", "transcript.json", "post.md"
EDIT, YOUTUBE, SOUND_SVG, CLIPS, VTT, SRT = "edit.md", "youtube.txt", "sound.svg", "clips", "transcript.vtt", "transcript.srt"
# .chaitime/: the machine's files (never published; a damaged one is made again by its owner)
SPEECH, MASTER_FLAC, LOUDNESS, LOUDNESS_OUT = "speech.s16", "master.flac", "loudness.json", "loudness.out.json"
ASR_JSON, SPEAKERS_JSON, RAW = "transcript.asr.json", "speakers.json", "transcript.raw.json"
SOUND_FLAC, SOUND_S16, SOUND_JSON = "sound.flac", "sound.s16", "sound.json"
TRACKS_FLAC, TRACKS_S16, TRACKS_JSON = "tracks.flac", "tracks.s16", "tracks.json"
RENDER_JSON, CUT_FLAC, EDITED_FLAC, CHAPTERS_ORIG = "render.json", "cut.flac", "edited.flac", "chapters.orig.json"
SOURCE_JSON, EDIT_BEFORE_REINGEST, PEAKS = "source.json", "edit.before-reingest.md", "studio-peaks.json"


@dataclass(frozen=True)
class EpisodeFile:
    """A file of the episode folder: who makes it, whether the host may take it over, and (for
    the files listeners and players get) its MIME type and its role in the feed and the site."""

    name: str
    owner: str  # the stage that writes it (pipeline/graph.py); "host" for the host's alone
    mime: str = ""
    label: str = ""  # its download link on the episode page; "" when it is not offered for download
    transcript_format: str | None = None  # written from transcript.json by transcript.formats.WRITERS[...]
    feed_transcript: bool = False  # listed in the feed as a podcast:transcript
    captions: bool = False  # timed captions (rel="captions")
    host_edits: bool = False  # once the host edited it, it is theirs: a new draft goes beside it
    machine: bool = False  # in .chaitime/


# The one table the feed, the site, check, the studio and ingest's file list are derived from.
# Transcripts in feed order: VTT first, it is what Apple and most players take in. Owners are
# the stages of pipeline/graph.py ("speakers, render": the speakers stage until the host renders an edit).
FOLDER = (
    EpisodeFile(EPISODE_TOML, "host", "application/toml", host_edits=True),
    EpisodeFile(AUDIO, "master, render", "audio/mpeg", "MP3"),
    EpisodeFile(VIDEO, "master, render", "video/mp4", "Video"),
    EpisodeFile(VTT, "speakers, render", "text/vtt", "Transcript (VTT)", "vtt", feed_transcript=True, captions=True),
    EpisodeFile(SRT, "speakers, render", "application/x-subrip", "Transcript (SRT)", "srt", feed_transcript=True, captions=True),
    EpisodeFile("transcript.txt", "speakers, render", "text/plain", "Transcript (text)", "txt"),
    EpisodeFile("transcript.podcast.json", "speakers, render", "application/json", "Transcript (JSON)", "podcast.json",
                feed_transcript=True),
    EpisodeFile(CHAPTERS, "draft, render", "application/json+chapters", "Chapters (JSON)"),
    EpisodeFile(TRANSCRIPT, "speakers, render", "application/json"),
    EpisodeFile(EDIT, "speakers", "text/markdown", host_edits=True),
    EpisodeFile(POST, "draft", "text/markdown", host_edits=True),
    EpisodeFile(YOUTUBE, "draft", "text/plain", host_edits=True),
    EpisodeFile(SOUND_SVG, "sound", "image/svg+xml"),
    *(EpisodeFile(name, owner, machine=True) for name, owner in (
        (SPEECH, "extract"), (MASTER_FLAC, "extract"), (LOUDNESS, "extract"), (ASR_JSON, "transcribe"), (SPEAKERS_JSON, "speakers"),
        (RAW, "speakers"), (TRACKS_FLAC, "tracks"), (TRACKS_S16, "tracks"), (TRACKS_JSON, "tracks"), (SOUND_FLAC, "sound"),
        (SOUND_S16, "sound"), (SOUND_JSON, "sound"), (LOUDNESS_OUT, "master"), (RENDER_JSON, "render"), (CUT_FLAC, "render"),
        (EDITED_FLAC, "render"), (CHAPTERS_ORIG, "render"), (SOURCE_JSON, "ingest"), (SOURCE_HASH, "ingest"),
        (EDIT_BEFORE_REINGEST, "speakers"), (PEAKS, "studio"))),
    EpisodeFile(CLIPS, "clip", "video/mp4"),  # a folder: clips/clip-MMmSSs-MMmSSs[-vertical].mp4
)
EPISODE_FILES = tuple(f for f in FOLDER if f.label)  # what listeners get: downloads, enclosures, transcripts
TRANSCRIPT_FILES = {f.transcript_format: f.name for f in EPISODE_FILES if f.transcript_format}  # format -> file name
FEED_TRANSCRIPTS = tuple(f for f in EPISODE_FILES if f.feed_transcript)


def draft_name(name: str) -> str:
    """Where the new draft of a host-edited file goes: 'post.md' -> 'post.draft.md'."""
    p = Path(name)
    return f"{p.stem}.draft{p.suffix}"


# The episode folder as ingest lists it: the contract's files and the drafts beside the host's.
LISTED = tuple(n for f in FOLDER if not f.machine and f.name != CLIPS for n in ((f.name, draft_name(f.name)) if f.host_edits and f.name != EPISODE_TOML and f.name != EDIT
                                                              else (f.name,)))
# Namespace for episode guids derived from the recording's content hash: the same recording gets
# the same guid in any workspace, and the guid is stored once in episode.toml and never recomputed.
GUID_NAMESPACE = uuid.UUID("5b0e3c9e-2f43-4d8b-9a51-6c6861697469")


@dataclass(frozen=True)
class EpisodeMeta:
    """episode.toml: the host's metadata for one episode."""

    title: str
    guid: str
    date: str  # YYYY-MM-DD
    time: str | None = None  # HH:MM release time in the show's timezone; midnight when unset
    number: int | None = None
    season: int | None = None
    guests: tuple[str, ...] = ()
    description: str = ""
    explicit: bool = False
    draft: bool = False
    episode_type: str = "full"
    speakers: dict[str, str] = field(default_factory=dict)  # label -> name, host-fixable
    extra: dict[str, Any] = field(default_factory=dict)  # keys we don't know yet, kept as they are

    def to_toml(self) -> str:
        data: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "extra" or value is None:
                continue
            data[f.name] = list(value) if isinstance(value, tuple) else value
        data.update(self.extra)
        header = (
            "# episode.toml: this episode's metadata. Edit freely; chaitime never overwrites your changes.\n"
            "# guid identifies the episode in podcast apps forever: don't change it.\n"
        )
        return header + tomli_w.dumps(data)


def _meta_from(path: Path, data: dict[str, Any]) -> EpisodeMeta:
    known = {f.name for f in fields(EpisodeMeta)} - {"extra"}
    for key in ("title", "guid", "date"):
        if not data.get(key):
            raise ConfigError(f"{path}: missing key {key!r}. Add it (see another episode.toml), or delete the file and re-run ingest.")
    try:
        config.check_date(str(data["date"]))
    except ValueError as exc:
        raise ConfigError(f"{path}: date {data['date']!r}: {exc}") from exc
    if "time" in data:
        try:
            data = {**data, "time": config.check_time(data["time"])}
        except ValueError as exc:
            raise ConfigError(f"{path}: time {data['time']!r}: {exc}") from exc
    for key in ("number", "season"):
        if key in data and (not isinstance(data[key], int) or isinstance(data[key], bool) or data[key] < 1):
            raise ConfigError(f"{path}: {key} must be a positive whole number, not {data[key]!r}.")
    for key in ("explicit", "draft"):
        if key in data and not isinstance(data[key], bool):
            raise ConfigError(f"{path}: {key} must be true or false, not {data[key]!r}.")
    if "guests" in data and not (isinstance(data["guests"], list) and all(isinstance(g, str) for g in data["guests"])):
        raise ConfigError(f"{path}: guests must be a list of names, like guests = [\"Ada Lovelace\"].")
    if data.get("episode_type", "full") not in ("full", "trailer", "bonus"):
        raise ConfigError(f"{path}: episode_type must be full, trailer or bonus.")
    if "speakers" in data and not isinstance(data["speakers"], dict):
        raise ConfigError(f"{path}: speakers must be a table of label = \"Name\".")
    _check_meta_text(path, data)
    values = {k: v for k, v in data.items() if k in known}
    values["date"] = str(values["date"])
    values["guests"] = tuple(values.get("guests", ()))
    return EpisodeMeta(**values, extra={k: v for k, v in data.items() if k not in known})


def _check_meta_text(path: Path, data: dict[str, Any]) -> None:
    """Every text the host can edit: strings, no control characters, bounded lengths."""
    config.check_text(data["title"], f"{path}: title", required=True)
    config.check_text(data["guid"], f"{path}: guid", required=True)
    if "description" in data:
        config.check_text(data["description"], f"{path}: description", max_len=config.MAX_DESCRIPTION, multiline=True)
    if "guests" in data:
        config.check_names(data["guests"], f"{path}: guests")
    for label, name in data.get("speakers", {}).items():
        config.check_text(name, f"{path}: speakers.{label}", max_len=config.MAX_NAME)


@dataclass(frozen=True)
class Episode:
    folder: Path

    @property
    def slug(self) -> str:
        return self.folder.name

    @property
    def machine_dir(self) -> Path:
        return self.folder / MACHINE_DIR

    def path(self, name: str) -> Path:
        return self.folder / name

    @property
    def meta_path(self) -> Path:
        return self.folder / EPISODE_TOML

    def meta(self) -> EpisodeMeta:
        try:
            data = tomllib.loads(self.meta_path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"{self.meta_path}: missing. Re-run `chaitime ingest` on the recording to recreate it.") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{self.meta_path}: not valid TOML ({exc}). Fix the line it names.") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{self.meta_path}: not UTF-8 text (byte {exc.start}). Save it as UTF-8, or delete it and re-run ingest.") from exc
        return _meta_from(self.meta_path, data)

    def write_meta(self, meta: EpisodeMeta) -> None:
        fsutil.write_if_changed(self.meta_path, meta.to_toml())

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the episode for this process; a second ingest of it is told it is busy."""
        with _flock(self.machine_dir, wait=False,
                    busy=f"{self.folder}: episode is busy (another chaitime is working on it). Wait for it to finish."):
            yield

    def incomplete_reason(self) -> str | None:
        """Why the episode is unfinished (a stage failed or was interrupted), or None when it is complete."""
        try:
            return (self.machine_dir / INCOMPLETE).read_text(encoding="utf-8").strip() or "unfinished"
        except FileNotFoundError:
            return None
        except OSError as exc:
            return f"unreadable marker ({exc.strerror})"

    def mark_incomplete(self, reason: str) -> None:
        fsutil.write_text(self.machine_dir / INCOMPLETE, " ".join(reason.split()) + "\n")

    def mark_complete(self) -> None:
        (self.machine_dir / INCOMPLETE).unlink(missing_ok=True)

    def source_hash(self) -> str | None:
        try:
            return (self.machine_dir / SOURCE_HASH).read_text().strip() or None
        except OSError:
            return None


@contextmanager
def _flock(folder: Path, *, wait: bool, busy: str = "") -> Iterator[None]:
    """An exclusive advisory lock on ``folder``/lock, released when the process dies (kill -9 too)."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / "lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError as exc:
            raise BusyError(busy) from exc
        yield
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Workspace:
    root: Path
    settings: config.Settings

    @classmethod
    def open(cls, root: Path | None = None) -> Workspace:
        root = Path(root or Path.cwd()).resolve()
        return cls(root, config.load(root))

    @property
    def episodes_dir(self) -> Path:
        return self.root / "episodes"

    @property
    def feeds_dir(self) -> Path:
        return self.root / "feeds"

    @property
    def feed_path(self) -> Path:
        return self.feeds_dir / "podcast.xml"

    def episodes(self) -> list[Episode]:
        if not self.episodes_dir.is_dir():
            return []
        return [Episode(p) for p in sorted(self.episodes_dir.iterdir()) if (p / EPISODE_TOML).is_file()]

    def complete_episodes(self) -> list[Episode]:
        """Episodes whose stages all finished: the ones the feed and the site may publish."""
        return [ep for ep in self.episodes() if ep.incomplete_reason() is None]

    def incomplete_episodes(self) -> list[tuple[Episode, str]]:
        return [(ep, reason) for ep in self.episodes() if (reason := ep.incomplete_reason()) is not None]

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the workspace's episode list (folder choice, guid assignment) for a moment; others wait."""
        with _flock(self.root / MACHINE_DIR, wait=True):
            yield

    def claim_episode(self, source_hash: str, title: str, number: int | None,
                      make_meta: Callable[[str], EpisodeMeta]) -> tuple[Episode, bool]:
        """The episode made from the recording with ``source_hash``, made now if there is none.

        Under the workspace lock, so two ingests of one recording find one folder and one guid:
        the folder, its source.hash and its episode.toml (with the guid) appear together.
        ``make_meta(guid)`` builds the new episode's metadata; it is called only for a new folder.
        """
        with self.lock():
            existing = self.find_by_source(source_hash)
            if existing is not None:
                return existing, False
            episode = self.new_episode_folder(title, number)
            meta = make_meta(guid_for(source_hash))
            episode.machine_dir.mkdir(parents=True, exist_ok=True)
            try:
                episode.mark_incomplete("ingest started and has not finished")
                fsutil.write_text(episode.machine_dir / SOURCE_HASH, source_hash + "\n")
                episode.write_meta(meta)
            except BaseException:
                import shutil

                shutil.rmtree(episode.folder, ignore_errors=True)
                raise
            return episode, True

    def episode(self, name: str | Path) -> Episode:
        """An episode by slug or folder path."""
        p = Path(name)
        for candidate in (p, self.episodes_dir / p):
            if (candidate / EPISODE_TOML).is_file():
                return Episode(candidate.resolve())
        raise ConfigError(f"{name}: no such episode (no {EPISODE_TOML}). Episodes: {', '.join(e.slug for e in self.episodes()) or 'none yet'}.")

    def find_by_source(self, source_hash: str) -> Episode | None:
        if not self.episodes_dir.is_dir():
            return None
        for folder in sorted(self.episodes_dir.iterdir()):
            ep = Episode(folder)
            if ep.source_hash() == source_hash:
                return ep
        return None

    def new_episode_folder(self, title: str, number: int | None) -> Episode:
        base = slugify(title) or "episode"
        if number is not None:
            base = f"{number:03d}-{base}"
        candidate, n = base, 2
        while (self.episodes_dir / candidate).exists():
            candidate, n = f"{base}-{n}", n + 1
        return Episode(self.episodes_dir / candidate)


def slugify(text: str, max_len: int = 60) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_len].rstrip("-")


def guid_for(source_hash: str) -> str:
    return str(uuid.uuid5(GUID_NAMESPACE, source_hash))


def update_meta(meta: EpisodeMeta, **changes: Any) -> EpisodeMeta:
    return replace(meta, **{k: v for k, v in changes.items() if v is not None})
