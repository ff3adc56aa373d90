"""`chaitime deploy`: put the site `chaitime publish` built on S3, an rsync host or GitHub Pages."""

from __future__ import annotations

from pathlib import Path

import click

from .base import cli, reporting, workspace


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"


@cli.command()
@click.argument("target", required=False)
@click.option("--from", "source", type=click.Path(file_okay=False, path_type=Path), default=Path("public"), show_default=True,
              help="The built site folder (chaitime publish --out FOLDER).")
@click.option("--git-branch", help="Deploy to this branch of the git repository TARGET (GitHub Pages: gh-pages).")
@click.option("--endpoint-url", help="S3-compatible endpoint (R2, B2, MinIO); default: [deploy] endpoint_url, else AWS.")
@click.option("--dry-run", is_flag=True, help="Show what would be uploaded and removed; change nothing.")
def deploy(target: str | None, source: Path, git_branch: str | None, endpoint_url: str | None, dry_run: bool) -> None:
    """Upload the built site to TARGET: s3://BUCKET/PREFIX, rsync://..., USER@HOST:PATH, a folder, or a git repo.

    Only changed files are sent; media first, pages and the feed last, removals after. TARGET
    defaults to [deploy] target in chaitime.toml. S3 credentials come from the AWS environment.
    """
    from ..publish.deploy import deploy as run_deploy

    settings = workspace().settings
    target = target or settings.get("deploy", "target") or ""
    git_branch = git_branch or settings.get("deploy", "git_branch") or None
    endpoint_url = endpoint_url or settings.get("deploy", "endpoint_url") or None
    source = source.expanduser()
    folder = source if source.is_absolute() else Path.cwd() / source
    with reporting(quiet=dry_run) as rep:
        report = run_deploy(folder, target, git_branch=git_branch, endpoint_url=endpoint_url, dry_run=dry_run, progress=rep)
    if dry_run:
        for rel, size in report.uploaded:
            click.echo(f"upload  {rel} ({_size(size)})")
        for rel in report.removed:
            click.echo(f"remove  {rel}")
    for note in report.notes:
        click.echo(f"chaitime: note: {note}", err=True)
    click.echo(report.summary())
