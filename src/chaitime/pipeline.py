"""The ingest pipeline: a stage table, up-to-date checks, resume, progress events.

Each stage is a function of explicit inputs; this module wires them and owns the records in
``.chaitime/stages.json``: a stage whose key (input hashes, parameters, tool versions) matches
its record and whose outputs exist is skipped, so a re-run does nothing and an interrupted run
resumes at the first unfinished stage. Outputs are written atomically.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__, asr, config, fsutil
from .asr.audio import SAMPLE_RATE_HZ, speech_args, speech_input
from .errors import InputError
from .media import ffmpeg, loudness, probe as probe_mod, tags
from .media.probe import MediaInfo
from .transcript.formats import EPISODE_FILES, WRITERS
from .transcript.model import Transcript
from .workspace import Episode, EpisodeMeta, Workspace, guid_for, update_meta

log = logging.getLogger("chaitime")

Progress = Callable[..., None]  # (stage, done, total, unit="s")


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


class Records:
    """stages.json: the key each stage last finished with."""

    def __init__(self, episode: Episode, force: bool) -> None:
        self.path = episode.machine_dir / "stages.json"
        self.force = force
        try:
            self.data = json.loads(self.path.read_text()) if self.path.is_file() else {}
        except ValueError:
            self.data = {}  # a damaged record only costs a re-run
        self.ran: list[str] = []
        self.lock = threading.Lock()

    def fresh(self, stage: str, key: str, outputs: list[Path]) -> bool:
        return not self.force and self.data.get(stage) == key and all(p.exists() for p in outputs)

    def done(self, stage: str, key: str) -> None:
        with self.lock:  # stages finish on two threads (mastering runs beside transcription)
            self.data[stage] = key
            self.ran.append(stage)
            fsutil.write_text(self.path, json.dumps(self.data, indent=1, sort_keys=True) + "\n")


def ingest(recording: Path, ws: Workspace, opts: IngestOptions = IngestOptions(), progress: Progress | None = None) -> IngestResult:
    """Turn ``recording`` into a finished episode folder in ``ws``."""
    started = time.monotonic()
    progress = progress or (lambda *a, **k: None)
    recording = Path(recording)
    info = probe_mod.probe(recording)
    _check_asr(_asr_options(ws, None, opts))  # a bad model or device fails before any work
    source_hash = _source_hash(ws, recording)
    episode, created = _episode_for(ws, recording, source_hash, opts)
    with episode.lock():
        meta = _write_meta(episode, recording, source_hash, opts)
        rec = Records(episode, opts.force)
        _link_source(episode, recording, info)
        asr_opts = _asr_options(ws, meta, opts)
        with ThreadPoolExecutor(max_workers=1) as pool:
            # The model loads (imports and weights, ~1 s) while ffmpeg decodes, unless it won't be needed.
            warm = None if rec.fresh("transcribe", _transcribe_key(asr_opts, _extract_key(source_hash)), [_asr_json(episode)]) \
                else pool.submit(asr.load_engine, asr_opts)
            before = _extract(episode, recording, info, source_hash, rec, progress)
            # Mastering (ffmpeg, a subprocess) overlaps with transcription. Measured on 60 minutes:
            # 150 s in all; mastering beside the speaker stage instead took 179 s.
            mastered = pool.submit(_master, episode, ws, meta, info, before, rec)
            # The stereo check (10 minutes decoded, ~2 s) runs after mastering, beside
            # transcription, when the speaker stage is sure to run (a re-run never waits for it).
            stereo_check = None if warm is None else pool.submit(_channels_independent, episode, info, opts)
            if warm is not None:
                warm.result()
            raw = _transcribe(episode, asr_opts, rec, progress)
            after = mastered.result()
            independent = stereo_check.result() if stereo_check is not None else None
        named = _speakers(episode, ws, raw, opts, rec, independent)
        notes = _writing(episode, ws, named, rec)
        _write_edit_md(episode, ws, named)
        _feed(ws)
    outputs = tuple(p for p in (episode.path(n) for n in OUTPUT_NAMES) if p.exists())
    meta = episode.meta()
    return IngestResult(episode, meta, info.duration_s, before, after, len(named.words), outputs, tuple(rec.ran),
                        time.monotonic() - started, created, notes)


OUTPUT_NAMES = ("episode.toml", "audio.mp3", "video.mp4", "transcript.json", *EPISODE_FILES.values(),
                "chapters.json", "edit.md", "post.md", "post.draft.md", "youtube.txt")


# --- episode folder and metadata -------------------------------------------------------------
def _episode_for(ws: Workspace, recording: Path, source_hash: str, opts: IngestOptions) -> tuple[Episode, bool]:
    existing = ws.find_by_source(source_hash)
    if existing is not None:
        return existing, False
    title = opts.title or _title_from(recording)
    episode = ws.new_episode_folder(title, opts.number)
    episode.machine_dir.mkdir(parents=True, exist_ok=True)
    fsutil.write_text(episode.machine_dir / "source.hash", source_hash + "\n")
    return episode, True


def _source_hash(ws: Workspace, recording: Path) -> str:
    """The recording's content hash. An episode made from this very file (same path, size,
    modification and change times, inode) has it already: hashing an hour of video again
    read 870 MB and took 1-4.6 s of a re-run."""
    signature = _file_signature(recording)
    for ep in ws.episodes():
        try:
            record = json.loads((ep.machine_dir / "source.json").read_text())
            if record.get("stat") == signature:
                return (ep.machine_dir / "source.hash").read_text().strip()
        except (OSError, ValueError):
            continue
    return fsutil.file_hash(recording)


def _file_signature(path: Path) -> list:
    st = path.stat()
    return [str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


def _title_from(recording: Path) -> str:
    return recording.stem.replace("_", " ").replace("-", " ").strip().title() or "Episode"


def _write_meta(episode: Episode, recording: Path, source_hash: str, opts: IngestOptions) -> EpisodeMeta:
    """episode.toml: made once; later ingests change only what the host passes explicitly."""
    if opts.date:
        try:
            dt.date.fromisoformat(opts.date)
        except ValueError as exc:
            raise InputError(f"--date {opts.date!r}: use YYYY-MM-DD, e.g. 2026-11-23.") from exc
    if episode.meta_path.is_file():
        meta = episode.meta()
        meta = update_meta(meta, title=opts.title, number=opts.number, date=opts.date, guests=tuple(opts.guests) or None,
                           draft=True if opts.draft else None)
    else:
        date = opts.date or dt.date.fromtimestamp(recording.stat().st_mtime).isoformat()
        meta = EpisodeMeta(title=opts.title or _title_from(recording), guid=guid_for(source_hash), date=date,
                           number=opts.number, guests=tuple(opts.guests), draft=opts.draft)
    episode.write_meta(meta)
    return meta


def _link_source(episode: Episode, recording: Path, info: MediaInfo) -> None:
    """Keep the recording with the episode (a hard link costs no space) and note where it came from."""
    record = {"path": str(recording.resolve()), "has_video": info.has_video, "name": recording.name}
    link = episode.path("source" + recording.suffix.lower())
    if not link.exists():
        try:
            os.link(recording, link)
        except OSError:
            pass  # another filesystem: the record's path is enough to re-render
    if link.exists():
        record["link"] = link.name
    record["stat"] = _file_signature(recording)  # after linking, which changes the file's ctime
    fsutil.write_if_changed(episode.machine_dir / "source.json", json.dumps(record, indent=1) + "\n")


# --- stages -------------------------------------------------------------------------------------
def _extract(episode: Episode, recording: Path, info: MediaInfo, source_hash: str, rec: Records, progress: Progress) -> loudness.Loudness:
    """Decode once: 16 kHz mono speech for ASR and the lossless master, measuring loudness on the way."""
    speech, master = episode.machine_dir / "speech.s16", episode.machine_dir / "master.flac"
    measured = episode.machine_dir / "loudness.json"
    key = _extract_key(source_hash)
    if rec.fresh("extract", key, [speech, master, measured]):
        return loudness.Loudness(**json.loads(measured.read_text()))
    channels = ["-ac", "2"] if info.channels > 2 else []
    with fsutil.atomic_path(speech) as sp, fsutil.atomic_path(master) as ma:
        stderr = ffmpeg.run(
            ["-vn", "-i", ffmpeg.as_input(recording), *speech_args(sp),  # -vn: video packets are skipped, not read through
             "-map", "0:a:0", *channels, "-af", loudness.MEASURE_LEVEL_FILTER, "-c:a", "flac", "-f", "flac", str(ma)],
            what=f"decoding {recording.name}", progress=lambda s: progress("decode", s, info.duration_s))
        before = loudness.parse_summary(stderr)
    fsutil.write_text(measured, json.dumps(before.__dict__) + "\n")
    rec.done("extract", key)
    return before


def _extract_key(source_hash: str) -> str:
    return fsutil.text_hash("extract", source_hash, ffmpeg.ffmpeg_version(), 2)


def _master(episode: Episode, ws: Workspace, meta: EpisodeMeta, info: MediaInfo, before: loudness.Loudness, rec: Records) -> loudness.Loudness:
    """audio.mp3 (and video.mp4 with the same mastered sound) in one ffmpeg run, then ID3 tags."""
    audio, video, after_path = episode.path("audio.mp3"), episode.path("video.mp4"), episode.machine_dir / "loudness.out.json"
    target = loudness.target_for(info.channels, ws.settings.get("audio", "target_lufs"))
    channels = 1 if info.channels == 1 else 2
    gain = loudness.gain_db(before, target)
    tag_values = tags.episode_tags(ws.settings, meta)
    key = fsutil.text_hash("master", rec.data.get("extract"), target, gain, channels, info.has_video, ffmpeg.ffmpeg_version(), 3,
                           sorted((k, str(v)) for k, v in tag_values.items()), fsutil.file_hash(tag_values["cover"]) if tag_values["cover"] else None, 4)
    outputs = [audio, after_path] + ([video] if info.has_video else [])
    if rec.fresh("master", key, outputs):
        return loudness.Loudness(**json.loads(after_path.read_text()))
    # The limiter's loss is estimated (and when needed measured) on the 16 kHz speech file:
    # a quarter of the time, within 0.1 LU on speech.
    speech = episode.machine_dir / "speech.s16"
    proxy = loudness.Proxy(speech_input(speech), asr.PcmAudio(speech).samples(), SAMPLE_RATE_HZ)
    _, after = loudness.master_mp3(episode.machine_dir / "master.flac", before, target, channels, audio, proxy=proxy)
    if info.has_video:
        _mux_video(info, audio, video)
    tags.write_tags(audio, **tag_values)
    fsutil.write_text(after_path, json.dumps(after.__dict__) + "\n")
    rec.done("master", key)
    return after


def _mux_video(info: MediaInfo, audio: Path, video: Path) -> None:
    """video.mp4: the recording's picture with the mastered MP3 stream copied in (MP3 in MP4 plays
    in browsers and players). No second audio encode: AAC ran at ~40x realtime here, the mux ~1000x."""
    with fsutil.atomic_path(video) as tmp:
        ffmpeg.run(["-i", ffmpeg.as_input(info.path), "-i", str(audio), "-map", "0:v:0", "-map", "1:a:0", *_video_codec(info),
                    "-c:a", "copy", "-movflags", "+faststart", "-f", "mp4", str(tmp)], what="writing the video")


def _video_codec(info: MediaInfo) -> list[str]:
    """Copy H.264/HEVC as recorded (no generation loss); anything else becomes H.264."""
    if info.video_codec in ("h264", "hevc"):
        return ["-c:v", "copy"]
    return ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"]


def _check_asr(options: asr.AsrOptions) -> None:
    asr.engine.choose(options.engine, options.device)
    asr.models.resolve(options.model, allow_download=options.allow_download)


def _asr_options(ws: Workspace, meta: EpisodeMeta | None, opts: IngestOptions) -> asr.AsrOptions:
    s = ws.settings
    guests = meta.guests if meta else opts.guests
    # The template's placeholder host is no hint: a prompt costs decode time and can make Whisper skip speech.
    hosts = [h for h in s.hosts if h != config.PLACEHOLDER_NAME]
    vocabulary = tuple(dict.fromkeys([*(s.get("transcribe", "vocabulary") or []), *guests, *hosts]))
    return asr.AsrOptions(
        model=opts.model or s.get("transcribe", "model", "tiny.en"),
        engine=opts.engine or s.get("transcribe", "engine", "auto"),
        device=opts.device or s.get("transcribe", "device", "auto"),
        language=opts.language or s.get("transcribe", "language", "en"),
        vocabulary=tuple(v for v in vocabulary if v),
    )


def _asr_json(episode: Episode) -> Path:
    return episode.machine_dir / "transcript.asr.json"


def _transcribe_key(options: asr.AsrOptions, extract_key: str | None) -> str:
    engine_name, device = asr.engine.choose(options.engine, options.device)
    return fsutil.text_hash("transcribe", extract_key, options, engine_name, device, asr.engine_version(engine_name), 2)


def _transcribe(episode: Episode, options: asr.AsrOptions, rec: Records, progress: Progress) -> Transcript:
    out = _asr_json(episode)
    key = _transcribe_key(options, rec.data.get("extract"))
    if rec.fresh("transcribe", key, [out]):
        return Transcript.load(out)
    pcm = asr.PcmAudio(episode.machine_dir / "speech.s16")
    transcript = asr.transcribe_pcm(pcm, options, lambda done, total: progress("transcribe", done, total))
    fsutil.write_text(out, transcript.to_json())
    rec.done("transcribe", key)
    return transcript


def _channels_independent(episode: Episode, info: MediaInfo, opts: IngestOptions) -> bool | None:
    """Whether the recording holds one person per stereo channel; None where the speaker stage won't ask."""
    if opts.tracks or opts.num_speakers == 1:
        return None
    from .speakers import channels_independent

    return info.channels == 2 and channels_independent(episode.machine_dir / "master.flac")


