"""Publish: the feed read back by podcastparser, feedparser and lxml; determinism and guid
stability; `chaitime check` on a broken workspace; the static site; the preview server."""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import subprocess
import threading
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import feedparser
import podcastparser
import pytest
from click.testing import CliRunner
from lxml import etree

import chaitime.cli.publish  # noqa: F401 - registers the commands on `cli`
from chaitime import config
from chaitime.cli.base import cli
from chaitime.errors import ChaitimeError, ConfigError, InputError
from chaitime.media.ffmpeg import ffmpeg_exe
from chaitime.media.loudness import parse_summary
from chaitime.publish import markdown
from chaitime.publish.categories import category_lines, parse_category
from chaitime.publish.check import check_workspace
from chaitime.publish.cover import encode_png, image_info, make_placeholder_cover
from chaitime.publish.feed import NS_ITUNES, NS_PODCAST, build_feed, write_feed
from chaitime.publish.serve import make_server, parse_range
from chaitime.publish.site import publish_site
from chaitime.publish.urls import podcast_guid
from chaitime.transcript.formats import WRITERS
from chaitime.transcript.model import Segment, Transcript, Word
from chaitime.workspace import Episode, EpisodeMeta, Workspace
from chaitime.writing.draft import draft_episode

GOLDEN = Path(__file__).parent / "golden" / "publish" / "feed.xml"  # the rich workspace's feed
GOLDEN_SITE = Path(__file__).parent / "golden" / "publish" / "site"
REGEN = os.environ.get("CHAITIME_REGEN_GOLDEN") == "1"
PODCASTPARSER_NS = "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"
SHOW_TOML = """
[show]
title = "Chai Time Tests"
author = "Priya Host"
description = "Conversations over tea & code."
language = "en-us"
category = "Technology"
explicit = false
image = "cover.png"
email = "priya@example.org"
hosts = ["Priya Host"]

[publish]
base_url = "https://pod.example.org/show/"
locked = true
"""


# --- Fixtures: small deterministic workspaces ------------------------------------------------

def synthetic_mp3(path: Path, frames: int) -> None:
    """A CBR MP3 of silent MPEG-1 Layer III frames (128 kbps, 44.1 kHz, mono): byte-stable."""
    path.write_bytes((b"\xff\xfb\x90\xc0" + bytes(413)) * frames)


def tone_mp3(path: Path, seconds: float = 8.0, amplitude: float = 0.17) -> None:
    """A real encoded MP3 (96 kbps CBR mono); amplitude 0.17 measures about -19 LUFS."""
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"aevalsrc={amplitude}*sin(2*PI*1000*t):s=44100:d={seconds}",
                    "-ac", "1", "-c:a", "libmp3lame", "-b:a", "96k", str(path)], check=True)


def transcript() -> Transcript:
    def words(t0, text):
        return tuple(Word(t0 + i * 0.4, t0 + i * 0.4 + 0.35, (" " if i else "") + w) for i, w in enumerate(text.split()))

    return Transcript((
        Segment(0.0, 1.9, "Welcome to the show.", words(0.0, "Welcome to the show."), "SPEAKER_00"),
        Segment(2.0, 4.9, "Thanks, glad to be here.", words(2.0, "Thanks, glad to be here."), "SPEAKER_01"),
        Segment(5.0, 7.9, "Let's talk about tea <and> code.", words(5.0, "Let's talk about tea <and> code."), "SPEAKER_00"),
    ), language="en", duration_s=10.0)


def add_episode(root: Path, slug: str, *, title: str, guid: str, date: str, number: int | None, guests=(), draft=False,
                chapters=True, transcripts=True, post=True, mp3=None, description: str | None = None) -> Episode:
    ep = Episode(root / "episodes" / slug)
    ep.folder.mkdir(parents=True)
    ep.write_meta(EpisodeMeta(title=title, guid=guid, date=date, number=number, season=1 if number else None, guests=tuple(guests),
                              description=f"We talk about *{title.lower()}*." if description is None else description, draft=draft,
                              speakers={"SPEAKER_00": "Priya Host", "SPEAKER_01": guests[0] if guests else "Guest"}))
    (mp3 or (lambda p: synthetic_mp3(p, 383)))(ep.path("audio.mp3"))
    if transcripts:
        t = transcript()
        ep.path("transcript.json").write_text(t.to_json(), encoding="utf-8")
        for kind, name in (("vtt", "transcript.vtt"), ("srt", "transcript.srt"), ("podcast.json", "transcript.podcast.json")):
            ep.path(name).write_text(WRITERS[kind](t), encoding="utf-8")
    if chapters:
        ep.path("chapters.json").write_text(json.dumps({"version": "1.2.0", "chapters": [
            {"startTime": 0, "title": "Hello"}, {"startTime": 5, "title": "Tea & code"}]}), encoding="utf-8")
    if post:  # the real drafter writes post.md (front matter, summary, show notes), never a hand-made post
        draft_episode(ep, config.load(root))
    return ep


