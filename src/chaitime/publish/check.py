"""`chaitime check`: validate a workspace the way a podcast directory would.

Each rule is a function from the gathered ``Context`` to problems; RULES lists them in the
order they are reported. A problem says where, what, and how to fix it; errors are what Apple
or a podcast app would reject, warnings what they would accept but show badly.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lxml import etree

from .. import config
from ..errors import ChaitimeError
from ..fsutil import write_text
from ..media.tags import mp3_is_cbr, tag_mismatches
from ..workspace import AUDIO, CHAPTERS, EPISODE_TOML, FEED_TRANSCRIPTS, POST, SOUND_JSON, TRANSCRIPT, VIDEO, Workspace
from ..writing.draft import YOUTUBE
from ..writing.owned import behind
from .cover import image_info, is_placeholder_cover
from .feed import DESCRIPTION_MAX_BYTES, NS_ITUNES, NS_PODCAST, Show, render_feed, show_from, show_problems
from .releases import MEDIA_TYPES, Release, due, has_speech, ordered, release, scheduled_line, upcoming

ERROR, WARNING, NOTE = "error", "warning", "note"  # a note needs nothing done (a scheduled episode)
COVER_MIN_PX, COVER_MAX_PX = 1400, 3000
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$", re.IGNORECASE)
DURATION_TOLERANCE_S = 1.0
LOUDNESS_TOLERANCE_LU = 1.0
TRUE_PEAK_MAX_DBTP = -1.0


@dataclass(frozen=True)
class Problem:
    level: str  # ERROR or WARNING
    where: str
    what: str
    fix: str

    def line(self) -> str:
        return f"{self.level}: {self.where}: {self.what}" + (f" Fix: {self.fix}" if self.fix else "")


@dataclass
class Context:
    """Everything the rules look at, gathered once; problems met while gathering are kept."""

    ws: Workspace
    show: Show | None = None
    releases: list[Release] = field(default_factory=list)  # in the feed now
    scheduled: list[Release] = field(default_factory=list)  # dated later: out of the feed until then
    gathered: list[Problem] = field(default_factory=list)
    feed: etree._Element | None = None  # the feed as `chaitime feed` would write it now
    loudness: bool = True


def check_workspace(ws: Workspace, base_url: str | None = None, loudness: bool = True, now: dt.datetime | None = None) -> list[Problem]:
    """Every problem in the workspace, errors and warnings (and notes), in a stable order."""
    ctx = gather(ws, base_url, loudness, now)
    problems = list(ctx.gathered)
    for rule in RULES:
        problems.extend(rule(ctx))
    return problems


def gather(ws: Workspace, base_url: str | None, loudness: bool, now: dt.datetime | None = None) -> Context:
    ctx = Context(ws, loudness=loudness)
    try:
        ctx.show = show_from(ws, base_url)
    except ChaitimeError as exc:
        where, fix = ("--base-url", "Give --base-url as the message says.") if base_url else ("chaitime.toml", "Edit chaitime.toml as the message says.")
        ctx.gathered.append(Problem(ERROR, where, str(exc).removeprefix(f"{where}: "), fix))
    try:
        tz = config.timezone(ws.settings)
    except ChaitimeError as exc:
        ctx.gathered.append(Problem(ERROR, "chaitime.toml [show]", str(exc), "Set timezone to an IANA name, or delete the line (UTC)."))
        tz = dt.UTC
    for ep in ws.episodes():
        reason = ep.incomplete_reason()
        if reason is not None:
            ctx.gathered.append(Problem(WARNING, f"episodes/{ep.slug}", f"incomplete, so left out of the feed and the site: {reason}.",
                                        "Run `chaitime ingest` on its recording again (it resumes where it stopped)."))
            continue
        try:
            meta = ep.meta()
            if not meta.draft:
                ctx.releases.append(release(ep, meta, tz))
            if not has_speech(ep):
                ctx.gathered.append(no_speech_problem(ep.slug, meta.draft))
        except ChaitimeError as exc:
            ctx.gathered.append(Problem(ERROR, f"episodes/{ep.slug}", str(exc), "Fix the episode as the message says."))
    every = ordered(ctx.releases)
    ctx.releases, ctx.scheduled = due(every, now), upcoming(every, now)
    for rel in ctx.scheduled:
        ctx.gathered.append(Problem(NOTE, f"episodes/{rel.slug}", scheduled_line(rel), ""))
    if ctx.show is not None:
        ctx.feed = etree.fromstring(render_feed(ctx.show, ctx.releases))
    return ctx


def no_speech_problem(slug: str, draft: bool) -> Problem:
    where = f"episodes/{slug}"
    if draft:
        return Problem(WARNING, where, "no speech found in the recording, so it is a draft (draft = true in episode.toml), "
                       "kept out of the feed and the site.", "Check the recording (the microphone, the audio stream: "
                       "`chaitime ingest --audio-stream N`); set draft = false in episode.toml to publish it anyway.")
    return Problem(WARNING, where, "no speech found in the recording, and it is published (draft = false).",
                   "Check the recording (the microphone, the audio stream); set draft = true to keep it out of the feed.")


# --- Rules ---------------------------------------------------------------------------------------

def show_fields(ctx: Context) -> Iterator[Problem]:
    show = ctx.show
    if show is None:
        return
    where = "chaitime.toml [show]"
    required = {"title": show.title, "description": show.description, "author": show.author, "email": show.email}
    for key, value in required.items():
        if not value:
            yield Problem(ERROR, where, f"{key} is empty.", f"Set {key} = \"...\" under [show].")
    if len(show.description.encode("utf-8")) > DESCRIPTION_MAX_BYTES:
        yield Problem(ERROR, where, f"description is over {DESCRIPTION_MAX_BYTES} bytes.", "Shorten it.")
    if not LANGUAGE.match(show.language):
        yield Problem(ERROR, where, f"language {show.language!r} is not a language code.", 'Use an ISO 639 code like "en" or "en-us".')
    if show.email and "@" not in show.email:
        yield Problem(ERROR, where, f"email {show.email!r} is not an e-mail address.", "Apple sends its verification code there: set a real one.")
    for section, key in (("show", "title"), ("show", "author"), ("show", "email"), ("publish", "base_url")):
        if ctx.ws.settings.get(section, key) == config.DEFAULTS[section][key]:
            yield Problem(WARNING, f"chaitime.toml [{section}]", f"{key} is still the default {config.DEFAULTS[section][key]!r}.",
                          f"Set your own {key}.")
    for where_, what, fix in show_problems(show):
        yield Problem(ERROR, where_, what, fix)
    if show.urls.base.startswith("http://"):
        yield Problem(WARNING, "chaitime.toml [publish]", "base_url is http://; podcast apps want https for media and podcast: tags.",
                      "Serve the site over https and set base_url to the https address.")


def template_problems(ws: Workspace) -> list[Problem]:
    """What still comes from the template: its show description, and the placeholder cover
    `chaitime init` drew (embedded in every MP3, clip and page until it is replaced)."""
    found = []
    settings = ws.settings
    default = config.DEFAULTS["show"]["description"]
    if str(settings.get("show", "description", "")).strip() == default:
        found.append(Problem(WARNING, "chaitime.toml [show]", f"description is still the default {default!r}; apps show it as what the show is about.",
                             "Write your show's own description = \"...\" under [show]."))
    cover = settings.resolve(settings.get("show", "image"))
    if cover is not None and is_placeholder_cover(cover):
        found.append(Problem(WARNING, _rel(ws, cover), "is still the default placeholder cover chaitime drew (the title on brown), and it is "
                             "embedded in every MP3, clip and page.", "Replace it with your artwork (a square 1400-3000 px RGB PNG or JPEG), "
                             "then run `chaitime ingest` on the episodes to re-tag them."))
    return found


def template(ctx: Context) -> Iterator[Problem]:
    yield from template_problems(ctx.ws)


def cover_art(ctx: Context) -> Iterator[Problem]:
    if ctx.show is None:
        return
    path = ctx.show.image
    where = _rel(ctx.ws, path) if path else "chaitime.toml [show] image"
    if path is None or not path.is_file():
        yield Problem(ERROR, where, "cover art missing.", "Add a square 1400-3000 px RGB PNG or JPEG and point [show] image at it.")
        return
    try:
        info = image_info(path)
    except ChaitimeError as exc:
        yield Problem(ERROR, where, str(exc), "Export the cover as PNG or JPEG.")
        return
    suffixes = {"png": (".png",), "jpeg": (".jpg", ".jpeg")}[info.format]
    if path.suffix.lower() not in suffixes:
        yield Problem(ERROR, where, f"a {info.format.upper()} file named {path.suffix}.", f"Rename it to end in {suffixes[0]}.")
    if info.width != info.height:
        yield Problem(ERROR, where, f"cover is {info.width}x{info.height}, not square.", "Crop it to a square.")
    if not COVER_MIN_PX <= max(info.width, info.height) <= COVER_MAX_PX or min(info.width, info.height) < COVER_MIN_PX:
        yield Problem(ERROR, where, f"cover is {info.width}x{info.height} px; Apple needs 1400 to 3000 px.", "Resize it to 3000x3000.")
    if info.mode != "RGB":
        yield Problem(ERROR, where, f"cover is {info.mode}; Apple needs RGB without transparency.", "Export it as RGB (no alpha, not CMYK or grayscale).")


def episodes(ctx: Context) -> Iterator[Problem]:
    if not ctx.releases:
        yield Problem(WARNING, "episodes/", "no published episodes; podcast directories reject an empty feed.",
                      "Run `chaitime ingest RECORDING`, or set draft = false on a finished episode.")
    for rel in ctx.releases:
        where = f"episodes/{rel.slug}"
        if not mp3_is_cbr(rel.audio):
            yield Problem(WARNING, f"{where}/{AUDIO}", "variable bit rate MP3; some players show wrong durations.",
                          "Re-run `chaitime ingest` to encode at a constant bit rate.")
        if not any(rel.episode.path(f.name).is_file() for f in FEED_TRANSCRIPTS):
            yield Problem(WARNING, where, f"no transcript ({', '.join(f.name for f in FEED_TRANSCRIPTS)}).",
                          "Re-run `chaitime ingest` on the recording to transcribe it.")
        elif FEED_TRANSCRIPTS[0].name not in rel.transcripts:
            yield Problem(WARNING, where, f"{FEED_TRANSCRIPTS[0].name} missing (Apple and most players read VTT).", "Re-run `chaitime ingest`.")
        late = [c for c in rel.chapters if c.start_s >= rel.duration_s]
        if late:
            yield Problem(ERROR, f"{where}/{CHAPTERS}", f"chapter {late[0].title!r} starts at {late[0].start_s:.0f} s, after the audio ends "
                          f"({rel.duration_s:.0f} s).", "Fix or delete chapters.json (re-run ingest to regenerate it).")
        if not rel.summary:
            yield Problem(WARNING, f"{where}/episode.toml", "no description or summary; apps show the title twice.",
                          "Set description = \"...\" in episode.toml, or a summary: line in post.md's front matter.")
        for name in (POST, YOUTUBE):
            draft = behind(rel.episode, name)
            if draft is not None:
                yield Problem(WARNING, f"{where}/{name}", f"your edited {name} is older than the transcript: the transcript, the "
                              f"names, the cuts or the chapters changed since, and the new draft is in {draft.name}.",
                              f"Take what you want from {draft.name} into {name} (then delete {draft.name}), or delete {name} "
                              "to publish the new draft.")
        yield from _episode_art(rel, where)
        yield from _audio_tags(rel, where)
        if ctx.show is not None and ctx.show.show_type == "serial" and not rel.meta.number:
            yield Problem(ERROR, f"{where}/episode.toml", "a serial show needs a number on every episode.", "Add number = N.")
        if ctx.show is not None and ctx.show.title and ctx.show.title.casefold() in rel.meta.title.casefold():
            yield Problem(WARNING, f"{where}/episode.toml", "title repeats the show's name; Apple asks for the episode's own title.",
                          "Drop the show name from title.")


def _episode_art(rel: Release, where: str) -> Iterator[Problem]:
    from .site import episode_art_problem

    try:
        problem = episode_art_problem(rel)
    except ChaitimeError as exc:
        problem = str(exc)
    if problem:
        yield Problem(ERROR, f"{where}/{rel.art.name}", problem, "Export a square 1400-3000 px RGB PNG or JPEG.")


def _audio_tags(rel: Release, where: str) -> Iterator[Problem]:
    """The MP3's ID3 title and chapters say what episode.toml and chapters.json say (players show them)."""
    try:
        found = tag_mismatches(rel.audio, title=rel.meta.title, chapters=rel.chapters)
    except ChaitimeError:
        return  # an unreadable MP3 is reported where it is read
    for what in found:
        yield Problem(WARNING, f"{where}/{AUDIO}", f"{what}.", f"Run `chaitime draft {rel.slug}` to write them into the MP3 again.")


