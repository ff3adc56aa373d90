"""The sound stage (studio sound: cleanup and leveling by speaker turn) and the tracks mix it starts
from when the host gave separate tracks; which lossless master the later stages start from."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from .. import asr, fsutil
from ..media import ffmpeg, loudness
from ..media.probe import MediaInfo
from ..transcript.model import Transcript
from ..workspace import (
    MASTER_FLAC,
    SOUND_FLAC,
    SOUND_JSON,
    SOUND_S16,
    SOUND_SVG,
    SPEECH,
    TRACKS_FLAC,
    TRACKS_JSON,
    TRACKS_S16,
    Episode,
    Workspace,
)
from .runner import Records, read_json, stage_key


def _sound_settings(ws: Workspace):
    from ..media.sound import Settings

    audio = ws.settings
    return Settings(bool(audio.get("audio", "leveler", True)), audio.get("audio", "denoise", "auto"), audio.get("audio", "dehum", "auto"),
                    bool(audio.get("audio", "deess", False)))


def _sound(episode: Episode, ws: Workspace, info: MediaInfo, transcript: Transcript, rec: Records, tracks: dict[str, Path] | None = None) -> dict:
    """sound.flac (the cleaned lossless master: high-pass, hum notches, denoiser, leveler by speaker
    turn), its 16 kHz copy and sound.json, the record of what was done and measured. With
    separate tracks, the sound starts from the tracks' mix (each levelled and ducked), not the recording's."""
    from ..media import sound

    settings = _sound_settings(ws)
    out, proxy, record = episode.machine_dir / SOUND_FLAC, episode.machine_dir / SOUND_S16, episode.machine_dir / SOUND_JSON
    recorded = asr.PcmAudio(episode.machine_dir / SPEECH).samples()
    source, speech, mix_clipped = episode.machine_dir / MASTER_FLAC, recorded, None
    if tracks:
        source, mix_proxy, mix_clipped = _tracks_mix(episode, info, transcript, tracks, rec)
        speech = asr.PcmAudio(mix_proxy).samples()
    plan = sound.analyse(speech, transcript, settings)  # seconds for an hour: the key is what it decided
    # The speakers are evened as mastered, and the sound is delivered where mastering's first encode
    # aims (the MP3 encoder's loss over the target): mastering then finds the gain without a limiter pass.
    target = loudness.target_for(info.channels, ws.settings.get("audio", "target_lufs")) + loudness.ENCODER_LOSS_LU
    key = stage_key("sound", rec.data.get("extract"), rec.data.get("tracks") if tracks else None, settings.__dict__,
                    sound.plan_key(plan), target, ffmpeg.ffmpeg_version())
    cached = rec.cached("sound", key, [out, proxy, record], lambda: _sound_record(record))
    if cached is not None:
        return cached
    # Denoising a voice recorded as stereo: once, as mono. Decided from the source's content alone,
    # which the key holds (the extract or tracks record), so it is decided only when the stage runs.
    if min(2, info.channels) == 2 and plan.denoise != "off":
        plan = replace(plan, one_sound=sound.one_sound(source))
    measured, clipped = sound.apply(source, plan, info.channels, out, proxy, target_lufs=target)
    cleaned = asr.PcmAudio(proxy).samples()
    report = sound.report(plan, measured, clipped if mix_clipped is None else mix_clipped, cleaned, transcript, plan.leveled)
    data = report.__dict__
    if tracks:  # "before" is the recording as the host gave it, not the levelled tracks
        data["speakers_before_db"], data["noise_floor_before_db"] = sound.after_levels(recorded, transcript)
        data["tracks"] = sorted(tracks)
    fsutil.write_text(episode.path(SOUND_SVG), sound.picture(recorded, cleaned, transcript))
    fsutil.write_text(record, json.dumps(data, indent=1, sort_keys=True) + "\n")
    rec.done("sound", key)
    return data


def _tracks_mix(episode: Episode, info: MediaInfo, transcript: Transcript, tracks: dict[str, Path], rec: Records) -> tuple[Path, Path, int]:
    """tracks.flac: the separate tracks, each levelled and ducked while others speak, mixed on the
    recording's timeline; its 16 kHz copy; the clipped samples counted in the tracks."""
    from ..media import sound
    from ..speakers.audio import decode

    out, proxy, record = episode.machine_dir / TRACKS_FLAC, episode.machine_dir / TRACKS_S16, episode.machine_dir / TRACKS_JSON
    names = episode.meta().speakers or {}  # a track is labelled with its name; the host may have renamed the label
    named = {names.get(label, label): Path(path) for label, path in tracks.items()}
    # The speaker stage's key holds the tracks' content and the words' turns; the names complete it,
    # so a re-run decodes nothing here.
    key = stage_key("tracks", rec.data.get("speakers"), sorted((label, names.get(label, label)) for label in tracks),
                    min(2, info.channels), round(info.duration_s, 3), ffmpeg.ffmpeg_version())
    cached = rec.cached("tracks", key, [out, proxy, record], lambda: int(read_json(record)["clipped_samples"]))
    if cached is not None:
        return out, proxy, cached
    gains = sound.track_gains({name: decode(path)[:, 0] for name, path in named.items()}, transcript)
    clipped = sound.mix_levelled_tracks(named, gains, min(2, info.channels), info.duration_s, out, proxy)
    fsutil.write_text(record, json.dumps({"clipped_samples": clipped, "tracks": sorted(named)}) + "\n")
    rec.done("tracks", key)
    return out, proxy, clipped


def _sound_record(path: Path) -> dict:
    """sound.json as the stage wrote it: what mastering and the summary read from it."""
    data = read_json(path)
    loudness.Loudness(**data["loudness"])
    float(data["noise_floor_before_db"]), float(data["noise_floor_after_db"])
    dict(data["speakers_before_db"]), dict(data["speakers_after_db"])
    return data


def _drop_sound(episode: Episode) -> None:
    """Studio sound turned off: its files go, so nothing (render, studio) plays a stale cleanup."""
    for name in (SOUND_FLAC, SOUND_S16, SOUND_JSON, TRACKS_FLAC, TRACKS_S16, TRACKS_JSON):
        (episode.machine_dir / name).unlink(missing_ok=True)
    episode.path(SOUND_SVG).unlink(missing_ok=True)


def master_source(episode: Episode, ws: Workspace) -> Path:
    """The lossless master that audio.mp3, render and clips start from: the cleaned sound when studio sound is on."""
    cleaned = episode.machine_dir / SOUND_FLAC
    return cleaned if _sound_settings(ws).active and cleaned.is_file() else episode.machine_dir / MASTER_FLAC