def make_workspace(root: Path, mp3=None) -> Workspace:
    root.mkdir(parents=True, exist_ok=True)
    (root / "chaitime.toml").write_text(SHOW_TOML, encoding="utf-8")
    make_placeholder_cover(root / "cover.png", "Chai Time Tests")
    add_episode(root, "001-first-brew", title="First brew", guid="guid-0001", date="2024-03-01", number=1, guests=("Ada Guest",), mp3=mp3)
    # No description in episode.toml: the summary comes from post.md's front matter.
    add_episode(root, "002-second-cup", title="Second cup", guid="guid-0002", date="2024-04-01", number=2, mp3=mp3, description="")
    add_episode(root, "003-unfinished", title="Unfinished", guid="guid-0003", date="2024-05-01", number=3, draft=True, mp3=mp3)
    return Workspace.open(root)


@pytest.fixture
def ws(tmp_path) -> Workspace:
    return make_workspace(tmp_path / "show")


@pytest.fixture(scope="module")
def real_ws_template(tmp_path_factory) -> Path:
    """A workspace whose MP3s are real encodes at -19 LUFS mono (made once, copied per test)."""
    root = tmp_path_factory.mktemp("real") / "show"
    make_workspace(root, mp3=tone_mp3)
    return root


@pytest.fixture
def real_ws(real_ws_template, tmp_path) -> Workspace:
    root = tmp_path / "show"
    shutil.copytree(real_ws_template, root)
    return Workspace.open(root)


def invoke(ws: Workspace, *args: str):
    old = Path.cwd()
    os.chdir(ws.root)
    try:
        return CliRunner().invoke(cli, list(args), catch_exceptions=True)
    finally:
        os.chdir(old)


# --- Feed ------------------------------------------------------------------------------------

def test_podcast_guid_follows_the_spec_example():
    assert podcast_guid("https://podnews.net/rss") == "9b024349-ccf0-5f69-a609-6b82873eab3c"
    assert podcast_guid("http://podnews.net/rss/") == "9b024349-ccf0-5f69-a609-6b82873eab3c"


def test_feed_reads_back_in_podcastparser(ws):
    path = write_feed(ws)
    xml = path.read_bytes().replace(NS_PODCAST.encode(), PODCASTPARSER_NS.encode())
    parsed = podcastparser.parse("https://pod.example.org/show/podcast.xml", io.BytesIO(xml))
    assert parsed["title"] == "Chai Time Tests"
    assert parsed["link"] == "https://pod.example.org/show/"
    assert parsed["description"] == "Conversations over tea & code."
    assert parsed["cover_url"] == "https://pod.example.org/show/cover.png"
    assert parsed["explicit"] is False
    assert parsed["import_prohibited"] is True  # podcast:locked yes
    episodes = parsed["episodes"]
    assert [e["title"] for e in episodes] == ["Second cup", "First brew"]  # newest first, draft left out
    first = episodes[1]
    assert first["guid"] == "guid-0001"
    assert first["link"] == "https://pod.example.org/show/episodes/001-first-brew/"
    assert first["enclosures"] == [{"url": "https://pod.example.org/show/episodes/001-first-brew/audio.mp3",
                                    "file_size": 383 * 417, "mime_type": "audio/mpeg"}]
    assert first["total_time"] == 10
    assert first["published"] == 1709251200  # 2024-03-01T00:00:00Z
    assert first["explicit"] is False
    assert (first["number"], first["season"], first["type"]) == (1, 1, "full")
    assert first["chapters_json_url"] == "https://pod.example.org/show/episodes/001-first-brew/chapters.json"
    # podcastparser keeps the last podcast:transcript it meets; the order (VTT first) is checked with lxml.
    assert first["transcript_url"] == "https://pod.example.org/show/episodes/001-first-brew/transcript.podcast.json"
    assert [(p["name"], p.get("role")) for p in first["persons"]] == [("Priya Host", "host"), ("Ada Guest", "guest")]
    # podcastparser prefers content:encoded (the whole post) to the description; the front matter is in neither.
    assert "<strong>Priya Host:</strong> Welcome to the show." in first["description_html"]
    assert "title:" not in first["description_html"] and "title:" not in first["description"]
    assert "Priya Host talks with Guest. They talk about hello and tea & code." in episodes[0]["description"]
    # The item's description: the summary and the post's show notes, the chapter list once; without
    # a description in episode.toml, post.md's summary (its front matter) comes first.
    items = etree.fromstring(path.read_bytes()).find("channel").findall("item")
    assert items[1].findtext("description").startswith("<p>We talk about <em>first brew</em>.</p>")
    assert items[1].findtext("description").count("Tea &amp; code") == 1
    assert items[0].findtext("description").startswith("<p>Priya Host talks with Guest. They talk about hello and tea &amp; code.</p>")