def _speakers(episode: Episode, ws: Workspace, raw: Transcript, opts: IngestOptions, rec: Records, independent: bool | None = None) -> Transcript:
    """Label who speaks (tracks, stereo channels or voice clustering), then put names on labels."""
    from . import speakers
    from .speakers.names import name_speakers

    labeled_path = episode.machine_dir / "speakers.json"
    host_voice = ws.settings.resolve(ws.settings.show.get("host_voice"))
    track_key = sorted((n, fsutil.file_hash(p)) for n, p in opts.tracks.items())
    meta = episode.meta()
    # With guests named, the people on the episode are known: the voice count estimated from a mix
    # never exceeds hosts + guests (a voice split in two is the likelier error on a short recording).
    max_speakers = len(ws.settings.hosts) + len(meta.guests) if meta.guests else None
    key = fsutil.text_hash("speakers", rec.data.get("transcribe"), track_key, opts.num_speakers, max_speakers,
                           fsutil.file_hash(host_voice) if host_voice and host_voice.is_file() else None, speakers.embed.available()[0], 1)
    if rec.fresh("speakers", key, [labeled_path]):
        labeled = Transcript.load(labeled_path)
    else:
        labeled = speakers.attribute(raw, mix_path=episode.machine_dir / "master.flac", tracks=opts.tracks or None,
                                     num_speakers=opts.num_speakers, host_voice=host_voice if host_voice and host_voice.is_file() else None,
                                     speech=asr.PcmAudio(episode.machine_dir / "speech.s16").samples(), max_speakers=max_speakers,
                                     independent=independent)
        fsutil.write_text(labeled_path, labeled.to_json())
        rec.done("speakers", key)
    named, used = name_speakers(labeled, hosts=ws.settings.hosts, guests=list(meta.guests), mapping=meta.speakers)
    if used != meta.speakers:
        episode.write_meta(update_meta(meta, speakers=used))
    _write_transcripts(episode, named)
    return named


