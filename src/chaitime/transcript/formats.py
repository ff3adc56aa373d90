"""Writers for every transcript format, all from a Transcript: WebVTT, SRT, plain text and the
Podcasting 2.0 JSON transcript. Cue lengths follow standards.md (VTT ~65 chars a line, SRT ~42)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from .model import Segment, Transcript, Word


@dataclass(frozen=True)
class Cue:
    start_s: float
    end_s: float
    text: str
    speaker: str | None


def cues(transcript: Transcript, max_chars: int) -> list[Cue]:
    """Split segments into cues of at most ``max_chars`` at word boundaries (two lines' worth)."""
    out: list[Cue] = []
    for seg in transcript.segments:
        words = [w for w in seg.words if w.text.strip()]
        if not words:
            if seg.text.strip():
                out.append(Cue(seg.start_s, seg.end_s, seg.text.strip(), seg.speaker))
            continue
        out.extend(_split_words(words, seg, max_chars))
    return out


def _split_words(words: list[Word], seg: Segment, max_chars: int) -> list[Cue]:
    result: list[Cue] = []
    group: list[Word] = []
    for w in words:
        text = _join(group + [w])
        if group and len(text) > max_chars:
            result.append(Cue(group[0].start_s, group[-1].end_s, _join(group), seg.speaker))
            group = []
        group.append(w)
    if group:
        result.append(Cue(group[0].start_s, group[-1].end_s, _join(group), seg.speaker))
    return result


def _join(words: list[Word]) -> str:
    return "".join(w.text if i else w.text.lstrip() for i, w in enumerate(words)).strip()


def wrap_two_lines(text: str, line_chars: int) -> str:
    """Break a cue into at most two balanced lines when it is longer than one line."""
    if len(text) <= line_chars:
        return text
    middle = len(text) // 2
    spaces = [i for i, ch in enumerate(text) if ch == " "]
    if not spaces:
        return text
    cut = min(spaces, key=lambda i: abs(i - middle))
    return text[:cut] + "\n" + text[cut + 1 :]


def clock(seconds: float) -> str:
    """'0:00', '4:05', '1:02:03': the form players and apps turn into links."""
    total = max(0, int(seconds))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def timestamp(seconds: float, sep: str = ".") -> str:
    """'01:02:03.456': WebVTT (SRT with sep=',')."""
    ms = max(0, int(round(seconds * 1000)))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _escape_vtt(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_vtt(transcript: Transcript) -> str:
    lines = ["WEBVTT", ""]
    for cue in cues(transcript, max_chars=110):
        body = _escape_vtt(wrap_two_lines(cue.text, 65))
        if cue.speaker:
            body = f"<v {_escape_vtt(cue.speaker)}>{body}"
        lines += [f"{timestamp(cue.start_s)} --> {timestamp(cue.end_s)}", body, ""]
    return "\n".join(lines)


def write_srt(transcript: Transcript) -> str:
    lines: list[str] = []
    for n, cue in enumerate(cues(transcript, max_chars=80), start=1):
        text = f"{cue.speaker}: {cue.text}" if cue.speaker else cue.text
        lines += [str(n), f"{timestamp(cue.start_s, ',')} --> {timestamp(cue.end_s, ',')}", wrap_two_lines(text, 42), ""]
    return "\n".join(lines)


def write_txt(transcript: Transcript) -> str:
    """Readable text: one paragraph per speaker turn (or per segment when speakers are unknown)."""
    paragraphs: list[str] = []
    last_speaker: object = object()
    for seg in transcript.segments:
        text = seg.text.strip()
        if not text:
            continue
        if seg.speaker and seg.speaker == last_speaker and paragraphs:
            paragraphs[-1] += " " + text
        else:
            prefix = f"[{timestamp(seg.start_s)[:8]}] " + (f"{seg.speaker}: " if seg.speaker else "")
            paragraphs.append(prefix + text)
        last_speaker = seg.speaker
    return "\n\n".join(paragraphs) + "\n"


def write_podcast_json(transcript: Transcript) -> str:
    """Podcasting 2.0 JSON transcript: {"version": "1.0.0", "segments": [...]} in seconds."""
    segments = []
    for seg in transcript.segments:
        if not seg.text.strip():
            continue
        item = {"startTime": round(seg.start_s, 3), "endTime": round(seg.end_s, 3), "body": seg.text.strip()}
        if seg.speaker:
            item = {"speaker": seg.speaker, **item}
        segments.append(item)
    return json.dumps({"version": "1.0.0", "segments": segments}, ensure_ascii=False, indent=1) + "\n"


def write_json(transcript: Transcript) -> str:
    return transcript.to_json()


# The one registry of transcript formats: `chaitime transcribe --format` and `-o NAME.suffix` read it.
WRITERS = {
    "json": write_json,
    "vtt": write_vtt,
    "srt": write_srt,
    "txt": write_txt,
    "podcast.json": write_podcast_json,
}


def format_for(name: str) -> str | None:
    """The format a file name asks for by its suffix (the longest that matches: podcast.json before json)."""
    name = name.lower()
    return next((fmt for fmt in sorted(WRITERS, key=len, reverse=True) if name.endswith("." + fmt)), None)
