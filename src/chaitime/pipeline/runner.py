"""The runner's half of the stage graph: the records (.chaitime/stages.json, the only module
that names it), stage keys, and the incomplete mark. What each stage needs and writes is declared
in pipeline/graph.py."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .. import fsutil
from ..errors import ChaitimeError
from ..workspace import CLIPS, Episode
from . import graph
from .graph import STAGES

log = logging.getLogger("chaitime")


VERSIONS = {s.name: s.version for s in STAGES}
RECORDS = "stages.json"  # the only place the records file is named
PARAMS = "stages.params.json"  # beside it: each stage's key parts, so a re-run can say what changed

_parts: dict[str, list[str]] = {}  # key -> its parts, shortened, for the params record
_parts_lock = threading.Lock()


def stage_key(stage: str, *parts: object) -> str:
    """A stage's key: its name, its inputs' content hashes and parameters, its version. No paths."""
    key = fsutil.text_hash(stage, *parts, VERSIONS[stage.split(":", 1)[0]])
    with _parts_lock:
        if len(_parts) > 256:
            _parts.clear()
        _parts[key] = [_short(p) for p in parts]
    return key


def _short(part: object) -> str:
    text = repr(part)
    return text if len(text) <= 120 else fsutil.text_hash(text)[:16] + f" ({len(text)} chars)"


_said: set[tuple[str, int]] = set()


def read_json(path: Path, what: str | None = None) -> dict | None:
    """A machine-made JSON record, or None when it is missing or damaged (not a JSON object): its
    stage then runs again. A damaged one is said once, in one line."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        try:
            seen = (str(path), path.stat().st_mtime_ns)
        except OSError:
            seen = (str(path), 0)
        if seen not in _said:  # read by the freshness check and again by the stage: said once
            _said.add(seen)
            log.warning("%s: damaged (%s), so it is made again", path, what or "not a JSON object")
        return None
    return data