def _write_transcripts(episode: Episode, transcript: Transcript) -> None:
    """transcript.raw.json keeps the original timeline (render re-times from it); the episode's
    transcript files follow it unless a render has re-timed them since."""
    raw_path = episode.machine_dir / "transcript.raw.json"
    changed = fsutil.write_if_changed(raw_path, transcript.to_json())
    if changed or not episode.path("transcript.json").exists():
        fsutil.write_if_changed(episode.path("transcript.json"), transcript.to_json())
        for fmt, name in EPISODE_FILES.items():
            fsutil.write_if_changed(episode.path(name), WRITERS[fmt](transcript))


def _writing(episode: Episode, ws: Workspace, transcript: Transcript, rec: Records) -> tuple[str, ...]:
    """chapters.json, post.md (or post.draft.md once the host edited it), youtube.txt, ID3 chapters."""
    from .writing.chapters import load_chapters
    from .writing.draft import draft_episode

    key = fsutil.text_hash("draft", transcript.to_json(), episode.meta().to_toml(), sorted(ws.settings.data.items()), 1)
    outputs = [episode.path("chapters.json"), episode.path("youtube.txt")]
    if rec.fresh("draft", key, outputs):
        return ()
    result = draft_episode(episode, ws.settings)
    chapters = load_chapters(result.chapters_path)
    audio = episode.path("audio.mp3")
    if chapters and audio.is_file():
        tags.write_chapters(audio, chapters, tags.mp3_duration_s(audio))
    rec.done("draft", key)
    notes = list(result.warnings)
    if result.kept_host_post:
        notes.append(f"post.md was edited by you, so the new draft went to {result.post_path.name}")
    return tuple(notes)


