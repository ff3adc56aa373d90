"""Speech audio for ASR: 16 kHz mono int16, decoded once by ffmpeg to a raw file and read back
memory-mapped in chunks, so a 3-hour recording never sits in memory as float32 all at once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..media import ffmpeg, pcm

SAMPLE_RATE_HZ = 16_000


def speech_args(out: Path, audio_stream: int = 0) -> list[str]:
    """ffmpeg output options that write 16 kHz mono s16le to ``out`` (added to a larger command)
    from audio stream ``audio_stream`` (0: the first) of the first input (media.pcm's decoder)."""
    return [*pcm.output_args(rate=SAMPLE_RATE_HZ, stream=audio_stream), str(out)]


def speech_input(path: Path) -> list[str]:
    """ffmpeg input options that read a raw speech file written with ``speech_args``."""
    return ["-f", "s16le", "-ar", str(SAMPLE_RATE_HZ), "-ac", "1", "-i", ffmpeg.as_input(path)]


def decode_speech(path: Path, out: Path, progress: ffmpeg.Progress | None = None, audio_stream: int | None = None) -> PcmAudio:
    """Decode a media file's audio stream ``audio_stream`` (default: the first with sound, as
    ingest takes it: probe.probe_recording) to a raw speech file (atomic)."""
    if audio_stream is None:
        from ..media.probe import probe_recording

        audio_stream = probe_recording(Path(path)).audio_stream
    pcm.decode_file(path, out, rate=SAMPLE_RATE_HZ, stream=audio_stream, progress=progress)
    return PcmAudio(out)


@dataclass(frozen=True)
class PcmAudio:
    path: Path

    def samples(self) -> np.ndarray:
        if self.path.stat().st_size < 2:
            return np.zeros(0, dtype=np.int16)
        return np.memmap(self.path, dtype=np.int16, mode="r")

    @property
    def duration_s(self) -> float:
        return self.path.stat().st_size / 2 / SAMPLE_RATE_HZ

    def chunk_bounds(self, max_chunk_s: float = 1800.0, search_s: float = 20.0) -> list[tuple[int, int]]:
        """Split into as few chunks of about ``max_chunk_s`` (at most ``search_s`` more) as it
        takes, of about equal length (no short tail: each chunk ends in a partly filled batch),
        cut at the quietest 0.2 s window of the ``search_s`` seconds before each cut, so no word
        is cut in two."""
        data = self.samples()
        total, search = len(data), int(search_s * SAMPLE_RATE_HZ)
        count = max(1, int(np.ceil(total / (max_chunk_s * SAMPLE_RATE_HZ))))
        # Cut near k/count of the way, at the quietest point of the search window before it.
        cuts = [_quietest_point(data, t - search, t) for t in (total * k // count for k in range(1, count))]
        edges = [0, *cuts, total]
        bounds = [(a, b) for a, b in zip(edges, edges[1:]) if b > a]
        return bounds

    def chunk(self, start: int, end: int) -> np.ndarray:
        return np.asarray(self.samples()[start:end], dtype=np.float32) / 32768.0


def _quietest_point(data: np.ndarray, lo: int, hi: int) -> int:
    win = SAMPLE_RATE_HZ // 5
    region = np.asarray(data[lo:hi], dtype=np.float32)
    n = len(region) // win
    if n == 0:
        return hi
    energy = (region[: n * win].reshape(n, win) ** 2).mean(axis=1)
    return lo + int(np.argmin(energy)) * win + win // 2
