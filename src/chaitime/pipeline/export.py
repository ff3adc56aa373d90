"""`chaitime export`: the current edit.md's cut list for another editor (EDL, FCPXML, Audacity),
and a folder ready to upload by hand to YouTube or Spotify.

The kept intervals come from the render stage's own plan (``render._render_inputs`` and
``render._render_plan``: the same parse of edit.md, the same frame snapping), so an export and a
render of the same edit.md cut the same frames. Chapters come from the render stage's
original-timeline chapters, moved to the cut timeline as render moves them; speaker turns from
the transcript re-timed as render re-times it. An export is no stage: it never marks the episode.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from .. import fsutil
from ..edit import export as fmt
from ..edit.cutlist import TimeMap
from ..errors import InputError
from ..workspace import AUDIO, EDIT, SOURCE_JSON, SRT, VIDEO, VTT, YOUTUBE, Episode, Workspace
from .render import _original_chapters, _render_inputs, _render_plan
from .runner import read_json
from .sound import master_source
from .source import recording_candidates

EXPORT_DIR = "export"  # the episode's export/ folder (the default --out)
FORMATS = ("edl", "fcpxml", "audacity")
PLATFORMS = ("youtube", "spotify")
YOUTUBE_LUFS = -14.0  # YouTube plays louder audio down to -14 LUFS and never raises quieter audio
YOUTUBE_TITLE_MAX, YOUTUBE_TAGS_MAX = 100, 500  # characters YouTube Studio takes


@dataclass(frozen=True)
class ExportResult:
    paths: tuple[Path, ...]
    rate: str  # the frame rate, in words
    events: int  # kept intervals
    kept_s: float  # the cut timeline's length
    removed_s: float
    warnings: tuple[str, ...] = ()


def cut_export(episode: Episode, ws: Workspace) -> tuple[fmt.CutExport, tuple[str, ...]]:
    """The episode's current edit as a ``CutExport`` (kept intervals on the recording's timeline,
    chapters and speaker turns on the cut timeline), and warnings."""
    from ..edit.retime import retime_chapters, retime_transcript

    settings = ws.settings
    inputs = _render_inputs(episode, settings, master_source(episode, ws))
    plan = _render_plan(episode, settings, inputs)
    keeps = tuple(plan.keeps)
    timemap = TimeMap(keeps)
    length = timemap.length_s
    warnings = []
    recording = inputs.source or _recording(episode)
    if recording is None:
        recording = inputs.master
        warnings.append(f"the recording of {episode.slug} is not known; the export names the lossless master {recording}")
    elif not recording.is_file():
        warnings.append(f"{recording}: the recording is not there any more; the export names it all the same")
    info = inputs.info
    video = inputs.source is not None
    width = height = 0
    if video:
        from ..media.probe import probe

        vinfo = probe(inputs.source)
        width, height = vinfo.width, vinfo.height
    source = replace(info, path=recording, has_video=video, width=width, height=height)
    chapters = retime_chapters(_original_chapters(episode) or [], timemap, length)
    edited = retime_transcript(inputs.transcript, plan.cuts, timemap, length)
    markers = fmt.chapter_markers(chapters, length) + fmt.speaker_turns(edited)
    cut = fmt.CutExport(episode.meta().title, source, keeps, fmt.frame_rate(inputs.fps), tuple(markers),
                        tuple(fmt.keep_speakers(inputs.transcript, plan.cuts, keeps)))
    return cut, tuple(warnings)


def _recording(episode: Episode) -> Path | None:
    """The recording an audio-only episode was made from: its link beside the episode, or where it was."""
    candidates = recording_candidates(episode, read_json(episode.machine_dir / SOURCE_JSON) or {})
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return candidates[0] if candidates else None


def export(episode: Episode, ws: Workspace, kind: str, out: Path | None = None) -> ExportResult:
    """Write the cut list of ``episode``'s edit.md as ``kind`` (edl, fcpxml, audacity) into ``out``
    (default: the episode's export/ folder); returns the files written."""
    if kind not in FORMATS:
        raise InputError(f"{kind!r}: not an export format. Use one of {', '.join(FORMATS)}.")
    with episode.lock():
        cut, warnings = cut_export(episode, ws)
    folder = Path(out) if out is not None else episode.folder / EXPORT_DIR
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--out {folder}: a file, not a folder. Name a folder to write the export in.")
    events = cut.events()
    if not events:
        raise InputError(f"{episode.path(EDIT)}: the edit keeps less than one frame of the recording. Keep at least one line.")
    files = {
        "edl": {f"{episode.slug}.edl": fmt.edl},
        "fcpxml": {f"{episode.slug}.fcpxml": fmt.fcpxml},
        "audacity": {f"{episode.slug}.labels.txt": fmt.audacity_labels, f"{episode.slug}.cuts.txt": fmt.audacity_cuts},
    }[kind]
    written = []
    for name, writer in files.items():
        path = folder / name
        fsutil.write_text(path, writer(cut))
        written.append(path)
    kept = sum(b - a for a, b in cut.keeps)
    return ExportResult(tuple(written), fmt.rate_label(cut.rate) + (" (the recording's)" if cut.source.has_video else " (audio only)"),
                        len(events), kept, cut.source.duration_s - kept, warnings)


@dataclass(frozen=True)
class PlatformExport:
    folder: Path
    paths: tuple[Path, ...]
    notes: tuple[str, ...] = ()


def platform_export(episode: Episode, ws: Workspace, kind: str, out: Path | None = None, lufs: float | None = None) -> PlatformExport:
    """A folder to upload by hand (default: the episode's export/<kind>/). YouTube: video.mp4 (the
    episode's video, or its sound over the 16:9 poster when it has none; at ``lufs`` when given),
    thumbnail.jpg (the poster), title.txt, description.txt (youtube.txt: chapters and links),
    tags.txt, captions (SRT and VTT). Spotify: the video (or audio.mp3), the transcripts as VTT
    and SRT, the cover, title and description."""
    from ..media.loudness import relevel_video
    from ..publish.feed import show_from
    from ..publish.poster import poster_bytes
    from ..publish.releases import release
    from ..publish.site import require_cover
    from ..publish.urls import POSTER

    if kind not in PLATFORMS:
        raise InputError(f"{kind!r}: not a platform. Use one of {', '.join(PLATFORMS)}.")
    if lufs is not None and not -30.0 <= lufs <= -9.0:
        raise InputError(f"--lufs {lufs:g}: out of range. Use -30 to -9 (YouTube plays at -14).")
    reason = episode.incomplete_reason()
    if reason is not None:
        raise InputError(f"{episode.folder}: the episode is unfinished ({reason}). Run `chaitime ingest` on its recording again first.")
    folder = Path(out) if out is not None else episode.folder / EXPORT_DIR / kind
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--out {folder}: a file, not a folder. Name a folder to write the export in.")
    show, meta = show_from(ws), episode.meta()
    require_cover(show)  # before anything is written
    with episode.lock():
        rel = release(episode, meta)
        video, audio = episode.path(VIDEO), episode.path(AUDIO)
        if not audio.is_file():
            raise InputError(f"{audio}: missing. Run `chaitime ingest` on the episode's recording again to make it.")
        notes: list[str] = []
        written: list[Path] = []

        def put(name: str, data: bytes | str | Path) -> None:
            target = folder / name
            if isinstance(data, Path):
                fsutil.copy_file(data, target)
            else:
                fsutil.write_bytes(target, data.encode("utf-8") if isinstance(data, str) else data)
            written.append(target)

        art = rel.art or show.image
        poster = poster_bytes(art, meta.title, show.title, ws.root / ".chaitime" / "posters") if kind == "youtube" or not video.is_file() else None
        if kind == "youtube" or video.is_file():
            media = folder / VIDEO
            if lufs is None and video.is_file():
                put(VIDEO, video)
            else:
                still = None
                if not video.is_file():
                    still = folder / f".{POSTER}"
                    fsutil.write_bytes(still, poster)
                try:
                    level = relevel_video(video if video.is_file() else audio, YOUTUBE_LUFS if lufs is None else lufs, media, still=still)
                finally:
                    if still is not None:
                        still.unlink(missing_ok=True)
                written.append(media)
                notes.append(f"{media.name}: {level.integrated_lufs:.1f} LUFS, true peak {level.true_peak_dbtp:.1f} dBTP"
                             + ("" if video.is_file() else ", the poster over the episode's sound (it has no video)"))
        else:
            put(AUDIO, audio)
            if lufs is not None:
                notes.append(f"--lufs applies to a video; {episode.slug} has none, so audio.mp3 is the podcast master as it is")
        title = meta.title
        if kind == "youtube" and len(title) > YOUTUBE_TITLE_MAX:
            notes.append(f"the title is {len(title)} characters; YouTube takes {YOUTUBE_TITLE_MAX}: shorten title.txt before uploading")
        put("title.txt", title + "\n")
        description = episode.path(YOUTUBE)
        if description.is_file():
            put("description.txt", description)
        else:
            notes.append(f"{description.name} is missing: run `chaitime draft {episode.slug}` to write the description")
        for name in (SRT, VTT):
            if episode.path(name).is_file():
                put(name, episode.path(name))
        if kind == "youtube":
            put("thumbnail.jpg", poster)
            tags, size = [], 0
            for tag in rel.tags:
                size += len(tag) + (2 if size else 0) + (2 if " " in tag else 0)  # YouTube counts a space-holding tag's quotes
                if size > YOUTUBE_TAGS_MAX:
                    notes.append(f"tags.txt keeps the first {len(tags)} tags: YouTube takes {YOUTUBE_TAGS_MAX} characters in all")
                    break
                tags.append(tag)
            put("tags.txt", ", ".join(tags) + "\n")
        else:
            put(f"cover{art.suffix.lower()}", art)
    return PlatformExport(folder, tuple(written), tuple(notes))