def test_feed_reads_back_in_feedparser(ws):
    parsed = feedparser.parse(build_feed(ws))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    feed = parsed.feed
    assert (feed.title, feed.link, feed.language) == ("Chai Time Tests", "https://pod.example.org/show/", "en-us")
    assert feed.image.href == "https://pod.example.org/show/cover.png"
    assert feed.author == "Priya Host"
    assert [t.term for t in feed.tags] == ["Technology"]
    assert [e.title for e in parsed.entries] == ["Second cup", "First brew"]
    entry = parsed.entries[1]
    assert entry.id == "guid-0001"
    assert entry.published == "Fri, 01 Mar 2024 00:00:00 +0000"
    assert entry.enclosures[0].length == str(383 * 417) and entry.enclosures[0].type == "audio/mpeg"
    assert entry.itunes_duration == "10"
    assert "<em>first brew</em>" in entry.summary
    # content:encoded: the whole post, rendered, without its front matter.
    content = entry.content[0].value
    assert "<strong>Priya Host:</strong> Welcome to the show." in content and "tea &lt;and&gt; code" in content
    assert "title:" not in content and "---" not in content


def test_feed_tags_podcastparser_does_not_read(ws):
    raw = build_feed(ws)
    root = etree.fromstring(raw)
    channel = root.find("channel")
    it, pc = f"{{{NS_ITUNES}}}", f"{{{NS_PODCAST}}}"
    assert root.nsmap["podcast"] == NS_PODCAST and root.nsmap["itunes"] == NS_ITUNES
    self_link = channel.find("{http://www.w3.org/2005/Atom}link")
    assert (self_link.get("rel"), self_link.get("href"), self_link.get("type")) == (
        "self", "https://pod.example.org/show/podcast.xml", "application/rss+xml")
    assert channel.findtext(pc + "guid") == podcast_guid("https://pod.example.org/show/podcast.xml")
    assert channel.find(pc + "locked").text == "yes" and channel.find(pc + "locked").get("owner") == "priya@example.org"
    assert (channel.findtext(it + "explicit"), channel.findtext(it + "type"), channel.find(it + "category").get("text")) == (
        "false", "episodic", "Technology")
    assert channel.find(it + "image").get("href") == "https://pod.example.org/show/cover.png"
    assert [p.get("role") for p in channel.findall(pc + "person")] == ["host"]
    assert channel.findtext("lastBuildDate") == "Mon, 01 Apr 2024 00:00:00 +0000"
    item = channel.findall("item")[1]
    assert [(t.get("type"), t.get("rel")) for t in item.findall(pc + "transcript")] == [
        ("text/vtt", "captions"), ("application/x-subrip", "captions"), ("application/json", None)]
    assert item.find(pc + "chapters").get("type") == "application/json+chapters"
    assert item.findtext(it + "explicit") == "false"
    assert b"<description><![CDATA[<p>We talk about" in raw


