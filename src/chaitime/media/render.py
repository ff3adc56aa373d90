"""Render media from an edit: cut the lossless master and the video identically, join intro
and outro, master once. (The episode-level stage, which reads edit.md and re-times the
transcript and chapters, is ``pipeline.render``; this module only moves audio and video.)

Memory stays flat for any length: the master is decoded, cut and faded in one-second chunks
streamed between two ffmpeg processes (sample-exact cuts, which ffmpeg's frame-based
``aselect`` can't give); the video is cut by ``select`` on the same frame-aligned intervals in a
single streaming pass. Every output is encoded once, from lossless audio.
"""

from __future__ import annotations

import logging
import math
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import fsutil
from ..transcript.model import Transcript
from . import ffmpeg, loudness, tags
from .probe import MediaInfo, probe

log = logging.getLogger("chaitime")

FADE_S = 0.010  # fade out / in at every cut so a join never clicks
CROSSFADE_S = 0.5  # intro and outro overlap the episode by this much
VIDEO_ARGS = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"]


@dataclass(frozen=True)
class Inputs:
    master: Path
    info: MediaInfo
    source: Path | None  # the original recording, when it has video
    fps: float
    transcript: Transcript
    edit_text: str


@dataclass(frozen=True)
class Plan:
    """What to render: cuts on the original timeline (an edit CutList), the kept intervals, intro and outro."""

    cuts: object
    keeps: tuple[tuple[float, float], ...]
    intro: Path | None
    outro: Path | None


# --- audio ----------------------------------------------------------------------------------------


def cut_audio(master: Path, keeps: Sequence[tuple[float, float]], out: Path, info: MediaInfo, progress: Callable[[float], None]) -> None:
    """Write ``master``'s kept intervals to ``out`` (FLAC), with a short fade at every join.

    Decoded and encoded by two ffmpeg processes; samples pass through numpy a chunk at a time.
    """
    rate, channels = info.sample_rate_hz, info.channels
    spans = [(round(a * rate), round(b * rate)) for a, b in keeps]
    total = round(info.duration_s * rate)
    decode = ["-i", ffmpeg.as_input(master), "-map", "0:a:0", "-f", "f32le", "-c:a", "pcm_f32le", "-"]
    with fsutil.atomic_path(out) as tmp:
        encode = ["-f", "f32le", "-ar", str(rate), "-ac", str(channels), "-i", "-", "-c:a", "flac", "-f", "flac", str(tmp)]
        with _Pipe(decode, encode, what=f"cutting {master}") as (reader, writer):
            _stream_cuts(reader, writer, spans, channels, total, round(FADE_S * rate), lambda n: progress(n / rate))


