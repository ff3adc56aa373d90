"""EBU R128 loudness: measure with ffmpeg's ebur128 filter, master with gain and a true-peak
limiter in one encode.

Why not two-pass ``loudnorm``: measured here it ran at ~15x realtime against ~80x for ebur128
measurement then gain + limiter + encode. Linear gain keeps dynamics as two-pass loudnorm's
linear mode does; the limiter lets a quiet recording reach the target (standards.md).
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..errors import ToolError
from . import ffmpeg

STEREO_TARGET_LUFS = -16.0
MONO_TARGET_LUFS = -19.0
TRUE_PEAK_MAX_DBTP = -1.0
# Sample-peak ceiling for the limiter, below the -1 dBTP limit to leave room for inter-sample
# peaks and MP3 encoding overshoot (checked by measuring the encoded file in tests).
LIMITER_CEILING_DB = -2.0
ENCODER_MARGIN_DB = 0.1  # below -1 dBTP as measured on the encoded MP3 (a decoder's rounding)
MEASURE_FILTER = "ebur128=peak=true:framelog=verbose"
# Integrated loudness, range and sample peak: enough to set the gain. True peak needs 4x
# oversampling, ~0.75 s of a 10-minute recording's 2.8 s decode here; the limiter sets the peak.
MEASURE_LEVEL_FILTER = "ebur128=peak=sample:framelog=verbose"
LIMITED_FILTER = "ebur128=peak=none:framelog=verbose"  # loudness through the limiter
CORRECTIONS = 3  # limiter passes at most, each measured without encoding
TOLERANCE_LU = 0.2  # of the limiter passes
ENCODE_TOLERANCE_LU = 0.4  # of the encoded master before it is mastered once more
ENCODES = 3  # at most: the first, then with the encoder's loss and peak overshoot measured
# What the MP3 (LAME CBR, decoded by ffmpeg) reads below its input, measured here with ebur128 on
# the same sound before and after the encoder: 1 kHz sine 0.4 LU, pink noise 0.2-0.4, real
# speech (four recordings) 0.4-0.5. The first encode aims this much over the target, so speech
# lands within ENCODE_TOLERANCE_LU at once (aiming at the target itself, every episode was encoded
# twice: 0.5 LU off, ~45% of mastering's time).
ENCODER_LOSS_LU = 0.4
# The plain gain is used without a limiter pass when the limiter's loss is surely inside the
# passes' own tolerance (limiter_loss_bound).
LOSS_SKIP_LU = TOLERANCE_LU
# K-weighting (BS.1770) raises energy by at most +4 dB (high shelf): the most by which loud
# frames' share of the weighted loudness can exceed their share of plain energy.
K_WEIGHT_MAX = 10 ** (4.0 / 10)
FRAME_S = 0.01  # frames of the loss estimate
RELEASE_FRAMES = 15  # the limiter's 100 ms release, and more, held at the full reduction


@dataclass(frozen=True)
class Proxy:
    """A cheaper copy of the sound being mastered: ffmpeg input arguments that read it, and
    its samples (mono int16) for estimating the limiter's loss without ffmpeg."""

    args: list[str]
    samples: np.ndarray
    rate_hz: int


@dataclass(frozen=True)
class Loudness:
    integrated_lufs: float
    true_peak_dbtp: float | None  # None when measured without true peak (MEASURE_LEVEL_FILTER)
    lra_lu: float
    sample_peak_dbfs: float | None = None


def target_for(channels: int, override: float | None = None) -> float:
    if override is not None:
        return float(override)
    return MONO_TARGET_LUFS if channels == 1 else STEREO_TARGET_LUFS