def test_subcategory_nests_and_unknown_category_is_one_clear_line(ws):
    toml = ws.root / "chaitime.toml"
    toml.write_text(SHOW_TOML.replace('"Technology"', '"News > Tech News"'), encoding="utf-8")
    channel = etree.fromstring(build_feed(Workspace.open(ws.root))).find("channel")
    cat = channel.find(f"{{{NS_ITUNES}}}category")
    assert cat.get("text") == "News" and cat[0].get("text") == "Tech News"
    toml.write_text(SHOW_TOML.replace('"Technology"', '"Gadgets"'), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        build_feed(Workspace.open(ws.root))
    assert "'Gadgets' is not an Apple Podcasts category" in str(info.value) and "\n" not in str(info.value)
    assert parse_category("Technology") == ("Technology", None)
    with pytest.raises(ConfigError, match="did you mean 'Technology'"):
        parse_category("technology")
    assert "TV & Film > Film Reviews" in category_lines()


EXTRAS_TOML = """
[show]
copyright = "© 2024 Priya Host"
license = "CC-BY-4.0"
license_url = "https://creativecommons.org/licenses/by/4.0/"
funding_url = "https://pod.example.org/support"
funding_text = "Buy us a tea"
txt = ["verify-7f3a"]
person_img = {"Priya Host" = "https://pod.example.org/priya.jpg"}
person_href = {"Ada Guest" = "https://ada.example.org/"}

[publish]
guid = "5c1b8c3e-6a55-5a5f-9a0e-3d2e4f6a7b8c"
"""


def rich_workspace(root: Path) -> Workspace:
    """The fixed workspace of the golden site: every channel extra set, a clip (a soundbite) and
    its own art on the first episode."""
    make_workspace(root)
    toml = root / "chaitime.toml"
    text = toml.read_text(encoding="utf-8")
    extras = EXTRAS_TOML.split("[publish]")
    text = text.replace("[show]\n", "[show]\n" + extras[0].replace("[show]\n", "").strip() + "\n", 1)
    text = text.replace("[publish]\n", "[publish]\n" + extras[1].strip() + "\n", 1)
    toml.write_text(text, encoding="utf-8")
    ep = Episode(root / "episodes" / "001-first-brew")
    (ep.path("clips")).mkdir()
    ep.path("clips/clip-00m02s-00m05s.mp4").write_bytes(b"")
    make_placeholder_cover(ep.path("cover.png"), "First brew")
    ep.path("video.mp4").write_bytes(b"\0\0\0\x18ftypmp42")
    return Workspace.open(root)


def _generated(out: Path) -> dict[str, bytes]:
    """The site's generated text files (pages, feed, sitemap, search index, robots.txt)."""
    return {rel: data for rel, data in _snapshot(out).items() if rel.endswith((".html", ".xml", ".txt", "search.json"))
            and not rel.startswith("static/") and "/transcript." not in rel}


def test_golden_site(tmp_path):
    """The published site of a fixed workspace, file by file: CHAITIME_REGEN_GOLDEN=1 rewrites it (deliberately)."""
    ws = rich_workspace(tmp_path / "show")
    out = tmp_path / "public"
    publish_site(ws, out)
    site = _generated(out)
    if REGEN:
        shutil.rmtree(GOLDEN_SITE, ignore_errors=True)
        for rel, data in site.items():
            (GOLDEN_SITE / rel).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN_SITE / rel).write_bytes(data)
        GOLDEN.write_bytes(build_feed(Workspace.open(ws.root)))
    golden = {p.relative_to(GOLDEN_SITE).as_posix(): p.read_bytes() for p in sorted(GOLDEN_SITE.rglob("*")) if p.is_file()}
    assert sorted(site) == sorted(golden), "set CHAITIME_REGEN_GOLDEN=1 to accept a deliberate change"
    for rel in site:
        assert site[rel].decode("utf-8") == golden[rel].decode("utf-8"), f"{rel}: set CHAITIME_REGEN_GOLDEN=1 to accept a deliberate change"


def test_golden_feed(ws):
    """The plain workspace's feed (no extras)."""
    raw = build_feed(ws)
    golden = GOLDEN.parent / "feed-plain.xml"
    if REGEN:
        golden.write_bytes(raw)
    assert raw.decode("utf-8") == golden.read_text(encoding="utf-8"), "set CHAITIME_REGEN_GOLDEN=1 to accept a deliberate change"


def test_feed_is_byte_identical_across_builds(ws, tmp_path):
    first = write_feed(ws).read_bytes()
    stamp = ws.feed_path.stat().st_mtime_ns
    assert write_feed(ws).read_bytes() == first
    assert ws.feed_path.stat().st_mtime_ns == stamp  # nothing rewritten
    copy = tmp_path / "copy"
    shutil.copytree(ws.root, copy)
    assert build_feed(Workspace.open(copy)) == first


