"""What a recording holds: streams, duration, channels. Reads the container with PyAV
(which faster-whisper already depends on), so ffprobe need not be installed.

A file with several audio streams (a screen recorder's spare track, a video whose first track is
silent) is described on one of them: ``probe_recording`` takes the first with sound, measured
cheaply (loudness.stream_levels), unless the host named one; a note says which was taken."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import InputError

SUPPORTED = ".mp4, .mov, .mkv, .m4a, .mp3, .wav or .flac"
# Bits per second no recording's audio goes under (speech codecs start at about 6 kb/s): a header
# whose length would need less than this of the file is wrong (an MP3's Xing frame count that
# claims 1,789 hours of a 160 kB file), and the stream's packets are counted instead.
MIN_AUDIO_BPS = 4000


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
    # The length the header promises where more than is there: a cut-off WAV, or a header that
    # lies (duration_s is then what the stream's packets add up to).
    declared_s: float = 0.0
    audio_stream: int = 0  # which audio stream (0: the first) the sound comes from: ffmpeg's 0:a:N
    audio_streams: int = 1  # how many the file holds
    notes: tuple[str, ...] = ()  # for the host: which stream was taken when there was a choice

    @property
    def audio_map(self) -> str:
        """ffmpeg's ``-map`` for that stream of the file given as the first input."""
        return f"0:a:{self.audio_stream}"

    @property
    def is_mono(self) -> bool:
        return self.channels == 1


def probe(path: Path, audio_stream: int = 0) -> MediaInfo:
    """Describe ``path`` (its audio as ``audio_stream``, 0 the first, holds it); raise InputError
    with a fix for anything chaitime can't ingest."""
    path = Path(path)
    _check_file(path)
    try:
        import av
    except ImportError as exc:  # pragma: no cover - dependency of faster-whisper
        raise InputError("PyAV is missing: `pip install av` (it comes with faster-whisper).") from exc
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            return _describe(path, container, audio_stream)
    except av.FFmpegError as exc:
        raise InputError(
            f"{path}: not a readable media file ({_reason(exc)}). Is it truncated or not really {path.suffix or 'media'}? "
            f"chaitime reads {SUPPORTED}."
        ) from exc


def probe_recording(path: Path, audio_stream: int | None = None) -> MediaInfo:
    """``probe`` of a recording to ingest, on the audio stream its sound comes from:
    ``audio_stream`` when the host named one, else the first with sound in it (the others are
    measured only when there are several: a few stretches of each, loudness.stream_levels).
    Where there was a choice (the first stream silent, or another with sound left out) the
    result's notes say which was taken and how to take another."""
    from ..errors import ToolError
    from . import loudness

    info = probe(path, audio_stream or 0)
    if audio_stream is not None or info.audio_streams == 1:
        return info
    try:
        levels = loudness.stream_levels(info.path, info.audio_streams, info.duration_s)
    except ToolError as exc:  # a stream ffmpeg can't decode: the first is what ffmpeg itself would take
        return replace(info, notes=(*info.notes, f"{info.path.name} has {info.audio_streams} audio streams and they could not be "
                                    f"measured ({exc}); took audio stream 0. `chaitime ingest --audio-stream N` takes stream N instead."))
    heard = [i for i, level in enumerate(levels) if level > loudness.SILENT_LUFS]
    chosen = heard[0] if heard else 0
    if chosen:
        info = probe(path, chosen)
    others = [i for i in heard if i != chosen]
    if not chosen and not others:
        return info
    took = f"took audio stream {chosen} ({_level(levels[chosen])})"
    said = (f"{info.path.name}: audio stream 0 is silent ({_level(levels[0])}); {took}, the first with sound" if chosen
            else f"{info.path.name} has {len(heard)} audio streams with sound; {took}")
    if others:
        said += "; " + ", ".join(f"stream {i} ({_level(levels[i])})" for i in others) + " also has sound and is not in the episode"
    said += f". `chaitime ingest --audio-stream N` takes stream N instead (0 is the first of its {info.audio_streams})"
    said += "; one person per stream: export each as a file and give them with --track NAME=FILE." if others else "."
    return replace(info, notes=(*info.notes, said))


def _level(lufs: float) -> str:
    return "digital silence" if lufs == float("-inf") else "below -70 LUFS" if lufs <= -70 else f"{lufs:.1f} LUFS"


ENDS_EARLY_S = 1.0  # decoded audio this much (and 2%) shorter than the header: cut off


