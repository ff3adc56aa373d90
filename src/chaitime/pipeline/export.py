"""`chaitime export`: the current edit.md's cut list for another editor (EDL, FCPXML, Audacity).

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
from ..workspace import EDIT, SOURCE_JSON, Episode, Workspace
from .render import _original_chapters, _render_inputs, _render_plan
from .runner import read_json
from .sound import master_source
from .source import recording_candidates

EXPORT_DIR = "export"  # the episode's export/ folder (the default --out)
FORMATS = ("edl", "fcpxml", "audacity")


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
