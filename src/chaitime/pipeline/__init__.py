"""The stage engine: every command that changes an episode (ingest, render, draft, clip) and the
ones that publish (feed, publish) run here, one function per command.

Each stage is a function of explicit inputs; this module wires them and owns the records in
``.chaitime/stages.json``: a stage whose key (content hashes of its inputs, parameters, tool
versions, the stage's version in VERSIONS) matches its record and whose outputs exist is
skipped, so a re-run does nothing and an interrupted run resumes at the first unfinished stage.
Keys never contain paths or modification times, so a copied or moved workspace is as up to
date as the original. Outputs are written atomically; a run holds the episode's lock, sweeps
the temporaries a killed run left, and marks the episode incomplete until it finishes (the
feed and the site skip incomplete episodes).

Who writes audio.mp3 and video.mp4: the master stage until the host first renders an edit,
the render stage from then on (ingest then re-renders when its inputs changed), so the audio,
the video, the transcripts and the chapters are always on one timeline.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from .. import asr, config
from ..errors import ChaitimeError
from ..media import loudness
from ..media import probe as probe_mod
from ..media.probe import MediaInfo
from ..workspace import LISTED, SPEECH, Episode, EpisodeMeta, Workspace
from .clip import clip
from .master import _master, tag_key
from .publishing import Published, feed, publish, skipped_warnings
from .render import RenderResult, _read_render_record, _render
from .runner import VERSIONS, Records, _running, records, stage_key
from .sound import _drop_sound, _sound, _sound_settings, master_source
from .source import _episode_for, _extract, _extract_key, _link_source, _require_space, _source_hash, _write_meta, video_source
from .speakers import _speakers, _write_transcripts, who_is_who
from .transcribe import _asr_json, _asr_options, _channels_independent, _check_asr, _transcribe, _transcribe_key
from .writing import _retitle_audio, _suggest_settings, _write_edit_md, _writing, no_speech
from .writing import refresh as refresh_writing

__all__ = ["IngestOptions", "IngestResult", "Published", "Records", "RenderResult", "VERSIONS", "clip", "draft", "feed", "ingest",
           "master_source", "publish", "render", "skipped_warnings", "stage_key", "summary_line", "tag_key", "video_source",
           "_source_hash", "_write_transcripts", "_suggest_settings", "records", "refresh_writing", "render_record", "rendered"]

log = logging.getLogger("chaitime")

Progress = Callable[..., None]  # (stage, done, total, unit="s")


STOP_AFTER = (None, "extract", "transcribe")


@dataclass(frozen=True)
class IngestOptions:
    title: str | None = None
    guests: tuple[str, ...] = ()
    number: int | None = None
    date: str | None = None
    model: str | None = None
    engine: str | None = None
    device: str | None = None
    language: str | None = None
    draft: bool = False
    force: bool = False
    tracks: dict[str, Path] = field(default_factory=dict)
    num_speakers: int | None = None
    refresh_feed: bool = True  # a batch refreshes the feed once, after its last episode
    # "extract" or "transcribe": run the stages up to that one and leave the episode marked
    # unfinished; the same ingest without it later (elsewhere: a Ray batch splits an episode's
    # stages across node types) finds them done and runs the rest.
    stop_after: str | None = None
    audio_stream: int | None = None  # the recording's audio stream to use (0: the first); None: the first with sound

    def __post_init__(self) -> None:  # the host's text is checked before anything is written
        config.check_options(title=self.title, guests=self.guests, language=self.language, date=self.date)
        if self.stop_after not in STOP_AFTER:
            raise ValueError(f"stop_after {self.stop_after!r}: one of {STOP_AFTER}")


@dataclass(frozen=True)
class IngestResult:
    episode: Episode
    meta: EpisodeMeta
    duration_s: float
    loudness_before: loudness.Loudness | None
    loudness_after: loudness.Loudness | None
    words: int
    outputs: tuple[Path, ...]
    ran: tuple[str, ...]
    seconds: float
    created: bool
    notes: tuple[str, ...] = ()
    sound: dict | None = None  # the sound stage's report (sound.json), when it ran
    voices: tuple[str, ...] = ()  # who is who: each voice -> name, speaking time, first line; how to change it


# One version per stage: bump a stage's number when its output for the same inputs changes.
def ingest(recording: Path, ws: Workspace, opts: IngestOptions = IngestOptions(), progress: Progress | None = None) -> IngestResult:
    """Turn ``recording`` into a finished episode folder in ``ws``."""
    started = time.monotonic()
    progress = progress or (lambda *a, **k: None)
    recording = Path(os.path.expanduser(str(recording)))
    info = probe_mod.probe_recording(recording, opts.audio_stream)
    if opts.stop_after != "extract":  # (a node that only extracts needs no model)
        _check_asr(_asr_options(ws, None, opts))  # a bad model or device fails before any work
    if opts.tracks:
        from ..speakers.tracks import check_tracks_cover

        check_tracks_cover(opts.tracks, info.duration_s)
    source_hash = _source_hash(ws, recording)
    if ws.find_by_source(source_hash) is None:  # a new episode: no folder is made unless everything fits
        _require_space(ws.root, info, {})
    episode, created = _episode_for(ws, recording, source_hash, opts)
    with episode.lock(), _running(episode, "ingest", finish=opts.stop_after is None, new=created):
        meta = _write_meta(episode, recording, source_hash, opts)
        rec = Records(episode, opts.force)
        _link_source(episode, recording, info)
        _require_space(episode.folder, info, rec.data)
        asr_opts = _asr_options(ws, meta, opts)
        # Once the host rendered an edit, audio.mp3 and video.mp4 belong to the render stage.
        rendered = bool(_read_render_record(episode))  # render.json, not the records: a lost stages.json keeps the cut
        with ThreadPoolExecutor(max_workers=1) as pool:
            # The model loads (imports and weights, ~1 s) while ffmpeg decodes, unless it won't be needed.
            warm = None if opts.stop_after == "extract" or rec.fresh("transcribe", _transcribe_key(asr_opts, _extract_key(source_hash, info)),
                                                                      [_asr_json(episode)]) else pool.submit(asr.prepare, asr_opts)
            before = _extract(episode, recording, info, source_hash, rec, progress)
            media_notes = info.notes + tuple(n for n in (probe_mod.ends_early_note(info, asr.PcmAudio(episode.machine_dir / SPEECH).duration_s),
                                             loudness.silence_note(before)) if n)
            if opts.stop_after == "extract":
                return _partial(episode, info, before, rec, started, created, media_notes)
            # Mastering (ffmpeg, a subprocess) overlaps with transcription. Measured on 60 minutes:
            # 150 s in all; mastering beside the speaker stage instead took 179 s.
            # With studio sound on, mastering waits for the speaker labels (the leveler's turns).
            cleanup = _sound_settings(ws).active
            # Stopping after transcription (a transcription worker), the CPU stages wait for the rest.
            mastered = None if rendered or cleanup or opts.stop_after else pool.submit(_master, episode, ws, meta, info, before, rec)
            # The stereo check (10 minutes decoded, ~2 s) runs after mastering, beside
            # transcription, when the speaker stage is sure to run (a re-run never waits for it).
            stereo_check = None if warm is None or opts.stop_after else pool.submit(_channels_independent, episode, info, opts)
            if warm is not None:
                warm.result()
            raw = _transcribe(episode, asr_opts, rec, progress)
            if opts.stop_after == "transcribe":
                return _partial(episode, info, before, rec, started, created, media_notes, len(raw.words))
            after = mastered.result() if mastered is not None else None
            independent = stereo_check.result() if stereo_check is not None else None
        given = dict(episode.meta().speakers)  # the names set before this run (the summary tells them from guesses)
        named = _speakers(episode, ws, raw, opts, rec, independent)
        voices = who_is_who(episode, ws, named, given)
        media_notes += no_speech(episode, ws, named, "transcribe" in rec.ran)  # a draft before the post is drafted
        sound_report = _sound(episode, ws, info, named, rec, opts.tracks) if cleanup else _drop_sound(episode)
        if cleanup and not rendered:
            after = _master(episode, ws, meta, info, before, rec)
        if rendered:  # before the draft stage, which writes chapters into the audio it makes
            after = _render(episode, ws, rec, progress).loudness_after
        notes = _writing(episode, ws, rec)
        _write_edit_md(episode, ws, named)
    try:
        notes += feed(ws).warnings if opts.refresh_feed else ()
    except ChaitimeError as exc:  # another episode's problem is a note here, not this ingest's failure
        notes += (f"the feed was not refreshed: {exc}",)
    outputs = tuple(p for p in (episode.path(n) for n in OUTPUT_NAMES) if p.exists())
    meta = episode.meta()
    asr_notes = tuple(raw.meta.get("notes") or ())  # e.g. stretches that don't sound like the language
    return IngestResult(episode, meta, info.duration_s, before, after, len(named.words), outputs, tuple(rec.ran),
                        time.monotonic() - started, created, media_notes + asr_notes + tuple((sound_report or {}).get("notes", ())) + notes,
                        sound_report, voices)


def _partial(episode: Episode, info: MediaInfo, before: loudness.Loudness, rec: Records, started: float, created: bool,
             notes: tuple[str, ...], words: int = 0) -> IngestResult:
    """What an ingest stopped early (IngestOptions.stop_after) did: the episode stays unfinished."""
    return IngestResult(episode, episode.meta(), info.duration_s, before, None, words, (), tuple(rec.ran),
                        time.monotonic() - started, created, notes)



OUTPUT_NAMES = LISTED  # ingest's listing of the episode folder: the registry's files and the drafts beside the host's


def rendered(episode: Episode) -> bool:
    """Whether the host rendered an edit: audio.mp3, video.mp4 and the transcripts are then the render stage's."""
    return bool(_read_render_record(episode))


