"""The master stage: audio.mp3 (and video.mp4 with the same sound) mastered to the loudness
target, with ID3 tags."""

from __future__ import annotations

import json
from pathlib import Path

from .. import asr, fsutil
from ..asr.audio import SAMPLE_RATE_HZ, speech_input
from ..media import ffmpeg, loudness, tags
from ..media.probe import MediaInfo
from ..workspace import AUDIO, LOUDNESS_OUT, SOUND_FLAC, SOUND_JSON, SOUND_S16, SPEECH, VIDEO, Episode, EpisodeMeta, Workspace
from .runner import Records, read_json, stage_key
from .sound import master_source
from .writing import mp3_chapters


def _master(episode: Episode, ws: Workspace, meta: EpisodeMeta, info: MediaInfo, before: loudness.Loudness, rec: Records) -> loudness.Loudness:
    """audio.mp3 (and video.mp4 with the same mastered sound) in one ffmpeg run, then ID3 tags."""
    audio, video, after_path = episode.path(AUDIO), episode.path(VIDEO), episode.machine_dir / LOUDNESS_OUT
    source = master_source(episode, ws)
    cleaned = source.name == SOUND_FLAC
    if cleaned:
        before = loudness.Loudness(**(read_json(episode.machine_dir / SOUND_JSON) or {})["loudness"])
    target = loudness.target_for(info.channels, ws.settings.get("audio", "target_lufs"))
    channels = 1 if info.channels == 1 else 2
    gain = loudness.gain_db(before, target)
    tag_values = tags.episode_tags(ws.settings, meta)
    key = stage_key("master", rec.data.get("extract"), rec.data.get("sound") if cleaned else None, target, gain, channels, info.has_video,
                    ffmpeg.ffmpeg_version(), tag_key(tag_values))
    outputs = [audio, after_path] + ([video] if info.has_video else [])
    cached = rec.cached("master", key, outputs, lambda: loudness.Loudness(**read_json(after_path)))
    if cached is not None:
        mp3_chapters(episode)  # chapters.json written since (or the MP3's chapters lost): the MP3 follows
        return cached
    # The limiter's loss is estimated (and when needed measured) on the 16 kHz speech file:
    # a quarter of the time, within 0.1 LU on speech.
    speech = episode.machine_dir / (SOUND_S16 if cleaned else SPEECH)
    proxy = loudness.Proxy(speech_input(speech), asr.PcmAudio(speech).samples(), SAMPLE_RATE_HZ)
    _, after = loudness.master_mp3(source, before, target, channels, audio, proxy=proxy)
    if info.has_video:
        _mux_video(info, audio, video)
    tags.write_tags(audio, **tag_values)
    mp3_chapters(episode)  # a remade audio.mp3 keeps the episode's chapters (the draft stage may not run again)
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
