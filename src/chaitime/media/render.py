"""Render an episode from its edit list: cut the lossless master and the video identically,
join intro and outro, master once, re-time the transcript and chapters.

Memory stays flat for any length: the master is decoded, cut and faded in one-second chunks
streamed between two ffmpeg processes (sample-exact cuts, which ffmpeg's frame-based
``aselect`` can't give); the video is cut by ``select`` on the same frame-aligned intervals in a
single streaming pass. Every output is encoded once, from lossless audio.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import fsutil
from ..config import Settings
from ..edit.audiocheck import crossfade_s, quiet_edges_s
from ..edit.cutlist import CutList, TimeMap
from ..edit.markdown import parse_edit_md, write_edit_md
from ..edit.retime import retime_chapters, retime_transcript, unretime_chapters
from ..errors import InputError, ToolError
from ..transcript.formats import EPISODE_FILES, WRITERS
from ..transcript.model import Transcript
from ..workspace import Episode
from . import ffmpeg, loudness, tags
from .probe import MediaInfo, probe

log = logging.getLogger("chaitime")

RENDER_VERSION = 1
FADE_S = 0.010  # fade out / in at every cut so a join never clicks
CROSSFADE_S = 0.5  # intro and outro overlap the episode by this much
CHUNK_S = 1.0
VIDEO_ARGS = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"]

Progress = Callable[..., None]  # progress(stage, done_s, total_s)


@dataclass(frozen=True)
class RenderResult:
    audio_path: Path
    video_path: Path | None
    duration_s: float
    removed_s: float
    changed: tuple[str, ...]  # names of the files written; empty when everything was up to date


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
    """What to render: cuts on the original timeline, the kept intervals, the intro offset."""

    cuts: CutList
    keeps: tuple[tuple[float, float], ...]
    intro: Path | None
    outro: Path | None


def render_episode(episode: Episode, settings: Settings, *, progress: Progress | None = None) -> RenderResult:
    """Apply edit.md to the master and the video; write audio.mp3, video.mp4, transcript files and chapters."""
    inputs = load_inputs(episode, settings)
    plan = plan_render(episode, settings, inputs)
    chapters_orig = original_chapters(episode)
    key = render_key(episode, inputs, plan, settings, chapters_orig)
    record = _read_record(episode)
    outputs = [episode.path("audio.mp3")] + ([episode.path("video.mp4")] if inputs.source else [])
    if record.get("key") == key and all(p.is_file() for p in outputs):
        return RenderResult(outputs[0], outputs[1] if inputs.source else None, record["duration_s"], record["removed_s"], ())
    report = progress or (lambda *a, **k: None)
    cut = episode.machine_dir / "cut.flac"
    cut_audio(inputs.master, plan.keeps, cut, inputs.info, lambda s: report("cut", s, inputs.info.duration_s))
    edited, offset_s, duration_s = join_intro_outro(cut, plan, episode.machine_dir / "edited.flac", inputs)
    gain = master_audio(episode, settings, edited, inputs.info.channels)
    changed = ["audio.mp3"]
    if inputs.source:
        cut_video(inputs, plan.keeps, edited, offset_s, duration_s, gain, episode.path("video.mp4"), lambda s: report("video", s, duration_s))
        changed.append("video.mp4")
    timemap = TimeMap(plan.keeps, offset_s)
    changed += write_retimed(episode, inputs.transcript, plan.cuts, timemap, chapters_orig, duration_s)
    _write_record(episode, key, timemap, duration_s, plan.cuts.removed_s(inputs.info.duration_s), gain)
    return RenderResult(outputs[0], outputs[1] if inputs.source else None, duration_s, plan.cuts.removed_s(inputs.info.duration_s), tuple(changed))


# --- inputs and plan ----------------------------------------------------------------------------


def load_inputs(episode: Episode, settings: Settings) -> Inputs:
    master = episode.machine_dir / "master.flac"
    if not master.is_file():
        raise InputError(f"{master}: no lossless master. Run `chaitime ingest` on the recording first.")
    info = probe(master)
    transcript = Transcript.load(episode.machine_dir / "transcript.raw.json")
    transcript = transcript if transcript.duration_s > 0 else Transcript(transcript.segments, transcript.language, info.duration_s, transcript.meta)
    source = video_source(episode)
    fps = probe(source).fps if source else 0.0
    edit_path = episode.path("edit.md")
    if not edit_path.is_file():
        fsutil.write_text(edit_path, write_edit_md(transcript, **_suggest_settings(settings)))
    return Inputs(master, info, source, fps or 25.0, transcript, edit_path.read_text(encoding="utf-8"))


def video_source(episode: Episode) -> Path | None:
    """The original recording to cut video from, when it has video."""
    record_path = episode.machine_dir / "source.json"
    if not record_path.is_file():
        return None
    record = json.loads(record_path.read_text(encoding="utf-8"))
    if not record.get("has_video"):
        return None
    candidates = [episode.path(record["link"])] if record.get("link") else []
    candidates += [Path(record.get("path", "")), *sorted(episode.folder.glob("source.*"))]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise InputError(f"{episode.folder}: the recording {record.get('path')} is gone, so the video can't be cut. Put it back, or ingest it again.")


def _suggest_settings(settings: Settings) -> dict:
    audio = settings.data.get("audio", {})
    return {"fillers": audio.get("fillers"), "silence_max_s": float(audio.get("silence_max_s", 1.5)), "silence_keep_s": float(audio.get("silence_keep_s", 0.5))}


def plan_render(episode: Episode, settings: Settings, inputs: Inputs) -> Plan:
    options = _suggest_settings(settings)
    cuts = parse_edit_md(inputs.edit_text, inputs.transcript, path=episode.path("edit.md"),
                         silence_max_s=options["silence_max_s"], silence_keep_s=options["silence_keep_s"])
    duration = inputs.info.duration_s
    if inputs.source:
        cuts = cuts.snapped(inputs.fps, duration)
    keeps = tuple(cuts.keeps(duration))
    if not keeps:
        raise InputError(f"{episode.path('edit.md')}: everything is cut. Keep at least one line.")
    return Plan(cuts, keeps, _asset(settings, "intro"), _asset(settings, "outro"))


def _asset(settings: Settings, key: str) -> Path | None:
    path = settings.resolve(settings.get("audio", key))
    if path is not None and not path.is_file():
        raise InputError(f"{settings.path or 'chaitime.toml'}: [audio] {key} = {settings.get('audio', key)!r}: no such file. Fix the path or remove the key.")
    return path


def original_chapters(episode: Episode) -> list | None:
    """Chapters on the original timeline: .chaitime/chapters.orig.json, saved from chapters.json
    the first time; if the host (or `chaitime draft`) changed chapters.json since the last render,
    it is on the edited timeline, so it is moved back through the last render's time map."""
    from ..writing.chapters import chapters_json, load_chapters

    current, orig = episode.path("chapters.json"), episode.machine_dir / "chapters.orig.json"
    if not current.is_file():
        return load_chapters(orig) if orig.is_file() else None
    record = _read_record(episode)
    if not orig.is_file():
        fsutil.write_text(orig, current.read_text(encoding="utf-8"))
    elif record.get("chapters_hash") and fsutil.file_hash(current) != record["chapters_hash"]:
        last = TimeMap(tuple(tuple(k) for k in record["keeps"]), record["offset_s"])
        fsutil.write_text(orig, chapters_json(unretime_chapters(load_chapters(current), last)))
    return load_chapters(orig)