def render_record(episode: Episode) -> dict:
    """What the last render did (its time map, duration, gain); {} before any render."""
    return _read_render_record(episode)


def render(episode: Episode, ws: Workspace, progress: Progress | None = None) -> RenderResult:
    """`chaitime render`: apply the episode's edit.md (cut audio, video, transcripts, chapters), then
    the draft stage on the new timeline (an untouched post loses the cut words), refresh the feed."""
    with episode.lock(), _running(episode, "render"):
        rec = Records(episode)
        result = _render(episode, ws, rec, progress)
        notes = _writing(episode, ws, rec)
    if "draft" in rec.ran:
        drafted = tuple(p.name for p in rec.draft_result.written() if p.name not in result.changed)
        result = replace(result, changed=(*result.changed, *drafted))
    warnings = notes
    if result.changed:
        try:
            warnings += feed(ws).warnings
        except ChaitimeError as exc:  # the episode is rendered; a show-level problem is reported, not fatal
            warnings += (f"the feed was not refreshed: {exc}",)
    return replace(result, warnings=warnings)


def draft(episode: Episode, ws: Workspace, new_chapters: bool = False):
    """`chaitime draft`: the draft stage, run again even when up to date (the host asked for it)."""
    with episode.lock(), _running(episode, "draft"):
        rec = Records(episode, force=True)
        _writing(episode, ws, rec, new_chapters=new_chapters)
        _retitle_audio(episode, ws)
    result = rec.draft_result
    try:  # the post's summary and the MP3's chapters are in the feed: refresh it, as ingest does
        notes = feed(ws).warnings
    except ChaitimeError as exc:
        notes = (f"the feed was not refreshed: {exc}",)
    return replace(result, warnings=tuple(result.warnings) + tuple(notes))


def summary_line(result: IngestResult) -> str:
    b, a = result.loudness_before, result.loudness_after
    loud = f"{b.integrated_lufs:.1f} -> {a.integrated_lufs:.1f} LUFS, peak {a.true_peak_dbtp:.1f} dBTP" if a and b else ""
    if a and b and result.sound:
        loud += f", LRA {b.lra_lu:.1f} -> {a.lra_lu:.1f} LU" + sound_summary(result.sound)
    return f"{result.duration_s / 60:.1f} min, {loud}, {result.words} words, {result.seconds:.1f} s"


def sound_summary(report: dict) -> str:
    """The sound stage in the summary line: speakers' spread, noise floor, clipping."""
    from ..media.sound import Report

    parts = []
    spread = Report.spread(report["speakers_before_db"]), Report.spread(report["speakers_after_db"])
    if spread[0] is not None and spread[1] is not None:
        parts.append(f"speakers {spread[0]:.1f} -> {spread[1]:.1f} dB apart")
    parts.append(f"noise floor {report['noise_floor_before_db']:.0f} -> {report['noise_floor_after_db']:.0f} dBFS")
    if report.get("clipped_samples"):
        parts.append(f"{report['clipped_samples']} clipped samples")
    return "".join(f", {p}" for p in parts)
