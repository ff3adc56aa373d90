"""The command line: parse, call one library function, print, exit codes.

Only this package imports click and tqdm. Each area's commands live in their own module and
register on the one ``cli`` group; ``main`` turns a ChaitimeError into one line on stderr.
"""

from __future__ import annotations

import sys

import click

from ..entry import interrupted
from ..errors import ChaitimeError
from .base import INTERNAL_ERROR_EXIT, cli, internal_error_line


def _register() -> None:
    # Imported for their side effect: each module adds its commands to ``cli``.
    from . import commands  # noqa: F401

    for name in ("publish", "deploy", "export", "edit", "writing", "speakers", "studio"):
        try:
            __import__(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    show_traceback = "--traceback" in args
    try:
        _register()
        cli.main(args=args, standalone_mode=False, prog_name="chaitime")
    except ChaitimeError as exc:
        if show_traceback:
            raise
        click.echo(f"chaitime: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        interrupted()
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except OSError as exc:
        if show_traceback:
            raise
        line, code = os_error_line(exc)
        click.echo(f"chaitime: error: {line}", err=True)
        sys.exit(code)
    except Exception as exc:  # a bug: one line and a distinct exit code; --traceback shows the stack
        if show_traceback:
            raise
        click.echo(internal_error_line(exc), err=True)
        sys.exit(INTERNAL_ERROR_EXIT)


def os_error_line(exc: OSError) -> tuple[str, int]:
    """An operating-system error no stage turned into its own line: what, where and the fix that
    fits the cause (a full disk is exit 7 like everywhere else; a limit of this shell names the limit)."""
    import errno
    import resource
    from pathlib import Path

    from .. import fsutil

    path = getattr(exc, "filename2", None) or getattr(exc, "filename", None)
    where = f"{path}: " if path else ""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        full = fsutil.disk_full(Path(path).parent if path else Path.cwd(), None, f"writing {Path(path).name}" if path else "a file")
        return str(full), full.exit_code
    if exc.errno == errno.EFBIG:
        return str(fsutil.file_too_large(path)), 1
    if exc.errno in (errno.EMFILE, errno.ENFILE):
        limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        return (f"{where}too many open files: this shell allows {limit} (ulimit -n). Raise it (`ulimit -n 4096`) "
                "and run the command again; it resumes where it stopped."), 1
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{where}{exc.strerror or exc}. Check the path and its permissions (or use a writable folder).", 1
    if exc.errno == errno.ENOENT:
        return f"{where}{exc.strerror or exc}. Check the path (was it moved or deleted while chaitime ran?).", 1
    return f"{where}{exc.strerror or exc}. Check the path and its permissions.", 1