def timelines(ctx: Context) -> Iterator[Problem]:
    """audio.mp3, video.mp4, the transcript and the chapters are on one timeline: their lengths agree."""
    from ..media.probe import probe
    from ..transcript.model import Transcript

    for rel in ctx.releases:
        where, audio_s = f"episodes/{rel.slug}", rel.duration_s
        fix = "Run `chaitime render` (or `chaitime ingest` on the recording) so every file is made from the same edit."
        lengths = {}
        if rel.has_video:
            try:
                lengths[VIDEO] = probe(rel.episode.path(VIDEO)).duration_s
            except ChaitimeError as exc:
                yield Problem(ERROR, f"{where}/video.mp4", str(exc), fix)
        transcript_path = rel.episode.path(TRANSCRIPT)
        if transcript_path.is_file():
            try:
                transcript = Transcript.load(transcript_path)
                lengths[TRANSCRIPT] = transcript.duration_s or max((s.end_s for s in transcript.segments), default=0.0)
                last_end = max((s.end_s for s in transcript.segments), default=0.0)
                if last_end > audio_s + DURATION_TOLERANCE_S:
                    yield Problem(ERROR, f"{where}/transcript.json", f"speech at {last_end:.1f} s, after the audio ends ({audio_s:.1f} s).", fix)
            except (ChaitimeError, ValueError, KeyError, TypeError) as exc:
                yield Problem(ERROR, f"{where}/transcript.json", f"unreadable ({exc}).", fix)
        for name, seconds in lengths.items():
            if abs(seconds - audio_s) > DURATION_TOLERANCE_S:
                # A video of another length is what listeners see; a transcript's declared length only
                # hints (its words after the end are the error above), so it is a warning.
                level = ERROR if name == VIDEO else WARNING
                yield Problem(level, f"{where}/{name}", f"{seconds:.1f} s long but audio.mp3 is {audio_s:.1f} s: they are on different timelines.", fix)


