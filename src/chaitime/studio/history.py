"""The studio's record of its own changes, for undo and redo and for the episode list's state.

Each change the studio makes (a cut, a correction, a speaker, the chapters) is one entry: the files
it wrote, each with its version (content hash) before and after; the contents themselves are kept
by version in .chaitime/studio-history/ (compressed), so undo puts a file back exactly as it was
and redo exactly as the change left it. Undo and redo check that each file is still the version
the entry left (or found): a file changed since by hand is a Conflict, never overwritten.

``baseline`` keeps, per file, the version it had before the studio first changed it: the episode
list calls an episode edited when a file differs from it (the host's own changes, whatever undo did).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

from .. import fsutil
from ..workspace import Episode

JOURNAL = "studio-history.json"
BLOBS = "studio-history"
MAX_ENTRIES = 100  # undo steps kept; older ones are forgotten (their contents deleted)


def digest(data: bytes) -> str:
    """A content's version: the same hash as fsutil.file_hash of a file holding it."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass
class History:
    episode: Episode

    @property
    def path(self) -> Path:
        return self.episode.machine_dir / JOURNAL

    @property
    def blobs(self) -> Path:
        return self.episode.machine_dir / BLOBS

    def load(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and isinstance(data.get("done"), list) and isinstance(data.get("undone"), list):
                data.setdefault("baseline", {})
                return data
        except (OSError, ValueError):
            pass
        return {"done": [], "undone": [], "baseline": {}}

    def save(self, data: dict) -> None:
        _write(self.path, json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))

    def keep(self, data: bytes | None) -> str | None:
        """``data`` kept by its version (None: the file didn't exist); its version."""
        if data is None:
            return None
        name = digest(data)
        target = self.blobs / name
        if not target.is_file():
            self.blobs.mkdir(parents=True, exist_ok=True)
            _write(target, zlib.compress(data, 1))
        return name

    def content(self, name: str | None) -> bytes | None:
        if name is None:
            return None
        try:
            return zlib.decompress((self.blobs / name).read_bytes())
        except (OSError, zlib.error):
            return None

    def record(self, kind: str, what: str, before: dict[str, bytes | None], after: dict[str, bytes | None]) -> dict:
        """A change made: ``before`` and ``after`` are the contents of the files it wrote, by their
        name in the episode folder. Redo steps are dropped (a new change starts a new branch)."""
        files = {}
        for name in before:
            if before[name] == after.get(name):
                continue
            files[name] = [self.keep(before[name]), self.keep(after.get(name))]
        data = self.load()
        if not files:
            return data
        for name, (old, _new) in files.items():
            data["baseline"].setdefault(name, old)
        data["done"].append({"kind": kind, "what": what, "files": files})
        data["undone"] = []
        data["done"] = data["done"][-MAX_ENTRIES:]
        self.save(data)
        self.sweep(data)
        return data

    def sweep(self, data: dict) -> None:
        """Contents no entry (or baseline) names any more are deleted."""
        wanted = {v for e in data["done"] + data["undone"] for pair in e["files"].values() for v in pair if v}
        wanted |= {v for v in data["baseline"].values() if v}
        if not self.blobs.is_dir():
            return
        for blob in self.blobs.iterdir():
            if blob.name not in wanted and len(blob.name) == 32:
                blob.unlink(missing_ok=True)

    def changed(self, current: dict[str, str | None]) -> list[str]:
        """The files (of ``current``: name -> version now) that differ from what they were before
        the studio first changed them."""
        baseline = self.load()["baseline"]
        return [name for name, version in current.items() if name in baseline and baseline[name] != version]


def _write(target: Path, data: bytes) -> None:
    """Atomically (a rename), without waiting for the disk: the history is a convenience, and a
    crash that loses its last entry loses an undo step, never the host's files."""
    with fsutil.atomic_path(target) as tmp:
        tmp.write_bytes(data)
