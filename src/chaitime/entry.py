"""The console script's first code. Ctrl-C while the command line is still loading (click, the
commands, their imports) is the same one line and exit 130 as Ctrl-C later, never a traceback;
nothing here imports more than the standard library's sys."""

from __future__ import annotations

import sys

INTERRUPTED_LINE = "chaitime: interrupted; run the same command again to resume."
INTERRUPTED_EXIT = 130


def interrupted() -> None:
    sys.stderr.write(INTERRUPTED_LINE + "\n")
    sys.exit(INTERRUPTED_EXIT)


def main(argv: list[str] | None = None) -> None:
    try:
        from .cli import main as run
    except KeyboardInterrupt:
        interrupted()
    run(argv)