def downmix(channels: int) -> str:
    """The filter (and a comma) that brings a recording of ``channels`` to the master's stereo;
    nothing for one or two. The coefficients are normalised (swresample's matrix scaled so each
    output's gains sum to at most 1), so the downmix never goes past full scale: ffmpeg's default
    float downmix adds the 7.1 channels at up to 3.1 times (1.88 times full scale on a 7.1
    recording peaking at -0.7 dBFS, thousands of samples clipped in the master). Loudness is set
    by mastering after, so the lower level costs nothing."""
    return "aresample=rematrix_maxval=1,aformat=channel_layouts=stereo," if channels > 2 else ""


def level_filter(channels: int) -> str:
    """The measuring filter for a recording of ``channels``: over two, it is downmixed to stereo
    first (``downmix``), as the master is (measured on six channels and gained after the downmix,
    dialogue only in the centre came out 5-8 LU too quiet)."""
    return downmix(channels) + MEASURE_LEVEL_FILTER


SILENT_LUFS = -50.0  # speech is -30 to -16: below this a recording is (nearly) silence
FLOOR_LUFS = -70.0  # BS.1770's absolute gate: ebur128 says this when no 400 ms block is louder
BLOCK_S = 0.4  # BS.1770's gating block: integrated loudness of anything shorter is the floor
SHORT_REPEATS = 40  # a sound shorter than a block is measured repeated this often (16 s at most)
SHORT_MAX_SAMPLES = 192_000  # what aloop holds: a block at any rate up to 192 kHz, and more
HEARD_DBFS = -70.0  # a peak over this is sound, not silence


def silence_note(measured: Loudness) -> str | None:
    """A note when the recording is (nearly) silent: a muted microphone or the wrong track."""
    if measured.integrated_lufs < SILENT_LUFS:
        level = ("digital silence" if measured.integrated_lufs == float("-inf") else "below -70 LUFS"
                 if measured.integrated_lufs <= FLOOR_LUFS else f"{measured.integrated_lufs:.1f} LUFS")
        return (f"the recording is nearly silent ({level}; speech is -30 to -16 LUFS): check the microphone or the track "
                "you exported.")
    return None


def parse_summary(stderr: str) -> Loudness:
    """Read the Summary block that ebur128 prints at the end of a run."""
    summary = stderr[stderr.rfind("Summary:"):]
    values = {}
    for key, pattern in {"i": r"I:\s+(-?[\d.]+|-inf)\s+LUFS", "lra": r"LRA:\s+(-?[\d.]+)\s+LU"}.items():
        match = re.search(pattern, summary)
        if not match:
            raise ToolError(f"ffmpeg's ebur128 printed no {key} value; output ended: {ffmpeg.tail(stderr)}")
        values[key] = float(match.group(1))  # float("-inf") for digital silence
    peaks = {kind: re.search(kind + r" peak:\s+Peak:\s+(-?[\d.]+|-inf)\s+dBFS", summary) for kind in ("True", "Sample")}
    true_peak, sample_peak = (float(m.group(1)) if m else None for m in peaks.values())
    return Loudness(values["i"], true_peak, values["lra"], sample_peak)


def measure(path: Path, progress: ffmpeg.Progress | None = None, *, true_peak: bool = True) -> Loudness:
    """Integrated loudness, loudness range and (unless ``true_peak`` is False) true peak of
    ``path``'s first audio stream (a sound shorter than a gating block: ``measured_from``)."""
    args = ["-i", ffmpeg.as_input(path), "-map", "0:a:0", "-af", MEASURE_FILTER if true_peak else MEASURE_LEVEL_FILTER, *ffmpeg.null_sink()]
    return measured_from(ffmpeg.run(args, what=f"measuring loudness of {path}", progress=progress), path)


def measured_from(stderr: str, path: Path) -> Loudness:
    """The loudness ebur128 printed in ``stderr``, a run over ``path``'s first audio stream (or
    the same sound); for a sound shorter than one 400 ms gating block, which ebur128 calls
    FLOOR_LUFS however loud it is (a 0.2 s word peaking at -1.5 dBTP read as -70 LUFS), its
    loudness over its own length: ``short_loudness``."""
    measured = parse_summary(stderr)
    return short_loudness(path, measured) if too_short(stderr, measured) else measured


