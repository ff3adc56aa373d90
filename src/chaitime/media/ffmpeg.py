"""The one place that finds and runs ffmpeg.

Which ffmpeg is deterministic: $CHAITIME_FFMPEG when set, else the static binary that the
``imageio-ffmpeg`` package (a dependency) ships, and ffmpeg on PATH only without it. So the same
install gives the same results on any machine, whatever ffmpeg the system has (Debian's 5.1 and
imageio-ffmpeg's 9.0 differ in filters' rounding and the MP3 encoder's build). Calls are argv
lists, never shell strings.
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import ToolError

log = logging.getLogger("chaitime")

Progress = Callable[[float], None]  # receives seconds of media processed so far


@functools.cache
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary: $CHAITIME_FFMPEG, then imageio-ffmpeg's, then PATH."""
    env = os.environ.get("CHAITIME_FFMPEG")
    if env:
        found = shutil.which(env)
        if not found:
            raise ToolError(f"CHAITIME_FFMPEG={env}: no such executable. Point it at an ffmpeg binary, or unset it.")
        return found
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):  # not installed, or no binary for this platform
        pass
    found = shutil.which("ffmpeg")
    if found:
        return found
    raise ToolError("ffmpeg not found. `pip install imageio-ffmpeg`, install ffmpeg, or set CHAITIME_FFMPEG to its path.")


@functools.cache
def ffmpeg_version() -> str:
    out = subprocess.run([ffmpeg_exe(), "-hide_banner", "-version"], capture_output=True, text=True, check=False)
    first = (out.stdout or "").splitlines()[:1]
    return first[0] if first else "unknown"


def run(args: Sequence[str], *, what: str, progress: Progress | None = None, stdout_file=None) -> str:
    """Run ffmpeg with ``args`` (after the binary); return its stderr.

    ``progress`` is fed seconds processed, parsed from ``-progress pipe:1``.
    Raises ToolError with the tail of stderr on failure (DiskFullError, naming the disk, when the
    output's disk is full).
    """
    argv = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y"]
    if progress is not None and stdout_file is None:
        argv += ["-progress", "pipe:1", "-nostats"]
    argv += [str(a) for a in args]
    log.debug("ffmpeg %s", " ".join(argv[1:]))
    import tempfile

    with tempfile.TemporaryFile() as err:
        proc = popen(argv, stdout=subprocess.PIPE if progress is not None and stdout_file is None else (stdout_file or subprocess.DEVNULL),
                     stderr=err)
        try:
            if proc.stdout is not None:
                for raw in proc.stdout:
                    key, _, value = raw.decode("ascii", "replace").strip().partition("=")
                    if key == "out_time_us" and value.isdigit() and progress is not None:
                        progress(int(value) / 1e6)
            returncode = proc.wait()
        except BaseException:
            stop(proc)
            raise
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    if returncode != 0:
        raise failure(stderr, returncode, what, output=Path(argv[-1]))
    return stderr


def failure(stderr: str, returncode: int, what: str, output: Path | None = None) -> Exception:
    """The error for a failed ffmpeg: a full disk named as such, else the tail of its stderr."""
    from .. import fsutil

    if "File too large" in stderr or returncode == -signal.SIGXFSZ:  # a file-size limit (ulimit -f), not a full disk
        return fsutil.file_too_large(output)
    if "No space left on device" in stderr or "Disk quota exceeded" in stderr:
        return fsutil.disk_full(output.parent if output is not None else Path.cwd(), None, what)
    return ToolError(f"ffmpeg failed while {what}: {tail(stderr)}")


# --- child processes die with chaitime ------------------------------------------------------------
# Linux: the child asks the kernel for SIGKILL when chaitime dies (PR_SET_PDEATHSIG = 1), checks
# chaitime did not die before that, then becomes the tool (exec keeps the pid). This runs in a
# fresh interpreter, not as Popen's preexec_fn: Python code between fork and exec in a process
# with other threads (transcription's, a batch's episodes) can deadlock the child on a lock one of
# them held at the fork (seen: ffmpeg never started while mastering ran beside transcription).
_LAUNCHER = (
    "import ctypes, os, sys\n"
    "ctypes.CDLL(None).prctl(1, 9, 0, 0, 0)\n"
    "if os.getppid() != int(sys.argv[1]): os._exit(1)\n"
    "try: os.execv(sys.argv[2], sys.argv[2:])\n"
    "except OSError as e: sys.stderr.write(f'{sys.argv[2]}: {e.strerror}\\n'); os._exit(127)\n"
)


def _launcher(argv: list[str]) -> list[str]:
    """``argv`` wrapped so the child dies with chaitime (Linux; elsewhere ``argv`` itself)."""
    if not sys.platform.startswith("linux") or not sys.executable:
        return argv
    return [sys.executable, "-S", "-E", "-c", _LAUNCHER, str(os.getpid()), *argv]


def popen(argv: Sequence[str], **kwargs) -> subprocess.Popen:
    """Start a child tool in its own process group that the kernel kills when chaitime dies.

    Own group: a terminal's Ctrl-C reaches chaitime only, which stops its children itself (so a
    half-written output is never renamed into place). Parent-death signal (Linux, _LAUNCHER):
    kill -9 of chaitime takes its ffmpeg children with it instead of leaving them running orphaned.
    """
    argv = list(argv)
    if os.name != "posix":  # pragma: no cover
        return subprocess.Popen(argv, **kwargs)
    if argv and os.sep not in argv[0]:
        found = shutil.which(argv[0])
        if found is None:
            raise FileNotFoundError(errno.ENOENT, "not found on PATH", argv[0])
        argv[0] = found
    return subprocess.Popen(_launcher(argv), process_group=0, **kwargs)


def stop(proc: subprocess.Popen) -> None:
    """Kill a child started by ``popen`` (and anything it started) and reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait()
    except BaseException:  # pragma: no cover - a second Ctrl-C while reaping
        pass


def tail(stderr: str, lines: int = 3) -> str:
    """The last meaningful lines of ffmpeg's stderr, joined into one line."""
    kept = [ln.strip() for ln in stderr.strip().splitlines() if ln.strip()]
    return " | ".join(kept[-lines:]) or "no output"


def null_sink() -> list[str]:
    return ["-f", "null", os.devnull if os.name != "nt" else "NUL"]


def as_input(path: Path) -> str:
    """A path ffmpeg won't mistake for a protocol or option (names starting with '-' or 'x:')."""
    p = str(path)
    return p if os.path.isabs(p) else os.path.join(".", p)
