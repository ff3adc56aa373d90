"""Atomic writes and content hashes: a file is either the old good one or the new complete one."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import ChaitimeError, DiskFullError, InputError

# What atomic_path names its temporaries (".audio.k3j_x9.tmp.mp3") and scratch folders (".clip.x.tmp"):
# anything matching, left in a folder chaitime owns, is a leftover of a killed run.
TEMP_NAME = re.compile(r"^\..+\.tmp(\.[A-Za-z0-9]+)?$")
NO_SPACE = (errno.ENOSPC, errno.EDQUOT)  # EFBIG is a file-size limit (ulimit -f), not a full disk: see cli.os_error_line


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _umask()  # read once, at import (os.umask can only be read by setting it)


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
        try:  # mkstemp made it 0600: a new file follows the umask, a replaced one keeps its mode
            os.chmod(tmp, target.stat().st_mode & 0o7777 if target.exists() else 0o666 & ~_UMASK)
        except OSError:
            pass
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes(target: Path, data: bytes) -> None:
    try:
        with atomic_path(target) as tmp:
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
    except OSError as exc:
        if exc.errno in NO_SPACE:
            raise disk_full(Path(target).parent, len(data), f"writing {Path(target).name}") from exc
        raise


def copy_file(source: Path, target: Path) -> None:
    """``target`` made the same as ``source``, atomically: a hard link where the disk allows (chaitime
    replaces its files by rename, never in place, so the link keeps what was copied), else a copy."""
    target = Path(target)
    _ensure_dir(target.parent)
    tmp = target.parent / f".{target.stem}.{os.getpid()}.tmp{target.suffix}"
    try:
        tmp.unlink(missing_ok=True)
        try:
            os.link(source, tmp)  # the same inode: its mode is the source's, left alone
        except OSError as exc:
            if exc.errno in NO_SPACE:
                raise
            shutil.copy2(source, tmp)
        os.replace(tmp, target)
    except OSError as exc:
        if exc.errno in NO_SPACE:
            raise disk_full(target.parent, Path(source).stat().st_size, f"copying {Path(source).name}") from exc
        raise
    finally:
        tmp.unlink(missing_ok=True)


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


def sweep_temps(*folders: Path) -> list[Path]:
    """Remove the temporaries a killed run left in ``folders`` (not recursive); returns what went.

    Call it only while holding the lock of the folder's episode: then no live run owns them.
    """
    removed = []
    for folder in folders:
        try:
            entries = list(Path(folder).iterdir())
        except OSError:
            continue
        for entry in entries:
            if not TEMP_NAME.match(entry.name):
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


def mount_point(path: Path) -> Path:
    """The mount point (the disk, as the user knows it) that holds ``path``."""
    p = Path(os.path.abspath(path))
    while not p.exists() and p != p.parent:
        p = p.parent
    while not os.path.ismount(p) and p != p.parent:
        p = p.parent
    return p


def free_bytes(path: Path) -> int:
    p = Path(os.path.abspath(path))
    while not p.exists() and p != p.parent:
        p = p.parent
    return shutil.disk_usage(p).free


def _mb(n: float) -> str:
    return f"{n / 1e6:,.0f} MB" if n >= 10e6 else f"{n / 1e6:.1f} MB"


def disk_full(where: Path, need_bytes: float | None, what: str) -> DiskFullError:
    """The one line for a full disk: which disk, what was being written, how much room it wants."""
    disk, free = mount_point(where), free_bytes(where)
    need = f"needs about {_mb(need_bytes)}, " if need_bytes else ""
    return DiskFullError(f"disk full: {disk} has no room for {what} ({where}): {need}{_mb(free)} free. "
                         "Free space on that disk (or move the workspace to a bigger one) and run the command again to resume.")


def file_too_large(path: Path | None) -> ChaitimeError:
    """The one line for EFBIG / SIGXFSZ: a file-size limit, not a full disk."""
    import resource

    limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    shown = "unlimited" if limit == resource.RLIM_INFINITY else f"{limit / 1e6:.1f} MB"
    where = f"{path}: " if path else ""
    return ChaitimeError(f"{where}file too large: this shell's file-size limit (ulimit -f) is {shown}, or the disk's file system "
                         "can't hold a file this big (FAT32: 4 GB). Raise the limit (`ulimit -f unlimited`) or use another disk, "
                         "and run the command again.")


def require_space(where: Path, need_bytes: float, what: str) -> None:
    """Fail before a stage starts when the disk holding ``where`` can't take ``need_bytes`` (+ 10% and 20 MB)."""
    if free_bytes(where) < need_bytes * 1.1 + 20e6:
        raise disk_full(where, need_bytes * 1.1 + 20e6, what)
