"""MP3 facts and ID3 tags through mutagen (the one module that imports it)."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError


def _mp3(path: Path):
    try:
        from mutagen import MutagenError
        from mutagen.mp3 import MP3, HeaderNotFoundError
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise InputError("mutagen is missing: `pip install mutagen`.") from exc
    try:
        return MP3(str(path))
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file. Re-run `chaitime ingest` to make it.") from exc
    except HeaderNotFoundError as exc:
        raise InputError(f"{path}: not a readable MP3 (no MPEG frame header). Re-run `chaitime ingest --force` to re-encode it.") from exc
    except (MutagenError, EOFError, ValueError) as exc:  # a tag cut short, a damaged frame
        raise InputError(f"{path}: damaged or truncated MP3 ({str(exc) or 'its ID3 tag is cut short'}). Re-run `chaitime ingest --force` to re-encode it.") from exc


def mp3_duration_s(path: Path) -> float:
    """Playing time of an MP3 in seconds, from its Xing/Info header or frame count; a file
    shorter than its header says (cut off in a copy) is an error, not a shorter episode."""
    path = Path(path)
    mp3 = _mp3(path)
    length, rate = float(mp3.info.length), int(mp3.info.bitrate or 0)
    tag_bytes = int(getattr(mp3.tags, "size", 0) or 0) if mp3.tags is not None else 0
    audio_bytes = path.stat().st_size - tag_bytes
    if rate and length > 1 and audio_bytes < 0.97 * length * rate / 8 - 4096:
        raise InputError(f"{path}: truncated MP3 ({audio_bytes} bytes of audio, its header promises {length:.0f} s at "
                         f"{rate // 1000} kbps). Re-run `chaitime ingest --force` to re-encode it.")
    return length


def mp3_is_cbr(path: Path) -> bool:
    """Whether the MP3 is constant bit rate (variable rates break durations in some players)."""
    from mutagen.mp3 import BitrateMode

    return _mp3(Path(path)).info.bitrate_mode in (BitrateMode.CBR, BitrateMode.UNKNOWN)


def write_chapters(mp3_path: Path, chapters, duration_s: float) -> None:
    """Put ``chapters`` (objects with start_s and title) into the MP3 as ID3 CHAP frames under
    one top-level, ordered CTOC table, replacing any chapters it had. Each chapter ends where
    the next starts, the last at ``duration_s``. The file is edited as a copy, then renamed."""
    import shutil

    from mutagen.id3 import CHAP, CTOC, TIT2, CTOCFlags

    from ..fsutil import atomic_path

    mp3_path = Path(mp3_path)
    starts = [0.0 if i == 0 else float(c.start_s) for i, c in enumerate(chapters)]
    ends = starts[1:] + [max(float(duration_s), starts[-1] if starts else 0.0)]
    with atomic_path(mp3_path) as tmp:
        shutil.copyfile(mp3_path, tmp)
        audio = _mp3(tmp)
        if audio.tags is None:
            audio.add_tags()
        audio.tags.delall("CHAP")
        audio.tags.delall("CTOC")
        ids = [f"chp{i}" for i in range(len(starts))]
        for element_id, chapter, start, end in zip(ids, chapters, starts, ends):
            audio.tags.add(
                CHAP(
                    element_id=element_id,
                    start_time=round(start * 1000),
                    end_time=round(end * 1000),
                    start_offset=0xFFFFFFFF,  # "not used": players seek by time
                    end_offset=0xFFFFFFFF,
                    sub_frames=[TIT2(encoding=3, text=[str(chapter.title)])],
                )
            )
        if ids:
            audio.tags.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED, child_element_ids=ids, sub_frames=[TIT2(encoding=3, text=["Chapters"])]))
        _save(audio)


def _save(audio) -> None:
    """Save ID3v2.4 with the CHAP frames in the file in chapter order. mutagen sorts frames by size
    when it writes (only pictures keep their order), which put the chapters shortest title first:
    a player that reads CHAP frames in file order, not through the CTOC, listed them shuffled."""
    from mutagen.id3._tags import ID3Tags, save_frame

    tags = audio.tags

    def ordered(config):
        chapters = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
        tags.delall("CHAP")
        try:
            rest = ID3Tags._write(tags, config)
        finally:
            for chapter in chapters:
                tags.add(chapter)
        return bytearray().join([rest, *(save_frame(c, config=config) for c in chapters)])

    tags._write = ordered  # this one save's writer (mutagen calls self._write)
    try:
        audio.save(v2_version=4)
    finally:
        del tags._write


def tag_mismatches(mp3_path: Path, *, title: str, chapters=()) -> list[str]:
    """How the MP3's ID3 title and chapters differ from ``title`` and ``chapters`` (objects with
    start_s and title), one phrase each; [] when they agree."""
    tags = _mp3(Path(mp3_path)).tags
    found = []
    have = str(tags["TIT2"].text[0]) if tags is not None and "TIT2" in tags and tags["TIT2"].text else None
    if have != title:
        found.append(f"ID3 title is {have!r}, episode.toml says {title!r}")
    chaps = sorted(tags.getall("CHAP"), key=lambda c: c.start_time) if tags is not None else []
    got = [(round(c.start_time / 1000), str(c.sub_frames["TIT2"].text[0]) if "TIT2" in c.sub_frames else "") for c in chaps]
    want = [(0 if i == 0 else round(float(c.start_s)), str(c.title)) for i, c in enumerate(chapters)]
    if got != want:
        found.append(f"ID3 has {len(got)} chapters that differ from chapters.json's {len(want)}")
    return found


def write_tags(mp3_path: Path, *, title: str, show: str, author: str, track: int | None = None,
               date: str | None = None, cover: Path | None = None) -> None:
    """ID3v2 tags a podcast player shows: title, artist (show author), album (show title),
    track (episode number), year and cover art (standards.md). Edited as a copy, then renamed."""
    import shutil

    from mutagen.id3 import APIC, TALB, TCON, TDRC, TIT2, TPE1, TRCK

    from ..fsutil import atomic_path

    mp3_path = Path(mp3_path)
    with atomic_path(mp3_path) as tmp:
        shutil.copyfile(mp3_path, tmp)
        audio = _mp3(tmp)
        if audio.tags is None:
            audio.add_tags()
        tags = audio.tags
        for frame in (TIT2(encoding=3, text=title), TPE1(encoding=3, text=author), TALB(encoding=3, text=show), TCON(encoding=3, text="Podcast")):
            tags.setall(frame.FrameID, [frame])
        tags.delall("TRCK")
        tags.delall("TDRC")
        tags.delall("APIC")
        if track:
            tags.add(TRCK(encoding=3, text=str(track)))
        if date:
            tags.add(TDRC(encoding=3, text=date))
        if cover and Path(cover).is_file():
            mime = "image/png" if Path(cover).suffix.lower() == ".png" else "image/jpeg"
            tags.add(APIC(encoding=3, mime=mime, type=3, desc="Cover", data=Path(cover).read_bytes()))
        _save(audio)  # as write_chapters saves: one ID3 version, never rewritten


def episode_tags(settings, meta) -> dict:
    """Keyword arguments for ``write_tags`` from chaitime.toml settings and an episode's metadata."""
    cover = settings.resolve(settings.show.get("image"))
    return dict(title=meta.title, show=settings.show.get("title", ""), author=settings.show.get("author", ""),
                track=meta.number, date=meta.date, cover=cover if cover and cover.is_file() else None)