def render_key(episode: Episode, inputs: Inputs, plan: Plan, settings: Settings, chapters) -> str:
    def stat(p: Path | None):
        return None if p is None else (str(p), p.stat().st_size, p.stat().st_mtime_ns)

    tag_values = tags.episode_tags(settings, episode.meta())
    return fsutil.text_hash(
        RENDER_VERSION, stat(inputs.master), stat(inputs.source), inputs.transcript.to_json(), plan.keeps,
        sorted(plan.cuts.removed_words), stat(plan.intro), stat(plan.outro), repr(chapters),
        settings.get("audio", "target_lufs"), sorted((k, str(v)) for k, v in tag_values.items()), ffmpeg.ffmpeg_version(),
    )


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

    def __enter__(self):
        exe = [ffmpeg.ffmpeg_exe(), "-hide_banner", "-nostdin", "-y"]
        self.errs = [tempfile.TemporaryFile(), tempfile.TemporaryFile()]
        self.dec = subprocess.Popen(exe + self.decode, stdout=subprocess.PIPE, stderr=self.errs[0])
        self.enc = subprocess.Popen([*exe[:3], "-y"] + self.encode, stdin=subprocess.PIPE, stderr=self.errs[1])
        return self.dec.stdout, self.enc.stdin

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self.enc.stdin.close()
        except BrokenPipeError:
            pass
        if exc_type is not None:
            self.dec.kill()
        codes = [self.enc.wait(), self.dec.wait()]
        if any(codes) and (exc_type is None or issubclass(exc_type, OSError)):
            failed = self.errs[0] if codes[1] else self.errs[1]
            failed.seek(0)
            raise ToolError(f"ffmpeg failed while {self.what}: {ffmpeg.tail(failed.read().decode('utf-8', 'replace'))}") from exc
        for f in self.errs:
            f.close()