def test_guid_survives_title_slug_and_file_changes(ws):
    before = {i.findtext("title"): i.findtext("guid") for i in etree.fromstring(build_feed(ws)).iter("item")}
    ep = ws.episode("001-first-brew")
    meta = ep.meta()
    ep.write_meta(EpisodeMeta(**{**meta.__dict__, "title": "The very first brew"}))
    synthetic_mp3(ep.path("audio.mp3"), 500)
    ep.folder.rename(ws.episodes_dir / "001-renamed")
    after = {i.findtext("title"): i.findtext("guid") for i in etree.fromstring(build_feed(ws)).iter("item")}
    assert after["The very first brew"] == before["First brew"] == "guid-0001"


def test_missing_audio_is_one_clear_line(ws):
    ws.episode("002-second-cup").path("audio.mp3").unlink()
    with pytest.raises(InputError) as info:
        build_feed(ws)
    assert "002-second-cup" in str(info.value) and "draft = true" in str(info.value) and "\n" not in str(info.value)


def test_empty_show_has_no_now_stamp(tmp_path):
    config.init(tmp_path)
    raw = build_feed(Workspace.open(tmp_path))
    assert b"lastBuildDate" not in raw and b"<item>" not in raw


# --- Cover art -------------------------------------------------------------------------------

def _decode_png_rgb(data: bytes) -> tuple[int, int, bytes]:
    width, height = struct.unpack(">II", data[16:24])
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    return width, height, zlib.decompress(idat)


def test_placeholder_cover_is_a_valid_3000px_rgb_png(tmp_path):
    path = make_placeholder_cover(tmp_path / "cover.png", "Chai Time: Épisode 1")
    info = image_info(path)
    assert (info.format, info.width, info.height, info.mode) == ("png", 3000, 3000, "RGB")
    width, height, raw = _decode_png_rgb(path.read_bytes())
    assert len(raw) == height * (1 + width * 3)
    middle = raw[1500 * (1 + width * 3):1501 * (1 + width * 3)]
    colours = {middle[i:i + 3] for i in range(1, len(middle), 3)}
    assert len(colours) >= 2  # the title's ink crosses the middle row
    decoded = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "null", "-"], capture_output=True)
    assert decoded.returncode == 0 and not decoded.stderr
    assert path.stat().st_size < 512_000


# --- check -----------------------------------------------------------------------------------

def _lines(problems) -> str:
    return "\n".join(p.line() for p in problems)


def test_check_passes_a_good_workspace(real_ws):
    write_feed(real_ws)
    problems = check_workspace(real_ws)
    assert [p for p in problems if p.level == "error"] == [], _lines(problems)


def test_check_catches_each_problem(real_ws):
    root = real_ws.root
    write_feed(real_ws)
    rgba = encode_png(1200, 1000, [bytes(1200 * 3)] * 1000).replace(b"IHDR" + struct.pack(">IIBB", 1200, 1000, 8, 2),
                                                                     b"IHDR" + struct.pack(">IIBB", 1200, 1000, 8, 6))
    (root / "cover.png").write_bytes(rgba)
    first, second = real_ws.episode("001-first-brew"), real_ws.episode("002-second-cup")
    tone_mp3(first.path("audio.mp3"), seconds=11.0, amplitude=0.99)  # longer and far too loud, after the feed was written
    meta = second.meta()
    second.write_meta(EpisodeMeta(**{**meta.__dict__, "guid": "guid-0001"}))  # duplicate (and changed) guid
    for name in ("transcript.vtt", "transcript.srt", "transcript.podcast.json"):
        second.path(name).unlink()
    add_episode(root, "004-no-audio", title="No audio", guid="guid-0004", date="2024-06-01", number=4)
    (root / "episodes" / "004-no-audio" / "audio.mp3").unlink()

    problems = check_workspace(Workspace.open(root))
    text = _lines(problems)
    expected = [
        "cover is 1200x1000, not square",
        "Apple needs 1400 to 3000 px",
        "cover is RGBA",
        "enclosure of '001-first-brew' says",  # size no longer matches the file
        "duration of '001-first-brew' says 8 s but audio.mp3 plays 11 s",
        "loudness -", "true peak",
        "guid 'guid-0001' is used by 2 episodes",
        "guid changed from 'guid-0002' to 'guid-0001'",
        "no transcript",
        "004-no-audio/audio.mp3: missing",
    ]
    for needle in expected:
        assert needle in text, f"{needle!r} not reported:\n{text}"
    assert all(p.fix for p in problems)

    result = invoke(Workspace.open(root), "check")
    assert result.exit_code == 1
    assert "error: episodes/004-no-audio" in result.output


