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

import datetime as dt
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import asr, config, fsutil
from .asr.audio import SAMPLE_RATE_HZ, speech_args, speech_input
from .errors import ChaitimeError, InputError
from .media import ffmpeg, loudness, tags
from .media import probe as probe_mod
from .media.probe import MediaInfo
from .transcript.formats import WRITERS
from .transcript.model import Transcript
from .workspace import (
    AUDIO,
    CHAPTERS,
    EPISODE_FILES,
    EPISODE_TOML,
    POST,
    TRANSCRIPT,
    TRANSCRIPT_FILES,
    VIDEO,
    Episode,
    EpisodeMeta,
    Workspace,
    update_meta,
)

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


# One version per stage: bump a stage's number when its output for the same inputs changes.
VERSIONS = {"extract": 3, "tracks": 1, "sound": 3, "master": 7, "transcribe": 3, "speakers": 3, "draft": 2, "render": 4, "clip": 1}


def stage_key(stage: str, *parts: object) -> str:
    """A stage's key: its name, its inputs' content hashes and parameters, its version. No paths."""
    return fsutil.text_hash(stage, *parts, VERSIONS[stage])


class Records:
    """stages.json: the key each stage last finished with."""

    def __init__(self, episode: Episode, force: bool = False) -> None:
        self.path = episode.machine_dir / "stages.json"
        self.force = force
        try:
            self.data = json.loads(self.path.read_text()) if self.path.is_file() else {}
        except ValueError:
            self.data = {}  # a damaged record only costs a re-run
        self.ran: list[str] = []
        self.started: dict[str, float] = {}
        self.lock = threading.Lock()
        self.draft_result = None  # the draft stage's result, when it ran

    def fresh(self, stage: str, key: str, outputs: list[Path]) -> bool:
        up_to_date = not self.force and self.data.get(stage) == key and all(p.exists() for p in outputs)
        if not up_to_date:
            self.started[stage] = time.monotonic()
        return up_to_date

    def done(self, stage: str, key: str) -> None:
        with self.lock:  # stages finish on two threads (mastering runs beside transcription)
            self.data[stage] = key
            self.ran.append(stage)
            fsutil.write_text(self.path, json.dumps(self.data, indent=1, sort_keys=True) + "\n")
        if stage in self.started:  # `chaitime -v` shows what each stage cost (docs/scale.md)
            log.debug("%s: stage %s took %.1f s", self.path.parent.parent.name, stage, time.monotonic() - self.started.pop(stage))


