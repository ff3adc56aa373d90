"""What a recording holds: streams, duration, channels. Reads the container with PyAV
(which faster-whisper already depends on), so ffprobe need not be installed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError

SUPPORTED = ".mp4, .mov, .mkv, .m4a, .mp3, .wav or .flac"


@dataclass(frozen=True)
class MediaInfo:
    path: Path
    duration_s: float
    audio_codec: str
    channels: int
    sample_rate_hz: int
    has_video: bool
    width: int = 0
    height: int = 0
    fps: float = 0.0
    video_codec: str = ""
    bit_rate_bps: int = 0

    @property
    def is_mono(self) -> bool:
        return self.channels == 1


def probe(path: Path) -> MediaInfo:
    """Describe ``path``; raise InputError with a fix for anything chaitime can't ingest."""
    path = Path(path)
    _check_file(path)
    try:
        import av
    except ImportError as exc:  # pragma: no cover - dependency of faster-whisper
        raise InputError("PyAV is missing: `pip install av` (it comes with faster-whisper).") from exc
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            return _describe(path, container)
    except av.FFmpegError as exc:
        raise InputError(
            f"{path}: not a readable media file ({_reason(exc)}). Is it truncated or not really {path.suffix or 'media'}? "
            f"chaitime reads {SUPPORTED}."
        ) from exc


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputError(f"{path}: no such file. Check the path (quote names with spaces).")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a recording. Give the recording file itself ({SUPPORTED}).")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty (0 bytes). Export the recording again.")


def _describe(path: Path, container) -> MediaInfo:
    audio = next((s for s in container.streams if s.type == "audio"), None)
    if audio is None:
        raise InputError(f"{path}: no audio stream. chaitime needs a recording with sound ({SUPPORTED}).")
    video = next((s for s in container.streams if s.type == "video" and not _is_cover_art(s)), None)
    duration_s = _duration(container, audio)
    if duration_s <= 0.05:
        raise InputError(f"{path}: the audio is empty (zero length). Export the recording again.")
    ctx = audio.codec_context
    info = dict(
        path=path,
        duration_s=duration_s,
        audio_codec=audio.codec_context.name,
        channels=int(getattr(ctx, "channels", 0) or len(ctx.layout.channels)),
        sample_rate_hz=int(ctx.sample_rate or 0),
        has_video=video is not None,
        bit_rate_bps=int(ctx.bit_rate or 0),
    )
    if video is not None:
        rate = video.average_rate or video.guessed_rate
        info.update(video_codec=video.codec_context.name, width=video.codec_context.width, height=video.codec_context.height, fps=float(rate) if rate else 0.0)
    return MediaInfo(**info)


def _duration(container, audio) -> float:
    if audio.duration is not None and audio.time_base is not None:
        return float(audio.duration * audio.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    # No duration in the header (a raw stream): count decoded samples.
    total = 0
    for frame in container.decode(audio):
        total += frame.samples
    return total / float(audio.codec_context.sample_rate or 1)


def _is_cover_art(stream) -> bool:
    disposition = getattr(stream, "disposition", None)
    try:
        return bool(disposition and int(disposition) & 0x400)  # AV_DISPOSITION_ATTACHED_PIC
    except TypeError:
        return "attached_pic" in str(disposition).lower()


def _reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return str(text).split(":")[-1].strip() or type(exc).__name__