def test_check_reports_bad_config_as_a_problem(ws):
    (ws.root / "chaitime.toml").write_text(SHOW_TOML.replace('"Technology"', '"Gadgets"'), encoding="utf-8")
    problems = check_workspace(Workspace.open(ws.root), loudness=False)
    assert any("'Gadgets' is not an Apple Podcasts category" in p.what and p.level == "error" for p in problems)


def test_loudness_summary_parsing():
    stderr = ("[Parsed_ebur128_0 @ 0x1] t: 1.0 M: -20 S: -20 I: -30.0 LUFS\n[Parsed_ebur128_0 @ 0x1] Summary:\n\n"
              "  Integrated loudness:\n    I:         -16.2 LUFS\n    Threshold: -26.3 LUFS\n\n  Loudness range:\n"
              "    LRA:         5.1 LU\n    Threshold:   -36.1 LUFS\n\n  True peak:\n    Peak:        -1.4 dBFS\n")
    level = parse_summary(stderr)
    assert (level.integrated_lufs, level.true_peak_dbtp, level.lra_lu, level.sample_peak_dbfs) == (-16.2, -1.4, 5.1, None)
    sample_only = parse_summary(stderr.replace("True peak", "Sample peak").replace("-1.4 dBFS", "-3.0 dBFS"))
    assert (sample_only.true_peak_dbtp, sample_only.sample_peak_dbfs) == (None, -3.0)


# --- Site --------------------------------------------------------------------------------------

def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_publish_builds_the_site(ws, tmp_path):
    out = tmp_path / "public"
    for path in ws.root.rglob("*"):
        path.chmod(0o700 if path.is_dir() else 0o600)  # as a private umask leaves them
    (ws.episode("001-first-brew").path("video.mp4")).write_bytes(b"\0\0\0\x18ftypmp42")
    report = publish_site(ws, out)
    files = set(_snapshot(out))
    for name in ("index.html", "podcast.xml", "cover.png", "static/style.css", "static/player.js",
                 "episodes/001-first-brew/index.html", "episodes/001-first-brew/audio.mp3", "episodes/001-first-brew/transcript.vtt",
                 "episodes/001-first-brew/transcript.srt", "episodes/001-first-brew/chapters.json", "episodes/001-first-brew/video.mp4"):
        assert name in files
    assert not any("003-unfinished" in f for f in files)  # drafts stay out
    assert (out / "podcast.xml").read_bytes() == build_feed(ws)
    index = (out / "index.html").read_text(encoding="utf-8")
    assert index.index("Second cup") < index.index("First brew")
    assert '<img class="cover" src="cover.png"' in index
    page = (out / "episodes/001-first-brew/index.html").read_text(encoding="utf-8")
    for needle in ('<video id="player" controls preload="none"', 'src="video.mp4"', '<track kind="captions" src="transcript.vtt"',
                   '<link rel="alternate" type="application/rss+xml"',
                   'property="og:title" content="First brew"', 'property="og:audio" content="https://pod.example.org/show/episodes/001-first-brew/audio.mp3"',
                   'property="og:description" content="We talk about first brew."', '<meta name="twitter:card" content="player">',
                   'data-start="5"', "Tea &amp; code", '<span class="speaker">Ada Guest</span>', "Let&#x27;s talk about tea &lt;and&gt; code.",
                   '<a class="time" href="video.mp4#t=5"', 'href="transcript.vtt"', 'src="../../static/player.js"',
                   'property="og:video"', '<link rel="icon" href="../../cover.png">', '"@type": "PodcastEpisode"', 'data-rate="1.5"',
                   'data-skip="-15"', 'data-skip="30"', 'id="share"', "<h2>Show notes</h2>"):
        assert needle in page, needle
    assert "<audio" not in page  # one player on a video episode
    # The drafted post's front matter is split off, never shown; its own title is not repeated.
    assert "title: " not in page and "summary: " not in page and "<hr" not in page
    assert "<h2>First brew</h2>" not in page
    second = (out / "episodes/002-second-cup/index.html").read_text(encoding="utf-8")
    assert '<audio id="player" class="player" controls preload="none" src="audio.mp3"' in second
    assert 'property="og:description" content="Priya Host talks with Guest. They talk about hello and tea &amp; code."' in second
    embed = (out / "embed/001-first-brew/index.html").read_text(encoding="utf-8")
    assert 'src="../../episodes/001-first-brew/audio.mp3"' in embed and 'href="https://pod.example.org/show/episodes/001-first-brew/"' in embed
    sitemap = (out / "sitemap.xml").read_text(encoding="utf-8")
    assert "<loc>https://pod.example.org/show/episodes/001-first-brew/</loc><lastmod>2024-03-01</lastmod>" in sitemap
    assert (out / "robots.txt").read_text() == "User-agent: *\nAllow: /\nSitemap: https://pod.example.org/show/sitemap.xml\n"
    index_data = json.loads((out / "search.json").read_text(encoding="utf-8"))
    assert [e["slug"] for e in index_data["episodes"]] == ["002-second-cup", "001-first-brew"]
    assert index_data["episodes"][1]["lines"][0] == [0.0, "Welcome to the show."]
    assert 'href="overcast://x-callback-url/add?url=https%3A%2F%2Fpod.example.org%2Fshow%2Fpodcast.xml"' in index
    assert 'id="feed-url" readonly value="https://pod.example.org/show/podcast.xml"' in index
    # World-readable: a web server running as another user serves them (the episode files were 0600).
    modes = {oct(p.stat().st_mode & 0o777) for p in out.rglob("*") if p.name != ".chaitime-site.json"}
    assert modes == {"0o644", "0o755"}, modes
    assert len(report.written) == len(files) - 1  # everything but the manifest


