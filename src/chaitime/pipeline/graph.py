"""The stage graph, declared: one row per stage. The runner takes each stage's version and the
names of its key's parts from here; docs/architecture.md is generated from this table (and a test
keeps the two the same), so what the docs say is what runs.

A row's ``needs`` are upstream stages (by name), host files (``episode.toml``, ``edit.md``) and
settings sections (``settings.audio``); ``writes`` are the files it owns, in the episode folder or
in ``.chaitime/`` (a trailing ``*``: host-owned once the host edited it, the new draft then goes
beside it). ``params`` name the parts of the stage's key, in order: ``chaitime -v`` names the part
that changed when a stage runs again. ``module`` is where its run function lives.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    name: str
    version: int  # bump when the stage's output for the same inputs changes
    needs: tuple[str, ...]
    writes: tuple[str, ...]
    params: tuple[str, ...]
    module: str
    when: str = ""  # a condition, when the stage does not always run


STAGES = (
    Stage("extract", 3, ("recording",), (".chaitime/speech.s16", ".chaitime/master.flac", ".chaitime/loudness.json"),
          ("recording", "ffmpeg"), "source"),
    Stage("transcribe", 3, ("extract", "settings.transcribe", "episode.toml"), (".chaitime/transcript.asr.json",),
          ("extract", "options", "engine", "device", "engine_version"), "transcribe"),
    Stage("speakers", 3, ("transcribe", "extract", "settings.show", "episode.toml", "tracks"),
          (".chaitime/speakers.json", ".chaitime/transcript.raw.json", "transcript.json", "transcript.vtt", "transcript.srt",
           "transcript.txt", "transcript.podcast.json"),
          ("transcribe", "tracks", "num_speakers", "expected", "host_voice", "embedder"), "speakers"),
    Stage("tracks", 1, ("speakers", "tracks", "episode.toml"), (".chaitime/tracks.flac", ".chaitime/tracks.s16", ".chaitime/tracks.json"),
          ("speakers", "names", "channels", "duration", "ffmpeg"), "sound", when="separate tracks and studio sound"),
    Stage("sound", 3, ("extract", "tracks", "speakers", "settings.audio"), (".chaitime/sound.flac", ".chaitime/sound.s16", ".chaitime/sound.json",
                                                                              "sound.svg"),
          ("extract", "tracks", "settings", "plan", "target", "ffmpeg"), "sound", when="studio sound on"),
    Stage("master", 7, ("extract", "sound", "chapters.json", "settings.audio", "settings.show", "episode.toml"),
          ("audio.mp3", "video.mp4", ".chaitime/loudness.out.json"),
          ("extract", "sound", "target", "gain", "channels", "has_video", "ffmpeg", "tags"), "master", when="until the first render"),
    Stage("render", 4, ("extract", "sound", "speakers", "edit.md", "settings.audio", "episode.toml"),
          ("audio.mp3", "video.mp4", ".chaitime/render.json", "transcript.json", "transcript.vtt", "transcript.srt", "transcript.txt",
           "transcript.podcast.json", "chapters.json"),
          ("master", "recording", "transcript", "keeps", "removed_words", "intro", "outro", "chapters", "target", "tags", "ffmpeg"),
          "render", when="once the host rendered an edit"),
    Stage("draft", 3, ("speakers", "render", "episode.toml", "settings"), ("chapters.json", "post.md*", "youtube.txt*"),
          ("transcript", "chapters", "meta", "settings"), "writing"),
    Stage("clip", 1, ("render", "master", "settings.show"), ("clips/*.mp4",),
          ("transcript", "sound", "gain", "video", "cover", "start", "end", "vertical", "font", "ffmpeg"), "clip", when="`chaitime clip`"),
)

BY_NAME = {s.name: s for s in STAGES}


def stage(name: str) -> Stage:
    return BY_NAME[name.split(":", 1)[0]]  # "clip:clip-0-10.mp4": one record per clip, one row


def table_markdown() -> str:
    """The table as docs/architecture.md shows it."""
    rows = ["| stage | version | needs | writes | key parts | module | runs |", "|---|---|---|---|---|---|---|"]
    for s in STAGES:
        rows.append(f"| {s.name} | {s.version} | {', '.join(s.needs)} | {', '.join(f'`{w}`' for w in s.writes)} | "
                    f"{', '.join(s.params)} | `pipeline/{s.module}.py` | {s.when or 'always'} |")
    return "\n".join(rows) + "\n"
