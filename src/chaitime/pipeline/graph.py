"""The stage graph, declared: one row per stage. The runner takes each stage's version and the
names of its key's parts from here; docs/architecture.md is generated from this table (and a test
keeps the two the same), so what the docs say is what runs.

A row's ``needs`` are upstream stages (by name), host files (episode.toml, edit.md) and settings
sections (``settings.audio``); what it writes comes from the folder registry (workspace.FOLDER,
each file with its owner), in the episode folder or in .chaitime/ (a trailing ``*``: host-owned
once the host edited it, the new draft then goes beside it). ``params`` name the parts of the stage's key, in order: ``chaitime -v`` names the part
that changed when a stage runs again. ``module`` is where its run function lives.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..workspace import CHAPTERS, EDIT, EPISODE_TOML, FOLDER, MACHINE_DIR


@dataclass(frozen=True)
class Stage:
    name: str
    version: int  # bump when the stage's output for the same inputs changes
    needs: tuple[str, ...]
    params: tuple[str, ...]
    module: str
    when: str = ""  # a condition, when the stage does not always run

    @property
    def writes(self) -> tuple[str, ...]:
        """Its files, from the folder registry (workspace.FOLDER): the one place owners are written down."""
        return tuple((MACHINE_DIR + "/" if f.machine else "") + f.name + ("*" if f.host_edits else "")
                     for f in FOLDER if self.name in (o.strip() for o in f.owner.split(",")))


STAGES = (
    Stage("extract", 3, ("recording",), ("recording", "ffmpeg"), "source"),
    Stage("transcribe", 3, ("extract", "settings.transcribe", EPISODE_TOML), ("extract", "options", "engine", "device", "engine_version"),
          "transcribe"),
    Stage("speakers", 4, ("transcribe", "extract", "settings.show", EPISODE_TOML, "tracks"),
          ("transcribe", "tracks", "num_speakers", "expected", "host_voice", "embedder"), "speakers"),
    Stage("tracks", 1, ("speakers", "tracks", EPISODE_TOML), ("speakers", "names", "channels", "duration", "ffmpeg"), "sound",
          when="separate tracks and studio sound"),
    Stage("sound", 3, ("extract", "tracks", "speakers", "settings.audio"), ("extract", "tracks", "settings", "plan", "target", "ffmpeg"),
          "sound", when="studio sound on"),
    Stage("master", 7, ("extract", "sound", CHAPTERS, "settings.audio", "settings.show", EPISODE_TOML),
          ("extract", "sound", "target", "gain", "channels", "has_video", "ffmpeg", "tags"), "master", when="until the first render"),
    Stage("render", 4, ("extract", "sound", "speakers", EDIT, "settings.audio", EPISODE_TOML),
          ("master", "recording", "transcript", "keeps", "removed_words", "intro", "outro", "chapters", "target", "tags", "ffmpeg"),
          "render", when="once the host rendered an edit"),
    Stage("draft", 3, ("speakers", "render", EPISODE_TOML, "settings"), ("transcript", "chapters", "meta", "settings"), "writing"),
    Stage("clip", 1, ("render", "master", "settings.show"),
          ("transcript", "sound", "gain", "video", "cover", "start", "end", "vertical", "font", "ffmpeg"), "clip", when="`chaitime clip`"),
)

BY_NAME = {s.name: s for s in STAGES}


def stage(name: str) -> Stage:
    return BY_NAME[name.split(":", 1)[0]]  # "clip:clip-0-10.mp4": one record per clip, one row


def folder_markdown() -> str:
    """The folder contract (workspace.FOLDER) as docs/architecture.md shows it."""
    rows = ["| file | where | owner | host may edit | MIME | listeners get it as |", "|---|---|---|---|---|---|"]
    for f in FOLDER:
        role = ", ".join(r for r, on in (("download: " + f.label, bool(f.label)), ("feed transcript", f.feed_transcript),
                                          ("captions", f.captions)) if on)
        rows.append(f"| `{f.name}` | {MACHINE_DIR + '/' if f.machine else 'episode folder'} | {f.owner} | {'yes' if f.host_edits else ''} | "
                    f"{f.mime} | {role} |")
    return "\n".join(rows) + "\n"


GENERATED = {"stages": lambda: table_markdown(), "folder": lambda: folder_markdown()}


def docs_with_tables(text: str) -> str:
    """``text`` (docs/architecture.md) with each generated section replaced by the code's table."""
    for name, make in GENERATED.items():
        begin, end = f"<!-- generated: {name} -->\n", f"<!-- end: {name} -->"
        head, _, rest = text.partition(begin)
        _, _, tail = rest.partition(end)
        text = head + begin + make() + end + tail
    return text


def table_markdown() -> str:
    """The table as docs/architecture.md shows it."""
    rows = ["| stage | version | needs | writes | key parts | module | runs |", "|---|---|---|---|---|---|---|"]
    for s in STAGES:
        rows.append(f"| {s.name} | {s.version} | {', '.join(s.needs)} | {', '.join(f'`{w}`' for w in s.writes)} | "
                    f"{', '.join(s.params)} | `pipeline/{s.module}.py` | {s.when or 'always'} |")
    return "\n".join(rows) + "\n"
