"""The render stage: edit.md applied to the audio, the video, the transcripts and the chapters."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .. import config, fsutil
from ..edit.cutlist import TimeMap
from ..errors import InputError
from ..media import ffmpeg, loudness, tags
from ..media import probe as probe_mod
from ..transcript.formats import WRITERS
from ..transcript.model import Transcript
from ..workspace import (
    AUDIO,
    CHAPTERS,
    CHAPTERS_ORIG,
    CUT_FLAC,
    EDIT,
    EDITED_FLAC,
    RAW,
    RENDER_JSON,
    SOUND_FLAC,
    TRANSCRIPT,
    TRANSCRIPT_FILES,
    VIDEO,
    Episode,
    Workspace,
)
from .master import tag_key
from .runner import Records, read_json, stage_key
from .sound import master_source
from .source import EXTRACT_BPS, MASTER_BPS, video_source
from .writing import _suggest_settings, _suggested_edit_md, mp3_chapters

if TYPE_CHECKING:
    from . import Progress

log = logging.getLogger("chaitime")


@dataclass(frozen=True)
class RenderResult:
    audio_path: Path
    video_path: Path | None
    duration_s: float
    removed_s: float
    changed: tuple[str, ...]  # names of the files written; empty when everything was up to date
    loudness_after: loudness.Loudness | None = None
    warnings: tuple[str, ...] = ()



def _render(episode: Episode, ws: Workspace, rec: Records, progress: Progress | None) -> RenderResult:
    from ..edit.audiocheck import quiet_edges_s
    from ..media import render as media

    settings = ws.settings
    inputs = _render_inputs(episode, settings, master_source(episode, ws))
    plan = _render_plan(episode, settings, inputs)
    chapters_orig = _original_chapters(episode)
    tag_values = tags.episode_tags(settings, episode.meta())
    key = _render_key(episode, rec, inputs, plan, settings, chapters_orig, tag_values)
    audio, video = episode.path(AUDIO), episode.path(VIDEO)
    outputs = [audio, episode.machine_dir / RENDER_JSON] + ([video] if inputs.source else [])
    record = _read_render_record(episode)
    if rec.fresh("render", key, outputs) and _record_complete(record):
        after = loudness.Loudness(**record["loudness"]) if record.get("loudness") else None
        # The re-timed transcripts and chapters are this stage's too: one deleted is written again
        # from the last render's time map (milliseconds), without cutting the audio again.
        timemap = TimeMap(tuple(tuple(k) for k in record["keeps"]), float(record["offset_s"]))
        rewritten = tuple(_write_retimed(episode, inputs.transcript, plan.cuts, timemap, chapters_orig, record["duration_s"]))
        if rewritten:
            log.info("%s: %s written again from the last render", episode.slug, ", ".join(rewritten))
        return RenderResult(audio, video if inputs.source else None, record["duration_s"], record["removed_s"], rewritten, after)
    duration = inputs.info.duration_s
    fsutil.require_space(episode.folder, (EXTRACT_BPS - 32_000) * 2 * duration + MASTER_BPS * duration
                         + (inputs.source.stat().st_size if inputs.source else 0), f"rendering {episode.slug}")
    report = progress or (lambda *a, **k: None)
    cut = episode.machine_dir / CUT_FLAC
    media.cut_audio(inputs.master, plan.keeps, cut, inputs.info, lambda s: report("cut", s, duration))
    # Crossfades never overlap speech: the cut's ends are listened to (Silero and energy) first.
    quiet = quiet_edges_s(cut) if plan.intro or plan.outro else (0.0, 0.0)
    edited, offset_s, duration_s = media.join_intro_outro(cut, plan, episode.machine_dir / EDITED_FLAC, inputs, quiet)
    target = loudness.target_for(inputs.info.channels, settings.get("audio", "target_lufs"))
    gain, after = media.master_audio(edited, audio, target, inputs.info.channels, tag_values)
    changed = [AUDIO]
    if inputs.source:
        media.cut_video(inputs, plan.keeps, edited, offset_s, duration_s, gain, video, lambda s: report("video", s, duration_s))
        changed.append(VIDEO)
    timemap = TimeMap(plan.keeps, offset_s)
    changed += _write_retimed(episode, inputs.transcript, plan.cuts, timemap, chapters_orig, duration_s)
    removed_s = plan.cuts.removed_s(duration)
    _write_render_record(episode, timemap, duration_s, removed_s, gain, after)
    rec.done("render", key)
    return RenderResult(audio, video if inputs.source else None, duration_s, removed_s, tuple(changed), after)


def _render_inputs(episode: Episode, settings: config.Settings, master: Path):
    from ..edit.markdown import read_edit_md
    from ..media.render import Inputs

    if not master.is_file():
        raise InputError(f"{master}: no lossless master. Run `chaitime ingest` on the recording first.")
    info = probe_mod.probe(master)
    transcript = Transcript.load(episode.machine_dir / RAW)
    transcript = transcript if transcript.duration_s > 0 else Transcript(transcript.segments, transcript.language, info.duration_s, transcript.meta)
    source = video_source(episode)
    fps = probe_mod.probe(source).fps if source else 0.0
    edit_path = episode.path(EDIT)
    if not edit_path.is_file():
        fsutil.write_text(edit_path, _suggested_edit_md(episode, settings, transcript))
    return Inputs(master, info, source, fps or 25.0, transcript, read_edit_md(edit_path))



def _render_plan(episode: Episode, settings: config.Settings, inputs):
    from ..edit.markdown import parse_edit_md
    from ..media.render import Plan

    options = _suggest_settings(settings)
    cuts = parse_edit_md(inputs.edit_text, inputs.transcript, path=episode.path(EDIT),
                         silence_max_s=options["silence_max_s"], silence_keep_s=options["silence_keep_s"])
    duration = inputs.info.duration_s
    if inputs.source:
        cuts = cuts.snapped(inputs.fps, duration)
    keeps = tuple(cuts.keeps(duration))
    from ..edit.lines import tokens_of

    spoken = len(tokens_of(inputs.transcript))
    if spoken and len(cuts.removed_words) >= spoken:  # what is left would be seconds of silence
        raise InputError(f"{episode.path(EDIT)}: edit.md keeps nothing: every line is cut or deleted. Keep at least one line, "
                         "or delete edit.md to start again from the transcript.")
    if not keeps:
        raise InputError(f"{episode.path(EDIT)}: everything is cut. Keep at least one line.")
    return Plan(cuts, keeps, _asset(settings, "intro"), _asset(settings, "outro"))


def _asset(settings: config.Settings, key: str) -> Path | None:
    path = settings.resolve(settings.get("audio", key))
    if path is not None and not path.is_file():
        raise InputError(f"{settings.path or 'chaitime.toml'}: [audio] {key} = {settings.get('audio', key)!r}: no such file. Fix the path or remove the key.")
    return path


def _original_chapters(episode: Episode) -> list | None:
    """Chapters on the original timeline: .chaitime/chapters.orig.json, saved from chapters.json
    the first time; if the host (or `chaitime draft`) changed chapters.json since the last render,
    it is on the edited timeline, so it is moved back through the last render's time map."""
    from ..edit.cutlist import TimeMap
    from ..edit.retime import unretime_chapters
    from ..transcript.chapters import chapters_json, load_chapters

    current, orig = episode.path(CHAPTERS), episode.machine_dir / CHAPTERS_ORIG
    if not current.is_file():
        return load_chapters(orig) if orig.is_file() else None
    record = _read_render_record(episode)
    if not orig.is_file():
        fsutil.write_text(orig, current.read_text(encoding="utf-8"))
    elif record.get("chapters_hash") and fsutil.file_hash(current) != record["chapters_hash"]:
        last = TimeMap(tuple(tuple(k) for k in record["keeps"]), record["offset_s"])
        fsutil.write_text(orig, chapters_json(unretime_chapters(load_chapters(current), last)))
    return load_chapters(orig)


