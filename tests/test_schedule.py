"""Scheduled episodes and the tags every app reads: a future episode waits (feed, site, sitemap),
appears at its release time (a fixed clock), and gPodder's parser finds chapters."""

from __future__ import annotations

import datetime as dt
import io

import podcastparser
import pytest
from lxml import etree

from chaitime import pipeline
from chaitime.errors import ConfigError
from chaitime.publish.check import NOTE, check_workspace
from chaitime.publish.feed import NS_PODCAST, build_feed
from chaitime.publish.site import publish_site
from chaitime.workspace import Workspace
from test_publish import add_episode, make_workspace

BERLIN_JUNE_1_0900 = dt.datetime(2027, 6, 1, 7, 0, tzinfo=dt.UTC)  # 09:00 CEST


@pytest.fixture
def show(tmp_path) -> Workspace:
    root = tmp_path / "show"
    make_workspace(root)
    toml = root / "chaitime.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("[show]\n", '[show]\ntimezone = "Europe/Berlin"\n', 1), encoding="utf-8")
    ep = add_episode(root, "004-next-month", title="Next month", guid="guid-0004", date="2027-06-01", number=4)
    text = ep.meta_path.read_text(encoding="utf-8")
    ep.meta_path.write_text(text.replace('date = "2027-06-01"\n', 'date = "2027-06-01"\ntime = "09:00"\n'), encoding="utf-8")
    return Workspace.open(root)


def _titles(feed: bytes) -> list[str]:
    return [i.findtext("title") for i in etree.fromstring(feed).iter("item")]


def test_a_future_episode_waits_and_appears_at_its_release_time(show, tmp_path):
    before, after = BERLIN_JUNE_1_0900 - dt.timedelta(minutes=1), BERLIN_JUNE_1_0900
    assert _titles(build_feed(show, now=before)) == ["Second cup", "First brew"]
    feed = build_feed(show, now=after)
    assert _titles(feed) == ["Next month", "Second cup", "First brew"]
    item = next(etree.fromstring(feed).iter("item"))
    assert item.findtext("pubDate") == "Tue, 01 Jun 2027 09:00:00 +0200"
    assert etree.fromstring(feed).findtext("channel/lastBuildDate") == "Tue, 01 Jun 2027 09:00:00 +0200"
    # the site and the sitemap wait too
    out = tmp_path / "public"
    publish_site(show, out, now=before)
    assert not (out / "episodes" / "004-next-month").exists()
    assert "004-next-month" not in (out / "sitemap.xml").read_text(encoding="utf-8")
    publish_site(show, out, now=after)
    assert (out / "episodes" / "004-next-month" / "index.html").is_file()
    assert "004-next-month" in (out / "sitemap.xml").read_text(encoding="utf-8")


def test_check_and_publish_say_what_is_scheduled_and_when(show, tmp_path):
    before = BERLIN_JUNE_1_0900 - dt.timedelta(days=1)
    notes = [p for p in check_workspace(show, loudness=False, now=before) if p.level == NOTE]
    assert [p.where for p in notes] == ["episodes/004-next-month"]
    assert "scheduled for 2027-06-01 09:00 CEST" in notes[0].line() and "Fix:" not in notes[0].line()
    done = pipeline.publish(show, tmp_path / "public", now=before)
    assert done.episodes == 2 and len(done.scheduled) == 1 and "004-next-month" in done.scheduled[0]
    # an episode in the last feed that is re-dated into the future is named as it leaves
    pipeline.feed(show, now=BERLIN_JUNE_1_0900)
    done = pipeline.feed(show, now=before)
    assert any("'Next month' was taken out" in w and "dated 2027-06-01 09:00" in w for w in done.warnings), done.warnings


def test_bad_time_and_timezone_are_one_clear_line(show):
    ep = show.episode("004-next-month")
    ep.meta_path.write_text(ep.meta_path.read_text(encoding="utf-8").replace('time = "09:00"', 'time = "9am"'), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"time '9am': use HH:MM"):
        ep.meta()
    toml = show.root / "chaitime.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("Europe/Berlin", "Mars/Olympus"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"timezone 'Mars/Olympus' is not a time zone"):
        build_feed(Workspace.open(show.root))


