"""The click group and helpers every command module shares (output, progress bars)."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from ..workspace import Workspace


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--traceback", is_flag=True, help="Show the Python stack on errors (for bug reports).")
@click.option("-v", "--verbose", is_flag=True, help="Log what chaitime does (ffmpeg calls, stages).")
@click.version_option(package_name="chaitime")
def cli(traceback: bool, verbose: bool) -> None:
    """chaitime: from a raw interview recording to a published podcast episode, locally."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    if verbose:  # chaitime's own steps and the speech engine's; not every library's debug chatter
        logging.getLogger("chaitime").setLevel(logging.DEBUG)
        logging.getLogger("faster_whisper").setLevel(logging.INFO)


INTERNAL_ERROR_EXIT = 70  # EX_SOFTWARE: a bug in chaitime, not the user's input


def internal_error_line(exc: BaseException) -> str:
    """One line for an exception chaitime did not expect: what it was, and how to report it."""
    detail = " ".join(str(exc).split())[:200]
    return (f"chaitime: internal error: {type(exc).__name__}{': ' + detail if detail else ''}. "
            "This is a bug: run the same command with --traceback and report what it prints.")


def workspace() -> Workspace:
    return Workspace.open(Path.cwd())


class Reporter:
    """Turns the pipeline's progress events into tqdm bars (elapsed and ETA) unless quiet."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        # Bars only on a terminal: in logs and pipes they are noise around the summary and errors.
        self.bars = not quiet and sys.stderr.isatty()
        self._bars: dict[str, object] = {}
        self.started = time.monotonic()

    def __call__(self, stage: str, done: float, total: float | None = None, unit: str = "s") -> None:
        if not self.bars:
            return
        from tqdm import tqdm

        bar = self._bars.get(stage)
        if bar is None:
            bar = tqdm(total=round(total, 1) if total else None, desc=f"{stage:<11}", unit=unit, leave=True,
                       bar_format="{desc} {percentage:3.0f}%|{bar:24}| {n:.0f}/{total:.0f}{unit} [{elapsed}<{remaining}]",
                       dynamic_ncols=True)
            self._bars[stage] = bar
        bar.n = min(round(done, 1), bar.total or done)
        bar.refresh()
        if total and done >= total:
            self.close(stage)

    def close(self, stage: str | None = None) -> None:
        for name in [stage] if stage else list(self._bars):
            bar = self._bars.pop(name, None)
            if bar is not None:
                bar.close()

    def echo(self, text: str = "") -> None:
        if not self.quiet:
            click.echo(text)


@contextmanager
def reporting(quiet: bool) -> Iterator[Reporter]:
    rep = Reporter(quiet)
    try:
        yield rep
    finally:
        rep.close()