def duplicates(ctx: Context) -> Iterator[Problem]:
    guids = Counter(r.meta.guid for r in ctx.releases)
    for guid, count in sorted(guids.items()):
        if count > 1:
            slugs = ", ".join(r.slug for r in ctx.releases if r.meta.guid == guid)
            yield Problem(ERROR, "episodes/", f"guid {guid!r} is used by {count} episodes ({slugs}); apps skip repeats.",
                          "Give the newer episode a new guid in its episode.toml (never change one already published).")
    if ctx.feed is not None:
        urls = Counter(e.get("url") for e in ctx.feed.iter("enclosure"))
        for url, count in sorted(urls.items()):
            if count > 1:
                yield Problem(ERROR, "feed", f"enclosure URL {url} appears {count} times.", "Give each episode its own folder.")


def feed_rules(ctx: Context) -> Iterator[Problem]:
    """The standards.md feed rules, checked on the feed as it would be written now."""
    if ctx.feed is None:
        return
    for item in ctx.feed.iter("item"):
        title = item.findtext("title") or "?"
        where = f"feed item {title!r}"
        desc = item.findtext("description") or ""
        if len(desc.encode("utf-8")) > DESCRIPTION_MAX_BYTES:
            yield Problem(ERROR, where, f"description over {DESCRIPTION_MAX_BYTES} bytes.", "Shorten the description in episode.toml.")
        enclosure = item.find("enclosure")
        if enclosure is None or enclosure.get("type") not in MEDIA_TYPES.values():
            yield Problem(ERROR, where, "enclosure missing or of a type Apple does not take.", "Publish audio.mp3.")
        if item.findtext(f"{{{NS_ITUNES}}}explicit") not in ("true", "false"):
            yield Problem(ERROR, where, "itunes:explicit is not true/false.", "Set explicit = true or false in episode.toml.")
    for elem in ctx.feed.iter(f"{{{NS_PODCAST}}}*"):
        url = elem.get("url")
        if url and not url.startswith("https://"):
            yield Problem(WARNING, "feed", f"{etree.QName(elem).localname} URL {url} is not https.", "Publish over https.")
            break