def ingest(recording: Path, ws: Workspace, opts: IngestOptions = IngestOptions(), progress: Progress | None = None) -> IngestResult:
    """Turn ``recording`` into a finished episode folder in ``ws``."""
    started = time.monotonic()
    progress = progress or (lambda *a, **k: None)
    recording = Path(os.path.expanduser(str(recording)))
    info = probe_mod.probe(recording)
    if opts.stop_after != "extract":  # (a node that only extracts needs no model)
        _check_asr(_asr_options(ws, None, opts))  # a bad model or device fails before any work
    if opts.tracks:
        from .speakers.tracks import check_tracks_cover

        check_tracks_cover(opts.tracks, info.duration_s)
    source_hash = _source_hash(ws, recording)
    if ws.find_by_source(source_hash) is None:  # a new episode: no folder is made unless everything fits
        _require_space(ws.root, info, {})
    episode, created = _episode_for(ws, recording, source_hash, opts)
    with episode.lock(), _running(episode, "ingest", finish=opts.stop_after is None):
        meta = _write_meta(episode, recording, source_hash, opts)
        rec = Records(episode, opts.force)
        _link_source(episode, recording, info)
        _require_space(episode.folder, info, rec.data)
        asr_opts = _asr_options(ws, meta, opts)
        # Once the host rendered an edit, audio.mp3 and video.mp4 belong to the render stage.
        rendered = "render" in rec.data
        with ThreadPoolExecutor(max_workers=1) as pool:
            # The model loads (imports and weights, ~1 s) while ffmpeg decodes, unless it won't be needed.
            warm = None if opts.stop_after == "extract" or rec.fresh("transcribe", _transcribe_key(asr_opts, _extract_key(source_hash)),
                                                                      [_asr_json(episode)]) else pool.submit(asr.prepare, asr_opts)
            before = _extract(episode, recording, info, source_hash, rec, progress)
            media_notes = tuple(n for n in (probe_mod.ends_early_note(info, asr.PcmAudio(episode.machine_dir / "speech.s16").duration_s),
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
        named = _speakers(episode, ws, raw, opts, rec, independent)
        sound_report = _sound(episode, ws, info, named, rec, opts.tracks) if cleanup else _drop_sound(episode)
        if cleanup and not rendered:
            after = _master(episode, ws, meta, info, before, rec)
        if rendered:  # before the draft stage, which writes chapters into the audio it makes
            after = _render(episode, ws, rec, progress).loudness_after
        notes = _writing(episode, ws, named, rec)
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
                        sound_report)


def _partial(episode: Episode, info: MediaInfo, before: loudness.Loudness, rec: Records, started: float, created: bool,
             notes: tuple[str, ...], words: int = 0) -> IngestResult:
    """What an ingest stopped early (IngestOptions.stop_after) did: the episode stays unfinished."""
    return IngestResult(episode, episode.meta(), info.duration_s, before, None, words, (), tuple(rec.ran),
                        time.monotonic() - started, created, notes)


@contextmanager
def _running(episode: Episode, what: str, finish: bool = True) -> Iterator[None]:
    """While a command works on an episode: temporaries of a killed run swept first, the episode
    marked incomplete (so it is never published half made), the mark lifted when the command
    finishes (unless it ran only some stages: ``finish`` false), and kept with the reason when it
    fails. Only ingest (or the same command, run again) lifts a mark another command left."""
    fsutil.sweep_temps(episode.folder, episode.machine_dir, episode.path("clips"))
    found = episode.incomplete_reason()
    if found is not None and what != "ingest" and not found.startswith(f"`chaitime {what}`"):
        yield  # unfinished for another command's reason (an ingest that failed): that stays the reason
        return
    episode.mark_incomplete(f"`chaitime {what}` started and has not finished (interrupted?); run it again")
    try:
        yield
    except BaseException as exc:
        why = "was interrupted" if isinstance(exc, KeyboardInterrupt) else f"failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        try:
            episode.mark_incomplete(f"`chaitime {what}` {why}")
        except OSError:
            pass  # a full disk: the mark written at the start stays
        raise
    if finish:
        episode.mark_complete()


OUTPUT_NAMES = (EPISODE_TOML, TRANSCRIPT, *(f.name for f in EPISODE_FILES), "edit.md", POST, "post.draft.md", "youtube.txt", "youtube.draft.txt", "sound.svg")


# --- episode folder and metadata -------------------------------------------------------------
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
    """episode.toml: made once (with the folder, see _episode_for); later ingests change only what
    the host passes explicitly."""
    if episode.meta_path.is_file():
        meta = episode.meta()
        meta = update_meta(meta, title=opts.title, number=opts.number, date=opts.date, guests=tuple(opts.guests) or None,
                           draft=True if opts.draft else None)
    else:  # the host deleted it: made again, with the guid the recording always gets
        from .workspace import guid_for

        meta = _new_meta(recording, guid_for(source_hash), opts)
    episode.write_meta(meta)
    return meta


# Bytes per second of recording each stage writes, for the free-space check before it starts:
# speech.s16 (16 kHz s16 mono) + master.flac (48 kHz stereo FLAC, ~60% of PCM) + audio.mp3 (CBR).
EXTRACT_BPS = 32_000 + 48_000 * 2 * 2 * 0.6
MASTER_BPS = 24_000


def _require_space(folder: Path, info: MediaInfo, records: dict) -> None:
    """Fail before a stage starts, naming the disk, when its outputs can't fit (estimated from the duration)."""
    need = 0.0
    if "extract" not in records:
        need += EXTRACT_BPS * info.duration_s
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
    with fsutil.atomic_path(speech) as sp, fsutil.atomic_path(master) as ma:
        stderr = ffmpeg.run(
            ["-vn", "-i", ffmpeg.as_input(recording), *speech_args(sp),  # -vn: video packets are skipped, not read through
             "-map", "0:a:0", "-af", loudness.level_filter(info.channels), "-c:a", "flac", "-f", "flac", str(ma)],
            what=f"decoding {recording.name}", progress=lambda s: progress("decode", s, info.duration_s))
        before = loudness.parse_summary(stderr)
    fsutil.write_text(measured, json.dumps(before.__dict__) + "\n")
    rec.done("extract", key)
    return before


def _extract_key(source_hash: str) -> str:
    return stage_key("extract", source_hash, ffmpeg.ffmpeg_version())


def _sound_settings(ws: Workspace):
    from .media.sound import Settings

    audio = ws.settings
    return Settings(bool(audio.get("audio", "leveler", True)), audio.get("audio", "denoise", "auto"), audio.get("audio", "dehum", "auto"),
                    bool(audio.get("audio", "deess", False)))


def _sound(episode: Episode, ws: Workspace, info: MediaInfo, transcript: Transcript, rec: Records, tracks: dict[str, Path] | None = None) -> dict:
    """sound.flac (the cleaned lossless master: high-pass, hum notches, RNNoise, leveler by speaker
    turn), its 16 kHz copy and sound.json, the record of what was done and measured. With
    separate tracks, the sound starts from the tracks' mix (each levelled and ducked), not the recording's."""
    from .media import sound

    settings = _sound_settings(ws)
    out, proxy, record = episode.machine_dir / "sound.flac", episode.machine_dir / "sound.s16", episode.machine_dir / "sound.json"
    recorded = asr.PcmAudio(episode.machine_dir / "speech.s16").samples()
    source, speech, mix_clipped = episode.machine_dir / "master.flac", recorded, None
    if tracks:
        source, mix_proxy, mix_clipped = _tracks_mix(episode, info, transcript, tracks, rec)
        speech = asr.PcmAudio(mix_proxy).samples()
    plan = sound.analyse(speech, transcript, settings)  # seconds for an hour: the key is what it decided
    # The speakers are evened as mastered, and the sound is delivered where mastering's first encode
    # aims (the MP3 encoder's loss over the target): mastering then finds the gain without a limiter pass.
    target = loudness.target_for(info.channels, ws.settings.get("audio", "target_lufs")) + loudness.ENCODER_LOSS_LU
    key = stage_key("sound", rec.data.get("extract"), rec.data.get("tracks") if tracks else None, settings.__dict__,
                    sound.plan_key(plan), target, ffmpeg.ffmpeg_version())
    if rec.fresh("sound", key, [out, proxy, record]):
        return json.loads(record.read_text())
    # Denoising a voice recorded as stereo: once, as mono. Decided from the source's content alone,
    # which the key holds (the extract or tracks record), so it is decided only when the stage runs.
    if min(2, info.channels) == 2 and plan.denoise != "off":
        plan = replace(plan, one_sound=sound.one_sound(source))
    measured, clipped = sound.apply(source, plan, info.channels, out, proxy, target_lufs=target)
    cleaned = asr.PcmAudio(proxy).samples()
    report = sound.report(plan, measured, clipped if mix_clipped is None else mix_clipped, cleaned, transcript,
                          settings.leveler and not plan.notes)
    data = report.__dict__
    if tracks:  # "before" is the recording as the host gave it, not the levelled tracks
        data["speakers_before_db"], data["noise_floor_before_db"] = sound.after_levels(recorded, transcript)
        data["tracks"] = sorted(tracks)
    fsutil.write_text(episode.path("sound.svg"), sound.picture(recorded, cleaned, transcript))
    fsutil.write_text(record, json.dumps(data, indent=1, sort_keys=True) + "\n")
    rec.done("sound", key)
    return data


def _tracks_mix(episode: Episode, info: MediaInfo, transcript: Transcript, tracks: dict[str, Path], rec: Records) -> tuple[Path, Path, int]:
    """tracks.flac: the separate tracks, each levelled and ducked while others speak, mixed on the
    recording's timeline; its 16 kHz copy; the clipped samples counted in the tracks."""
    from .media import sound
    from .speakers.audio import decode

    out, proxy, record = episode.machine_dir / "tracks.flac", episode.machine_dir / "tracks.s16", episode.machine_dir / "tracks.json"
    names = episode.meta().speakers or {}  # a track is labelled with its name; the host may have renamed the label
    named = {names.get(label, label): Path(path) for label, path in tracks.items()}
    # The speaker stage's key holds the tracks' content and the words' turns; the names complete it,
    # so a re-run decodes nothing here.
    key = stage_key("tracks", rec.data.get("speakers"), sorted((label, names.get(label, label)) for label in tracks),
                    min(2, info.channels), round(info.duration_s, 3), ffmpeg.ffmpeg_version())
    if rec.fresh("tracks", key, [out, proxy, record]):
        return out, proxy, json.loads(record.read_text())["clipped_samples"]
    gains = sound.track_gains({name: decode(path)[:, 0] for name, path in named.items()}, transcript)
    clipped = sound.mix_levelled_tracks(named, gains, min(2, info.channels), info.duration_s, out, proxy)
    fsutil.write_text(record, json.dumps({"clipped_samples": clipped, "tracks": sorted(named)}) + "\n")
    rec.done("tracks", key)
    return out, proxy, clipped


def _drop_sound(episode: Episode) -> None:
    """Studio sound turned off: its files go, so nothing (render, studio) plays a stale cleanup."""
    for name in ("sound.flac", "sound.s16", "sound.json", "tracks.flac", "tracks.s16", "tracks.json"):
        (episode.machine_dir / name).unlink(missing_ok=True)
    episode.path("sound.svg").unlink(missing_ok=True)


def master_source(episode: Episode, ws: Workspace) -> Path:
    """The lossless master that audio.mp3, render and clips start from: the cleaned sound when studio sound is on."""
    cleaned = episode.machine_dir / "sound.flac"
    return cleaned if _sound_settings(ws).active and cleaned.is_file() else episode.machine_dir / "master.flac"


def _master(episode: Episode, ws: Workspace, meta: EpisodeMeta, info: MediaInfo, before: loudness.Loudness, rec: Records) -> loudness.Loudness:
    """audio.mp3 (and video.mp4 with the same mastered sound) in one ffmpeg run, then ID3 tags."""
    audio, video, after_path = episode.path(AUDIO), episode.path(VIDEO), episode.machine_dir / "loudness.out.json"
    source = master_source(episode, ws)
    cleaned = source.name == "sound.flac"
    if cleaned:
        before = loudness.Loudness(**json.loads((episode.machine_dir / "sound.json").read_text())["loudness"])
    target = loudness.target_for(info.channels, ws.settings.get("audio", "target_lufs"))
    channels = 1 if info.channels == 1 else 2
    gain = loudness.gain_db(before, target)
    tag_values = tags.episode_tags(ws.settings, meta)
    key = stage_key("master", rec.data.get("extract"), rec.data.get("sound") if cleaned else None, target, gain, channels, info.has_video,
                    ffmpeg.ffmpeg_version(), tag_key(tag_values))
    outputs = [audio, after_path] + ([video] if info.has_video else [])
    if rec.fresh("master", key, outputs):
        return loudness.Loudness(**json.loads(after_path.read_text()))
    # The limiter's loss is estimated (and when needed measured) on the 16 kHz speech file:
    # a quarter of the time, within 0.1 LU on speech.
    speech = episode.machine_dir / ("sound.s16" if cleaned else "speech.s16")
    proxy = loudness.Proxy(speech_input(speech), asr.PcmAudio(speech).samples(), SAMPLE_RATE_HZ)
    _, after = loudness.master_mp3(source, before, target, channels, audio, proxy=proxy)
    if info.has_video:
        _mux_video(info, audio, video)
    tags.write_tags(audio, **tag_values)
    fsutil.write_text(after_path, json.dumps(after.__dict__) + "\n")
    rec.done("master", key)
    return after


def tag_key(tag_values: dict) -> list:
    """ID3 tag values for a stage key: the cover by its content, never by its path."""
    cover = tag_values.get("cover")
    return [*sorted((k, str(v)) for k, v in tag_values.items() if k != "cover"), ("cover", fsutil.file_hash(cover) if cover else None)]


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
    # Names respell what was decoded without them (asr.vocabulary); the template's placeholder host is no name.
    hosts = [h for h in s.hosts if h != config.PLACEHOLDER_NAME]
    names = [n for n in (*guests, *hosts) if n and len(n) <= asr.vocabulary.MAX_ENTRY_CHARS]
    vocabulary = tuple(dict.fromkeys([*(s.get("transcribe", "vocabulary") or []), *names]))
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
    return stage_key("transcribe", extract_key, options, engine_name, device, asr.engine_version(engine_name))


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
    from .speakers.names import name_speakers, real_names

    labeled_path = episode.machine_dir / "speakers.json"
    host_voice = ws.settings.resolve(ws.settings.show.get("host_voice"))
    track_key = sorted((n, fsutil.file_hash(p)) for n, p in opts.tracks.items())
    meta = episode.meta()
    # The people named (hosts and guests) are a hint for the count of voices, never a cap: the
    # audio decides, and a fourth voice in a meeting stays a fourth label.
    expected = len(set(real_names(ws.settings.hosts)) | set(real_names(meta.guests))) or None
    key = stage_key("speakers", rec.data.get("transcribe"), track_key, opts.num_speakers, expected,
                    fsutil.file_hash(host_voice) if host_voice and host_voice.is_file() else None, speakers.embed.available()[0])
    if rec.fresh("speakers", key, [labeled_path]):
        labeled = Transcript.load(labeled_path)
    else:
        labeled = speakers.attribute(raw, mix_path=episode.machine_dir / "master.flac", tracks=opts.tracks or None,
                                     num_speakers=opts.num_speakers, host_voice=host_voice if host_voice and host_voice.is_file() else None,
                                     speech=asr.PcmAudio(episode.machine_dir / "speech.s16").samples(), expected_speakers=expected,
                                     independent=independent)
        fsutil.write_text(labeled_path, labeled.to_json())
        rec.done("speakers", key)
    named, used = name_speakers(labeled, hosts=ws.settings.hosts, guests=list(meta.guests), mapping=meta.speakers)
    if used != meta.speakers:
        episode.write_meta(update_meta(meta, speakers=used))
    _write_transcripts(episode, named, ws.settings)
    return named


def _write_transcripts(episode: Episode, transcript: Transcript, settings: config.Settings | None = None) -> None:
    """transcript.raw.json keeps the original timeline (render re-times from it); the episode's
    transcript files follow it unless a render has re-timed them since. A new transcript (another
    model) keeps the host's corrections and, with ``settings``, their edit.md's cuts."""
    raw_path = episode.machine_dir / "transcript.raw.json"
    previous = _previous_transcript(raw_path)
    transcript = _carry_corrections(previous, transcript)
    changed = fsutil.write_if_changed(raw_path, transcript.to_json())
    if changed and previous is not None and settings is not None and _words_of(previous) != _words_of(transcript):
        _carry_edit(episode, settings, previous, transcript)
    if changed or not episode.path(TRANSCRIPT).exists():
        fsutil.write_if_changed(episode.path(TRANSCRIPT), transcript.to_json())
        for fmt, name in TRANSCRIPT_FILES.items():
            fsutil.write_if_changed(episode.path(name), WRITERS[fmt](transcript))


def _words_of(transcript: Transcript) -> list[tuple[float, float, str]]:
    """What edit.md's lines are made of (a change of speaker names alone leaves edit.md valid)."""
    from .edit.lines import tokens_of

    return [(t.start_s, t.end_s, t.text) for t in tokens_of(transcript)]


def _previous_transcript(raw_path: Path) -> Transcript | None:
    try:
        return Transcript.load(raw_path) if raw_path.is_file() else None
    except InputError:
        return None


def _carry_corrections(previous: Transcript | None, transcript: Transcript) -> Transcript:
    """The host's corrections (studio) in the transcript being written, placed by time and word; any
    that no longer find their word are kept in meta["corrections_unplaced"] and logged, never dropped."""
    from .transcript.corrections import carry

    if previous is None or not previous.meta.get("corrections"):
        return transcript
    carried, lost = carry(transcript, previous)
    if lost:
        log.warning("%d correction(s) found no word to go on: %s", len(lost),
                    ", ".join(f"{c.get('was', c.get('speaker'))!r} at {c.get('start', 0):.1f} s" for c in lost))
        carried = replace(carried, meta={**carried.meta, "corrections_unplaced": lost})
    return carried


def _carry_edit(episode: Episode, settings: config.Settings, previous: Transcript, transcript: Transcript) -> None:
    """The host's edit.md, written for ``previous``, rewritten for the new ``transcript`` with their cuts
    carried over (edit/carry.py); the old file stays in .chaitime/, and cuts that found no place are
    listed in a note at the end of edit.md."""
    from .edit.carry import carry_edit
    from .edit.markdown import read_edit_md

    path = episode.path("edit.md")
    if not path.is_file():
        return
    old_text = read_edit_md(path)
    options = {k: v for k, v in _suggest_settings(settings).items() if k != "fillers"}
    try:
        text, lost = carry_edit(old_text, previous, transcript, _suggested_edit_md(episode, settings, transcript), **options)
    except InputError as exc:  # it didn't fit the old transcript either: left as it is, for the host
        log.warning("%s: edit.md was not carried onto the new transcript: %s", episode.slug, exc)
        return
    fsutil.write_text(episode.machine_dir / "edit.before-reingest.md", old_text)
    if lost:
        items = "".join(f"     - {line.replace('--', '- -')}\n" for line in lost)
        text += ("\n<!-- A new transcript replaced the one these cuts were made on; they found no place in it. Make them again\n"
                 f"     if you still want them (your old edit.md is in .chaitime/edit.before-reingest.md):\n{items}-->\n")
        log.warning("%s: %d cut(s) of edit.md found no place in the new transcript (listed at the end of edit.md)", episode.slug, len(lost))
    fsutil.write_text(path, text)


def _draft_key(episode: Episode, ws: Workspace, transcript_json: str) -> str:
    # The channel's podcast:guid, stored in chaitime.toml by the first feed, is no input of the draft.
    settings = {name: {k: v for k, v in values.items() if (name, k) != ("publish", "guid")} for name, values in ws.settings.data.items()}
    return stage_key("draft", transcript_json, episode.meta().to_toml(), sorted(settings.items()))


def _writing(episode: Episode, ws: Workspace, transcript: Transcript, rec: Records, new_chapters: bool = False) -> tuple[str, ...]:
    """chapters.json, post.md (or post.draft.md once the host edited it), youtube.txt, ID3 chapters."""
    from .writing.chapters import load_chapters
    from .writing.draft import draft_episode

    key = _draft_key(episode, ws, transcript.to_json())
    outputs = [episode.path(CHAPTERS), episode.path("youtube.txt")]
    if rec.fresh("draft", key, outputs):
        return ()
    result = draft_episode(episode, ws.settings, new_chapters=new_chapters)
    chapters = load_chapters(result.chapters_path)
    audio = episode.path(AUDIO)
    if chapters and audio.is_file():
        tags.write_chapters(audio, chapters, tags.mp3_duration_s(audio))
    rec.done("draft", key)
    rec.draft_result = result
    notes = list(result.warnings)
    for name, draft_name in result.kept():
        notes.append(f"{name} was edited by you, so the new draft went to {draft_name}")
    return tuple(notes)


def _write_edit_md(episode: Episode, ws: Workspace, transcript: Transcript) -> None:
    """edit.md is written once; after that it is the host's cut list."""
    target = episode.path("edit.md")
    if not target.exists():
        fsutil.write_text(target, _suggested_edit_md(episode, ws.settings, transcript))


def _suggested_edit_md(episode: Episode, settings: config.Settings, transcript: Transcript) -> str:
    """The transcript as edit.md with suggested cuts, each checked against the audio (Silero and
    energy on the 16 kHz speech file), not against Whisper's word times alone."""
    from .edit.audiocheck import listen_file
    from .edit.markdown import write_edit_md

    speech = episode.machine_dir / "speech.s16"
    hearing = listen_file(speech) if speech.is_file() else None
    return write_edit_md(transcript, hearing=hearing, **_suggest_settings(settings))


# --- render: apply edit.md -------------------------------------------------------------------------
@dataclass(frozen=True)
class RenderResult:
    audio_path: Path
    video_path: Path | None
    duration_s: float
    removed_s: float
    changed: tuple[str, ...]  # names of the files written; empty when everything was up to date
    loudness_after: loudness.Loudness | None = None
    warnings: tuple[str, ...] = ()


def render(episode: Episode, ws: Workspace, progress: Progress | None = None) -> RenderResult:
    """`chaitime render`: apply the episode's edit.md (cut audio, video, transcripts, chapters), refresh the feed."""
    with episode.lock(), _running(episode, "render"):
        result = _render(episode, ws, Records(episode), progress)
    if result.changed:
        try:
            warnings = feed(ws).warnings
        except ChaitimeError as exc:  # the episode is rendered; a show-level problem is reported, not fatal
            warnings = (f"the feed was not refreshed: {exc}",)
        result = replace(result, warnings=warnings)
    return result


def _render(episode: Episode, ws: Workspace, rec: Records, progress: Progress | None) -> RenderResult:
    from .edit.audiocheck import quiet_edges_s
    from .edit.cutlist import TimeMap
    from .media import render as media

    settings = ws.settings
    inputs = _render_inputs(episode, settings, master_source(episode, ws))
    plan = _render_plan(episode, settings, inputs)
    chapters_orig = _original_chapters(episode)
    tag_values = tags.episode_tags(settings, episode.meta())
    key = _render_key(episode, rec, inputs, plan, settings, chapters_orig, tag_values)
    audio, video = episode.path(AUDIO), episode.path(VIDEO)
    outputs = [audio, episode.machine_dir / "render.json"] + ([video] if inputs.source else [])
    record = _read_render_record(episode)
    if rec.fresh("render", key, outputs) and "duration_s" in record:
        after = loudness.Loudness(**record["loudness"]) if record.get("loudness") else None
        return RenderResult(audio, video if inputs.source else None, record["duration_s"], record["removed_s"], (), after)
    duration = inputs.info.duration_s
    fsutil.require_space(episode.folder, (EXTRACT_BPS - 32_000) * 2 * duration + MASTER_BPS * duration
                         + (inputs.source.stat().st_size if inputs.source else 0), f"rendering {episode.slug}")
    report = progress or (lambda *a, **k: None)
    cut = episode.machine_dir / "cut.flac"
    media.cut_audio(inputs.master, plan.keeps, cut, inputs.info, lambda s: report("cut", s, duration))
    # Crossfades never overlap speech: the cut's ends are listened to (Silero and energy) first.
    quiet = quiet_edges_s(cut) if plan.intro or plan.outro else (0.0, 0.0)
    edited, offset_s, duration_s = media.join_intro_outro(cut, plan, episode.machine_dir / "edited.flac", inputs, quiet)
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
    from .edit.markdown import read_edit_md
    from .media.render import Inputs

    if not master.is_file():
        raise InputError(f"{master}: no lossless master. Run `chaitime ingest` on the recording first.")
    info = probe_mod.probe(master)
    transcript = Transcript.load(episode.machine_dir / "transcript.raw.json")
    transcript = transcript if transcript.duration_s > 0 else Transcript(transcript.segments, transcript.language, info.duration_s, transcript.meta)
    source = video_source(episode)
    fps = probe_mod.probe(source).fps if source else 0.0
    edit_path = episode.path("edit.md")
    if not edit_path.is_file():
        fsutil.write_text(edit_path, _suggested_edit_md(episode, settings, transcript))
    return Inputs(master, info, source, fps or 25.0, transcript, read_edit_md(edit_path))


def video_source(episode: Episode) -> Path | None:
    """The original recording to cut video from, when it has video."""
    record_path = episode.machine_dir / "source.json"
    if not record_path.is_file():
        return None
    record = json.loads(record_path.read_text(encoding="utf-8"))
    if not record.get("has_video"):
        return None
    candidates = [episode.path(record["link"])] if record.get("link") else []
    candidates += [Path(record.get("path", "")), *sorted(episode.folder.glob("source.*"))]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise InputError(f"{episode.folder}: the recording {record.get('path')} is gone, so the video can't be cut. Put it back, or ingest it again.")


def _suggest_settings(settings: config.Settings) -> dict:
    audio = settings.data.get("audio", {})
    return {"fillers": audio.get("fillers"), "silence_max_s": float(audio.get("silence_max_s", 1.5)), "silence_keep_s": float(audio.get("silence_keep_s", 0.5))}


def _render_plan(episode: Episode, settings: config.Settings, inputs):
    from .edit.markdown import parse_edit_md
    from .media.render import Plan

    options = _suggest_settings(settings)
    cuts = parse_edit_md(inputs.edit_text, inputs.transcript, path=episode.path("edit.md"),
                         silence_max_s=options["silence_max_s"], silence_keep_s=options["silence_keep_s"])
    duration = inputs.info.duration_s
    if inputs.source:
        cuts = cuts.snapped(inputs.fps, duration)
    keeps = tuple(cuts.keeps(duration))
    if not keeps:
        raise InputError(f"{episode.path('edit.md')}: everything is cut. Keep at least one line.")
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
    from .edit.cutlist import TimeMap
    from .edit.retime import unretime_chapters
    from .writing.chapters import chapters_json, load_chapters

    current, orig = episode.path(CHAPTERS), episode.machine_dir / "chapters.orig.json"
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

    master = (rec.data.get("sound") if inputs.master.name == "sound.flac" else rec.data.get("extract")) or content(inputs.master)
    source = (episode.source_hash() or content(inputs.source)) if inputs.source else None
    return stage_key("render", master, source, inputs.transcript.to_json(), plan.keeps, sorted(plan.cuts.removed_words),
                     content(plan.intro), content(plan.outro), repr(chapters), settings.get("audio", "target_lufs"),
                     tag_key(tag_values), ffmpeg.ffmpeg_version())


def _write_retimed(episode: Episode, transcript: Transcript, cuts, timemap, chapters, duration_s: float) -> list[str]:
    """transcript.json and every format written from it, chapters.json and the MP3's chapters, re-timed."""
    from .edit.retime import retime_chapters, retime_transcript
    from .writing.chapters import chapters_json

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
        tags.write_chapters(episode.path(AUDIO), moved, duration_s)
    return written


def _read_render_record(episode: Episode) -> dict:
    path = episode.machine_dir / "render.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        return record if isinstance(record, dict) else {}
    except (FileNotFoundError, ValueError):
        return {}


def _write_render_record(episode: Episode, timemap, duration_s: float, removed_s: float, gain: float, after: loudness.Loudness) -> None:
    chapters = episode.path(CHAPTERS)
    record = {
        "duration_s": round(duration_s, 6), "removed_s": round(removed_s, 6), "gain_db": gain,
        "offset_s": timemap.offset_s, "keeps": [list(k) for k in timemap.keeps],
        "chapters_hash": fsutil.file_hash(chapters) if chapters.is_file() else None, "loudness": after.__dict__,
    }
    fsutil.write_text(episode.machine_dir / "render.json", json.dumps(record, indent=1) + "\n")


# --- draft and clip ---------------------------------------------------------------------------------
def draft(episode: Episode, ws: Workspace, new_chapters: bool = False):
    """`chaitime draft`: the draft stage, run again even when up to date (the host asked for it)."""
    with episode.lock(), _running(episode, "draft"):
        rec = Records(episode, force=True)
        raw = episode.machine_dir / "transcript.raw.json"
        transcript = Transcript.load(raw if raw.is_file() else episode.path(TRANSCRIPT))
        _writing(episode, ws, transcript, rec, new_chapters=new_chapters)
        _retitle_audio(episode, ws)
    result = rec.draft_result
    try:  # the post's summary and the MP3's chapters are in the feed: refresh it, as ingest does
        notes = feed(ws).warnings
    except ChaitimeError as exc:
        notes = (f"the feed was not refreshed: {exc}",)
    return replace(result, warnings=tuple(result.warnings) + tuple(notes))


def _retitle_audio(episode: Episode, ws: Workspace) -> None:
    """A title changed in episode.toml reaches the MP3's ID3 tags (players show them)."""
    audio, meta = episode.path(AUDIO), episode.meta()
    if audio.is_file() and any(m.startswith("ID3 title") for m in tags.tag_mismatches(audio, title=meta.title)):
        tags.write_tags(audio, **tags.episode_tags(ws.settings, meta))


def clip(episode: Episode, ws: Workspace, *, start_s: float, end_s: float, vertical: bool = False, out: Path | None = None):
    """`chaitime clip`: a captioned clip of the rendered episode; made again only when its inputs changed."""
    import shutil
    import tempfile

    from .media import clip as media

    with episode.lock(), _running(episode, "clip"):
        rec = Records(episode)
        transcript_path = episode.path(TRANSCRIPT)
        transcript = Transcript.load(transcript_path)
        media.check_range(start_s, end_s, transcript.duration_s)
        out = Path(out) if out else episode.path("clips") / media.clip_name(start_s, end_s, vertical)
        sound, gain = _clip_sound(episode)
        video = episode.path(VIDEO) if episode.path(VIDEO).is_file() else None
        cover = ws.settings.resolve(ws.settings.show.get("image"))
        cover = cover if cover and cover.is_file() else None
        stage = f"clip:{out.name}"
        key = stage_key("clip", transcript_path.read_text(encoding="utf-8"), fsutil.file_hash(sound), gain,
                        fsutil.file_hash(video) if video else None, fsutil.file_hash(cover) if cover else None,
                        start_s, end_s, vertical, media.find_font(), ffmpeg.ffmpeg_version())
        episode.machine_dir.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".clip.", suffix=".tmp", dir=episode.machine_dir))
        try:
            result = media.render_clip(transcript, sound, gain, video, None if video else cover, start_s=start_s, end_s=end_s,
                                       vertical=vertical, out=out, scratch=scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        if out.is_relative_to(episode.folder):
            rec.done(stage, key)
        return result


def _clip_sound(episode: Episode) -> tuple[Path, float]:
    """The lossless edited audio and its mastering gain, or audio.mp3 as it is."""
    record = _read_render_record(episode)
    if record:
        for candidate in (episode.machine_dir / "edited.flac", episode.machine_dir / "cut.flac"):
            if candidate.is_file():
                return candidate, float(record.get("gain_db", 0.0))
    audio = episode.path(AUDIO)
    if not audio.is_file():
        raise InputError(f"{episode.folder}: no audio.mp3. Run `chaitime ingest` (and `chaitime render`) first.")
    return audio, 0.0


# --- publishing: only complete episodes ---------------------------------------------------------------
@dataclass(frozen=True)
class Published:
    path: Path  # the feed, or the site's folder
    episodes: int
    warnings: tuple[str, ...]  # one line per episode left out because it is incomplete
    report: object = None  # publish: the site's PublishReport


def skipped_warnings(ws: Workspace) -> tuple[str, ...]:
    return tuple(f"{ep.slug} is incomplete and was left out ({reason}). Finish it with `chaitime ingest` on its recording, "
                 "or look at `chaitime check`." for ep, reason in ws.incomplete_episodes())


def feed(ws: Workspace, base_url: str | None = None) -> Published:
    """`chaitime feed`: feeds/podcast.xml from every complete, non-draft episode."""
    from .publish.feed import ensure_show_guid, write_feed
    from .publish.releases import published

    with ws.lock():
        ws = ensure_show_guid(ws, base_url)
        path = write_feed(ws, base_url)
        return Published(path, len(published(ws)), skipped_warnings(ws))


def publish(ws: Workspace, out: Path, base_url: str | None = None) -> Published:
    """`chaitime publish`: the static site from every complete, non-draft episode, and
    feeds/podcast.xml refreshed to the same feed the site serves."""
    from .publish.feed import ensure_show_guid, write_feed
    from .publish.releases import published
    from .publish.site import publish_site

    with ws.lock():
        ws = ensure_show_guid(ws, base_url)
        report = publish_site(ws, out, base_url)
        write_feed(ws, base_url)
        return Published(report.out, len(published(ws)), skipped_warnings(ws), report)


def summary_line(result: IngestResult) -> str:
    b, a = result.loudness_before, result.loudness_after
    loud = f"{b.integrated_lufs:.1f} -> {a.integrated_lufs:.1f} LUFS, peak {a.true_peak_dbtp:.1f} dBTP" if a and b else ""
    if a and b and result.sound:
        loud += f", LRA {b.lra_lu:.1f} -> {a.lra_lu:.1f} LU" + sound_summary(result.sound)
    return f"{result.duration_s / 60:.1f} min, {loud}, {result.words} words, {result.seconds:.1f} s"


def sound_summary(report: dict) -> str:
    """The sound stage in the summary line: speakers' spread, noise floor, clipping."""
    from .media.sound import Report

    parts = []
    spread = Report.spread(report["speakers_before_db"]), Report.spread(report["speakers_after_db"])
    if spread[0] is not None and spread[1] is not None:
        parts.append(f"speakers {spread[0]:.1f} -> {spread[1]:.1f} dB apart")
    parts.append(f"noise floor {report['noise_floor_before_db']:.0f} -> {report['noise_floor_after_db']:.0f} dBFS")
    if report.get("clipped_samples"):
        parts.append(f"{report['clipped_samples']} clipped samples")
    return "".join(f", {p}" for p in parts)