def too_short(stderr: str, measured: Loudness) -> bool:
    """Whether ebur128 found no gating block (FLOOR_LUFS) in sound that is heard (its peak over
    HEARD_DBFS) because the sound ended before the first block did (its last 100 ms frame)."""
    peak = measured.sample_peak_dbfs if measured.sample_peak_dbfs is not None else measured.true_peak_dbtp
    if measured.integrated_lufs > FLOOR_LUFS or peak is None or not peak > HEARD_DBFS:
        return False
    times = re.findall(r"\] t:\s*([\d.]+)\s+TARGET", stderr)
    return not times or float(times[-1]) < BLOCK_S - 0.05


def short_loudness(path: Path, measured: Loudness) -> Loudness:
    """``measured`` with the integrated loudness of ``path``'s first audio stream over its own
    length: measured on it repeated SHORT_REPEATS times, so every gating block holds only it
    (its momentary loudness, as a meter shows it). Peaks stay as measured (the joins of the
    repeats could read higher); the range is 0."""
    looped = f"aloop=loop={SHORT_REPEATS}:size={SHORT_MAX_SAMPLES},{MEASURE_LEVEL_FILTER}"
    args = ["-i", ffmpeg.as_input(path), "-map", "0:a:0", "-af", looped, *ffmpeg.null_sink()]
    again = parse_summary(ffmpeg.run(args, what=f"measuring loudness of the short {path}"))
    return replace(measured, integrated_lufs=again.integrated_lufs, lra_lu=0.0)


LEVEL_WINDOWS = 6  # stream_levels: stretches measured in a long recording
LEVEL_WINDOW_S = 10.0


def stream_levels(path: Path, streams: int, duration_s: float) -> list[float]:
    """The integrated loudness (LUFS) of each of ``path``'s first ``streams`` audio streams, to
    tell the one with speech from a silent or spare track: of the whole file when it is short,
    else of LEVEL_WINDOWS stretches of LEVEL_WINDOW_S spread over it (a minute of each stream,
    whatever the length). One ffmpeg run, nothing written."""
    whole = duration_s <= LEVEL_WINDOWS * LEVEL_WINDOW_S
    starts = [0.0] if whole else [i * (duration_s - LEVEL_WINDOW_S) / (LEVEL_WINDOWS - 1) for i in range(LEVEL_WINDOWS)]
    args: list[str] = []
    for start in starts:
        args += [] if whole else ["-ss", f"{start:.3f}", "-t", f"{LEVEL_WINDOW_S:g}"]
        args += ["-vn", "-sn", "-dn", "-i", ffmpeg.as_input(path)]
    graph, maps = [], []
    for s in range(streams):
        pieces = "".join(f"[{k}:a:{s}]" for k in range(len(starts)))
        join = f"concat=n={len(starts)}:v=0:a=1," if len(starts) > 1 else ""
        graph.append(f"{pieces}{join}{_named(MEASURE_LEVEL_FILTER, f's{s}')}[level{s}]")
        maps += ["-map", f"[level{s}]"]
    stderr = ffmpeg.run([*args, "-filter_complex", ";".join(graph), *maps, *ffmpeg.null_sink()],
                        what=f"measuring the audio streams of {path}")
    return [parse_summary(_summary_of(stderr, f"ebur128@s{s}")).integrated_lufs for s in range(streams)]


def gain_db(measured: Loudness, target_lufs: float) -> float:
    """Linear gain to reach the target; silence (nothing over the absolute gate) gets none:
    nothing to normalize, and its noise is not raised to the target."""
    if measured.integrated_lufs <= FLOOR_LUFS:
        return 0.0
    return round(target_lufs - measured.integrated_lufs, 2)


