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
    declared_s: float = 0.0  # the length the header promises where it differs (a cut-off WAV)

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


ENDS_EARLY_S = 1.0  # decoded audio this much (and 2%) shorter than the header: cut off


def ends_early_note(info: MediaInfo, decoded_s: float) -> str | None:
    """A note when the audio decoded stops well before the duration the file's header gives
    (a copy or an upload cut off mid-stream: a faststart MP4 or a WAV plays to the cut)."""
    promised = max(info.duration_s, info.declared_s)
    if promised - decoded_s > max(ENDS_EARLY_S, 0.02 * promised):
        return (f"{info.path.name} ends early: its header says {promised:.1f} s but the audio stops at {decoded_s:.1f} s. "
                "The file looks truncated; copy or export it again and re-run ingest.")
    return None


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
        what = "empty (zero length)" if duration_s <= 0 else f"{duration_s * 1000:.0f} ms long, too short to hold a word"
        raise InputError(f"{path}: the audio is {what}. Export the recording again.")
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
    if audio.codec_context.name.startswith("pcm_") and path.suffix.lower() == ".wav":
        info["declared_s"] = _wav_declared_s(path)
    if video is not None:
        rate = video.average_rate or video.guessed_rate
        info.update(video_codec=video.codec_context.name, width=video.codec_context.width, height=video.codec_context.height, fps=float(rate) if rate else 0.0)
    return MediaInfo(**info)


def _wav_declared_s(path: Path) -> float:
    """The length a WAV's RIFF header promises (its data chunk's size), 0.0 when unreadable.
    ffmpeg reports the length of the bytes present, so a copy cut off mid-file looks whole."""
    import struct

    try:
        with open(path, "rb") as fh:
            head = fh.read(65536)
    except OSError:
        return 0.0
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return 0.0
    pos, byte_rate = 12, 0
    while pos + 8 <= len(head):
        chunk, size = head[pos : pos + 4], struct.unpack_from("<I", head, pos + 4)[0]
        if chunk == b"fmt " and pos + 16 <= len(head):
            byte_rate = struct.unpack_from("<I", head, pos + 16)[0]
        if chunk == b"data":
            # 0xFFFFFFFF and 0 mean "unknown" (a recorder still writing, or a streamed WAV)
            return size / byte_rate if byte_rate and 0 < size < 0xFFFFFFFF else 0.0
        pos += 8 + size + (size & 1)
    return 0.0


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