def join_intro_outro(cut: Path, plan: Plan, out: Path, inputs: Inputs) -> tuple[Path, float, float]:
    """Crossfade intro + episode + outro into ``out``; returns (audio, episode offset, length).

    Without intro or outro the cut audio is the edited audio. With video, the offset is put on
    the frame grid so the black frames padded in front of the video match the intro exactly.
    """
    body_s = sum(b - a for a, b in plan.keeps)
    if plan.intro is None and plan.outro is None:
        return cut, 0.0, body_s
    info = inputs.info
    fmt = f"aformat=sample_fmts=fltp:sample_rates={info.sample_rate_hz}:channel_layouts={'mono' if info.channels == 1 else 'stereo'}"
    parts, graph, offset_s, length_s = [], [], 0.0, body_s
    quiet = quiet_edges_s(cut)  # crossfades never overlap speech
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
    for i in range(len(parts)):
        graph.append(f"[{i}:a]{fmt}[p{i}]")
    current = "p0"
    for i in range(1, len(parts)):
        fade = parts[0][1] if i == 1 and parts[0][0] == "intro" else parts[i][1]
        graph.append(f"[{current}][p{i}]acrossfade=d={fade:.6f}:c1=qsin:c2=qsin[j{i}]")
        current = f"j{i}"
    with fsutil.atomic_path(out) as tmp:
        ffmpeg.run([*inputs_args, "-filter_complex", ";".join(graph), "-map", f"[{current}]", "-c:a", "flac", "-f", "flac", str(tmp)],
                   what="joining the intro and outro")
    return out, offset_s, probe(out).duration_s


def master_audio(episode: Episode, settings: Settings, edited: Path, channels: int) -> float:
    """audio.mp3 from the edited lossless audio: measured, gain + limiter, CBR MP3, ID3 tags. Returns the gain."""
    target = loudness.target_for(channels, settings.get("audio", "target_lufs"))
    audio = episode.path("audio.mp3")
    gain, _ = loudness.master_mp3(edited, loudness.measure(edited, true_peak=False), target, channels, audio)
    tags.write_tags(audio, **tags.episode_tags(settings, episode.meta()))
    return gain


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


# --- transcript, chapters, record ------------------------------------------------------------------


def write_retimed(episode: Episode, transcript: Transcript, cuts: CutList, timemap: TimeMap, chapters, duration_s: float) -> list[str]:
    """transcript.json and every format written from it, chapters.json and the MP3's chapters, re-timed."""
    from ..writing.chapters import chapters_json

    edited = retime_transcript(transcript, cuts, timemap, duration_s)
    written = []
    if fsutil.write_if_changed(episode.path("transcript.json"), WRITERS["json"](edited)):
        written.append("transcript.json")
    for fmt, name in EPISODE_FILES.items():
        if fsutil.write_if_changed(episode.path(name), WRITERS[fmt](edited)):
            written.append(name)
    if chapters:
        moved = retime_chapters(chapters, timemap, duration_s)
        if fsutil.write_if_changed(episode.path("chapters.json"), chapters_json(moved)):
            written.append("chapters.json")
        tags.write_chapters(episode.path("audio.mp3"), moved, duration_s)
    return written


def _read_record(episode: Episode) -> dict:
    path = episode.machine_dir / "render.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


def _write_record(episode: Episode, key: str, timemap: TimeMap, duration_s: float, removed_s: float, gain: float) -> None:
    chapters = episode.path("chapters.json")
    record = {
        "key": key, "duration_s": round(duration_s, 6), "removed_s": round(removed_s, 6), "gain_db": gain,
        "offset_s": timemap.offset_s, "keeps": [list(k) for k in timemap.keeps],
        "chapters_hash": fsutil.file_hash(chapters) if chapters.is_file() else None,
    }
    fsutil.write_text(episode.machine_dir / "render.json", json.dumps(record, indent=1) + "\n")


def clean_intermediates(episode: Episode) -> None:
    """Drop the cut audio kept for clips (it can be rendered again)."""
    for name in ("cut.flac", "edited.flac"):
        (episode.machine_dir / name).unlink(missing_ok=True)
    shutil.rmtree(episode.machine_dir / "clips", ignore_errors=True)
