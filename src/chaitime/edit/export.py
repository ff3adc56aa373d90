"""The cut list as other editors read it: a CMX 3600 EDL (Resolve, Premiere, Avid), an FCPXML 1.8
project (Final Cut Pro, Resolve) and Audacity label tracks.

Everything here is a function of explicit inputs: the kept intervals of the source recording
(``CutList.keeps``, as the render stage computes them), the frame rate, the source's description,
and markers on the cut timeline (chapters, speaker turns). The cut timeline starts at 0 at the
first kept second of the recording: no intro or outro, they are not in the source.

Frames: every kept interval is put on the frame grid (``round(t * rate)``; the render stage has
already snapped a video recording's cuts to its frames, so those are exact). An event is never
shorter than one frame; one that rounds to nothing is dropped.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from xml.sax.saxutils import quoteattr

from ..intervals import Interval
from ..media.probe import MediaInfo
from ..transcript.model import Transcript
from .cutlist import CutList
from .lines import tokens_of

CHAPTER, SPEAKER = "chapter", "speaker"
EDL_COLORS = {CHAPTER: "YELLOW", SPEAKER: "BLUE"}
FCPXML_VERSION = "1.8"  # the last version whose <asset src=...> every importer (and OpenTimelineIO) reads
NTSC = {24: Fraction(24000, 1001), 30: Fraction(30000, 1001), 60: Fraction(60000, 1001)}


@dataclass(frozen=True)
class Marker:
    """A point on the cut timeline (seconds): a chapter's start or a speaker turn (``end_s``: its end)."""

    time_s: float
    name: str
    kind: str = CHAPTER
    end_s: float | None = None


@dataclass(frozen=True)
class Event:
    """One kept interval in frames: its place in the source and on the cut timeline."""

    source_in: int
    source_out: int
    record_in: int
    speakers: tuple[str, ...] = ()

    @property
    def record_out(self) -> int:
        return self.record_in + self.source_out - self.source_in


@dataclass(frozen=True)
class CutExport:
    title: str
    source: MediaInfo  # the recording the cut list refers to (media.probe)
    keeps: tuple[Interval, ...]  # on the source's timeline, seconds
    rate: Fraction  # frames per second
    markers: tuple[Marker, ...] = ()  # on the cut timeline
    speakers: tuple[tuple[str, ...], ...] = ()  # per kept interval, who speaks in it

    def events(self) -> list[Event]:
        total = math.floor(self.source.duration_s * self.rate + 1e-6)
        out, record = [], 0
        for i, (a, b) in enumerate(self.keeps):
            fa = max(0, round(a * self.rate))
            fb = min(total, round(b * self.rate)) if b < self.source.duration_s else total
            if out and fa < out[-1].source_out:
                fa = out[-1].source_out
            if fb <= fa:
                continue
            out.append(Event(fa, fb, record, self.speakers[i] if i < len(self.speakers) else ()))
            record += fb - fa
        return out

    def placed(self, events: Sequence[Event] | None = None) -> list[tuple[Marker, Event, int]]:
        """Each marker with the event it falls in and its frame on the source's timeline."""
        events = list(self.events() if events is None else events)
        if not events:
            return []
        out = []
        for m in self.markers:
            frame = round(m.time_s * self.rate)
            ev = next((e for e in events if e.record_in <= frame < e.record_out), events[-1])
            frame = min(max(frame, ev.record_in), ev.record_out - 1)
            out.append((m, ev, ev.source_in + frame - ev.record_in))
        return sorted(out, key=lambda p: (p[1].record_in, p[2], p[0].kind != CHAPTER))


# --- the frame rate ----------------------------------------------------------------------------


def frame_rate(fps: float) -> Fraction:
    """A probed frame rate as an exact fraction: 29.97 -> 30000/1001, 25.0 -> 25."""
    if fps <= 0:
        raise ValueError(f"frame rate {fps}")
    nominal = round(fps)
    if abs(fps - nominal) < 1e-3:
        return Fraction(nominal)
    for exact in NTSC.values():
        if abs(fps - float(exact)) < 1e-3:
            return exact
    return Fraction(fps).limit_denominator(1001)


def rate_label(rate: Fraction) -> str:
    return f"{float(rate):g} fps" if rate.denominator == 1 else f"{float(rate):.3f} fps ({rate.numerator}/{rate.denominator})"


def timecode(frame: int, rate: Fraction) -> str:
    """Non-drop-frame timecode HH:MM:SS:FF, counted at the nominal (rounded) rate as NLEs do."""
    base = round(rate)
    ff = frame % base
    seconds = frame // base
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}:{ff:02d}"


# --- who speaks, chapters ----------------------------------------------------------------------


