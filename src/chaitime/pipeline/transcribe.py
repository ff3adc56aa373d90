"""The transcribe stage: the 16 kHz speech to transcript.asr.json."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .. import asr, config, fsutil
from ..media.probe import MediaInfo
from ..transcript.model import Transcript
from ..workspace import ASR_JSON, MASTER_FLAC, SPEECH, Episode, EpisodeMeta, Workspace
from .runner import Records, stage_key

if TYPE_CHECKING:
    from . import IngestOptions, Progress


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
    return episode.machine_dir / ASR_JSON


def _transcribe_key(options: asr.AsrOptions, extract_key: str | None) -> str:
    engine_name, device = asr.engine.choose(options.engine, options.device)
    return stage_key("transcribe", extract_key, options, engine_name, device, asr.engine_version(engine_name))


def _transcribe(episode: Episode, options: asr.AsrOptions, rec: Records, progress: Progress) -> Transcript:
    out = _asr_json(episode)
    key = _transcribe_key(options, rec.data.get("extract"))
    cached = rec.cached("transcribe", key, [out], lambda: Transcript.load(out))
    if cached is not None:
        return cached
    pcm = asr.PcmAudio(episode.machine_dir / SPEECH)
    transcript = asr.transcribe_pcm(pcm, options, lambda done, total: progress("transcribe", done, total))
    fsutil.write_text(out, transcript.to_json())
    rec.done("transcribe", key)
    return transcript


def _channels_independent(episode: Episode, info: MediaInfo, opts: IngestOptions) -> bool | None:
    """Whether the recording holds one person per stereo channel; None where the speaker stage won't ask."""
    if opts.tracks or opts.num_speakers == 1:
        return None
    from ..speakers import channels_independent

    return info.channels == 2 and channels_independent(episode.machine_dir / MASTER_FLAC)
