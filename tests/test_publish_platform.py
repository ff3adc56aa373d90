"""Publishing like a hosting platform (issue 16): every Podcasting 2.0 tag the feed writes checked
against the namespace's rules, the new fields read back by podcastparser and feedparser, the
channel guid stored once, `check` on stale tags and feeds and on bad extras, and the preview
server's CORS headers. The workspaces are test_publish's, their posts written by the real drafter."""

from __future__ import annotations

import io
import re
import threading
import urllib.request
import uuid
from pathlib import Path

import feedparser
import podcastparser
import pytest
from lxml import etree

from chaitime import pipeline
from chaitime.errors import ChaitimeError
from chaitime.media import tags
from chaitime.publish.check import check_workspace
from chaitime.publish.cover import encode_png
from chaitime.publish.feed import NS_ITUNES, NS_PODCAST, build_feed
from chaitime.publish.releases import read_chapters
from chaitime.publish.serve import make_server
from chaitime.publish.site import publish_site
from chaitime.workspace import Workspace
from test_publish import PODCASTPARSER_NS, invoke, make_workspace, rich_workspace, tone_mp3

PC, IT = f"{{{NS_PODCAST}}}", f"{{{NS_ITUNES}}}"
URL = re.compile(r"^https?://[^\s]+$")
NUMBER = re.compile(r"^\d+(\.\d+)?$")


def _uuid5(text: str) -> bool:
    try:
        return uuid.UUID(text).version == 5
    except ValueError:
        return False


# The podcast namespace 1.0 rules (podcastindex.org/namespace/1.0) for each tag chaitime writes:
# where it may stand, its attributes (required, optional, each with a check), and its text.
NAMESPACE_RULES = {
    "guid": dict(parents={"channel"}, required={}, optional={}, text=_uuid5),
    "locked": dict(parents={"channel"}, required={}, optional={"owner": lambda v: "@" in v}, text=lambda t: t in ("yes", "no")),
    "person": dict(parents={"channel", "item"}, required={},
                   optional={"role": lambda v: v in ("host", "guest"), "group": bool, "img": URL.match, "href": URL.match},
                   text=lambda t: 0 < len(t) <= 128),
    "funding": dict(parents={"channel", "item"}, required={"url": URL.match}, optional={}, text=lambda t: len(t) <= 128),
    "license": dict(parents={"channel", "item"}, required={}, optional={"url": URL.match}, text=lambda t: 0 < len(t) <= 128),
    "txt": dict(parents={"channel", "item"}, required={}, optional={"purpose": lambda v: len(v) <= 128}, text=lambda t: 0 < len(t) <= 4000),
    "transcript": dict(parents={"item"}, required={"url": URL.match, "type": bool},
                       optional={"language": bool, "rel": lambda v: v == "captions"}, text=lambda t: not t),
    "chapters": dict(parents={"item"}, required={"url": URL.match, "type": lambda v: v == "application/json+chapters"}, optional={},
                     text=lambda t: not t),
    "season": dict(parents={"item"}, required={}, optional={"name": lambda v: len(v) <= 128}, text=lambda t: t.isdigit() and int(t) > 0),
    "episode": dict(parents={"item"}, required={}, optional={"display": lambda v: len(v) <= 32}, text=NUMBER.match),
    "soundbite": dict(parents={"item"}, required={"startTime": NUMBER.match, "duration": NUMBER.match}, optional={},
                      text=lambda t: len(t) <= 128),
    "alternateEnclosure": dict(parents={"item"}, required={"type": bool},
                               optional={"length": str.isdigit, "bitrate": NUMBER.match, "height": str.isdigit, "lang": bool,
                                         "title": lambda v: len(v) <= 32, "rel": lambda v: len(v) <= 32, "codecs": bool,
                                         "default": lambda v: v in ("true", "false")},
                               text=lambda t: not t, children={"source"}),
    # podcast:image (2025, replaces podcast:images): href, and purpose tokens, size, type, aspect ratio
    "image": dict(parents={"channel", "item"}, required={"href": URL.match},
                  optional={"purpose": lambda v: all(t in ("artwork", "social", "canvas", "banner", "circular") for t in v.split()),
                            "type": lambda v: v.startswith("image/"), "width": str.isdigit, "height": str.isdigit,
                            "aspect-ratio": re.compile(r"^\d+/\d+$").match, "alt": lambda v: len(v) <= 250},
                  text=lambda t: not t),
    "source": dict(parents={"alternateEnclosure"}, required={"uri": URL.match}, optional={"contentType": bool}, text=lambda t: not t),
}