def _stream_cuts(reader, writer, spans, channels: int, total: int, fade: int, progress) -> None:
    chunk_frames = 1 << 16
    pos = 0
    while True:
        data = reader.read(chunk_frames * channels * 4)
        if not data:
            break
        block = np.frombuffer(data, dtype="<f4")[: len(data) // (4 * channels) * channels].reshape(-1, channels)
        for a, b in spans:
            lo, hi = max(a, pos), min(b, pos + len(block))
            if lo < hi:
                piece = block[lo - pos : hi - pos] * _envelope(lo, hi, a, b, fade, total)[:, None]
                writer.write(piece.astype("<f4").tobytes())
        pos += len(block)
        progress(pos)


def _envelope(lo: int, hi: int, a: int, b: int, fade: int, total: int) -> np.ndarray:
    """Gain for samples lo..hi of the kept span a..b: a half-cosine fade in and out at the joins."""
    n = np.arange(lo, hi, dtype=np.float64)
    length = max(1, min(fade, (b - a) // 2))
    gain = np.ones(hi - lo)
    if a > 0:
        gain *= np.clip((n - a + 0.5) / length, 0, 1)
    if b < total:
        gain *= np.clip((b - n - 0.5) / length, 0, 1)
    return (0.5 - 0.5 * np.cos(np.pi * gain)).astype(np.float32)


class _Pipe:
    """decoder ffmpeg -> (python) -> encoder ffmpeg, stderr to temp files, ToolError on failure."""

    def __init__(self, decode: list[str], encode: list[str], *, what: str) -> None:
        self.decode, self.encode, self.what = decode, encode, what
        self.output = Path(encode[-1])

    def __enter__(self):
        exe = [ffmpeg.ffmpeg_exe(), "-hide_banner", "-nostdin", "-y"]
        self.errs = [tempfile.TemporaryFile(), tempfile.TemporaryFile()]
        self.dec = ffmpeg.popen(exe + self.decode, stdout=subprocess.PIPE, stderr=self.errs[0])
        self.enc = ffmpeg.popen([*exe[:3], "-y"] + self.encode, stdin=subprocess.PIPE, stderr=self.errs[1])
        return self.dec.stdout, self.enc.stdin

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self.enc.stdin.close()
        except BrokenPipeError:
            pass
        if exc_type is not None and not issubclass(exc_type, OSError):  # Ctrl-C or a bug: stop both now
            ffmpeg.stop(self.dec)
            ffmpeg.stop(self.enc)
        elif exc_type is not None:
            ffmpeg.stop(self.dec)
        codes = [self.enc.wait(), self.dec.wait()]
        if any(codes) and (exc_type is None or issubclass(exc_type, OSError)):
            failed = self.errs[0] if codes[1] else self.errs[1]
            failed.seek(0)
            raise ffmpeg.failure(failed.read().decode("utf-8", "replace"), codes[1] or codes[0], self.what, self.output) from exc
        self.stderr = []  # (decoder's, encoder's): filters that report at the end (ebur128, astats)
        for f in self.errs:
            f.seek(0)
            self.stderr.append(f.read().decode("utf-8", "replace"))
            f.close()


CROSSFADE_MARGIN_S = 0.05  # a crossfade ends this long before the first word (starts after the last)
MIN_CROSSFADE_S = 0.001  # ffmpeg's acrossfade needs a length; a millisecond overlaps nothing audible
def crossfade_s(wanted_s: float, jingle_s: float, body_s: float, quiet_s: float) -> float:
    """How long an intro (outro) may overlap the episode: ``wanted_s`` at most, half of either
    part at most, and never into speech: within the ``quiet_s`` before the first word (after the
    last), less a margin."""
    return max(MIN_CROSSFADE_S, min(wanted_s, jingle_s / 2, body_s / 2, quiet_s - CROSSFADE_MARGIN_S))


def join_intro_outro(cut: Path, plan: Plan, out: Path, inputs: Inputs, quiet: tuple[float, float]) -> tuple[Path, float, float]:
    """Crossfade intro + episode + outro into ``out``; returns (audio, episode offset, length).
    ``quiet``: seconds before the first and after the last speech in ``cut`` (crossfades stay there).

    Without intro or outro the cut audio is the edited audio. With video, the offset is put on
    the frame grid so the black frames padded in front of the video match the intro exactly.
    """
    body_s = sum(b - a for a, b in plan.keeps)
    if plan.intro is None and plan.outro is None:
        return cut, 0.0, body_s
    info = inputs.info
    fmt = f"aformat=sample_fmts=fltp:sample_rates={info.sample_rate_hz}:channel_layouts={'mono' if info.channels == 1 else 'stereo'}"
    parts, graph, offset_s, length_s = [], [], 0.0, body_s
    inputs_args = []
    if plan.intro:
        intro_s = probe(plan.intro).duration_s
        fade = crossfade_s(CROSSFADE_S, intro_s, body_s, quiet[0])
        offset_s = intro_s - fade
        if inputs.source:
            offset_s = math.floor(offset_s * inputs.fps) / inputs.fps
            fade = intro_s - offset_s
        inputs_args += ["-i", ffmpeg.as_input(plan.intro)]
        parts.append(("intro", fade))
        length_s += offset_s
    inputs_args += ["-i", ffmpeg.as_input(cut)]
    parts.append(("body", 0.0))
    if plan.outro:
        outro_s = probe(plan.outro).duration_s
        fade = crossfade_s(CROSSFADE_S, outro_s, body_s, quiet[1])
        inputs_args += ["-i", ffmpeg.as_input(plan.outro)]
        parts.append(("outro", fade))
        length_s += outro_s - fade
    # Intro and outro at the episode's loudness, so the crossfade neither jumps nor dips.
    body_lufs = loudness.measure(cut, true_peak=False).integrated_lufs
    jingles = iter(p for p in (plan.intro, plan.outro) if p)
    for i, (name, _) in enumerate(parts):
        match = "" if name == "body" else _match_gain(next(jingles), body_lufs)
        graph.append(f"[{i}:a]{fmt}{match}[p{i}]")
    current = "p0"
    for i in range(1, len(parts)):
        fade = parts[0][1] if i == 1 and parts[0][0] == "intro" else parts[i][1]
        graph.append(f"[{current}][p{i}]acrossfade=d={fade:.6f}:c1=qsin:c2=qsin[j{i}]")
        current = f"j{i}"
    with fsutil.atomic_path(out) as tmp:
        ffmpeg.run([*inputs_args, "-filter_complex", ";".join(graph), "-map", f"[{current}]", "-c:a", "flac", "-f", "flac", str(tmp)],
                   what="joining the intro and outro")
    return out, offset_s, probe(out).duration_s


def _match_gain(jingle: Path, body_lufs: float) -> str:
    """A volume step that brings ``jingle`` to ``body_lufs`` (none when either is silence)."""
    measured = loudness.measure(jingle, true_peak=False)
    if not (-70 < measured.integrated_lufs and -70 < body_lufs):
        return ""
    gain = body_lufs - measured.integrated_lufs
    if measured.sample_peak_dbfs is not None:  # the joined FLAC is integer: never past full scale
        gain = min(gain, -0.1 - measured.sample_peak_dbfs)
    return f",volume={gain:.2f}dB"


def master_audio(edited: Path, audio: Path, target: float, channels: int, tag_values: dict) -> tuple[float, loudness.Loudness]:
    """``audio`` (MP3) from the edited lossless audio: measured, gain + limiter, CBR MP3, ID3 tags.
    Returns the gain and the loudness of the result."""
    gain, after = loudness.master_mp3(edited, loudness.measure(edited, true_peak=False), target, channels, audio)
    tags.write_tags(audio, **tag_values)
    return gain, after


# --- video ----------------------------------------------------------------------------------------


def cut_video(inputs: Inputs, keeps, edited: Path, offset_s: float, duration_s: float, gain: float, out: Path, progress) -> None:
    """video.mp4: the recording's frames in the kept intervals (the same frame-aligned ones as the
    audio), black frames under the intro/outro, the edited audio mastered like audio.mp3."""
    fps = inputs.fps
    half = 0.5 / fps
    keep_expr = "+".join(f"between(t,{a - half:.6f},{b - half:.6f})" for a, b in keeps)
    body_s = sum(b - a for a, b in keeps)
    tail_s = max(0.0, duration_s - offset_s - body_s)
    video = f"[0:v:0]fps={fps:.6f},select='{keep_expr}',setpts=N/({fps:.6f}*TB)"
    if offset_s > 0 or tail_s > 0:
        video += f",tpad=start_duration={offset_s:.6f}:stop_duration={tail_s:.6f}:color=black"
    graph = f"{video},format=yuv420p[v];[1:a:0]{loudness.master_filter(gain, 48000)}[a]"
    channels = "1" if inputs.info.channels == 1 else "2"
    with fsutil.atomic_path(out) as tmp:
        ffmpeg.run(["-i", ffmpeg.as_input(inputs.source), "-i", ffmpeg.as_input(edited), "-filter_complex", graph,
                    "-map", "[v]", "-map", "[a]", *VIDEO_ARGS, "-r", f"{fps:.6f}", "-c:a", "aac", "-b:a", "160k", "-ac", channels,
                    "-movflags", "+faststart", "-f", "mp4", str(tmp)], what=f"cutting the video {inputs.source}", progress=progress)
