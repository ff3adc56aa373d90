"""Commands that publish: feed, check, publish, serve, categories."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .base import cli, workspace


@cli.command()
@click.option("--base-url", help="Where the site is served from (default: [publish] base_url).")
def feed(base_url: str | None) -> None:
    """Write feeds/podcast.xml from chaitime.toml and every episode that is not a draft."""
    from .. import pipeline

    ws = workspace()
    done = pipeline.feed(ws, base_url)
    for warning in done.warnings:
        click.echo(f"chaitime: warning: {warning}", err=True)
    for line in done.scheduled:
        click.echo(f"scheduled: {line}")
    click.echo(f"{done.path.relative_to(ws.root)}: {done.episodes} episode(s)")


@cli.command()
@click.option("--base-url", help="Check against this base URL instead of [publish] base_url.")
@click.option("--no-loudness", is_flag=True, help="Skip measuring each episode's loudness (the slow part).")
def check(base_url: str | None, no_loudness: bool) -> None:
    """Validate the workspace as a podcast directory would; exit 1 on errors."""
    from ..publish.check import ERROR, WARNING, check_workspace

    problems = check_workspace(workspace(), base_url, loudness=not no_loudness)
    for problem in problems:
        click.echo(problem.line(), err=problem.level == ERROR)
    errors = sum(p.level == ERROR for p in problems)
    warnings = sum(p.level == WARNING for p in problems)
    click.echo(f"{errors} error(s), {warnings} warning(s)")
    if errors:
        sys.exit(1)


@cli.command()
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=Path("public"), show_default=True,
              help="Folder to build the site in.")
@click.option("--base-url", help="Where the site will be served from (default: [publish] base_url).")
def publish(out: Path, base_url: str | None) -> None:
    """Build the static site: episode pages, player, transcripts, feed and media."""
    from .. import pipeline

    ws = workspace()
    out = out.expanduser()
    done = pipeline.publish(ws, out if out.is_absolute() else Path.cwd() / out, base_url)
    for warning in done.warnings:
        click.echo(f"chaitime: warning: {warning}", err=True)
    for line in done.scheduled:
        click.echo(f"scheduled: {line}")
    report = done.report
    click.echo(f"{report.out}: {len(report.written)} file(s) written, {report.unchanged} unchanged, {len(report.removed)} removed")


@cli.command()
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--port", default=8000, show_default=True, help="Port on localhost.")
def serve(folder: Path | None, port: int) -> None:
    """Preview the built site (default: public/) on http://localhost."""
    from ..publish.serve import make_server

    server = make_server(folder or Path.cwd() / "public", port)
    host, real_port = server.server_address[:2]
    click.echo(f"Serving {folder or 'public/'} at http://{host}:{real_port}/ (Ctrl-C stops)")
    try:
        server.serve_forever()
    finally:
        server.server_close()


@cli.command()
def categories() -> None:
    """List the Apple Podcasts categories [show] category accepts."""
    from ..publish.categories import category_lines

    for line in category_lines():
        click.echo(line)
