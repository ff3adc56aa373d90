"""Audio in for speaker work: decode through ffmpeg to 16 kHz int16 PCM, and frame levels.

Samples stay int16 (a 3-hour mono recording is ~350 MB) and are converted to float in chunks,
so memory stays bounded however long the recording is.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..media import pcm

RATE = 16000
FRAME_S = 0.01  # level frames: 10 ms
_CHUNK_FRAMES = 60_000  # frames converted to float at once (10 minutes)


def decode(path: Path, *, channels: int | None = 1, rate: int = RATE, limit_s: float | None = None, only_channel: int | None = None) -> np.ndarray:
    """Samples of ``path``'s first audio stream as int16, shape (n, channels) (media.pcm, the one
    decoder). ``channels=None`` keeps the file's own channels; ``only_channel`` picks one channel
    (mono out); ``limit_s`` reads only the start."""
    return pcm.decode(Path(path), rate=rate, channels=channels, length_s=limit_s, only_channel=only_channel)


def frame_power(samples: np.ndarray, rate: int = RATE) -> np.ndarray:
    """Mean power of each 10 ms frame of a 1-D int16 signal, as float32 (full scale = 1)."""
    hop = int(rate * FRAME_S)
    n = len(samples) // hop
    out = np.empty(n, dtype=np.float32)
    for start in range(0, n, _CHUNK_FRAMES):
        stop = min(n, start + _CHUNK_FRAMES)
        block = samples[start * hop : stop * hop].astype(np.float32).reshape(-1, hop) / 32768.0
        out[start:stop] = np.mean(block * block, axis=1)
    return out


def to_db(power: np.ndarray) -> np.ndarray:
    return 10.0 * np.log10(np.maximum(power, 1e-10))


def frames_of(start_s: float, end_s: float, n: int) -> slice:
    """The level frames a span covers (at least one frame, clipped to ``n``)."""
    lo = min(max(0, int(start_s / FRAME_S)), max(0, n - 1))
    hi = max(lo + 1, min(n, int(np.ceil(end_s / FRAME_S))))
    return slice(lo, hi)
