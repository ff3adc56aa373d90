"""The draft stage (chapters.json, post.md, youtube.txt, the MP3's chapters) and edit.md, the
host's cut list, written once."""

from __future__ import annotations

from .. import config, fsutil
from ..media import tags
from ..transcript.model import Transcript
from ..workspace import AUDIO, CHAPTERS, EDIT, POST, SPEECH, TRANSCRIPT, VIDEO, YOUTUBE, Episode, Workspace
from .runner import Records, running, stage_key


def _draft_key(episode: Episode, ws: Workspace) -> str:
    """What the drafts are written from, by content: the episode's transcript (re-timed once
    rendered, with the host's corrections and names), chapters.json, episode.toml, the settings,
    whether there is a video. So a render, a correction or a rename re-drafts an untouched post."""
    # The channel's podcast:guid, stored in chaitime.toml by the first feed, is no input of the draft.
    settings = {name: {k: v for k, v in values.items() if (name, k) != ("publish", "guid")} for name, values in ws.settings.data.items()}
    transcript, chapters = episode.path(TRANSCRIPT), episode.path(CHAPTERS)
    return stage_key("draft", fsutil.file_hash(transcript) if transcript.is_file() else None,
                     fsutil.file_hash(chapters) if chapters.is_file() else None, episode.meta().to_toml(),
                     [sorted(settings.items()), episode.path(VIDEO).is_file()])


def _writing(episode: Episode, ws: Workspace, rec: Records, new_chapters: bool = False) -> tuple[str, ...]:
    """chapters.json, post.md (or post.draft.md once the host edited it), youtube.txt, ID3 chapters."""
    from ..writing.draft import draft_episode

    outputs = [episode.path(CHAPTERS), episode.path(YOUTUBE), episode.path(POST)]
    if rec.fresh("draft", _draft_key(episode, ws), outputs):
        mp3_chapters(episode)  # an audio.mp3 made again since (deleted, re-mastered) gets its chapters back
        return ()
    result = draft_episode(episode, ws.settings, new_chapters=new_chapters)
    mp3_chapters(episode)
    rec.done("draft", _draft_key(episode, ws))  # after: chapters.json, when the draft made it, is an input now
    rec.draft_result = result
    notes = list(result.warnings)
    for name, draft_name in result.kept():
        notes.append(f"{name} was edited by you, so the new draft went to {draft_name}")
    return tuple(notes)


NO_SPEECH_FIX = "Check the recording (the microphone; the audio stream: `--audio-stream N`)"


def no_speech(episode: Episode, ws: Workspace, transcript: Transcript, transcribed_now: bool) -> tuple[str, ...]:
    """A recording with no speech is no episode to publish: the first transcription that finds none
    makes it a draft (draft = true in episode.toml, before the post is drafted), unless the feed
    already carries it; later runs only say so, so a host's draft = false stays."""
    if transcript.words:
        return ()
    meta = episode.meta()
    feed = ws.feed_path.read_text(encoding="utf-8", errors="replace") if ws.feed_path.is_file() else ""
    if transcribed_now and not meta.draft and f">{meta.guid}<" not in feed:
        from dataclasses import replace

        episode.write_meta(replace(meta, draft=True))
        return (f"no speech found in the recording, so the episode is a draft (draft = true in episode.toml), kept out of the feed. "
                f"{NO_SPEECH_FIX}, or set draft = false to publish it anyway.",)
    state = "it is a draft" if meta.draft else "it is published as it is (draft = false)"
    return (f"no speech found in the recording; {state}. {NO_SPEECH_FIX}.",)


def refresh(episode: Episode, ws: Workspace) -> tuple[str, ...]:
    """The draft stage brought up to date after a change outside ingest (a studio correction, a
    rename, a render): an untouched post and show notes follow; an edited one gets its .draft
    beside it. The caller holds the episode's lock."""
    with running(episode, "draft"):
        return _writing(episode, ws, Records(episode))


def _write_edit_md(episode: Episode, ws: Workspace, transcript: Transcript) -> None:
    """edit.md is written once; after that it is the host's cut list."""
    target = episode.path(EDIT)
    if not target.exists():
        fsutil.write_text(target, _suggested_edit_md(episode, ws.settings, transcript))


def _suggested_edit_md(episode: Episode, settings: config.Settings, transcript: Transcript) -> str:
    """The transcript as edit.md with suggested cuts, each checked against the audio (Silero and
    energy on the 16 kHz speech file), not against Whisper's word times alone."""
    from ..edit.audiocheck import listen_file
    from ..edit.markdown import write_edit_md

    speech = episode.machine_dir / SPEECH
    hearing = listen_file(speech) if speech.is_file() else None
    return write_edit_md(transcript, hearing=hearing, **_suggest_settings(settings))



def _suggest_settings(settings: config.Settings) -> dict:
    audio = settings.data.get("audio", {})
    return {"fillers": audio.get("fillers"), "silence_max_s": float(audio.get("silence_max_s", 1.5)), "silence_keep_s": float(audio.get("silence_keep_s", 0.5))}



def _retitle_audio(episode: Episode, ws: Workspace) -> None:
    """A title changed in episode.toml reaches the MP3's ID3 tags (players show them)."""
    audio, meta = episode.path(AUDIO), episode.meta()
    if audio.is_file() and any(m.startswith("ID3 title") for m in tags.tag_mismatches(audio, title=meta.title)):
        tags.write_tags(audio, **tags.episode_tags(ws.settings, meta))


def mp3_chapters(episode: Episode, chapters=None, duration_s: float | None = None) -> bool:
    """The MP3's ID3 chapters (CHAP/CTOC) as chapters.json has them (or ``chapters``): written
    when they differ, so an audio.mp3 made again (deleted, re-mastered) gets them back."""
    from ..transcript.chapters import load_chapters

    audio = episode.path(AUDIO)
    if chapters is None:
        path = episode.path(CHAPTERS)
        chapters = load_chapters(path) if path.is_file() else []
    if not chapters or not audio.is_file():
        return False
    if not any("chapters" in m for m in tags.tag_mismatches(audio, title=episode.meta().title, chapters=chapters)):
        return False
    tags.write_chapters(audio, chapters, tags.mp3_duration_s(audio) if duration_s is None else duration_s)
    return True