def ends_early_note(info: MediaInfo, decoded_s: float) -> str | None:
    """A note when the audio decoded stops well before the duration the file's header gives
    (a copy or an upload cut off mid-stream: a faststart MP4 or a WAV plays to the cut), or
    the header claims more than the file's size could hold (a header that is wrong)."""
    promised = max(info.duration_s, info.declared_s)
    if promised - decoded_s <= max(ENDS_EARLY_S, 0.02 * promised):
        return None
    size = _size(info.path)
    if size and promised * MIN_AUDIO_BPS / 8 > size:
        return (f"{info.path.name}: its header claims {_span(promised)}, more than its {size / 1e6:.1f} MB can hold; "
                f"the audio in it is {decoded_s:.1f} s, which is what was used. The header is wrong (a broken export?); "
                "if the recording should be longer, export it again and re-run ingest.")
    return (f"{info.path.name} ends early: its header says {_span(promised)} but the audio stops at {decoded_s:.1f} s. "
            "The file looks truncated; copy or export it again and re-run ingest.")


def _span(seconds: float) -> str:
    hours = seconds / 3600
    return f"{seconds:.1f} s" if hours < 1 else f"{hours:.1f} hours" if hours < 100 else f"{hours:,.0f} hours"


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputError(f"{path}: no such file. Check the path (quote names with spaces).")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a recording. Give the recording file itself ({SUPPORTED}).")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty (0 bytes). Export the recording again.")


def _describe(path: Path, container, index: int = 0) -> MediaInfo:
    audios = [s for s in container.streams if s.type == "audio"]
    if not audios:
        raise InputError(f"{path}: no audio stream. chaitime needs a recording with sound ({SUPPORTED}).")
    if not 0 <= index < len(audios):
        held = "one audio stream (0)" if len(audios) == 1 else f"{len(audios)} audio streams (0 to {len(audios) - 1})"
        raise InputError(f"{path}: --audio-stream {index}: it has {held}. Give one of those, "
                         "or leave the option out to take the first with sound.")
    audio = audios[index]
    video = next((s for s in container.streams if s.type == "video" and not _is_cover_art(s)), None)
    duration_s, claimed_s = _duration(path, container, audio)
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
        declared_s=claimed_s,
        audio_stream=index,
        audio_streams=len(audios),
    )
    if audio.codec_context.name.startswith("pcm_") and path.suffix.lower() == ".wav":
        info["declared_s"] = max(claimed_s, _wav_declared_s(path))
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


def _duration(path: Path, container, audio) -> tuple[float, float]:
    """(the audio's length, the longer length its header claims where that can't be true; else 0).

    A header's length is believed unless the file is too small for it: under MIN_AUDIO_BPS, or
    under half the stream's own bit rate. Then the stream's packets are counted (demuxed, not
    decoded: a 10 s MP3 whose Xing header claims 1,789 hours is 10 s, not a 1.2 TB disk check)."""
    if audio.duration is not None and audio.time_base is not None:
        claimed = float(audio.duration * audio.time_base)
    elif container.duration is not None:
        claimed = container.duration / 1_000_000
    else:  # No duration in the header (a raw stream): count decoded samples.
        total = 0
        for frame in container.decode(audio):
            total += frame.samples
        return total / float(audio.codec_context.sample_rate or 1), 0.0
    bits, rate = _size(path) * 8, int(audio.codec_context.bit_rate or 0)
    if claimed * MIN_AUDIO_BPS <= bits and not (rate and claimed * rate > 2 * bits + 8 * rate):
        return claimed, 0.0
    counted = _packets_s(container, audio)
    return (counted, claimed) if 0 < counted and claimed - counted > max(1.0, 0.02 * claimed) else (claimed, 0.0)


def _packets_s(container, audio) -> float:
    """The length of ``audio``'s packets as the file holds them (to the last one that can be read)."""
    import av

    first, end = None, 0
    try:
        for packet in container.demux(audio):
            if packet.pts is None or not packet.duration:
                continue
            first = packet.pts if first is None else min(first, packet.pts)
            end = max(end, packet.pts + packet.duration)
    except av.FFmpegError:  # cut off mid-packet: what came before is what there is
        pass
    return float((end - first) * audio.time_base) if first is not None and audio.time_base is not None else 0.0


def _is_cover_art(stream) -> bool:
    disposition = getattr(stream, "disposition", None)
    try:
        return bool(disposition and int(disposition) & 0x400)  # AV_DISPOSITION_ATTACHED_PIC
    except TypeError:
        return "attached_pic" in str(disposition).lower()


def _reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return str(text).split(":")[-1].strip() or type(exc).__name__
