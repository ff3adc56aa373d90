"""Social clips: a stretch of the rendered episode as a square or 9:16 MP4 with the spoken words
burned in as captions, timed from transcript.json's words.

The picture is the episode video when there is one, else an audiogram (cover art and a moving
waveform). Sound is what the caller passes: ``pipeline.clip`` gives the lossless edited audio
render keeps in .chaitime/ with the same mastering gain as audio.mp3 (audio.mp3 itself only when
that is gone). Captions are an ASS file
burned by libass (ffmpeg's ``subtitles`` filter); libass needs a font file: when none can be
found the captions go in as a soft subtitle track instead, and the result says so.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from .. import fsutil
from ..errors import InputError
from ..transcript.model import Transcript
from . import ffmpeg, loudness

WIDTH = 1080
CAPTION_CHARS = 22  # a caption is a few words, read at a glance
CAPTION_GAP_S = 0.6  # a pause this long starts a new caption
EDGE_FADE_S = 0.05
BACKGROUND = "0x1e293b"
WAVE_COLOR = "white"
# Fonts libass can be pointed at, by file name and the family name inside the file.
FONTS = {
    "DejaVuSans-Bold.ttf": "DejaVu Sans", "DejaVuSans.ttf": "DejaVu Sans", "LiberationSans-Bold.ttf": "Liberation Sans",
    "LiberationSans-Regular.ttf": "Liberation Sans", "Arial Bold.ttf": "Arial", "arialbd.ttf": "Arial", "Arial.ttf": "Arial",
    "arial.ttf": "Arial", "Helvetica.ttc": "Helvetica", "NotoSans-Bold.ttf": "Noto Sans", "NotoSans-Regular.ttf": "Noto Sans",
}
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.fonts", "~/.local/share/fonts", "/Library/Fonts",
             "/System/Library/Fonts", "C:/Windows/Fonts")


@dataclass(frozen=True)
class Caption:
    start_s: float  # from the clip's start
    end_s: float
    text: str


@dataclass(frozen=True)
class ClipResult:
    path: Path
    duration_s: float
    captions: tuple[Caption, ...]
    burned: bool  # False: no font was found, captions are a soft subtitle track
    audiogram: bool
    warnings: tuple[str, ...] = ()
    unchanged: bool = False  # its inputs had not changed since it was made: nothing was rendered


def render_clip(transcript: Transcript, sound: Path, gain_db: float, video: Path | None, cover: Path | None, *,
                start_s: float, end_s: float, vertical: bool, out: Path, scratch: Path) -> ClipResult:
    """Render the clip ``start_s``..``end_s`` (edited timeline, as in ``transcript`` and ``sound``) to ``out``.

    ``scratch`` is an existing folder for the captions file.
    """
    check_range(start_s, end_s, transcript.duration_s)
    size = (WIDTH, WIDTH * 16 // 9 if vertical else WIDTH)
    captions = caption_chunks(transcript, start_s, end_s)
    font = find_font()
    ass = Path(scratch) / "captions.ass"
    ass.write_text(ass_text(captions, size, font[1] if font else "Sans", audiogram=video is None), encoding="utf-8")
    args = _clip_args(sound, gain_db, video, cover, start_s, end_s, size, ass, font)
    with fsutil.atomic_path(out) as tmp:
        ffmpeg.run([*args, "-f", "mp4", str(tmp)], what=f"rendering the clip {out.name}")
    warnings = () if font else ("no font file found for burned-in captions (install fonts-dejavu); they are a subtitle track instead",)
    return ClipResult(out, end_s - start_s, tuple(captions), font is not None, video is None, warnings)


def clip_name(start_s: float, end_s: float, vertical: bool) -> str:
    return f"clip-{_mmss(start_s)}-{_mmss(end_s)}{'-vertical' if vertical else ''}.mp4"


def check_range(start_s: float, end_s: float, duration_s: float) -> None:
    if not (math.isfinite(start_s) and math.isfinite(end_s)):
        raise InputError(f"clip {start_s}-{end_s} s: --start and --end must be finite times: seconds (75), M:SS (1:15) or HH:MM:SS.")
    if start_s < 0 or end_s <= start_s + 0.5:
        raise InputError(f"clip {start_s:.2f}-{end_s:.2f} s: --end must be at least 0.5 s after --start, both 0 or more.")
    if duration_s and start_s >= duration_s:
        raise InputError(f"clip starts at {start_s:.2f} s, after the episode's end ({duration_s:.2f} s). Times are on the rendered episode.")


def _mmss(t: float) -> str:
    return f"{int(t) // 60:02d}m{int(t) % 60:02d}s"


def caption_chunks(transcript: Transcript, start_s: float, end_s: float, max_chars: int = CAPTION_CHARS) -> list[Caption]:
    """The words spoken in the clip, grouped into short captions timed from their words."""
    words = [w for w in transcript.words if w.text.strip() and start_s <= (w.start_s + w.end_s) / 2 < end_s]
    groups: list[list] = []
    for w in words:
        last = groups[-1] if groups else None
        text = " ".join(x.text.strip() for x in (last or []) + [w])
        if last and len(text) <= max_chars and w.start_s - last[-1].end_s < CAPTION_GAP_S and not last[-1].text.strip().endswith((".", "?", "!")):
            last.append(w)
        else:
            groups.append([w])
    clip_len = end_s - start_s
    captions = [Caption(max(0.0, g[0].start_s - start_s), min(clip_len, g[-1].end_s - start_s), " ".join(x.text.strip() for x in g)) for g in groups]
    # Hold each caption until the next one when the gap is short, so captions don't flicker.
    return [
        Caption(c.start_s, nxt.start_s if nxt and nxt.start_s - c.end_s < CAPTION_GAP_S else c.end_s, c.text)
        for c, nxt in zip(captions, captions[1:] + [None])
    ]


def ass_text(captions: list[Caption], size: tuple[int, int], font: str, *, audiogram: bool) -> str:
    width, height = size
    font_px = round(width * 0.075)
    # Below the picture: the video is letterboxed in the middle; the audiogram's wave sits above.
    margin = round(height * (0.09 if audiogram else 0.12))
    lines = [
        "[Script Info]", "ScriptType: v4.00+", f"PlayResX: {width}", f"PlayResY: {height}", "WrapStyle: 0", "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, OutlineColour, BackColour, Bold, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV",
        f"Style: Default,{font},{font_px},&H00FFFFFF,&H00000000,&H80000000,1,1,{max(2, font_px // 14)},0,2,60,60,{margin}",
        "", "[Events]", "Format: Layer, Start, End, Style, Text",
    ]
    for c in captions:
        text = c.text.replace("\\", "").replace("{", "(").replace("}", ")")
        lines.append(f"Dialogue: 0,{_ass_time(c.start_s)},{_ass_time(c.end_s)},Default,{text}")
    return "\n".join(lines) + "\n"


def _ass_time(t: float) -> str:
    cs = max(0, round(t * 100))
    return f"{cs // 360000}:{cs // 6000 % 60:02d}:{cs // 100 % 60:02d}.{cs % 100:02d}"


def find_font() -> tuple[Path, str] | None:
    """(font file, family name) of a font libass can use, or None."""
    for folder in FONT_DIRS:
        root = Path(os.path.expanduser(folder))
        if not root.is_dir():
            continue
        for name, family in FONTS.items():
            found = next(root.rglob(name), None)
            if found:
                return found, family
    return None


def _clip_args(sound: Path, gain: float, video: Path | None, cover: Path | None, start_s: float, end_s: float,
               size: tuple[int, int], ass: Path, font) -> list[str]:
    length = end_s - start_s
    args = ["-ss", f"{start_s:.3f}", "-t", f"{length:.3f}", "-i", ffmpeg.as_input(sound)]
    audio = f"[0:a:0]{loudness.master_filter(gain, 48000)},afade=t=in:d={EDGE_FADE_S},afade=t=out:st={length - EDGE_FADE_S:.3f}:d={EDGE_FADE_S}[a]"
    if video is not None:
        args += ["-ss", f"{start_s:.3f}", "-t", f"{length:.3f}", "-i", ffmpeg.as_input(video)]
        picture = _letterbox("[1:v:0]", size)
    else:
        picture = _audiogram(cover, args, size, length)
    subs = f"subtitles=filename={_escape(ass)}" + (f":fontsdir={_escape(font[0].parent)}" if font else "")
    graph = f"{audio};{picture}{',' + subs if font else ''},format=yuv420p[v]"
    maps = ["-map", "[v]", "-map", "[a]"]
    soft = []
    if not font:
        args += ["-i", str(ass)]
        maps += ["-map", f"{_input_count(args) - 1}:s"]
        soft = ["-c:s", "mov_text"]
    return [*args, "-filter_complex", graph, *maps, "-c:v", "libx264", "-preset", "veryfast", "-crf", "21",
            "-r", "30", "-c:a", "aac", "-b:a", "160k", *soft, "-t", f"{length:.3f}", "-movflags", "+faststart"]


def _letterbox(label: str, size: tuple[int, int]) -> str:
    w, h = size
    return f"{label}scale={w}:{h}:force_original_aspect_ratio=decrease,pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1"


def _audiogram(cover: Path | None, args: list[str], size: tuple[int, int], length: float) -> str:
    """Cover art (when the show has one) over a plain background, a moving waveform below it."""
    w, h = size
    art = round(w * (0.55 if h == w else 0.8))
    art_y = round(h * (0.07 if h == w else 0.14))
    wave_h = round(h * (0.16 if h == w else 0.12))
    wave_y = art_y + art + round(h * 0.03)
    base = _input_count(args)
    args += ["-f", "lavfi", "-t", f"{length:.3f}", "-i", f"color=c={BACKGROUND}:s={w}x{h}:r=30"]
    graph = f"[0:a:0]showwaves=s={w}x{wave_h}:mode=cline:rate=30:colors={WAVE_COLOR},format=yuva420p[wave];"
    canvas = f"[{base}:v]"
    if cover and cover.is_file():
        args += ["-loop", "1", "-t", f"{length:.3f}", "-i", ffmpeg.as_input(cover)]
        graph += f"[{base + 1}:v]scale={art}:{art},setsar=1[art];{canvas}[art]overlay=(W-w)/2:{art_y}[bg];"
        canvas = "[bg]"
    return graph + f"{canvas}[wave]overlay=0:{wave_y}:shortest=1"


def _input_count(args: list[str]) -> int:
    return sum(1 for a in args if a == "-i")


def _escape(path: Path) -> str:
    """A path as a filter option value: backslash-escape what the filtergraph parser treats specially."""
    text = str(path).replace("\\", "/")
    for ch in (":", "'", ",", "[", "]", ";"):
        text = text.replace(ch, "\\" + ch)
    return text