def _write_edit_md(episode: Episode, ws: Workspace, transcript: Transcript) -> None:
    """edit.md is written once; after that it is the host's cut list."""
    target = episode.path("edit.md")
    if target.exists():
        return
    try:
        from .edit.markdown import write_edit_md
    except ImportError:
        return
    from .edit.audiocheck import listen_file

    audio = ws.settings.data.get("audio", {})
    # Suggestions are checked against the audio (Silero + energy on the 16 kHz speech file), not the word times alone.
    speech = episode.machine_dir / "speech.s16"
    hearing = listen_file(speech) if speech.is_file() else None
    fsutil.write_text(target, write_edit_md(transcript, fillers=audio.get("fillers"), hearing=hearing,
                                            silence_max_s=audio.get("silence_max_s", 1.5), silence_keep_s=audio.get("silence_keep_s", 0.5)))


def _feed(ws: Workspace) -> None:
    from .publish.feed import write_feed

    write_feed(ws)


def summary_line(result: IngestResult) -> str:
    b, a = result.loudness_before, result.loudness_after
    loud = f"{b.integrated_lufs:.1f} -> {a.integrated_lufs:.1f} LUFS, peak {a.true_peak_dbtp:.1f} dBTP" if a and b else ""
    return f"{result.duration_s / 60:.1f} min, {loud}, {result.words} words, {result.seconds:.1f} s"
