"""The one place that finds and runs ffmpeg.

Which ffmpeg is deterministic: $CHAITIME_FFMPEG when set, else the static binary that the
``imageio-ffmpeg`` package (a dependency) ships, and ffmpeg on PATH only without it. So the same
install gives the same results on any machine, whatever ffmpeg the system has (Debian's 5.1 and
imageio-ffmpeg's 9.0 differ in filters' rounding and the MP3 encoder's build). Calls are argv
lists, never shell strings.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
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
    Raises ToolError with the tail of stderr on failure.
    """
    argv = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y"]
    if progress is not None and stdout_file is None:
        argv += ["-progress", "pipe:1", "-nostats"]
    argv += [str(a) for a in args]
    log.debug("ffmpeg %s", " ".join(argv[1:]))
    if progress is None or stdout_file is not None:
        proc = subprocess.run(argv, stdout=stdout_file or subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        stderr = proc.stderr.decode("utf-8", "replace")
        returncode = proc.returncode
    else:
        stderr, returncode = _run_with_progress(argv, progress)
    if returncode != 0:
        raise ToolError(f"ffmpeg failed while {what}: {tail(stderr)}")
    return stderr


def _run_with_progress(argv: list[str], progress: Progress) -> tuple[str, int]:
    import tempfile

    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err)
        assert proc.stdout is not None
        try:
            for raw in proc.stdout:
                key, _, value = raw.decode("ascii", "replace").strip().partition("=")
                if key == "out_time_us" and value.isdigit():
                    progress(int(value) / 1e6)
        finally:
            returncode = proc.wait()
        err.seek(0)
        return err.read().decode("utf-8", "replace"), returncode


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
