"""Many recordings at once: the inputs (files, folders, globs, a manifest) become jobs; a backend
runs ``pipeline.ingest`` on each. Episodes are independent: one that fails is reported with its
one-line reason and the others finish; the feed is refreshed once at the end. A re-run redoes only
what failed or changed, because every stage keeps its own record (pipeline.Records).

Backends: ``local`` (threads in this process, one episode per core: the Whisper model loads once
and is shared; on the CPU each running episode decodes on its own share of the cores while the
others extract, master, find speakers and write, asr.set_lanes; a GPU decodes one at a time) and
``ray`` (ray_backend.py: the same ingest in long-lived Ray actors; with GPUs, transcription in
actors and the CPU stages in Ray tasks).
"""

from __future__ import annotations

import csv
import glob
import os
import tomllib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path

from .. import asr, pipeline
from ..errors import ChaitimeError, InputError
from ..workspace import Workspace

BACKENDS = ("local", "ray")
# What a folder's recordings are recognised by (ffprobe reads more; these are what hosts record).
MEDIA_SUFFIXES = frozenset(".mp4 .m4a .m4v .mov .mkv .webm .wav .flac .mp3 .aac .ogg .opus .aif .aiff .wma".split())
MANIFEST_COLUMNS = ("file", "title", "guests", "number", "date", "speakers", "draft")
GIB = 1 << 30
# Memory one running episode needs beside the shared model: an hour of 16 kHz speech as int16 and
# float32 (~350 MB), speaker windows, ffmpeg. Measured peak ~0.9 GB for 60 minutes here; doubled.
EPISODE_MEMORY = 2 * GIB

Ingest = Callable[..., pipeline.IngestResult]  # pipeline.ingest's signature
# (event, job, detail): "start" / "stage" (detail: (stage, done, total)) / "done" (Outcome)
Events = Callable[[str, "Job", object], None]


@dataclass(frozen=True)
class Job:
    recording: Path
    options: pipeline.IngestOptions
    where: str  # how the user named it: the path, or "episodes.csv row 3"


@dataclass(frozen=True)
class Outcome:
    job: Job
    result: pipeline.IngestResult | None = None
    error: str | None = None
    exit_code: int = 0
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class BatchResult:
    outcomes: tuple[Outcome, ...]
    problems: tuple[str, ...]  # inputs that never became jobs (a missing file, a bad manifest row)
    notes: tuple[str, ...] = ()

    @property
    def failed(self) -> int:
        return sum(not o.ok for o in self.outcomes) + len(self.problems)


def expand(inputs: Sequence[str | Path]) -> tuple[list[Path], list[str]]:
    """Recordings named by ``inputs`` (files; folders: their media files, sorted; globs), each
    once, in order; and a line for each input that names nothing."""
    found: list[Path] = []
    problems: list[str] = []
    seen: set[Path] = set()
    for raw in inputs:
        text = os.path.expanduser(str(raw))
        path = Path(text)
        if path.is_dir():
            paths = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in MEDIA_SUFFIXES and not p.name.startswith("."))
            if not paths:
                problems.append(f"{raw} is a folder with no recordings in it ({', '.join(sorted(MEDIA_SUFFIXES))}).")
        elif glob.has_magic(text) and not path.exists():
            paths = sorted(Path(p) for p in glob.glob(text) if Path(p).is_file())
            if not paths:
                problems.append(f"{raw}: matches no file.")
        elif path.exists():
            paths = [path]
        else:
            problems.append(f"{raw}: no such file or folder.")
            continue
        for p in paths:
            key = p.resolve()
            if key not in seen:
                seen.add(key)
                found.append(p)
    return found, problems