def master_mp3(source: Path, before: Loudness, target_lufs: float, channels: int, out: Path,
               proxy: Proxy | None = None) -> tuple[float, Loudness]:
    """The podcast master at ``out`` from lossless ``source`` measured ``before``; returns
    (gain, loudness of the encoded MP3). The gain comes from ``mastering_gain``, on ``proxy``
    when given: a cheaper copy of the same sound (ingest's 16 kHz mono speech file: the
    limiter's loss measured on it matched the master's within 0.1 LU on speech, at a quarter of
    the time). The MP3 itself is measured after the encode (what listeners get: the encoder's
    low-pass and quantization took 0.5-0.6 LU off bright, noisy sound, which a measurement
    before the encoder never sees; ffmpeg 5.1 and 9.0 alike), so the first encode aims
    ENCODER_LOSS_LU over the target. When the MP3 is off the target by more than
    ENCODE_TOLERANCE_LU, the encoder's loss is added to the target, and when its true peak is over
    -1 dBTP the limiter's ceiling drops by the excess; it is mastered again (at most ENCODES in
    all; speech takes one), measuring on ``source`` itself."""
    ceiling, aim = LIMITER_CEILING_DB, target_lufs + ENCODER_LOSS_LU
    gain = mastering_gain(proxy.args if proxy else _input(source), before, aim, ceiling,
                          estimate_on=(proxy.samples, proxy.rate_hz) if proxy else None)
    for attempt in range(ENCODES):
        after = encode_mp3(source, gain, channels, out, ceiling)
        excess = -1.0 if after.true_peak_dbtp is None else after.true_peak_dbtp - (TRUE_PEAK_MAX_DBTP - ENCODER_MARGIN_DB)
        off = target_lufs - after.integrated_lufs
        if attempt == ENCODES - 1 or before.integrated_lufs <= FLOOR_LUFS or (excess <= 0 and abs(off) <= ENCODE_TOLERANCE_LU):
            break
        if excess > 0:
            ceiling -= excess + 0.2
        aim = aim + off if abs(off) > ENCODE_TOLERANCE_LU else aim
        gain = mastering_gain(_input(source), before, aim, ceiling)
    return gain, after


def mastering_gain(source: list[str], before: Loudness, target_lufs: float, ceiling_db: float = LIMITER_CEILING_DB,
                   estimate_on: tuple[np.ndarray, int] | None = None) -> float:
    """The gain that brings the sound to ``target_lufs`` through the limiter, found before the
    encode. When the gained peaks stay under the ceiling, the plain gain is exact. Otherwise
    the limiter takes loudness off a peaky recording: run gain + limiter on ``source`` (ffmpeg
    input arguments) without encoding, measuring before and after the limiter in the one pass,
    and add the loss back; past the limiter a dB of gain buys less than a dB of loudness, so
    after the first step follow the slope measured (secant), at most CORRECTIONS passes. With
    ``estimate_on`` (mono int16 samples, rate), no pass runs when ``limiter_loss_bound`` says
    the limiter takes under LOSS_SKIP_LU off: a few loud plosives, the usual case."""
    plain = gain_db(before, target_lufs)
    if before.integrated_lufs <= FLOOR_LUFS or (before.sample_peak_dbfs is not None and before.sample_peak_dbfs + plain <= ceiling_db):
        return plain
    if estimate_on is not None and limiter_loss_bound(*estimate_on, plain, ceiling_db) < LOSS_SKIP_LU:
        return plain
    gain, tried = plain, []  # (gain, predicted loudness of the master at that gain)
    for _ in range(CORRECTIONS):
        got = before.integrated_lufs + gain - limiter_loss(source, gain, ceiling_db)
        if abs(got - target_lufs) <= TOLERANCE_LU:
            break
        tried.append((gain, got))
        slope = 1.0
        if len(tried) > 1 and tried[-1][0] != tried[-2][0]:
            slope = min(1.0, max(0.2, (tried[-1][1] - tried[-2][1]) / (tried[-1][0] - tried[-2][0])))
        gain = round(gain + (target_lufs - got) / slope, 2)
    return gain


