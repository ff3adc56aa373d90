"""`chaitime studio`: review, correct and cut episodes in the browser."""

from __future__ import annotations

from pathlib import Path

import click

from ..workspace import Workspace
from .base import cli


@cli.command()
@click.argument("workspace_dir", metavar="[WORKSPACE]", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="Port on 127.0.0.1 (default: a free one).")
@click.option("--no-browser", is_flag=True, help="Print the URL only; don't open a browser.")
def studio(workspace_dir: Path | None, port: int, no_browser: bool) -> None:
    """Open WORKSPACE (default: here) in the studio: a local web app on 127.0.0.1 that edits the episode files."""
    try:
        from ..studio.server import serve
    except ModuleNotFoundError as exc:
        raise click.ClickException(f"the studio needs {exc.name}: pip install 'chaitime[studio]'.") from exc

    ws = Workspace.open(workspace_dir or Path.cwd())

    def ready(url: str) -> None:
        click.echo(f"chaitime studio: {url}")
        click.echo("Only this URL opens it (it carries this run's token). Ctrl+C stops the studio.")
        if not no_browser:
            import webbrowser

            webbrowser.open(url)

    serve(ws.root, port, ready)