def test_gpodder_reads_the_chapters_and_the_feed_carries_artwork(show):
    show_toml = show.root / "chaitime.toml"
    show_toml.write_text(show_toml.read_text(encoding="utf-8").replace("[show]\n", '[show]\nai_content = "none"\n', 1), encoding="utf-8")
    feed = build_feed(Workspace.open(show.root), now=BERLIN_JUNE_1_0900)
    parsed = podcastparser.parse("https://pod.example.org/show/podcast.xml", io.BytesIO(feed))
    chapters = parsed["episodes"][0]["chapters"]
    assert [(c["start"], c["title"]) for c in chapters] == [(0, "Hello"), (5, "Tea & code")]
    import feedparser  # and feedparser, from the same psc:chapters

    psc = feedparser.parse(feed).entries[0]["psc_chapters"]["chapters"]
    assert [(c["start_parsed"].total_seconds(), c["title"]) for c in psc] == [(0, "Hello"), (5, "Tea & code")]
    channel = etree.fromstring(feed).find("channel")
    image = channel.find(f"{{{NS_PODCAST}}}image")
    assert image.get("purpose") == "artwork" and image.get("width") == "3000" and image.get("aspect-ratio") == "1/1"
    assert [t.text for t in channel.findall(f"{{{NS_PODCAST}}}txt") if t.get("purpose") == "ai-content"] == ["none"]


def test_check_and_publish_warn_about_the_template_cover_and_description(tmp_path):
    from chaitime import config
    from chaitime.publish.check import WARNING, template_problems
    from chaitime.publish.cover import is_placeholder_cover, make_placeholder_cover

    root = tmp_path / "new"
    root.mkdir()
    config.init(root)
    make_placeholder_cover(root / "cover.png", "My Interview Show")
    ws = Workspace.open(root)
    found = template_problems(ws)
    assert [p.level for p in found] == [WARNING, WARNING]
    assert "description is still the default" in found[0].what and found[1].where == "cover.png"
    assert any(p.where == "cover.png" for p in check_workspace(ws, loudness=False))
    assert any("placeholder cover" in w for w in pipeline.publishing.template_warnings(ws))
    # other artwork and an own description end both warnings
    (root / "cover.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    assert not is_placeholder_cover(root / "cover.png")
    toml = root / "chaitime.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(config.DEFAULTS["show"]["description"], "Talks about ML."), encoding="utf-8")
    assert template_problems(Workspace.open(root)) == []


def test_serve_and_deploy_send_the_types_the_feed_declares(show):
    from chaitime.publish.mediatypes import content_type
    from chaitime.publish.serve import SiteHandler

    item = next(etree.fromstring(build_feed(show, now=BERLIN_JUNE_1_0900)).iter("item"))
    declared = [(el.get("url"), el.get("type")) for el in item if el.tag in (f"{{{NS_PODCAST}}}transcript", f"{{{NS_PODCAST}}}chapters")]
    assert len(declared) == 4  # VTT, SRT, JSON transcripts and the chapters
    for url, kind in declared:
        name = url.rsplit("/", 1)[-1]
        sent = content_type(f"episodes/004-next-month/{name}")
        assert sent.split(";")[0] == kind, (name, sent, kind)
        assert SiteHandler.guess_type(None, f"/site/episodes/004-next-month/{name}") == sent


def test_publish_draws_a_16_9_poster_for_the_show_and_each_episode_and_the_feed_offers_it(show, tmp_path):
    import feedparser

    from chaitime.publish.cover import image_info

    out = tmp_path / "public"
    publish_site(show, out, now=BERLIN_JUNE_1_0900)
    posters = [out / "poster.jpg", out / "episodes" / "001-first-brew" / "poster.jpg", out / "episodes" / "004-next-month" / "poster.jpg"]
    for path in posters:
        info = image_info(path)
        assert (info.format, info.width, info.height) == ("jpeg", 1280, 720) and path.stat().st_size < 2_000_000
    assert posters[1].read_bytes() != posters[2].read_bytes()  # each episode's title on its own
    feed = build_feed(show, now=BERLIN_JUNE_1_0900)
    root = etree.fromstring(feed)
    social = root.findall(f"channel/{{{NS_PODCAST}}}image[@purpose='social']")
    assert [e.get("href") for e in social] == ["https://pod.example.org/show/poster.jpg"]
    assert social[0].get("aspect-ratio") == "16/9"
    parsed = feedparser.parse(feed)
    thumbs = [e["media_thumbnail"][0] for e in parsed.entries]
    assert thumbs[0] == {"url": "https://pod.example.org/show/episodes/004-next-month/poster.jpg", "width": "1280", "height": "720"}
    for entry, thumb in zip(parsed.entries, thumbs, strict=True):  # every URL the feed names is a file of the site
        assert (out / thumb["url"].removeprefix("https://pod.example.org/show/")).is_file(), entry["title"]
    # the second publish draws nothing again: the posters come from the workspace's cache
    cache = show.root / ".chaitime" / "posters"
    before = {p: p.stat().st_mtime_ns for p in cache.iterdir()}
    publish_site(show, out, now=BERLIN_JUNE_1_0900)
    assert {p: p.stat().st_mtime_ns for p in cache.iterdir()} == before
