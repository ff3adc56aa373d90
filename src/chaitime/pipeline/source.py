"""The episode's folder, its metadata and source record, and the extract stage: the recording
decoded once to 16 kHz speech and the lossless master, loudness measured on the way."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from .. import fsutil
from ..asr.audio import speech_args
from ..errors import InputError
from ..media import ffmpeg, loudness
from ..media import probe as probe_mod
from ..media.probe import MediaInfo
from ..workspace import LOUDNESS, MASTER_FLAC, SOURCE_HASH, SOURCE_JSON, SPEECH, Episode, EpisodeMeta, Workspace, update_meta
from .runner import Records, read_json, stage_key

if TYPE_CHECKING:
    from . import IngestOptions, Progress


def _episode_for(ws: Workspace, recording: Path, source_hash: str, opts: IngestOptions) -> tuple[Episode, bool]:
    """The recording's episode: found by content hash, or a new folder with its guid, chosen under the workspace lock."""
    return ws.claim_episode(source_hash, opts.title or _title_from(recording), opts.number,
                            lambda guid: _new_meta(recording, guid, opts))


def _new_meta(recording: Path, guid: str, opts: IngestOptions) -> EpisodeMeta:
    date = opts.date or dt.date.fromtimestamp(recording.stat().st_mtime).isoformat()
    return EpisodeMeta(title=opts.title or _title_from(recording), guid=guid, date=date,
                       number=opts.number, guests=tuple(opts.guests), draft=opts.draft)


def _source_hash(ws: Workspace, recording: Path) -> str:
    """The recording's content hash. An episode made from this very file (same path, size,
    modification and change times, inode) has it already: hashing an hour of video again
    read 870 MB and took 1-4.6 s of a re-run."""
    signature = _file_signature(recording)
    for ep in ws.episodes():
        record = read_json(ep.machine_dir / SOURCE_JSON) or {}
        if record.get("stat") == signature:
            try:
                return (ep.machine_dir / SOURCE_HASH).read_text().strip()
            except OSError:
                continue
    return fsutil.file_hash(recording)