def test_republish_copies_only_what_changed(ws, tmp_path):
    out = tmp_path / "public"
    publish_site(ws, out)
    (out / "CNAME").write_text("pod.example.org\n")
    again = publish_site(ws, out)
    assert again.written == () and again.removed == ()
    ep = ws.episode("002-second-cup")
    synthetic_mp3(ep.path("audio.mp3"), 400)
    ep.path("transcript.srt").unlink()
    third = publish_site(ws, out)
    assert set(third.written) == {"episodes/002-second-cup/audio.mp3", "episodes/002-second-cup/index.html",
                                  "embed/002-second-cup/index.html", "podcast.xml", "index.html"}
    assert third.removed == ("episodes/002-second-cup/transcript.srt",)
    assert not (out / "episodes/002-second-cup/transcript.srt").exists()
    assert (out / "CNAME").read_text() == "pod.example.org\n"  # the host's own file stays


@pytest.mark.parametrize("breakage, message", [
    ("missing_cover", "cover art missing"),
    ("non_square_cover", "not square"),
    ("bad_category", "is not an Apple Podcasts category"),
    ("bad_base_url", "is not an http(s) URL"),
    ("missing_audio", "audio.mp3: missing"),
])
def test_bad_input_leaves_the_last_good_site(ws, tmp_path, breakage, message):
    out = tmp_path / "public"
    publish_site(ws, out)
    before = _snapshot(out)
    base_url = None
    if breakage == "missing_cover":
        (ws.root / "cover.png").unlink()
    elif breakage == "non_square_cover":
        (ws.root / "cover.png").write_bytes(encode_png(1600, 1500, [bytes(1600 * 3)] * 1500))
    elif breakage == "bad_category":
        (ws.root / "chaitime.toml").write_text(SHOW_TOML.replace('"Technology"', '"Tech"'), encoding="utf-8")
    elif breakage == "bad_base_url":
        base_url = "ftp://pod.example.org/"
    else:
        ws.episode("001-first-brew").path("audio.mp3").unlink()
    result = invoke(Workspace.open(ws.root), "publish", "--out", str(out), *(["--base-url", base_url] if base_url else []))
    assert isinstance(result.exception, ChaitimeError), result.output
    assert message in str(result.exception) and "\n" not in str(result.exception)
    assert _snapshot(out) == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["public", "show"]  # no staging left behind


def test_publish_refuses_a_folder_it_did_not_make(ws, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="was not made by `chaitime publish`"):
        publish_site(ws, out)
    with pytest.raises(InputError, match="would replace the workspace"):
        publish_site(ws, ws.root)


