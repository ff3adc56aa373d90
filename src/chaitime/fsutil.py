"""Atomic writes and content hashes: a file is either the old good one or the new complete one."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import InputError


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success rename it over ``target``.

    Tools that write files themselves (ffmpeg) write to the yielded path, so an interrupted
    run never leaves a half-written file in place of a good one.
    """
    target = Path(target)
    _ensure_dir(target.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes(target: Path, data: bytes) -> None:
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())


def write_text(target: Path, text: str) -> None:
    write_bytes(target, text.encode("utf-8"))


def write_if_changed(target: Path, text: str) -> bool:
    """Write ``text`` unless the file already holds exactly it; returns whether it wrote."""
    data = text.encode("utf-8")
    if target.is_file() and target.read_bytes() == data:
        return False
    write_bytes(target, data)
    return True


def file_hash(path: Path, chunk_bytes: int = 1 << 20) -> str:
    """Content hash (BLAKE2b, 128-bit hex) read in chunks, so any size works in little memory."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        while block := fh.read(chunk_bytes):
            h.update(block)
    return h.hexdigest()


def text_hash(*parts: object) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(repr(part).encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


def _ensure_dir(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{folder}: can't create folder ({exc.strerror}). Check permissions or choose another workspace.") from exc
    if not os.access(folder, os.W_OK):
        raise InputError(f"{folder}: folder is not writable. Fix its permissions or run chaitime in a writable workspace.")