def _file_signature(path: Path) -> list:
    st = path.stat()
    return [str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


def _title_from(recording: Path) -> str:
    stem = "".join(" " if not c.isprintable() else c for c in recording.stem)  # a newline or tab in the name
    return " ".join(stem.replace("_", " ").replace("-", " ").split()).title() or "Episode"


def _write_meta(episode: Episode, recording: Path, source_hash: str, opts: IngestOptions) -> EpisodeMeta:
    """episode.toml: made once (with the folder, see _episode_for); later ingests change only what
    the host passes explicitly."""
    if episode.meta_path.is_file():
        meta = episode.meta()
        meta = update_meta(meta, title=opts.title, number=opts.number, date=opts.date, guests=tuple(opts.guests) or None,
                           draft=True if opts.draft else None)
    else:  # the host deleted it: made again, with the guid the recording always gets
        from ..workspace import guid_for

        meta = _new_meta(recording, guid_for(source_hash), opts)
    episode.write_meta(meta)
    return meta


# Bytes per second of recording each stage writes, for the free-space check before it starts:
# speech.s16 (16 kHz s16 mono) + master.flac (48 kHz stereo FLAC, ~60% of PCM; 24-bit when
# downmixed, see _extract) + audio.mp3 (CBR). From the duration probe gives: the audio that is
# there, not a header's claim (probe.MIN_AUDIO_BPS), so "disk full" means the disk is short.
EXTRACT_BPS = 32_000 + 48_000 * 2 * 2 * 0.6
DOWNMIXED_EXTRACT_BPS = 32_000 + 48_000 * 2 * 3 * 0.6
MASTER_BPS = 24_000


def _require_space(folder: Path, info: MediaInfo, records: dict) -> None:
    """Fail before a stage starts, naming the disk, when its outputs can't fit (estimated from the duration)."""
    need = 0.0
    if "extract" not in records:
        need += (DOWNMIXED_EXTRACT_BPS if info.channels > 2 else EXTRACT_BPS) * info.duration_s
    if "master" not in records and "render" not in records:
        need += MASTER_BPS * info.duration_s + (info.path.stat().st_size if info.has_video else 0)
    if need:
        fsutil.require_space(folder, need, f"ingesting {info.duration_s / 60:.1f} minutes of {info.path.name}")


def _link_source(episode: Episode, recording: Path, info: MediaInfo) -> None:
    """Keep the recording with the episode (a hard link costs no space) and note where it came from."""
    record = {"path": str(recording.resolve()), "has_video": info.has_video, "name": recording.name}
    link = episode.path("source" + recording.suffix.lower())
    if not link.exists():
        try:
            os.link(recording.resolve(), link)  # the real file, not a symlink that may go away
        except OSError:
            pass  # another filesystem: the record's path is enough to re-render
    if link.exists():
        record["link"] = link.name
    record["stat"] = _file_signature(recording)  # after linking, which changes the file's ctime
    fsutil.write_if_changed(episode.machine_dir / SOURCE_JSON, json.dumps(record, indent=1) + "\n")


# --- stages -------------------------------------------------------------------------------------
def _extract(episode: Episode, recording: Path, info: MediaInfo, source_hash: str, rec: Records, progress: Progress) -> loudness.Loudness:
    """Decode once: 16 kHz mono speech for ASR and the lossless master, measuring loudness on the way.

    Both come from the audio stream probe chose (``info.audio_stream``: the first with sound, or
    the host's --audio-stream); everything after (transcription, sound, mastering, render, the
    video's sound, clips) starts from these two files, never from the recording's audio. Over two
    channels the master is the normalised stereo downmix (loudness.downmix), 24-bit so the
    headroom costs no resolution."""
    speech, master = episode.machine_dir / SPEECH, episode.machine_dir / MASTER_FLAC
    measured = episode.machine_dir / LOUDNESS
    key = _extract_key(source_hash, info)
    cached = rec.cached("extract", key, [speech, master, measured], lambda: loudness.Loudness(**read_json(measured)))
    if cached is not None:
        return cached
    depth = ["-sample_fmt", "s32", "-bits_per_raw_sample", "24"] if info.channels > 2 else []
    with fsutil.atomic_path(speech) as sp, fsutil.atomic_path(master) as ma:
        stderr = ffmpeg.run(
            ["-vn", "-i", ffmpeg.as_input(recording), *speech_args(sp, info.audio_stream),  # -vn: video packets are skipped, not read through
             "-map", info.audio_map, "-af", loudness.level_filter(info.channels), "-c:a", "flac", *depth, "-f", "flac", str(ma)],
            what=f"decoding {recording.name}", progress=lambda s: progress("decode", s, info.duration_s))
    before = loudness.measured_from(stderr, master)  # (a sound under 0.4 s is measured again, on the master)
    fsutil.write_text(measured, json.dumps(before.__dict__) + "\n")
    rec.done("extract", key)
    return before


def _extract_key(source_hash: str, info: MediaInfo | None = None) -> str:
    """The extract stage's key: the recording (with the audio stream taken when not the first,
    and the normalised downmix over two channels: a master made before it is made again) and ffmpeg."""
    recording = source_hash
    if info is not None and info.audio_stream:
        recording += f" a:{info.audio_stream}"
    if info is not None and info.channels > 2:
        recording += " downmix:normalised"
    return stage_key("extract", recording, ffmpeg.ffmpeg_version())



def recording_candidates(episode: Episode, record: dict) -> list[Path]:
    """Where the original recording may be, best first: its link beside the episode, the path it
    was ingested from, a copy kept as source.* in the episode folder."""
    candidates = [episode.path(record["link"])] if record.get("link") else []
    candidates += [Path(record["path"])] if record.get("path") else []
    return candidates + sorted(episode.folder.glob("source.*"))


def video_source(episode: Episode) -> Path | None:
    """The original recording to cut video from, when it has video."""
    record_path = episode.machine_dir / SOURCE_JSON
    if not record_path.is_file():
        return None
    record = read_json(record_path)
    if record is None:  # damaged: the recording is found beside the episode, and the next ingest writes it again
        record = {"has_video": any(probe_mod.probe(p).has_video for p in sorted(episode.folder.glob("source.*")))}
    if not record.get("has_video"):
        return None
    for candidate in recording_candidates(episode, record):
        if candidate.is_file():
            return candidate
    raise InputError(f"{episode.folder}: the recording {record.get('path')} is gone, so the video can't be cut. Put it back, or ingest it again.")