def written_feed(ctx: Context) -> Iterator[Problem]:
    """feeds/podcast.xml against the files: sizes, durations, guids, staleness."""
    path = ctx.ws.feed_path
    if not path.is_file():
        yield Problem(WARNING, _rel(ctx.ws, path), "no feed written yet.", "Run `chaitime feed`.")
        return
    try:
        on_disk = etree.parse(str(path)).getroot()
    except etree.XMLSyntaxError as exc:
        yield Problem(ERROR, _rel(ctx.ws, path), f"not valid XML ({exc}).", "Run `chaitime feed` to rewrite it.")
        return
    by_guid = {r.meta.guid: r for r in ctx.releases}
    for item in on_disk.iter("item"):
        yield from _written_item(ctx, path, item, by_guid)
    if ctx.feed is not None and etree.tostring(on_disk, method="c14n") != etree.tostring(ctx.feed, method="c14n"):
        newer = _newer_than(ctx, path)
        what = f"older than {newer}" if newer else "out of date with the episodes and chaitime.toml"
        yield Problem(WARNING, _rel(ctx.ws, path), f"{what}.", "Run `chaitime feed` (publish refreshes it too).")


def _newer_than(ctx: Context, feed_path: Path) -> str | None:
    """The newest episode file changed after the feed was written, or None."""
    stamp = feed_path.stat().st_mtime_ns
    newer = [(p.stat().st_mtime_ns, p) for r in ctx.releases for name in (EPISODE_TOML, POST, CHAPTERS, AUDIO)
             if (p := r.episode.path(name)).is_file() and p.stat().st_mtime_ns > stamp]
    return _rel(ctx.ws, max(newer)[1]) if newer else None


