"""EBU R128 loudness: measure with ffmpeg's ebur128 filter, master with gain and a true-peak
limiter in one encode.

Why not two-pass ``loudnorm``: measured here it ran at ~15x realtime against ~80x for ebur128
measurement then gain + limiter + encode. Linear gain keeps dynamics as two-pass loudnorm's
linear mode does; the limiter lets a quiet recording reach the target (standards.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import ToolError
from . import ffmpeg

STEREO_TARGET_LUFS = -16.0
MONO_TARGET_LUFS = -19.0
TRUE_PEAK_MAX_DBTP = -1.0
# Sample-peak ceiling for the limiter, below the -1 dBTP limit to leave room for inter-sample
# peaks and MP3 encoding overshoot (checked by measuring the encoded file in tests).
LIMITER_CEILING_DB = -2.0
MEASURE_FILTER = "ebur128=peak=true:framelog=verbose"


@dataclass(frozen=True)
class Loudness:
    integrated_lufs: float
    true_peak_dbtp: float
    lra_lu: float


def target_for(channels: int, override: float | None = None) -> float:
    if override is not None:
        return float(override)
    return MONO_TARGET_LUFS if channels == 1 else STEREO_TARGET_LUFS


def parse_summary(stderr: str) -> Loudness:
    """Read the Summary block that ebur128 prints at the end of a run."""
    summary = stderr[stderr.rfind("Summary:"):]
    values = {}
    for key, pattern in {"i": r"I:\s+(-?[\d.]+|-inf)\s+LUFS", "lra": r"LRA:\s+(-?[\d.]+)\s+LU", "peak": r"Peak:\s+(-?[\d.]+|-inf)\s+dBFS"}.items():
        match = re.search(pattern, summary)
        if not match:
            raise ToolError(f"ffmpeg's ebur128 printed no {key} value; output ended: {ffmpeg.tail(stderr)}")
        values[key] = float(match.group(1))  # float("-inf") for digital silence
    return Loudness(values["i"], values["peak"], values["lra"])


def measure(path: Path, progress: ffmpeg.Progress | None = None) -> Loudness:
    """Integrated loudness, true peak and loudness range of ``path``'s first audio stream."""
    args = ["-i", ffmpeg.as_input(path), "-map", "0:a:0", "-af", MEASURE_FILTER, *ffmpeg.null_sink()]
    return parse_summary(ffmpeg.run(args, what=f"measuring loudness of {path}", progress=progress))


def gain_db(measured: Loudness, target_lufs: float) -> float:
    """Linear gain to reach the target; digital silence gets none (nothing to normalize)."""
    if measured.integrated_lufs == float("-inf") or measured.integrated_lufs < -70:
        return 0.0
    return round(target_lufs - measured.integrated_lufs, 2)


def reach_target(encode: Callable[[float], "Loudness"], gain: float, target_lufs: float) -> tuple[float, Loudness]:
    """``encode(gain)`` writes the master and returns its loudness (measured in the same pass by
    ``master_filter(..., measure=True)``). When the limiter took loudness off a peaky recording
    (more than 0.3 LU short), add it back and encode once more. Returns (gain, loudness)."""
    after = encode(gain)
    if gain != 0.0 and abs(after.integrated_lufs - target_lufs) > 0.3:
        gain = round(gain + target_lufs - after.integrated_lufs, 2)
        after = encode(gain)
    return gain, after


def master_filter(gain: float, sample_rate_hz: int = 44100, *, measure: bool = False) -> str:
    """Gain, then a look-ahead limiter (auto-level off, delay compensated), then resample; with
    ``measure``, ebur128 on the result too, so one pass both encodes and measures (parse_summary)."""
    ceiling = 10 ** (LIMITER_CEILING_DB / 20)
    chain = (
        f"volume={gain:.2f}dB,"
        f"alimiter=limit={ceiling:.4f}:level=false:latency=true:attack=5:release=100,"
        f"aresample={sample_rate_hz}:resampler=soxr"
    )
    return f"{chain},{MEASURE_FILTER}" if measure else chain


def mp3_args(channels: int) -> list[str]:
    """CBR MP3 at 44.1 kHz: 128 kbps stereo, 96 kbps mono (standards.md)."""
    bitrate = "96k" if channels == 1 else "128k"
    return ["-c:a", "libmp3lame", "-b:a", bitrate, "-ar", "44100", "-ac", str(1 if channels == 1 else 2)]


def encode_mp3(source: Path, gain: float, channels: int, out: Path) -> Loudness:
    """The podcast master: ``source``'s first audio stream through ``master_filter`` into a CBR
    MP3 at ``out`` (atomic), measured in the same pass."""
    from ..fsutil import atomic_path

    with atomic_path(out) as tmp:
        stderr = ffmpeg.run(["-i", ffmpeg.as_input(source), "-map", "0:a:0", "-af", master_filter(gain, measure=True),
                             *mp3_args(channels), "-write_xing", "1", "-f", "mp3", str(tmp)], what=f"encoding {out}")
    return parse_summary(stderr)