def namespace_violations(feed: bytes) -> list[str]:
    root = etree.fromstring(feed)
    found = []
    for el in root.iter(f"{PC}*"):
        tag = etree.QName(el).localname
        rule = NAMESPACE_RULES.get(tag)
        if rule is None:
            found.append(f"podcast:{tag} has no rule here: add one before writing it")
            continue
        parent = etree.QName(el.getparent()).localname
        if parent not in rule["parents"]:
            found.append(f"podcast:{tag} inside {parent}")
        for name, ok in rule["required"].items():
            if not el.get(name) or not ok(el.get(name)):
                found.append(f"podcast:{tag} {name}={el.get(name)!r}")
        for name, value in el.attrib.items():
            ok = rule["required"].get(name) or rule["optional"].get(name)
            if ok is None or not ok(value):
                found.append(f"podcast:{tag} attribute {name}={value!r}")
        if not rule["text"]((el.text or "").strip()):
            found.append(f"podcast:{tag} text {el.text!r}")
        if "children" in rule and not any(etree.QName(c).localname in rule["children"] for c in el):
            found.append(f"podcast:{tag} without a {sorted(rule['children'])} child")
    guids = root.findall(f"channel/{PC}guid")
    if len(guids) != 1:
        found.append(f"{len(guids)} podcast:guid in the channel")
    return found


def test_every_podcast_tag_follows_the_namespace(tmp_path):
    feed = build_feed(rich_workspace(tmp_path / "show"))
    written = {etree.QName(el).localname for el in etree.fromstring(feed).iter(f"{PC}*")}
    assert written == set(NAMESPACE_RULES)  # the rich workspace writes every tag chaitime knows
    assert namespace_violations(feed) == []
    # The rules catch what they should (a check that passes everything checks nothing).
    broken = feed.replace(b'startTime="2"', b'startTime="two"').replace(b"<podcast:season>1<", b"<podcast:season>first<")
    assert len(namespace_violations(broken)) == 4  # two soundbite attributes (in one item), two seasons


def test_new_fields_read_back_in_podcastparser_and_feedparser(tmp_path):
    ws = rich_workspace(tmp_path / "show")
    toml = ws.root / "chaitime.toml"
    toml.write_text(toml.read_text().replace("[publish]\n", '[publish]\nnew_feed_url = "https://new.example.org/feed.xml"\n')
                    .replace("[show]\n", "[show]\nblock = true\ncomplete = true\n", 1))
    feed = build_feed(Workspace.open(ws.root))
    parsed = podcastparser.parse("https://pod.example.org/show/podcast.xml", io.BytesIO(feed.replace(NS_PODCAST.encode(), PODCASTPARSER_NS.encode())))
    assert parsed["funding_url"] == "https://pod.example.org/support"
    assert parsed["new_url"] == "https://new.example.org/feed.xml"
    first = parsed["episodes"][1]
    assert first["episode_art_url"] == "https://pod.example.org/show/episodes/001-first-brew/cover.png"
    assert first["persons"][0]["img"] == "https://pod.example.org/priya.jpg"
    assert first["persons"][1]["href"] == "https://ada.example.org/"
    assert "Welcome to the show." in first["description_html"]
    fp = feedparser.parse(feed)
    assert not fp.bozo, fp.get("bozo_exception")
    assert fp.feed.rights == "© 2024 Priya Host"
    assert fp.feed.itunes_block == 1 and fp.feed.get("itunes_complete") == "Yes"
    entry = fp.entries[1]
    assert "<strong>Priya Host:</strong>" in entry.content[0].value and entry.summary.startswith("<p>We talk about")
    assert entry.image.href == "https://pod.example.org/show/episodes/001-first-brew/cover.png"


def test_channel_guid_is_stored_once_and_survives_a_move(tmp_path):
    ws = make_workspace(tmp_path / "show")
    toml = ws.root / "chaitime.toml"
    toml.write_text("# my show's settings\n" + toml.read_text(), encoding="utf-8")
    pipeline.feed(ws)
    text = toml.read_text(encoding="utf-8")
    stored = re.search(r'^guid = "([0-9a-f-]{36})"$', text, re.M).group(1)
    assert text.startswith("# my show's settings\n") and "locked = true" in text  # the host's file, comments kept
    first = etree.fromstring(build_feed(Workspace.open(ws.root))).findtext(f"channel/{PC}guid")
    moved = Workspace.open(ws.root)
    pipeline.publish(moved, tmp_path / "public", base_url="https://elsewhere.example.net/pod")
    second = etree.fromstring((tmp_path / "public" / "podcast.xml").read_bytes()).findtext(f"channel/{PC}guid")
    assert first == second == stored
    assert toml.read_text(encoding="utf-8") == text  # assigned once: not rewritten
    # publish refreshed the workspace's feed with the site's.
    assert ws.feed_path.read_bytes() == (tmp_path / "public" / "podcast.xml").read_bytes()


