"""Text the host may edit (post.md, youtube.txt) stays theirs: a new draft goes beside it.

A file is chaitime's while it still hashes to what chaitime last wrote there (recorded in
``.chaitime/<stem>.hash``); any other content, or a file with no record, is the host's, and the
new text goes to ``<stem>.draft<suffix>`` (post.draft.md, youtube.draft.txt) instead.
"""

from __future__ import annotations

from pathlib import Path

from .. import fsutil
from ..workspace import Episode, draft_name


def write_owned(episode: Episode, name: str, text: str) -> Path:
    """Write ``name`` unless the host has edited it; then its draft beside it. Returns the path written."""
    target = episode.path(name)
    record = episode.machine_dir / f"{Path(name).stem}.hash"
    ours = record.is_file() and record.read_text().strip() == fsutil.file_hash(target) if target.exists() else True
    if not ours and target.read_text(encoding="utf-8", errors="replace") != text:
        draft = episode.path(draft_name(name))
        fsutil.write_if_changed(draft, text)
        return draft
    fsutil.write_if_changed(target, text)
    fsutil.write_text(record, fsutil.file_hash(target) + "\n")
    return target


def behind(episode: Episode, name: str) -> Path | None:
    """The newer draft beside the host's ``name`` when the host's file is older than what it was
    drafted from (the draft stage wrote a different draft since the host last saved it), else None."""
    target, draft = episode.path(name), episode.path(draft_name(name))
    try:
        if draft.stat().st_mtime_ns < target.stat().st_mtime_ns:
            return None
        return draft if draft.read_bytes() != target.read_bytes() else None
    except OSError:
        return None