def read_manifest(path: Path, base: pipeline.IngestOptions) -> tuple[list[Job], list[str]]:
    """Jobs from a manifest (CSV with a header, or TOML ``[[episode]]`` tables) with columns
    MANIFEST_COLUMNS; files relative to the manifest. A bad row is a line naming it; the other
    rows still become jobs."""
    path = Path(os.path.expanduser(str(path)))
    rows, problems = _manifest_rows(path)
    jobs: list[Job] = []
    numbers: dict[int, str] = {}
    for where, row in rows:
        try:
            job = _job_from_row(path, where, row, base)
        except ChaitimeError as exc:
            problems.append(f"{where}: {exc}")
            continue
        number = job.options.number
        if number is not None and number in numbers:
            problems.append(f"{where}: episode number {number} is also {numbers[number]}'s. Give each episode its own number.")
            continue
        if number is not None:
            numbers[number] = where
        jobs.append(job)
    return jobs, problems


def _manifest_rows(path: Path) -> tuple[list[tuple[str, dict]], list[str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InputError(f"--manifest {path}: no such file.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"--manifest {path}: can't be read as UTF-8 text ({exc}).") from exc
    if path.suffix.lower() == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"--manifest {path}: not valid TOML ({exc}).") from exc
        tables = data.get("episode")
        if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables) or set(data) - {"episode"}:
            raise InputError(f"--manifest {path}: expected [[episode]] tables only, e.g. [[episode]] file = \"a.mp4\" title = \"...\".")
        return [(f"{path.name} episode {i}", t) for i, t in enumerate(tables, 1)], []
    if path.suffix.lower() != ".csv":
        raise InputError(f"--manifest {path}: use a .csv (with a header row) or a .toml ([[episode]] tables).")
    reader = csv.DictReader(text.splitlines())
    header = reader.fieldnames or []
    problems = []
    unknown = [c for c in header if c not in MANIFEST_COLUMNS]
    if "file" not in header:
        raise InputError(f"--manifest {path}: the header row needs a 'file' column (columns: {', '.join(MANIFEST_COLUMNS)}).")
    if unknown:
        problems.append(f"{path.name} row 1: unknown column(s) {', '.join(map(repr, unknown))}, ignored. Known: {', '.join(MANIFEST_COLUMNS)}.")
    rows = []
    for i, row in enumerate(reader, 2):
        if None in row:
            problems.append(f"{path.name} row {i}: more fields than the header has columns; quote fields holding commas.")
            continue
        cleaned = {k: (v or "").strip() for k, v in row.items() if k in MANIFEST_COLUMNS and (v or "").strip()}
        if cleaned:
            rows.append((f"{path.name} row {i}", cleaned))
    return rows, problems


def _job_from_row(manifest: Path, where: str, row: dict, base: pipeline.IngestOptions) -> Job:
    unknown = sorted(set(row) - set(MANIFEST_COLUMNS))
    if unknown:
        raise InputError(f"unknown key(s) {', '.join(map(repr, unknown))}. Known: {', '.join(MANIFEST_COLUMNS)}.")
    file = row.get("file")
    if not isinstance(file, str) or not file:
        raise InputError("no 'file' given.")
    recording = Path(os.path.expanduser(file))
    recording = recording if recording.is_absolute() else manifest.parent / recording
    if not recording.is_file():
        raise InputError(f"{recording}: no such file.")
    guests = row.get("guests", ())
    if isinstance(guests, str):
        guests = tuple(g.strip() for g in guests.split(";") if g.strip())
    changes = dict(title=_text(row, "title"), guests=tuple(guests) if guests else base.guests,
                   number=_int(row, "number", 1, None), date=_text(row, "date"),
                   num_speakers=_int(row, "speakers", 1, 10), draft=_bool(row, "draft", base.draft))
    try:
        options = replace(base, **{k: v for k, v in changes.items() if v is not None})
    except ChaitimeError as exc:  # the options' own check names the command-line flag; say the column
        raise InputError(str(exc).replace("--guest", "guests").replace("--", "")) from exc
    return Job(recording, options, where)


def _text(row: dict, key: str) -> str | None:
    value = row.get(key)
    if value is None or isinstance(value, str):
        return value or None
    if key == "date" and hasattr(value, "isoformat"):  # TOML dates
        return value.isoformat()
    raise InputError(f"{key} must be text, not {value!r}.")


def _int(row: dict, key: str, low: int, high: int | None) -> int | None:
    value = row.get(key)
    if value is None:
        return None
    try:
        number = int(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        number = None
    if number is None or number < low or (high is not None and number > high):
        span = f"{low}-{high}" if high else f"{low} or more"
        raise InputError(f"{key} {value!r} must be a whole number, {span}.")
    return number


def _bool(row: dict, key: str, default: bool) -> bool | None:
    value = row.get(key)
    if value is None or isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "yes", "1"):
        return True
    if str(value).lower() in ("false", "no", "0"):
        return False
    raise InputError(f"{key} {value!r} must be true or false.")


def default_workers() -> int:
    """What the machine holds: one episode per core, each decoding on its own core when its turn
    comes (asr.set_lanes; measured on 2 cores, 4 real-voice conversations of 5 minutes: one
    episode at a time with every core on its decode took 1.84x faster-whisper alone), at most as
    many as fit in the memory left beside the model (EPISODE_MEMORY each), at least one."""
    cores = max(1, os.cpu_count() or 1)
    try:
        with open("/proc/meminfo") as fh:
            info = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in fh}
        fit = int(info.get("MemAvailable", 0) // EPISODE_MEMORY)
    except (OSError, ValueError, IndexError):
        fit = cores
    return max(1, min(cores, fit or 1))


def run(jobs: Sequence[Job], ws: Workspace, *, backend: str = "local", workers: int | None = None, address: str | None = None,
        ingest: Ingest | None = None, events: Events | None = None, problems: Sequence[str] = (), split: bool | None = None) -> BatchResult:
    """Ingest every job; outcomes in job order. The feed is refreshed once, after the last.
    ``split`` (Ray): an episode's stages across node types; None: where the cluster has GPUs."""
    if backend not in BACKENDS:
        raise InputError(f"--backend {backend!r}: use one of {', '.join(BACKENDS)}.")
    ingest = ingest or pipeline.ingest
    events = events or (lambda *a: None)
    jobs = [replace(j, options=replace(j.options, refresh_feed=False)) for j in jobs]
    if backend == "ray":
        from . import ray_backend

        outcomes = ray_backend.run(jobs, ws, workers=workers, address=address, ingest=ingest, events=events, split=split)
    else:
        outcomes = _run_local(jobs, ws, workers or default_workers(), ingest, events)
    notes: tuple[str, ...] = ()
    if any(o.ok for o in outcomes):
        try:
            notes = pipeline.feed(ws).warnings
        except ChaitimeError as exc:
            notes = (f"the feed was not refreshed: {exc}",)
    return BatchResult(tuple(outcomes), tuple(problems), tuple(notes))


def attempt(ingest: Ingest, job: Job, ws: Workspace, progress=None) -> Outcome:
    """One episode: its result, or its error as one line (a bug included: the batch goes on)."""
    try:
        return Outcome(job, result=ingest(job.recording, ws, job.options, progress=progress))
    except ChaitimeError as exc:
        return Outcome(job, error=str(exc), exit_code=exc.exit_code)
    except (OSError, MemoryError) as exc:
        return Outcome(job, error=f"{type(exc).__name__}: {exc}", exit_code=1)


def _run_local(jobs: list[Job], ws: Workspace, workers: int, ingest: Ingest, events: Events) -> list[Outcome]:
    outcomes: dict[int, Outcome] = {}

    def one(index: int) -> Outcome:
        job = jobs[index]
        events("start", job, None)
        return attempt(ingest, job, ws, lambda stage, done, total=None, unit="s", job=job: events("stage", job, (stage, done, total)))

    lanes = max(1, min(workers, len(jobs)))
    asr.set_lanes(lanes)  # each running episode decodes on its share of the cores
    try:
        with ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="episode") as pool:
            futures = {pool.submit(one, i): i for i in range(len(jobs))}
            for future in as_completed(futures):
                outcome = future.result()
                outcomes[futures[future]] = outcome
                events("done", outcome.job, outcome)
    finally:
        asr.set_lanes(1)
    return [outcomes[i] for i in range(len(jobs))]


__all__ = ["BACKENDS", "BatchResult", "Job", "Outcome", "default_workers", "expand", "read_manifest", "run"]
