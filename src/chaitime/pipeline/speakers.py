"""The speakers stage (who speaks, and their names) and the transcripts it hands on: the raw
transcript and, until a render re-times them, the episode's transcript files."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from .. import asr, config, fsutil
from ..errors import InputError
from ..transcript.formats import WRITERS
from ..transcript.model import Transcript
from ..workspace import (
    EDIT,
    EDIT_BEFORE_REINGEST,
    MASTER_FLAC,
    RAW,
    RENDER_JSON,
    SPEAKERS_JSON,
    SPEECH,
    TRANSCRIPT,
    TRANSCRIPT_FILES,
    Episode,
    Workspace,
    update_meta,
)
from .runner import Records, stage_key
from .writing import _suggest_settings, _suggested_edit_md

if TYPE_CHECKING:
    from . import IngestOptions

log = logging.getLogger("chaitime")


def _speakers(episode: Episode, ws: Workspace, raw: Transcript, opts: IngestOptions, rec: Records, independent: bool | None = None) -> Transcript:
    """Label who speaks (tracks, stereo channels or voice clustering), then put names on labels."""
    from .. import speakers
    from ..speakers.names import name_speakers, real_names

    labeled_path = episode.machine_dir / SPEAKERS_JSON
    host_voice = ws.settings.resolve(ws.settings.show.get("host_voice"))
    track_key = sorted((n, fsutil.file_hash(p)) for n, p in opts.tracks.items())
    meta = episode.meta()
    # The people named (hosts and guests) are a hint for the count of voices, never a cap: the
    # audio decides, and a fourth voice in a meeting stays a fourth label.
    expected = len(set(real_names(ws.settings.hosts)) | set(real_names(meta.guests))) or None
    key = stage_key("speakers", rec.data.get("transcribe"), track_key, opts.num_speakers, expected,
                    fsutil.file_hash(host_voice) if host_voice and host_voice.is_file() else None, speakers.embed.available()[0])
    labeled = rec.cached("speakers", key, [labeled_path], lambda: Transcript.load(labeled_path))
    if labeled is None:
        labeled = speakers.attribute(raw, mix_path=episode.machine_dir / MASTER_FLAC, tracks=opts.tracks or None,
                                     num_speakers=opts.num_speakers, host_voice=host_voice if host_voice and host_voice.is_file() else None,
                                     speech=asr.PcmAudio(episode.machine_dir / SPEECH).samples(), expected_speakers=expected,
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
    raw_path = episode.machine_dir / RAW
    previous = _previous_transcript(raw_path)
    transcript = _carry_corrections(previous, transcript)
    changed = fsutil.write_if_changed(raw_path, transcript.to_json())
    if changed and previous is not None and settings is not None and _words_of(previous) != _words_of(transcript):
        _carry_edit(episode, settings, previous, transcript)
    # Once rendered, the episode's transcript files are the render stage's (re-timed; it restores
    # a deleted one). Before, they are this stage's: written when the transcript changed, and any
    # one deleted or damaged is written again.
    rendered = (episode.machine_dir / RENDER_JSON).is_file()
    missing = [p.name for p in (episode.path(TRANSCRIPT), *(episode.path(n) for n in TRANSCRIPT_FILES.values())) if not _readable(p)]
    if not rendered and missing and not changed:
        log.info("%s: %s missing, written again from the transcript", episode.slug, ", ".join(missing))
    if changed or (missing and not rendered):
        fsutil.write_if_changed(episode.path(TRANSCRIPT), transcript.to_json())
        for fmt, name in TRANSCRIPT_FILES.items():
            fsutil.write_if_changed(episode.path(name), WRITERS[fmt](transcript))


def _readable(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except OSError:
        return False


def _words_of(transcript: Transcript) -> list[tuple[float, float, str]]:
    """What edit.md's lines are made of (a change of speaker names alone leaves edit.md valid)."""
    from ..edit.lines import tokens_of

    return [(t.start_s, t.end_s, t.text) for t in tokens_of(transcript)]


def _previous_transcript(raw_path: Path) -> Transcript | None:
    try:
        return Transcript.load(raw_path) if raw_path.is_file() else None
    except InputError:
        return None


def _carry_corrections(previous: Transcript | None, transcript: Transcript) -> Transcript:
    """The host's corrections (studio) in the transcript being written, placed by time and word; any
    that no longer find their word are kept in meta["corrections_unplaced"] and logged, never dropped."""
    from ..transcript.corrections import carry

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
    from ..edit.carry import carry_edit
    from ..edit.markdown import read_edit_md

    path = episode.path(EDIT)
    if not path.is_file():
        return
    old_text = read_edit_md(path)
    options = {k: v for k, v in _suggest_settings(settings).items() if k != "fillers"}
    try:
        text, lost = carry_edit(old_text, previous, transcript, _suggested_edit_md(episode, settings, transcript), **options)
    except InputError as exc:  # it didn't fit the old transcript either: left as it is, for the host
        log.warning("%s: edit.md was not carried onto the new transcript: %s", episode.slug, exc)
        return
    fsutil.write_text(episode.machine_dir / EDIT_BEFORE_REINGEST, old_text)
    if lost:
        items = "".join(f"     - {line.replace('--', '- -')}\n" for line in lost)
        text += ("\n<!-- A new transcript replaced the one these cuts were made on; they found no place in it. Make them again\n"
                 f"     if you still want them (your old edit.md is in .chaitime/edit.before-reingest.md):\n{items}-->\n")
        log.warning("%s: %d cut(s) of edit.md found no place in the new transcript (listed at the end of edit.md)", episode.slug, len(lost))
    fsutil.write_text(path, text)


def who_is_who(episode: Episode, ws: Workspace, named: Transcript, given: dict[str, str]) -> tuple[str, ...]:
    """The ingest summary's lines on the speakers: each voice -> name with its speaking time and
    first line (why, for a name guessed now), and how to change them. ``given``: the episode's
    [speakers] table before this run (what the host, or an earlier run, set)."""
    from ..speakers.names import summary_lines, voices

    meta = episode.meta()
    mapping = {label: name for label, name in meta.speakers.items() if name in {w.speaker for w in named.words} | {s.speaker for s in named.segments}}
    if not mapping:
        return ()
    toml = episode.meta_path
    try:
        shown = str(toml.relative_to(ws.root))
    except ValueError:
        shown = str(toml)
    found = voices(named, mapping, hosts=list(ws.settings.hosts), guests=list(meta.guests))
    return tuple(summary_lines(found, hosts=list(ws.settings.hosts), given=given, toml_path=shown))
