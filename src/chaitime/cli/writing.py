"""`chaitime draft`: regenerate an episode's blog-post draft, show notes and chapters."""

from __future__ import annotations

import click

from .. import pipeline
from .base import cli, workspace


@cli.command()
@click.argument("episode")
@click.option("--new-chapters", is_flag=True, help="Remake chapters.json from the transcript (discards edited chapter titles).")
def draft(episode: str, new_chapters: bool) -> None:
    """Regenerate EPISODE's post.md, youtube.txt (and chapters.json if missing).

    Once you have edited post.md or youtube.txt it is yours: the new draft goes beside it, to
    post.draft.md or youtube.draft.txt.
    """
    ws = workspace()
    ep = ws.episode(episode)
    result = pipeline.draft(ep, ws, new_chapters=new_chapters)
    for warning in result.warnings:
        click.echo(f"chaitime: warning: {warning}", err=True)
    for name, draft_name in result.kept():
        click.echo(f"{ep.slug}: {name} has your edits, so it was left alone; the new draft is {draft_name}.")
    written = [p.name for p in (result.post_path, result.youtube_path)] + ([result.chapters_path.name] if result.chapters_made else [])
    click.echo(f"{ep.slug}: wrote {', '.join(written)}")