class Records:
    """stages.json: the key each stage last finished with. A stage that is about to run (its key
    or an output changed) marks the episode incomplete first, through the command's run (see
    ``running``); a command that runs nothing leaves the episode as it was."""

    def __init__(self, episode: Episode, force: bool = False) -> None:
        self.episode = episode
        self.path = episode.machine_dir / RECORDS
        self.force = force
        data = read_json(self.path) if self.path.exists() else {}
        self.data = {k: v for k, v in (data or {}).items() if isinstance(k, str) and isinstance(v, str)}
        self.params = read_json(episode.machine_dir / PARAMS) or {} if self.data else {}
        self.ran: list[str] = []
        self.started: dict[str, float] = {}
        self.lock = threading.Lock()
        self.draft_result = None  # the draft stage's result, when it ran

    def fresh(self, stage: str, key: str, outputs: list[Path]) -> bool:
        up_to_date = not self.force and self.data.get(stage) == key and all(_intact(p) for p in outputs)
        if not up_to_date:
            self._why(stage, key, outputs)
            _started(self.episode)
            self.started[stage] = time.monotonic()
        return up_to_date

    def cached(self, stage: str, key: str, outputs: list[Path], load):
        """``load()``'s value when the stage is up to date and its records read back; None when the
        stage must run (a record that no longer reads, e.g. edited by hand, is said in one line)."""
        if not self.fresh(stage, key, outputs):
            return None
        try:
            return load()
        except (ChaitimeError, KeyError, TypeError, ValueError, AttributeError) as exc:
            log.warning("%s: a record of stage %s no longer reads (%s), so the stage runs again", self.episode.folder.name, stage,
                        str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        _started(self.episode)
        self.started[stage] = time.monotonic()
        return None

    def _why(self, stage: str, key: str, outputs: list[Path]) -> None:
        name = self.episode.folder.name
        if self.force:
            log.debug("%s: stage %s runs: --force", name, stage)
        elif stage not in self.data:
            log.debug("%s: stage %s runs: it has not run before", name, stage)
        elif self.data[stage] != key and stage not in self.params:
            log.debug("%s: stage %s runs again: its key changed (made by an earlier chaitime, which kept no key parts)", name, stage)
        elif self.data[stage] != key:
            was, now = self.params.get(stage) or [], _parts.get(key) or []
            named = graph.stage(stage).params
            changed = [named[i] if i < len(named) else f"part {i + 1}" for i in range(max(len(was), len(now)))
                       if i >= len(was) or i >= len(now) or was[i] != now[i]]
            log.debug("%s: stage %s runs again: %s changed", name, stage, ", ".join(changed) or "its version")
        else:
            missing = [p.name for p in outputs if not _intact(p)]
            log.info("%s: %s missing or damaged, so stage %s makes it again", name, ", ".join(missing), stage)

    def done(self, stage: str, key: str) -> None:
        with self.lock:  # stages finish on two threads (mastering runs beside transcription)
            self.data[stage] = key
            self.ran.append(stage)
            fsutil.write_text(self.path, json.dumps(self.data, indent=1, sort_keys=True) + "\n")
            if key in _parts:
                self.params[stage] = _parts[key]
                fsutil.write_text(self.episode.machine_dir / PARAMS, json.dumps(self.params, indent=1, sort_keys=True) + "\n")
        if stage in self.started:  # `chaitime -v` shows what each stage cost (docs/scale.md)
            log.debug("%s: stage %s took %.1f s", self.path.parent.parent.name, stage, time.monotonic() - self.started.pop(stage))


def _intact(path: Path) -> bool:
    """An output is there; a JSON record also parses as an object (a damaged one is made again)."""
    if not path.exists():
        return False
    return path.suffix != ".json" or read_json(path) is not None


def records(episode: Episode) -> dict[str, str]:
    """The keys each stage last finished with (for the studio's cache keys and check): read only."""
    return Records(episode).data


# The commands running now, per episode folder: the incomplete mark is written when their first
# stage starts writing, never for a command that was refused or found everything up to date.
_active: dict[Path, list] = {}
_active_lock = threading.Lock()


def _started(episode: Episode) -> None:
    with _active_lock:
        run = _active.get(episode.folder)
        if run is None or run[1]:
            return
        run[1] = True
    episode.mark_incomplete(f"`chaitime {run[0]}` started and has not finished (interrupted?); run it again")


@contextmanager
def running(episode: Episode, what: str, finish: bool = True, new: bool = False) -> Iterator[None]:
    """While a command works on an episode: temporaries of a killed run swept first; the episode
    marked incomplete (so it is never published half made) from the moment a stage starts writing
    (at once for a ``new`` episode, which has nothing to publish yet); the mark lifted when the
    command finishes (unless it ran only some stages: ``finish`` false), and kept with the reason
    when it fails while writing. A refusal before any stage ran changes nothing. Only ingest (or
    the same command, run again) lifts a mark another command left."""
    fsutil.sweep_temps(episode.folder, episode.machine_dir, episode.path(CLIPS))
    found = episode.incomplete_reason()
    if found is not None and what != "ingest" and not found.startswith(f"`chaitime {what}`"):
        yield  # unfinished for another command's reason (an ingest that failed): that stays the reason
        return
    run = [what, False]
    with _active_lock:
        _active[episode.folder] = run
    try:
        if new:
            _started(episode)
        yield
    except BaseException as exc:
        why = "was interrupted" if isinstance(exc, KeyboardInterrupt) else f"failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        if run[1] or found is not None:
            try:
                episode.mark_incomplete(f"`chaitime {what}` {why}")
            except OSError:
                pass  # a full disk: the mark written at the start stays
        raise
    finally:
        with _active_lock:
            _active.pop(episode.folder, None)
    if finish and (run[1] or found is not None):
        episode.mark_complete()


_running = running  # the name the stage modules use