def keep_speakers(transcript: Transcript, cuts: CutList, keeps: Sequence[Interval]) -> list[tuple[str, ...]]:
    """For each kept interval, the speakers of its kept words in order of first appearance."""
    found: list[dict[str, None]] = [{} for _ in keeps]
    starts = [a for a, _ in keeps]
    for tok in tokens_of(transcript):
        if tok.index in cuts.removed_words:
            continue
        who = tok.word.speaker or transcript.segments[tok.segment].speaker
        if not who:
            continue
        mid = (tok.start_s + tok.end_s) / 2
        k = bisect.bisect_right(starts, mid) - 1
        if k >= 0 and mid <= keeps[k][1]:
            found[k].setdefault(who, None)
    return [tuple(f) for f in found]


def speaker_turns(edited: Transcript) -> list[Marker]:
    """One marker per speaker turn of a transcript on the cut timeline (consecutive segments of one speaker)."""
    turns: list[Marker] = []
    for seg in edited.segments:
        if not seg.speaker:
            continue
        if turns and turns[-1].name == seg.speaker:
            turns[-1] = Marker(turns[-1].time_s, seg.speaker, SPEAKER, max(turns[-1].end_s or 0.0, seg.end_s))
        else:
            turns.append(Marker(seg.start_s, seg.speaker, SPEAKER, seg.end_s))
    return turns


def chapter_markers(chapters: Sequence, length_s: float) -> list[Marker]:
    """Chapters (``writing.chapters.Chapter`` on the cut timeline) as markers, each ending where the next starts."""
    out = []
    for i, ch in enumerate(chapters):
        end = chapters[i + 1].start_s if i + 1 < len(chapters) else (ch.end_s if ch.end_s is not None else length_s)
        out.append(Marker(ch.start_s, ch.title, CHAPTER, max(ch.start_s, min(end, length_s))))
    return out


# --- CMX 3600 EDL ------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def reel_name(name: str) -> str:
    """An 8-character CMX reel name from the source's file name: letters, digits and _ only."""
    stem = Path(name).stem.upper()
    reel = "".join(c if c.isascii() and (c.isalnum() or c == "_") else "_" for c in stem).strip("_")
    return (reel or "AX")[:8]


def edl(cut: CutExport) -> str:
    """A CMX 3600 EDL: one cut event per kept interval (source in/out on the recording's timecode,
    record in/out on the cut timeline from 00:00:00:00), the source named by ``* FROM CLIP NAME:``
    and ``* SOURCE FILE:``, the event's speakers in a ``* COMMENT:``, and every chapter and
    speaker turn as a ``* LOC:`` locator on the event it falls in (source timecode, as
    OpenTimelineIO reads it)."""
    events = cut.events()
    reel = reel_name(cut.source.path.name)
    stereo = cut.source.channels >= 2
    channel = ("AA/V" if stereo else "B") if cut.source.has_video else ("AA" if stereo else "A")
    locs: dict[int, list[str]] = {}
    for marker, ev, frame in cut.placed(events):
        label = f"{marker.kind.upper()}: {_one_line(marker.name)}"
        locs.setdefault(ev.record_in, []).append(f"* LOC: {timecode(frame, cut.rate)} {EDL_COLORS[marker.kind]:<7} {label}")
    lines = [f"TITLE: {_one_line(cut.title)[:70] or 'chaitime'}", "FCM: NON-DROP FRAME", ""]
    tc = lambda f: timecode(f, cut.rate)  # noqa: E731
    for n, ev in enumerate(events, 1):
        lines.append(f"{n:03d}  {reel:<8} {channel:<5} C        {tc(ev.source_in)} {tc(ev.source_out)} {tc(ev.record_in)} {tc(ev.record_out)}")
        lines.append(f"* FROM CLIP NAME: {cut.source.path.name}")
        lines.append(f"* SOURCE FILE: {cut.source.path}")
        if ev.speakers:
            lines.append(f"* COMMENT: SPEAKERS: {', '.join(_one_line(s) for s in ev.speakers)}")
        lines += locs.get(ev.record_in, [])
        lines.append("")
    return "\n".join(lines)


# --- FCPXML ------------------------------------------------------------------------------------


def _rational(frames: int, rate: Fraction) -> str:
    """``frames`` at ``rate`` as FCPXML rational seconds: 0s, 12s, 3003/3000s, 7/25s."""
    value = Fraction(frames) / rate
    if value == 0:
        return "0s"
    if value.denominator == 1:
        return f"{value.numerator}s"
    step = 1 / rate  # keep the frame duration's denominator (1001/30000s style)
    scale = step.denominator
    return f"{frames * step.numerator}/{scale}s" if (value * scale).denominator == 1 else f"{value.numerator}/{value.denominator}s"