def test_check_flags_stale_mp3_tags_feed_and_missing_summary(tmp_path):
    ws = make_workspace(tmp_path / "show", mp3=tone_mp3)
    ep = ws.episode("001-first-brew")
    tags.write_tags(ep.path("audio.mp3"), **tags.episode_tags(ws.settings, ep.meta()))
    tags.write_chapters(ep.path("audio.mp3"), read_chapters(ep.path("chapters.json")), 8.0)
    pipeline.feed(ws)
    ws = Workspace.open(ws.root)
    assert not [p for p in check_workspace(ws, loudness=False) if "001-first-brew" in p.where and "ID3" in p.what]
    meta = ep.path("episode.toml")
    meta.write_text(meta.read_text().replace('title = "First brew"', 'title = "First brew, renamed"'), encoding="utf-8")
    ep.path("chapters.json").write_text('{"version": "1.2.0", "chapters": [{"startTime": 0, "title": "Only one"}]}', encoding="utf-8")
    ep2 = ws.episode("002-second-cup")
    ep2.path("post.md").unlink()
    lines = [p.line() for p in check_workspace(ws, loudness=False)]
    assert any("001-first-brew/audio.mp3: ID3 title is 'First brew', episode.toml says 'First brew, renamed'" in ln for ln in lines), lines
    assert any("001-first-brew/audio.mp3: ID3 has 2 chapters that differ from chapters.json's 1" in ln for ln in lines), lines
    assert any("feeds/podcast.xml: older than episodes/001-first-brew/" in ln for ln in lines), lines
    assert any("002-second-cup/episode.toml: no description or summary" in ln for ln in lines), lines
    # `chaitime draft` writes the new title and chapters into the MP3 and refreshes the feed.
    pipeline.draft(ep, ws)
    lines = [p.line() for p in check_workspace(Workspace.open(ws.root), loudness=False)]
    assert not [ln for ln in lines if "001-first-brew/audio.mp3" in ln and "ID3" in ln], lines
    assert not [ln for ln in lines if "feeds/podcast.xml" in ln], lines
    assert tags.tag_mismatches(ep.path("audio.mp3"), title="First brew, renamed", chapters=read_chapters(ep.path("chapters.json"))) == []


def _png(path: Path, width: int, height: int) -> None:
    path.write_bytes(encode_png(width, height, [bytes([200, 120, 40]) * width] * height))


BAD_EXTRAS = {
    "funding": ('funding_url = "ftp://pod.example.org/give"\n', "chaitime.toml [show]: funding_url 'ftp://pod.example.org/give' is not an http(s) URL."),
    "person-img": ('person_img = {"Priya Host" = "file:///home/priya/me.jpg"}\n',
                   "chaitime.toml [show]: person_img for 'Priya Host' is 'file:///home/priya/me.jpg', not an http(s) URL."),
    "episode-art": (None, "episodes/001-first-brew/cover.png: episode art is 1500x1400, not square."),
}


@pytest.mark.parametrize("case", BAD_EXTRAS, ids=list(BAD_EXTRAS))
def test_bad_extras_are_one_line_in_check_and_publish_refuses(tmp_path, case):
    ws = make_workspace(tmp_path / "show")
    setting, message = BAD_EXTRAS[case]
    if setting:
        toml = ws.root / "chaitime.toml"
        toml.write_text(toml.read_text().replace("[show]\n", "[show]\n" + setting, 1), encoding="utf-8")
    else:
        _png(ws.episode("001-first-brew").path("cover.png"), 1500, 1400)
    ws = Workspace.open(ws.root)
    lines = [p.line() for p in check_workspace(ws, loudness=False) if p.level == "error"]
    assert len([ln for ln in lines if message.split(":")[-2] in ln]) == 1, lines
    assert any(message in ln for ln in lines), lines
    with pytest.raises(ChaitimeError) as err:
        publish_site(ws, tmp_path / "public")
    assert "\n" not in str(err.value) and message.split(": ", 1)[-1].split(".")[0] in str(err.value)
    assert not (tmp_path / "public").exists() and not list(tmp_path.glob(".public*"))  # no partial site
    res = invoke(ws, "publish", "--out", str(tmp_path / "public"))
    assert res.exit_code != 0 and "Traceback" not in res.output and not (tmp_path / "public").exists()


