"""The clip stage: a captioned clip of the rendered episode."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from .. import fsutil
from ..errors import InputError
from ..media import ffmpeg
from ..transcript.model import Transcript
from ..workspace import AUDIO, CLIPS, CUT_FLAC, EDITED_FLAC, TRANSCRIPT, VIDEO, Episode, Workspace
from .render import _read_render_record
from .runner import Records, stage_key


def clip(episode: Episode, ws: Workspace, *, start_s: float, end_s: float, vertical: bool = False, out: Path | None = None):
    """`chaitime clip`: a captioned clip of the rendered episode; made again only when its inputs changed."""
    import shutil
    import tempfile

    from ..media import clip as media

    # A clip is no part of the published episode: making one never marks the episode incomplete.
    with episode.lock():
        fsutil.sweep_temps(episode.machine_dir, episode.path(CLIPS))
        rec = Records(episode)
        transcript_path = episode.path(TRANSCRIPT)
        transcript = Transcript.load(transcript_path)
        media.check_range(start_s, end_s, transcript.duration_s)
        clamped = ()
        if transcript.duration_s and end_s > transcript.duration_s:  # a clip is never longer than what is there
            clamped = (f"--end {end_s:.1f} s is after the episode's end; the clip ends there, at {transcript.duration_s:.1f} s",)
            end_s = transcript.duration_s
            media.check_range(start_s, end_s, transcript.duration_s)
        out = Path(out) if out else episode.path(CLIPS) / media.clip_name(start_s, end_s, vertical)
        sound, gain = _clip_sound(episode)
        video = episode.path(VIDEO) if episode.path(VIDEO).is_file() else None
        cover = ws.settings.resolve(ws.settings.show.get("image"))
        cover = cover if cover and cover.is_file() else None
        stage = f"clip:{out.name}"
        key = stage_key("clip", transcript_path.read_text(encoding="utf-8"), fsutil.file_hash(sound), gain,
                        fsutil.file_hash(video) if video else None, fsutil.file_hash(cover) if cover else None,
                        start_s, end_s, vertical, media.find_font(), ffmpeg.ffmpeg_version())
        mine = out.is_relative_to(episode.folder)
        if mine and rec.fresh(stage, key, [out]):
            font = media.find_font()
            return media.ClipResult(out, end_s - start_s, tuple(media.caption_chunks(transcript, start_s, end_s)), font is not None,
                                    video is None, clamped, unchanged=True)
        episode.machine_dir.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".clip.", suffix=".tmp", dir=episode.machine_dir))
        try:
            result = media.render_clip(transcript, sound, gain, video, None if video else cover, start_s=start_s, end_s=end_s,
                                       vertical=vertical, out=out, scratch=scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        if mine:
            rec.done(stage, key)
        return replace(result, warnings=clamped + tuple(result.warnings))


def _clip_sound(episode: Episode) -> tuple[Path, float]:
    """The lossless edited audio and its mastering gain, or audio.mp3 as it is."""
    record = _read_render_record(episode)
    if record:
        for candidate in (episode.machine_dir / EDITED_FLAC, episode.machine_dir / CUT_FLAC):
            if candidate.is_file():
                return candidate, float(record.get("gain_db", 0.0))
    audio = episode.path(AUDIO)
    if not audio.is_file():
        raise InputError(f"{episode.folder}: no audio.mp3. Run `chaitime ingest` (and `chaitime render`) first.")
    return audio, 0.0