def test_publish_command_and_base_url_option(ws, tmp_path):
    out = tmp_path / "site"
    result = invoke(ws, "publish", "--out", str(out), "--base-url", "https://cdn.example.net/cast")
    assert result.exit_code == 0, result.output
    assert "file(s) written" in result.output
    feed = (out / "podcast.xml").read_text(encoding="utf-8")
    assert "https://cdn.example.net/cast/episodes/001-first-brew/audio.mp3" in feed
    assert 'content="https://cdn.example.net/cast/cover.png"' in (out / "index.html").read_text(encoding="utf-8")


def test_markdown_escapes_and_renders():
    html = markdown.render("# Hi\n\nSome **bold** and *em* <script>x</script> [a](https://a.b/?q=1&r=2)\n\n- one\n- two\n\n1. first\n")
    assert "<h1>Hi</h1>" in html and "<strong>bold</strong>" in html and "<em>em</em>" in html
    assert "&lt;script&gt;" in html and '<a href="https://a.b/?q=1&amp;r=2">a</a>' in html
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in html and "<ol>\n<li>first</li>\n</ol>" in html
    assert markdown.render("[x](javascript:alert(1))") == "<p>[x](javascript:alert(1))</p>"
    # What the hand-written renderer got wrong: nested lists, images, reference links, hard breaks, ')' in URLs.
    assert "<li>a\n<ul>\n<li>b</li>" in markdown.render("- a\n  - b\n")
    assert '<img src="x.png" alt="i" />' in markdown.render("![i](x.png)")
    assert '<a href="https://a.b/r">r</a>' in markdown.render("[r]\n\n[r]: https://a.b/r\n")
    assert "one<br />\ntwo" in markdown.render("one  \ntwo")
    assert '<a href="https://en.wikipedia.org/wiki/Tea_(drink)">tea</a>' in markdown.render("[tea](https://en.wikipedia.org/wiki/Tea_(drink))")
    assert markdown.render("# A", heading_offset=1) == "<h2>A</h2>"
    meta, body = markdown.split_front_matter('---\ntitle: "T: x"\nsummary: plain words\ntags: ["a", "b"]\n---\n\nBody')
    assert meta == {"title": "T: x", "summary": "plain words", "tags": ["a", "b"]} and body == "Body"
    assert markdown.section("# T\n\n## Show notes\n\n- a\n\n## Other\n\nb", r"^show notes") == "- a"


# --- Preview server -------------------------------------------------------------------------

def test_serve_answers_head_and_byte_ranges(ws, tmp_path):
    out = tmp_path / "public"
    publish_site(ws, out)
    server = make_server(out, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    media = (out / "episodes/001-first-brew/audio.mp3").read_bytes()
    try:
        url = f"{base}/episodes/001-first-brew/audio.mp3"
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Range": "bytes=1000-1999"})) as r:
            assert r.status == 206
            assert r.headers["Content-Range"] == f"bytes 1000-1999/{len(media)}"
            assert r.headers["Content-Type"] == "audio/mpeg"
            assert r.read() == media[1000:2000]
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Range": "bytes=-16"})) as r:
            assert r.status == 206 and r.read() == media[-16:]
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD")) as r:
            assert r.status == 200 and r.headers["Content-Length"] == str(len(media)) and r.headers["Accept-Ranges"] == "bytes"
            assert r.read() == b""
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(urllib.request.Request(url, headers={"Range": f"bytes={len(media)}-"}))
        assert info.value.code == 416
        with urllib.request.urlopen(f"{base}/podcast.xml") as r:
            assert r.headers["Content-Type"].startswith("application/rss+xml") and r.read() == build_feed(ws)
        with urllib.request.urlopen(f"{base}/episodes/001-first-brew/chapters.json") as r:
            assert r.headers["Content-Type"] == "application/json+chapters"
    finally:
        server.shutdown()
        server.server_close()


def test_parse_range():
    assert parse_range("bytes=0-0", 10) == (0, 0)
    assert parse_range("bytes=5-", 10) == (5, 9)
    assert parse_range("bytes=8-20", 10) == (8, 9)
    assert parse_range("bytes=-3", 10) == (7, 9)
    assert parse_range("bytes=10-", 10) is None
    assert parse_range("items=0-1", 10) is None
