"""The one audio decoder: any file's audio stream to int16 PCM at any rate and channel count,
from any start and for any length (or the last seconds), into memory or into a raw file.

Speaker work, the cut checks and transcription all read their audio through here, so a chosen
audio stream, a channel picked out or a stretch is spelled once.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from . import ffmpeg


def output_args(*, rate: int, channels: int | None = 1, stream: int = 0, length_s: float | None = None,
                only_channel: int | None = None) -> list[str]:
    """ffmpeg output options (the output's name excluded) that write audio stream ``stream`` of the
    first input as int16 PCM (s16le) at ``rate``: ``channels`` (None keeps the file's), or the one
    channel ``only_channel``, for ``length_s``. Frames of 16384 samples: ffmpeg hands each frame
    from thread to thread, and a decoder's small frames, resampled, cost a quarter of a million
    context switches an hour (same bytes out)."""
    out = ["-map", f"0:a:{stream}"] + (["-t", f"{length_s:.3f}"] if length_s else [])
    filters = ([f"pan=mono|c0=c{only_channel}"] if only_channel is not None else []) + ["asetnsamples=n=16384:p=0"]
    out += ["-af", ",".join(filters)]
    out += ["-ac", "1"] if only_channel is not None else (["-ac", str(channels)] if channels else [])
    return out + ["-ar", str(rate), "-c:a", "pcm_s16le", "-f", "s16le"]


def args(path: Path, *, rate: int, channels: int | None = 1, stream: int = 0, start_s: float | None = None,
         length_s: float | None = None, last_s: float | None = None, only_channel: int | None = None) -> list[str]:
    """``output_args`` with the input: ``path`` from ``start_s`` (or its last ``last_s`` seconds),
    its video not read."""
    position = ["-sseof", f"-{last_s:.3f}"] if last_s else (["-ss", f"{start_s:.3f}"] if start_s else [])
    return [*position, "-vn", "-i", ffmpeg.as_input(Path(path)),
            *output_args(rate=rate, channels=channels, stream=stream, length_s=length_s, only_channel=only_channel)]


def decode(path: Path, *, rate: int, channels: int | None = 1, stream: int = 0, start_s: float | None = None,
           length_s: float | None = None, last_s: float | None = None, only_channel: int | None = None) -> np.ndarray:
    """The samples as int16, shape (n, channels) (see ``args``)."""
    with tempfile.TemporaryFile() as raw:
        ffmpeg.run([*args(path, rate=rate, channels=channels, stream=stream, start_s=start_s, length_s=length_s, last_s=last_s,
                          only_channel=only_channel), "-"], what=f"reading audio from {Path(path).name}", stdout_file=raw)
        raw.seek(0)
        data = np.frombuffer(raw.read(), dtype="<i2")
    width = 1 if only_channel is not None else (channels or _channel_count(path))
    return data[: len(data) - len(data) % width].reshape(-1, width)


def decode_file(path: Path, out: Path, *, rate: int, channels: int = 1, stream: int = 0, progress: ffmpeg.Progress | None = None) -> None:
    """The samples written to the raw file ``out`` (s16le), atomically: read back memory-mapped."""
    from .. import fsutil

    with fsutil.atomic_path(out) as tmp:
        ffmpeg.run([*args(path, rate=rate, channels=channels, stream=stream), str(tmp)], what=f"decoding {path}", progress=progress)


def _channel_count(path: Path) -> int:
    from .probe import probe

    return max(1, probe(Path(path)).channels)