def limiter_loss(source: list[str], gain_db: float, ceiling_db: float) -> float:
    """The loudness (LU) the limiter takes off ``source`` (ffmpeg input arguments) raised by
    ``gain_db``: one pass, measured before and after the limiter, nothing encoded."""
    chain = f"volume={gain_db:.2f}dB,{_named(LIMITED_FILTER, 'unlimited')},{_limiter(0.0, ceiling_db)},{_named(LIMITED_FILTER, 'limited')}"
    stderr = ffmpeg.run([*source, "-map", "0:a:0", "-af", chain, *ffmpeg.null_sink()], what="measuring the limiter")
    unlimited, limited = (parse_summary(_summary_of(stderr, f"ebur128@{name}")).integrated_lufs for name in ("unlimited", "limited"))
    return unlimited - limited


def limiter_loss_bound(samples: np.ndarray, rate_hz: int, gain_db: float, ceiling_db: float, block_frames: int = 60_000) -> float:
    """An overestimate of the loudness (LU) a limiter at ``ceiling_db`` takes off int16
    ``samples`` raised by ``gain_db``: each 10 ms frame whose gained peak is over the ceiling
    loses the excess, held at full depth from the frame before (look-ahead) through
    RELEASE_FRAMES after, energy-weighted over the whole (no gating: only loud frames lose),
    the lost share raised by K_WEIGHT_MAX in case the peaks are all treble (clicks, sibilants).
    Reads the samples a block at a time (a memmap of hours stays on disk)."""
    size = max(1, round(rate_hz * FRAME_S))
    n = len(samples) // size
    if n == 0:
        return 0.0
    threshold = 10 ** ((ceiling_db - gain_db) / 20) * 32768.0
    energy, peak = np.empty(n, np.float64), np.empty(n, np.float32)
    for lo in range(0, n, block_frames):
        hi = min(n, lo + block_frames)
        frames = np.asarray(samples[lo * size : hi * size]).reshape(hi - lo, size).astype(np.float32)
        energy[lo:hi] = np.einsum("ij,ij->i", frames, frames)
        peak[lo:hi] = np.abs(frames).max(axis=1)
    over = np.flatnonzero(peak > threshold)
    if over.size == 0 or energy.sum() <= 0:
        return 0.0
    excess = 20 * np.log10(peak[over] / threshold)
    depth = np.zeros(n + RELEASE_FRAMES + 2)
    for shift in range(RELEASE_FRAMES + 2):  # each frame takes the deepest cut over its window
        np.maximum.at(depth, over + shift, excess)
    depth = depth[1 : n + 1]
    share = float(np.dot(energy, 1 - 10 ** (-depth / 10))) / float(energy.sum())
    return float(-10 * np.log10(max(1e-12, 1 - min(1.0, K_WEIGHT_MAX * share))))


def limited_pcm(pcm: Path, rate_hz: int, gain_db: float, ceiling_db: float = LIMITER_CEILING_DB) -> bytes:
    """Mono s16 ``pcm`` raised by ``gain_db`` through the master's limiter, as s16 bytes."""
    with tempfile.TemporaryDirectory(prefix=".limited.", dir=pcm.parent) as tmp:
        out = Path(tmp) / "limited.s16"
        ffmpeg.run(["-f", "s16le", "-ar", str(rate_hz), "-ac", "1", "-i", str(pcm), "-af", _limiter(gain_db, ceiling_db),
                    "-f", "s16le", "-c:a", "pcm_s16le", str(out)], what="simulating the master's limiter")
        return out.read_bytes()


def _named(filter_spec: str, name: str) -> str:
    """``ebur128=...`` as the instance ``ebur128@name``, so its summary can be told apart."""
    kind, _, options = filter_spec.partition("=")
    return f"{kind}@{name}={options}"


