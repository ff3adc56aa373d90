"""The draft stage: chapters.json, post.md and youtube.txt (or their .draft twins) for one episode.

``chaitime draft`` and the ingest pipeline call ``draft_episode``. Chapters already in
chapters.json are kept (the host may have edited their titles); a missing file is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import fsutil
from ..config import Settings
from ..transcript.chapters import chapters_json, load_chapters
from ..transcript.model import Transcript
from ..workspace import AUDIO, CHAPTERS, POST, TRANSCRIPT, VIDEO, YOUTUBE, Episode, EpisodeMeta
from .chapters import MIN_CHAPTER_S, make_chapters
from .notes import youtube_description
from .owned import write_owned
from .post import compose, draft_vocabulary, render, write_draft


@dataclass(frozen=True)
class DraftResult:
    post_path: Path  # post.md, or post.draft.md when the host owns post.md
    youtube_path: Path  # youtube.txt, or youtube.draft.txt when the host owns youtube.txt
    chapters_path: Path
    chapters_made: bool  # chapters.json was (re)made this time
    warnings: tuple[str, ...] = ()

    def kept(self) -> list[tuple[str, str]]:
        """(the host's file, the new draft beside it) for each file left alone."""
        return [(name, path.name) for name, path in ((POST, self.post_path), (YOUTUBE, self.youtube_path)) if path.name != name]

    def written(self) -> tuple[Path, ...]:
        return (self.post_path, self.youtube_path, self.chapters_path)


def draft_episode(episode: Episode, settings: Settings, *, new_chapters: bool = False) -> DraftResult:
    """(Re)write the episode's drafts from transcript.json, chapters.json and episode.toml."""
    transcript = Transcript.load(episode.path(TRANSCRIPT))
    meta = episode.meta()
    chapters_path = episode.path(CHAPTERS)
    made = new_chapters or not chapters_path.is_file()
    if made:
        chapters = make_chapters(
            transcript,
            hosts=host_speakers(settings, meta),
            min_chapter_s=float(settings.get("draft", "min_chapter_s", MIN_CHAPTER_S)),
            count=settings.get("draft", "chapters"),
            names=title_exclusions(settings, meta),
            vocabulary=draft_vocabulary(settings, meta),  # chapters.json and the MP3's chapters spell the show's terms as given
        )
        fsutil.write_if_changed(chapters_path, chapters_json(chapters))
    else:
        chapters = load_chapters(chapters_path)
    duration_s = episode_duration(episode, transcript)
    video = VIDEO if episode.path(VIDEO).is_file() else None
    content = compose(transcript, meta, settings, chapters, audio_path=AUDIO, video_path=video, duration_s=duration_s)
    post_path = write_draft(episode, render(content))
    youtube = youtube_description(
        meta, content.chapters, summary=content.summary, duration_s=duration_s, settings=settings, links=content.links, hosts=content.hosts,
        slug=episode.slug,  # its page's address, from [publish] base_url
    )
    youtube_path = write_owned(episode, YOUTUBE, youtube)
    return DraftResult(post_path, youtube_path, chapters_path, made, content.warnings)


def title_exclusions(settings: Settings, meta: EpisodeMeta) -> list[str]:
    """Words that make no chapter title: the people's names and the show's own title."""
    return [*settings.hosts, *meta.guests, *map(str, meta.speakers.values()), str(settings.show.get("title", ""))]


def host_speakers(settings: Settings, meta: EpisodeMeta) -> list[str]:
    """Speaker values that mean a host: the host names, and labels episode.toml maps to them."""
    hosts = [h for h in settings.hosts if h]
    keys = {h.casefold() for h in hosts}
    return hosts + [label for label, name in meta.speakers.items() if str(name).casefold() in keys]


def episode_duration(episode: Episode, transcript: Transcript) -> float:
    """The audio's length when there is audio.mp3, else the transcript's."""
    audio = episode.path(AUDIO)
    if audio.is_file():
        from ..media.probe import probe

        return probe(audio).duration_s
    ends = [s.end_s for s in transcript.segments]
    return max([transcript.duration_s, *ends])
