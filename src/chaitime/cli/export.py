"""`chaitime export`: the current edit for another editor (EDL, FCPXML, Audacity labels)."""

from __future__ import annotations

from pathlib import Path

import click

from .base import cli, workspace

OUT = click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path),
                   help="Folder to write in (default: the episode's export/ folder).")


@cli.group()
def export() -> None:
    """Export EPISODE for another editor (edl, fcpxml, audacity) or a platform (youtube, spotify).

    The cut list is the one `chaitime render` would apply now: the kept stretches of the original
    recording, on its frames (a video recording's own frame rate; 25 fps for audio only). The cut
    timeline starts at 00:00:00:00 at the first kept frame; intro and outro are not included.
    Chapters (chapters.json) and speaker turns come along as markers.
    """


def _run(kind: str, episode: str, out: Path | None) -> None:
    from ..pipeline.export import export as run_export

    ws = workspace()
    ep = ws.episode(episode)
    if out is not None:
        out = out.expanduser()
        out = out if out.is_absolute() else Path.cwd() / out
    result = run_export(ep, ws, kind, out)
    for warning in result.warnings:
        click.echo(f"chaitime: warning: {warning}", err=True)
    click.echo(f"{ep.slug}: {result.events} kept stretch(es), {result.kept_s:.1f} s kept, {result.removed_s:.1f} s cut, at {result.rate}")
    for path in result.paths:
        click.echo(f"  {path}")


@export.command()
@click.argument("episode")
@OUT
def edl(episode: str, out: Path | None) -> None:
    """CMX 3600 EDL (<slug>.edl) for DaVinci Resolve, Premiere Pro or Avid.

    One cut event per kept stretch: source in/out on the recording's timecode (from 00:00:00:00),
    record in/out on the cut timeline; the reel is the recording's file name (8 characters), named
    in full by `* FROM CLIP NAME:` and `* SOURCE FILE:`. Each event's speakers are a `* COMMENT:`;
    chapters (YELLOW) and speaker turns (BLUE) are `* LOC:` locators at source timecode.
    """
    _run("edl", episode, out)


@export.command()
@click.argument("episode")
@OUT
def fcpxml(episode: str, out: Path | None) -> None:
    """FCPXML 1.8 (<slug>.fcpxml) for Final Cut Pro (also Resolve).

    One project whose spine has an asset-clip per kept stretch of the recording (a file:// asset),
    times in rational seconds on the frame grid; a marker per speaker turn and a chapter marker
    per chapter.
    """
    _run("fcpxml", episode, out)


@export.command()
@click.argument("episode")
@OUT
def audacity(episode: str, out: Path | None) -> None:
    """Two Audacity label tracks (File > Import > Labels): `start<TAB>end<TAB>label`, seconds with 6 decimals.

    <slug>.labels.txt is on the CUT timeline (the rendered episode without intro): a region per
    chapter ("Chapter: title") and one per speaker turn (the speaker's name). <slug>.cuts.txt is on
    the ORIGINAL recording's timeline: a region per stretch the edit removes ("cut N (S s)"), to
    import over the recording itself.
    """
    _run("audacity", episode, out)


def _platform(kind: str, episode: str, out: Path | None, lufs: float | None) -> None:
    from ..pipeline.export import platform_export

    ws = workspace()
    ep = ws.episode(episode)
    if out is not None:
        out = out.expanduser()
        out = out if out.is_absolute() else Path.cwd() / out
    result = platform_export(ep, ws, kind, out, lufs)
    for note in result.notes:
        click.echo(f"  note: {note}")
    click.echo(f"{ep.slug}: ready to upload to {PLATFORM_NAMES[kind]} in {result.folder}")
    for path in result.paths:
        click.echo(f"  {path.name}")


PLATFORM_NAMES = {"youtube": "YouTube", "spotify": "Spotify"}
LUFS = click.option("--lufs", type=float, default=None,
                    help="Loudness of the video's sound (YouTube plays at -14; default: the podcast master's as it is).")


@export.command()
@click.argument("episode")
@OUT
@LUFS
def youtube(episode: str, out: Path | None, lufs: float | None) -> None:
    """A folder for YouTube Studio (default: the episode's export/youtube/).

    video.mp4 (the episode's video with its mastered sound; for an audio-only episode, its sound over
    the 16:9 poster at -14 LUFS), thumbnail.jpg (1280x720), title.txt, description.txt (youtube.txt:
    the episode link, chapters from 0:00 or why there are none, guests and links), tags.txt and
    captions (transcript.srt, transcript.vtt). `--lufs -14` masters the video's sound for YouTube,
    which turns louder videos down to -14 LUFS and never turns quieter ones up.
    """
    _platform("youtube", episode, out, lufs)


@export.command()
@click.argument("episode")
@OUT
@LUFS
def spotify(episode: str, out: Path | None, lufs: float | None) -> None:
    """A folder for Spotify for Creators (default: the episode's export/spotify/).

    video.mp4 when the episode has one (else audio.mp3), the transcripts Spotify takes
    (transcript.vtt, transcript.srt), the cover, title.txt and description.txt (with chapters).
    """
    _platform("spotify", episode, out, lufs)