def _written_item(ctx: Context, path: Path, item, by_guid: dict[str, Release]) -> Iterator[Problem]:
    where = _rel(ctx.ws, path)
    guid = item.findtext("guid") or ""
    url = (item.find("enclosure").get("url") if item.find("enclosure") is not None else "") or ""
    rel = by_guid.get(guid)
    if rel is None:
        moved = next((r for r in ctx.releases if url.endswith(f"/episodes/{r.slug}/{AUDIO}")), None)
        if moved is not None:
            yield Problem(ERROR, f"episodes/{moved.slug}/episode.toml", f"guid changed from {guid!r} to {moved.meta.guid!r} after the "
                          "episode was in the feed; apps will show it as a new episode.", f"Set guid = \"{guid}\" back.")
        return
    length = int((item.find("enclosure").get("length") or "0") if item.find("enclosure") is not None else 0)
    if length != rel.audio_bytes:
        yield Problem(ERROR, where, f"enclosure of {rel.slug!r} says {length} bytes but {AUDIO} has {rel.audio_bytes}.",
                      "Run `chaitime feed` (and publish again).")
    duration = float(item.findtext(f"{{{NS_ITUNES}}}duration") or 0)
    if abs(duration - rel.duration_s) > DURATION_TOLERANCE_S:
        yield Problem(ERROR, where, f"duration of {rel.slug!r} says {duration:.0f} s but {AUDIO} plays {rel.duration_s:.0f} s.",
                      "Run `chaitime feed` (and publish again).")


