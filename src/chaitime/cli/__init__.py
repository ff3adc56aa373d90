"""The command line: parse, call one library function, print, exit codes.

Only this package imports click and tqdm. Each area's commands live in their own module and
register on the one ``cli`` group; ``main`` turns a ChaitimeError into one line on stderr.
"""

from __future__ import annotations

import sys

import click

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
    _register()
    args = list(sys.argv[1:] if argv is None else argv)
    show_traceback = "--traceback" in args
    try:
        cli.main(args=args, standalone_mode=False, prog_name="chaitime")
    except ChaitimeError as exc:
        if show_traceback:
            raise
        click.echo(f"chaitime: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("chaitime: interrupted; run the same command again to resume.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("chaitime: interrupted; run the same command again to resume.", err=True)
        sys.exit(130)
    except OSError as exc:
        if show_traceback:
            raise
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        click.echo(f"chaitime: error: {where}{exc.strerror or exc}. Check the path and its permissions.", err=True)
        sys.exit(1)
    except Exception as exc:  # a bug: one line and a distinct exit code; --traceback shows the stack
        if show_traceback:
            raise
        click.echo(internal_error_line(exc), err=True)
        sys.exit(INTERNAL_ERROR_EXIT)