def _render_key(episode: Episode, rec: Records, inputs, plan, settings: config.Settings, chapters, tag_values: dict) -> str:
    """Everything the rendered files depend on, by content: the master (by the extract stage's key),
    the recording, the raw transcript, the edit, intro/outro, chapters, loudness target, tags."""
    def content(p: Path | None):
        return None if p is None else fsutil.file_hash(p)

    master = (rec.data.get("sound") if inputs.master.name == SOUND_FLAC else rec.data.get("extract")) or content(inputs.master)
    source = (episode.source_hash() or content(inputs.source)) if inputs.source else None
    return stage_key("render", master, source, inputs.transcript.to_json(), plan.keeps, sorted(plan.cuts.removed_words),
                     content(plan.intro), content(plan.outro), repr(chapters), settings.get("audio", "target_lufs"),
                     tag_key(tag_values), ffmpeg.ffmpeg_version())


def _write_retimed(episode: Episode, transcript: Transcript, cuts, timemap, chapters, duration_s: float) -> list[str]:
    """transcript.json and every format written from it, chapters.json and the MP3's chapters, re-timed."""
    from ..edit.retime import retime_chapters, retime_transcript
    from ..transcript.chapters import chapters_json

    edited = retime_transcript(transcript, cuts, timemap, duration_s)
    written = []
    if fsutil.write_if_changed(episode.path(TRANSCRIPT), WRITERS["json"](edited)):
        written.append(TRANSCRIPT)
    for fmt, name in TRANSCRIPT_FILES.items():
        if fsutil.write_if_changed(episode.path(name), WRITERS[fmt](edited)):
            written.append(name)
    if chapters:
        moved = retime_chapters(chapters, timemap, duration_s)
        if fsutil.write_if_changed(episode.path(CHAPTERS), chapters_json(moved)):
            written.append(CHAPTERS)
        mp3_chapters(episode, moved, duration_s)
    return written


def _record_complete(record: dict) -> bool:
    """render.json as the render stage writes it (a damaged one: the stage runs again)."""
    try:
        float(record["duration_s"]), float(record["removed_s"]), float(record["offset_s"])
        return all(len(k) == 2 for k in record["keeps"]) and isinstance(record.get("loudness", {}), dict | None)
    except (KeyError, TypeError, ValueError):
        return False


def _read_render_record(episode: Episode) -> dict:
    return read_json(episode.machine_dir / RENDER_JSON) or {}


def _write_render_record(episode: Episode, timemap, duration_s: float, removed_s: float, gain: float, after: loudness.Loudness) -> None:
    chapters = episode.path(CHAPTERS)
    record = {
        "duration_s": round(duration_s, 6), "removed_s": round(removed_s, 6), "gain_db": gain,
        "offset_s": timemap.offset_s, "keeps": [list(k) for k in timemap.keeps],
        "chapters_hash": fsutil.file_hash(chapters) if chapters.is_file() else None, "loudness": after.__dict__,
    }
    fsutil.write_text(episode.machine_dir / RENDER_JSON, json.dumps(record, indent=1) + "\n")