def loudness(ctx: Context) -> Iterator[Problem]:
    if not ctx.loudness:
        return
    target = ctx.ws.settings.get("audio", "target_lufs")
    for rel in ctx.releases:
        level = _measured(rel)
        want = target if target is not None else (-19.0 if _is_mono(rel.audio) else -16.0)
        where = f"episodes/{rel.slug}/{AUDIO}"
        if abs(level.integrated_lufs - want) > LOUDNESS_TOLERANCE_LU:
            yield Problem(ERROR, where, f"loudness {level.integrated_lufs:.1f} LUFS, target {want:.0f} LUFS (+/-1 LU).",
                          "Re-run `chaitime ingest` on the recording to master it again.")
        if level.true_peak_dbtp > TRUE_PEAK_MAX_DBTP:
            yield Problem(ERROR, where, f"true peak {level.true_peak_dbtp:.1f} dBTP, above {TRUE_PEAK_MAX_DBTP:.0f} dBTP.",
                          "Re-run `chaitime ingest` on the recording to master it again.")


def _measured(rel: Release):
    """Measure the master, reusing the last result while the file is unchanged (an hour of
    audio takes ffmpeg tens of seconds); the record lives in the episode's .chaitime/."""
    from ..media.loudness import Loudness, measure

    record = rel.episode.machine_dir / "check-loudness.json"
    stat = rel.audio.stat()
    key = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    try:
        saved = json.loads(record.read_text(encoding="utf-8"))
        if saved["key"] == key:
            return Loudness(**saved["loudness"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    level = measure(rel.audio)
    write_text(record, json.dumps({"key": key, "loudness": asdict(level)}, sort_keys=True) + "\n")
    return level


def _is_mono(path: Path) -> bool:
    from ..media.probe import probe

    return probe(path).is_mono


def _rel(ws: Workspace, path: Path) -> str:
    try:
        return str(path.relative_to(ws.root))
    except ValueError:
        return str(path)


def clipping(ctx: Context) -> Iterator[Problem]:
    """The sound stage counted samples at full scale in the recording (.chaitime/sound.json)."""
    for ep in ctx.ws.episodes():
        try:
            clipped = json.loads((ep.machine_dir / SOUND_JSON).read_text(encoding="utf-8")).get("clipped_samples", 0)
        except (OSError, ValueError, AttributeError):
            continue
        if clipped:
            yield Problem(WARNING, f"episodes/{ep.slug}", f"the recording clips ({clipped} samples at full scale): distortion mastering can't undo.",
                          "Record with lower input gain next time; if you have a cleaner take, ingest that instead.")


RULES: tuple[Callable[[Context], Iterator[Problem]], ...] = (
    show_fields, template, cover_art, episodes, timelines, duplicates, feed_rules, written_feed, loudness, clipping,
)