def _summary_of(stderr: str, instance: str) -> str:
    """The Summary block one named filter instance printed ("[ebur128@limited @ 0x...] Summary:")."""
    match = re.search(rf"\[{re.escape(instance)} @ [^\]]*\] Summary:.*?(?=\n\[|\Z)", stderr, re.S)
    if not match:
        raise ToolError(f"ffmpeg's {instance} printed no summary; output ended: {ffmpeg.tail(stderr)}")
    return match.group(0)


def _input(path: Path) -> list[str]:
    return ["-i", ffmpeg.as_input(path)]


def limiter(ceiling_db: float = LIMITER_CEILING_DB) -> str:
    """The master's look-ahead limiter, for a stage that delivers sound ready to master."""
    return _limiter(0.0, ceiling_db)


def _limiter(gain: float, ceiling_db: float) -> str:
    """Gain, then a look-ahead limiter (auto-level off, delay compensated)."""
    return f"volume={gain:.2f}dB,alimiter=limit={10 ** (ceiling_db / 20):.4f}:level=false:latency=true:attack=5:release=100"


def master_filter(gain: float, sample_rate_hz: int = 44100, *, measure: bool = False, ceiling_db: float = LIMITER_CEILING_DB) -> str:
    """Gain and limiter (``_limiter``), then resample; with ``measure``, ebur128 on the result
    too, so one pass both encodes and measures (parse_summary)."""
    chain = f"{_limiter(gain, ceiling_db)},aresample={sample_rate_hz}:resampler=soxr"
    return f"{chain},{MEASURE_FILTER}" if measure else chain


def mp3_args(channels: int) -> list[str]:
    """CBR MP3 at 44.1 kHz: 128 kbps stereo, 96 kbps mono (standards.md)."""
    bitrate = "96k" if channels == 1 else "128k"
    return ["-c:a", "libmp3lame", "-b:a", bitrate, "-ar", "44100", "-ac", str(1 if channels == 1 else 2)]


def encode_mp3(source: Path, gain: float, channels: int, out: Path, ceiling_db: float = LIMITER_CEILING_DB) -> Loudness:
    """The podcast master: ``source``'s first audio stream through ``master_filter`` into a CBR
    MP3 at ``out`` (atomic); returns the loudness of the MP3 as written, decoded and measured."""
    from ..fsutil import atomic_path

    with atomic_path(out) as tmp:
        ffmpeg.run(["-i", ffmpeg.as_input(source), "-map", "0:a:0", "-af", master_filter(gain, ceiling_db=ceiling_db),
                    *mp3_args(channels), "-write_xing", "1", "-f", "mp3", str(tmp)], what=f"encoding {out}")
        return measure(tmp)


def relevel_video(source: Path, target_lufs: float, out: Path, *, still: Path | None = None) -> Loudness:
    """A video at another loudness (YouTube plays loud audio down to -14 LUFS and never raises
    quiet audio): ``source``'s sound through gain and the master's limiter (the gain found by
    ``mastering_gain``) into AAC-LC at 48 kHz; its picture copied as it is, or, for a sound-only
    ``source``, ``still`` (an image) held as H.264 at 2 frames a second. Returns the loudness of
    the result as written."""
    from ..fsutil import atomic_path

    before = measure(source)
    gain = mastering_gain(_input(source), before, target_lufs)
    picture = ["-map", "0:v:0", "-c:v", "copy"] if still is None else \
        ["-map", "1:v:0", "-c:v", "libx264", "-tune", "stillimage", "-preset", "veryfast", "-r", "2", "-pix_fmt", "yuv420p", "-shortest"]
    still_input = [] if still is None else ["-loop", "1", "-framerate", "2", "-i", ffmpeg.as_input(still)]
    with atomic_path(out) as tmp:
        ffmpeg.run([*_input(source), *still_input, *picture, "-map", "0:a:0", "-af", master_filter(gain, 48000),
                    "-c:a", "aac", "-b:a", "192k", "-movflags", "+faststart", "-f", "mp4", str(tmp)], what=f"encoding {out}")
        return measure(tmp)