def test_serve_sends_cors_headers(tmp_path):
    ws = make_workspace(tmp_path / "show")
    publish_site(ws, tmp_path / "public")
    server = make_server(tmp_path / "public", port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        with urllib.request.urlopen(f"{base}/episodes/001-first-brew/transcript.vtt") as resp:
            assert resp.headers["Access-Control-Allow-Origin"] == "*"
        with urllib.request.urlopen(f"{base}/sitemap.xml") as resp:
            assert resp.headers["Content-Type"].startswith("application/xml")
        req = urllib.request.Request(f"{base}/episodes/001-first-brew/chapters.json", method="OPTIONS")
        with urllib.request.urlopen(req) as resp:
            assert resp.status == 204 and "Range" in resp.headers["Access-Control-Allow-Headers"]
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
def test_an_ingested_episode_publishes_as_listeners_should_see_it(tmp_path, sample_recording):
    """The real path: init, ingest (post.md drafted with its front matter), publish, check."""
    import html

    from chaitime.publish.markdown import split_front_matter
    from conftest import run_chaitime

    root = tmp_path / "show"
    root.mkdir()
    run_chaitime("init", cwd=root, check=True)
    run_chaitime("ingest", str(sample_recording.path), "--title", "First", "--number", "1", "--date", "2026-11-20", "--quiet",
                 cwd=root, check=True)
    run_chaitime("publish", "--out", "public", cwd=root, check=True)
    ep = root / "episodes" / "001-first"
    front, _ = split_front_matter((ep / "post.md").read_text(encoding="utf-8"))
    summary = html.escape(front["summary"])
    page = (root / "public" / "episodes" / "001-first" / "index.html").read_text(encoding="utf-8")
    assert "title: " not in page and "summary: " not in page and "tags: " not in page  # the front matter is not a paragraph
    assert f'<meta property="og:description" content="{summary}">' in page
    assert '<video id="player"' in page and '<track kind="captions" src="transcript.vtt"' in page and "<audio" not in page
    feed = (root / "feeds" / "podcast.xml").read_bytes()
    assert feed == (root / "public" / "podcast.xml").read_bytes()  # publish refreshed the workspace's feed
    item = etree.fromstring(feed).find("channel/item")
    assert item.findtext("description").startswith(f"<p>{summary}</p>")
    assert item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded").count("Show notes") == 1
    assert re.search(r'^guid = "[0-9a-f-]{36}"$', (root / "chaitime.toml").read_text(encoding="utf-8"), re.M)
    modes = {oct(p.stat().st_mode & 0o777) for p in (root / "public").rglob("*") if p.name != ".chaitime-site.json"}
    assert modes == {"0o644", "0o755"}
    res = run_chaitime("check", "--no-loudness", cwd=root)
    problems = [ln for ln in res.stdout.splitlines() + res.stderr.splitlines() if ln.startswith(("error", "warning"))]
    assert not [ln for ln in problems if "default" not in ln], problems  # only the template's placeholders


@pytest.mark.parametrize("layout", ["no-publish-section", "header-with-comment"])
def test_guid_is_added_to_any_chaitime_toml_layout(tmp_path, layout):
    from chaitime.publish.feed import ensure_show_guid

    ws = make_workspace(tmp_path / "show")
    toml = ws.root / "chaitime.toml"
    text = toml.read_text(encoding="utf-8")
    if layout == "no-publish-section":
        text = text.replace('[publish]\nbase_url = "https://pod.example.org/show/"\nlocked = true\n', "")
    else:
        text = text.replace("[publish]\n", "[publish]   # where it goes\n")
    toml.write_text(text, encoding="utf-8")
    moved = ensure_show_guid(Workspace.open(ws.root), base_url="https://pod.example.org/show")
    after = toml.read_text(encoding="utf-8")
    assert after.startswith(text.rstrip("\n")[:200]) and moved.settings.get("publish", "guid") == str(
        uuid.uuid5(uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6"), "pod.example.org/show/podcast.xml"))
    assert ensure_show_guid(moved) is moved  # stored once: never rewritten


def test_a_bad_stored_guid_is_one_clear_line(tmp_path):
    ws = make_workspace(tmp_path / "show")
    toml = ws.root / "chaitime.toml"
    toml.write_text(toml.read_text().replace("[publish]\n", '[publish]\nguid = "not-a-uuid"\n'), encoding="utf-8")
    from conftest import run_chaitime

    res = run_chaitime("feed", cwd=ws.root)
    assert res.returncode == 3 and len(res.stderr.strip().splitlines()) == 1 and "guid 'not-a-uuid' is not a UUID" in res.stderr