def _format_name(width: int, height: int, rate: Fraction) -> str | None:
    sizes = {(1920, 1080): "1080p", (1280, 720): "720p", (3840, 2160): "2160p"}
    labels = {Fraction(24000, 1001): "2398", Fraction(30000, 1001): "2997", Fraction(60000, 1001): "5994"}
    if (width, height) not in sizes:
        return None
    label = labels.get(rate, str(rate.numerator) if rate.denominator == 1 else None)
    return f"FFVideoFormat{sizes[(width, height)]}{label}" if label else None


def fcpxml(cut: CutExport) -> str:
    """An FCPXML 1.8 library: one event, one project whose spine holds an asset-clip per kept interval
    (offset on the cut timeline, start and duration on the source's, in rational seconds on the
    frame grid), a ``<marker>`` per speaker turn and a ``<chapter-marker>`` per chapter."""
    events = cut.events()
    src = cut.source
    rate = cut.rate
    width, height = (src.width, src.height) if src.has_video and src.width and src.height else (1920, 1080)
    name = _format_name(width, height, rate)
    frame = _rational(1, rate)
    total = math.floor(src.duration_s * rate + 1e-6)
    length = events[-1].record_out if events else 0
    layout = "stereo" if src.channels >= 2 else "mono"
    a = quoteattr
    out = ['<?xml version="1.0" encoding="UTF-8"?>', "<!DOCTYPE fcpxml>", f'<fcpxml version="{FCPXML_VERSION}">', " <resources>"]
    out.append(f'  <format id="r1"{" name=" + a(name) if name else ""} frameDuration="{frame}" width="{width}" height="{height}"/>')
    asset_format = ' format="r1"' if src.has_video else ""
    out.append(f'  <asset id="r2" name={a(src.path.stem)} src={a(src.path.resolve().as_uri())} start="0s" '
               f'duration="{_rational(total, rate)}" hasVideo="{int(src.has_video)}"{asset_format} hasAudio="1" '
               f'audioSources="1" audioChannels="{src.channels}" audioRate="{src.sample_rate_hz}"/>')
    out += [" </resources>", " <library>", '  <event name="chaitime">', f"   <project name={a(_one_line(cut.title) or 'chaitime')}>",
            f'    <sequence format="r1" duration="{_rational(length, rate)}" tcStart="0s" tcFormat="NDF" audioLayout="{layout}" audioRate="48k">',
            "     <spine>"]
    placed: dict[int, list[tuple[Marker, int]]] = {}
    for marker, ev, at in cut.placed(events):
        placed.setdefault(ev.record_in, []).append((marker, at))
    for ev in events:
        label = ", ".join(ev.speakers) or src.path.stem
        out.append(f'      <asset-clip ref="r2" name={a(label)} offset="{_rational(ev.record_in, rate)}" '
                   f'start="{_rational(ev.source_in, rate)}" duration="{_rational(ev.source_out - ev.source_in, rate)}"'
                   f'{asset_format} tcFormat="NDF" audioRole="dialogue">')
        for marker, at in placed.get(ev.record_in, []):
            tag = "chapter-marker" if marker.kind == CHAPTER else "marker"
            poster = ' posterOffset="0s"' if marker.kind == CHAPTER else ""
            out.append(f'       <{tag} start="{_rational(at, rate)}" duration="{frame}" value={a(_one_line(marker.name))}{poster}/>')
        out.append("      </asset-clip>")
    out += ["     </spine>", "    </sequence>", "   </project>", "  </event>", " </library>", "</fcpxml>", ""]
    return "\n".join(out)


# --- Audacity ----------------------------------------------------------------------------------


def _label(start_s: float, end_s: float, text: str) -> str:
    return f"{start_s:.6f}\t{max(start_s, end_s):.6f}\t{_one_line(text)}\n"


def audacity_labels(cut: CutExport) -> str:
    """Audacity label track on the cut timeline: a region per chapter ("Chapter: title") and per
    speaker turn (the speaker's name), in time order."""
    items = sorted(cut.markers, key=lambda m: (m.time_s, m.kind != CHAPTER))
    return "".join(_label(m.time_s, m.end_s if m.end_s is not None else m.time_s,
                          f"Chapter: {m.name}" if m.kind == CHAPTER else m.name) for m in items)


def audacity_cuts(cut: CutExport) -> str:
    """Audacity label track on the source recording's timeline: a region per stretch the edit
    removes ("cut N"), so the host can see (or delete) them over the original recording."""
    out, cursor, n = [], 0.0, 0
    for a, b in [*cut.keeps, (cut.source.duration_s, cut.source.duration_s)]:
        if a - cursor > 1e-6:
            n += 1
            out.append(_label(cursor, a, f"cut {n} ({a - cursor:.2f} s)"))
        cursor = max(cursor, b)
    return "".join(out)
