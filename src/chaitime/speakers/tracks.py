"""Separate tracks, one per person (Zoom's "record a separate audio file for each participant"):
attribution by which track carries each word, and the mix built from the tracks."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..fsutil import atomic_path
from ..media import ffmpeg
from ..transcript.model import Transcript
from .audio import decode, frame_power
from .levels import attribute_by_level

_CODECS = {".flac": ["-c:a", "flac"], ".wav": ["-c:a", "pcm_s16le"], ".m4a": ["-c:a", "aac", "-b:a", "192k"], ".mp3": ["-c:a", "libmp3lame", "-b:a", "192k"]}


def attribute_tracks(transcript: Transcript, tracks: dict[str, Path]) -> Transcript:
    """Label each word with the name of the track that is loudest while it is spoken."""
    check_tracks(tracks)
    powers = {name: frame_power(decode(path)[:, 0]) for name, path in tracks.items()}
    return attribute_by_level(transcript, powers)


def check_tracks(tracks: dict[str, Path]) -> None:
    if len(tracks) < 1:
        raise InputError("no tracks given. Use --track \"NAME=file.m4a\" once per person.")
    for name, path in tracks.items():
        if not name.strip():
            raise InputError(f"{path}: track without a name. Write it as --track \"NAME={path}\".")
        if not Path(path).is_file():
            raise InputError(f"{path}: track for {name!r} not found. Check the path in --track \"{name}=...\".")


TRACK_SLACK_S = 2.0  # a track may end this much (or TRACK_SLACK_SHARE of the recording) before or after it
TRACK_SLACK_SHARE = 0.01


def check_tracks_cover(tracks: dict[str, Path], duration_s: float) -> None:
    """Each track readable and as long as the recording (the sound is mixed from the tracks on the
    recording's timeline: a short track would leave silence where the recording has speech)."""
    from ..media.probe import probe

    check_tracks(tracks)
    slack = max(TRACK_SLACK_S, TRACK_SLACK_SHARE * duration_s)
    for name, path in tracks.items():
        try:
            length = probe(Path(path)).duration_s
        except InputError as exc:
            raise InputError(f"track for {name!r}: {exc}") from exc
        if abs(length - duration_s) > slack:
            raise InputError(f"{path}: the track for {name!r} is {length:.1f} s long, the recording {duration_s:.1f} s. Separate "
                             "tracks must cover the whole recording from its start (as Zoom's per-participant files do); "
                             f"check --track \"{name}=...\".")


def mix_tracks(tracks: dict[str, Path], out: Path) -> Path:
    """Sum the tracks into one recording at ``out`` (ffmpeg amix, normalize=0: levels kept as
    recorded; the loudness stage evens them out later). The codec follows out's suffix."""
    check_tracks(tracks)
    out = Path(out)
    args: list[str] = []
    for path in tracks.values():
        args += ["-i", ffmpeg.as_input(Path(path))]
    graph = "".join(f"[{i}:a:0]" for i in range(len(tracks))) + f"amix=inputs={len(tracks)}:duration=longest:normalize=0[mix]"
    args += ["-filter_complex", graph, "-map", "[mix]", "-vn"]
    args += _CODECS.get(out.suffix.lower(), [])
    with atomic_path(out) as tmp:
        ffmpeg.run(args + [str(tmp)], what=f"mixing {len(tracks)} tracks into {out.name}")
    return out


def parse_track_option(value: str) -> tuple[str, Path]:
    """`--track "NAME=path"` -> (name, path); for the CLI."""
    name, sep, path = value.partition("=")
    if not sep or not name.strip() or not path.strip():
        raise InputError(f"--track {value!r}: write it as --track \"NAME=file.m4a\" (the person's name, '=', their track).")
    return name.strip(), Path(path.strip()).expanduser()
