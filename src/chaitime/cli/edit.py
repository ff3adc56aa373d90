"""`chaitime render` (apply edit.md) and `chaitime clip` (a captioned social clip)."""

from __future__ import annotations

import math
from pathlib import Path

import click

from ..errors import InputError
from ..transcript.formats import clock
from .base import cli, reporting, workspace


def parse_time(text: str) -> float:
    """Seconds from "75", "1:15" or "00:01:15.5"."""
    try:
        value = 0.0
        for part in text.strip().split(":"):
            value = value * 60 + float(part)
        if not math.isfinite(value):
            raise ValueError(text)
        return value
    except ValueError as exc:
        raise InputError(f"{text!r} is not a time. Write seconds (75), M:SS (1:15) or HH:MM:SS.mmm.") from exc


@cli.command()
@click.argument("episode")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
def render(episode: str, quiet: bool) -> None:
    """Apply EPISODE's edit.md: cut audio.mp3 and video.mp4, re-time transcript and chapters."""
    from .. import pipeline

    ws = workspace()
    ep = ws.episode(episode)
    with reporting(quiet) as rep:
        result = pipeline.render(ep, ws, progress=rep)
    for warning in result.warnings:
        click.echo(f"chaitime: warning: {warning}", err=True)
    if not result.changed:
        click.echo(f"{ep.slug}: up to date ({clock(result.duration_s)}); edit edit.md to change it.")
        return
    click.echo(f"{ep.slug}: rendered {clock(result.duration_s)} ({result.removed_s:.1f} s cut); wrote {', '.join(result.changed)}")


@cli.command()
@click.argument("episode")
@click.option("--start", "start", required=True, help="Start on the rendered episode: seconds, M:SS or HH:MM:SS.")
@click.option("--end", "end", required=True, help="End, in the same form.")
@click.option("--vertical", is_flag=True, help="9:16 for stories and shorts (default: square).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Where to write the MP4 (default: the episode's clips/).")
def clip(episode: str, start: str, end: str, vertical: bool, output: Path | None) -> None:
    """Render a captioned social clip of EPISODE from --start to --end."""
    from .. import pipeline

    ws = workspace()
    ep = ws.episode(episode)
    result = pipeline.clip(ep, ws, start_s=parse_time(start), end_s=parse_time(end), vertical=vertical,
                           out=output.expanduser() if output else None)
    for warning in result.warnings:
        click.echo(f"chaitime: warning: {warning}", err=True)
    kind = "audiogram" if result.audiogram else "video"
    done = "up to date:" if result.unchanged else "wrote"
    click.echo(f"{ep.slug}: {done} {result.path} ({kind}, {result.duration_s:.1f} s, {len(result.captions)} captions)")


