"""Links that work anywhere (issue 28): every link in the feed's HTML is absolute, built from the
show's base URL, and a time link opens the episode's page at that second; youtube.txt carries the
episode's page, its chapters (or why there are none), the guests and the links; a base URL still
the template's placeholder is said in one line, never linked.

Fast tier: the publish tests' workspace (synthetic MP3s, no Whisper, no rendering) plus one
episode drafted from the four-topic interview with evenly timed words.
"""

from __future__ import annotations

import io
import math
import re
from pathlib import Path
from urllib.parse import urlsplit

import podcastparser
import pytest
from lxml import etree

import fourtopics
from chaitime import config
from chaitime.publish import markdown
from chaitime.publish.feed import NS_PODCAST, absolute_link, build_feed
from chaitime.publish.site import publish_site
from chaitime.publish.urls import SiteUrls
from chaitime.transcript.formats import WRITERS
from chaitime.workspace import Episode, EpisodeMeta, Workspace
from chaitime.writing import notes
from chaitime.writing.chapters import Chapter, load_chapters
from chaitime.writing.draft import draft_episode
from test_publish import PODCASTPARSER_NS, SHOW_TOML, add_episode, make_workspace, synthetic_mp3
from test_writing import four_topics

BASE = "https://pod.example.org/show"  # SHOW_TOML's base_url, without the slash
NS_CONTENT = "http://purl.org/rss/1.0/modules/content/"
SLUG = "004-side-chains"
PAGE = f"{BASE}/episodes/{SLUG}/"
PLACEHOLDER = config.DEFAULTS["publish"]["base_url"]
DESCRIPTION = "Jump to [the paper](audio.mp3#t=296), read [the transcript](transcript.vtt) or [write to us](mailto:priya@example.org)."


def seconds(clock_text: str) -> int:
    total = 0
    for part in clock_text.split(":"):
        total = total * 60 + int(part)
    return total


def add_interview(root: Path) -> tuple[Episode, object]:
    """Episode 4: the four-topic interview (8.5 minutes, four chapters, a spoken URL and a paper),
    drafted by the real drafter; an MP3 as long as the talk, so quotes and time links are made."""
    tr = four_topics(labels={fourtopics.HOST: "SPEAKER_00", fourtopics.GUEST: "SPEAKER_01"})
    frames = math.ceil(tr.duration_s * 44100 / 1152)
    ep = add_episode(root, SLUG, title="Side chains", guid="guid-0004", date="2024-06-01", number=4, guests=(fourtopics.GUEST,),
                     chapters=False, transcripts=False, post=False, mp3=lambda p: synthetic_mp3(p, frames), description=DESCRIPTION)
    ep.path("transcript.json").write_text(tr.to_json(), encoding="utf-8")
    ep.path("transcript.vtt").write_text(WRITERS["vtt"](tr), encoding="utf-8")
    draft_episode(ep, config.load(root))
    return ep, tr


@pytest.fixture
def linked(tmp_path):
    root = tmp_path / "show"
    make_workspace(root)
    ep, tr = add_interview(root)
    return Workspace.open(root), ep, tr


def html_links(html: str) -> list[tuple[str, str]]:
    """(the link's text, its href or src) for every <a href> and <img src> in an HTML fragment."""
    doc = etree.HTML(f"<div>{html}</div>")
    return [("".join(el.itertext()), el.get("href") if el.tag == "a" else el.get("src")) for el in doc.iter("a", "img")
            if el.get("href" if el.tag == "a" else "src") is not None]


def feed_html(raw: bytes) -> dict[str, dict[str, str]]:
    """Each item's description and content:encoded (HTML), by guid."""
    items = etree.fromstring(raw).find("channel").findall("item")
    return {i.findtext("guid"): {"description": i.findtext("description") or "", "content": i.findtext(f"{{{NS_CONTENT}}}encoded") or ""}
            for i in items}


def assert_absolute(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme == "mailto":
        return
    assert parts.scheme in ("http", "https") and parts.netloc, url
    if parts.netloc == "pod.example.org":
        assert url.startswith(BASE + "/"), url  # the show's own address is under its base URL


# --- the feed ---------------------------------------------------------------------------------


def test_every_link_in_the_feed_html_is_absolute(linked):
    ws, _, _ = linked
    raw = build_feed(ws)
    html = feed_html(raw)
    found = [(guid, kind, href) for guid, parts in html.items() for kind, text in parts.items() for _, href in html_links(text)]
    assert len(found) >= 10, found
    for _, _, href in found:
        assert_absolute(href)
    ours = [href for guid, _, href in found if guid == "guid-0004"]
    assert any(h.startswith(PAGE + "#t=") for h in ours)  # time links: the episode's page at a time
    assert "https://github.com/ada/tools" in ours and any(h.startswith("https://scholar.google.com/") for h in ours)  # external: kept
    assert not re.search(r'(?:href|src)="(?!https?://|mailto:)', raw.decode("utf-8"))  # nothing relative anywhere in the feed
    # podcastparser (gPodder) reads the same notes: its description_html is content:encoded.
    xml = raw.replace(NS_PODCAST.encode(), PODCASTPARSER_NS.encode())
    parsed = podcastparser.parse(f"{BASE}/podcast.xml", io.BytesIO(xml))
    episode = next(e for e in parsed["episodes"] if e["guid"] == "guid-0004")
    hrefs = [href for _, href in html_links(episode["description_html"])]
    assert hrefs and all(h.startswith(("https://", "mailto:")) for h in hrefs)
    assert any(h.startswith(PAGE + "#t=") for h in hrefs)


def test_a_time_link_opens_the_page_at_the_second_it_names(linked):
    ws, _, tr = linked
    content = feed_html(build_feed(ws))["guid-0004"]["content"]
    timed = [(text, href) for text, href in html_links(content) if re.fullmatch(r"\d+:\d\d", text)]
    assert len(timed) >= 3, content  # the highlights' and the links' times
    for text, href in timed:
        assert href == f"{PAGE}#t={seconds(text)}", (text, href)
    # "mentioned at": the second the GitHub address was said, in the transcript's own timings.
    item = next(li for li in etree.HTML(content).iter("li") if "github.com/ada/tools (mentioned at" in "".join(li.itertext()))
    (when,) = [int(a.get("href").rsplit("#t=", 1)[1]) for a in item.iter("a") if "#t=" in a.get("href")]
    said = [s for s in tr.segments if "GitHub" in s.text]
    assert said and any(s.start_s - 1 <= when <= s.end_s for s in said), (when, [(s.start_s, s.end_s) for s in said])


def test_the_item_description_links_are_absolute_too(linked):
    ws, _, _ = linked
    links = dict(html_links(feed_html(build_feed(ws))["guid-0004"]["description"]))
    assert links == {"the paper": f"{PAGE}#t=296", "the transcript": f"{PAGE}transcript.vtt", "write to us": "mailto:priya@example.org",
                     "search": "https://scholar.google.com/scholar?q=Fast+Side+Chain+Packing+with+Equivariant+Graph+Networks",
                     "github.com/ada/tools": "https://github.com/ada/tools"}


def test_links_a_host_writes_resolve_against_the_episode_page(linked):
    """Relative links in an edited post.md, as a browser on the episode page would resolve them;
    media fragments the page can't seek to stay on the file."""
    ws, _, _ = linked
    ep = ws.episode("001-first-brew")
    written = {
        "at five": "audio.mp3#t=5",
        "video time": "./video.mp4#t=12.5",
        "fragment only": "#t=30",
        "a range": "audio.mp3#t=10,20",
        "the file": "audio.mp3",
        "chapters": "chapters.json",
        "next episode": "../002-second-cup/",
        "next at 7": "../002-second-cup/audio.mp3#t=7",
        "site root": "/about/",
        "elsewhere": "https://example.net/a?b=1&c=2",
        "mail": "mailto:priya@example.org",
        "cdn": "//cdn.example.net/x.mp3",
    }
    page = f"{BASE}/episodes/001-first-brew/"
    want = {
        "at five": page + "#t=5", "video time": page + "#t=12.5", "fragment only": page + "#t=30", "a range": page + "audio.mp3#t=10,20",
        "the file": page + "audio.mp3", "chapters": page + "chapters.json", "next episode": f"{BASE}/episodes/002-second-cup/",
        "next at 7": f"{BASE}/episodes/002-second-cup/#t=7", "site root": "https://pod.example.org/about/",
        "elsewhere": "https://example.net/a?b=1&c=2", "mail": "mailto:priya@example.org", "cdn": "https://cdn.example.net/x.mp3",
    }
    extra = "\n\n## More\n\n" + "\n".join(f"- [{text}]({href})" for text, href in written.items()) + "\n\n![the cover](cover.png)\n"
    ep.path("post.md").write_text(ep.path("post.md").read_text(encoding="utf-8") + extra, encoding="utf-8")
    got = dict(html_links(feed_html(build_feed(ws))["guid-0001"]["content"]))
    assert {k: got[k] for k in want} == want
    assert got[""] == page + "cover.png"  # the image's src
    refused = markdown.render("[x](javascript:alert(1))", link=absolute_link(SiteUrls.from_base(BASE), "x"))
    assert refused == "<p>[x](javascript:alert(1))</p>"  # a refused link stays text, never made into an address


def test_the_site_keeps_relative_links_and_its_feed_is_absolute(linked, tmp_path):
    ws, _, _ = linked
    out = tmp_path / "public"
    publish_site(ws, out)
    page = (out / "episodes" / SLUG / "index.html").read_text(encoding="utf-8")
    assert re.search(r'href="audio\.mp3#t=\d+"', page)  # works on the site (and under `chaitime serve`)
    feed = (out / "podcast.xml").read_bytes()
    assert feed == build_feed(ws)
    # Every link in the feed's HTML that is the show's own lands on a file the site has.
    for parts in feed_html(feed).values():
        for text in parts.values():
            for _, href in html_links(text):
                if href.startswith(BASE + "/"):
                    path = urlsplit(href).path.removeprefix(urlsplit(BASE).path + "/")
                    assert (out / path / "index.html" if path.endswith("/") else out / path).is_file(), href


# --- youtube.txt ------------------------------------------------------------------------------


def test_youtube_txt_links_the_page_and_lists_chapters_from_zero(linked):
    ws, ep, _ = linked
    youtube = ep.path("youtube.txt").read_text(encoding="utf-8")
    chapters = load_chapters(ep.path("chapters.json"))
    assert len(chapters) >= 3
    assert f"Episode page: {PAGE}\n" in youtube
    listed = youtube.split("Chapters:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert listed[0].startswith("0:00 ") and listed == notes.chapter_lines(chapters)
    assert f"Guest: {fourtopics.GUEST}" in youtube and "Host: Priya Host" in youtube
    assert f"- github.com/ada/tools: {fourtopics.URL}" in youtube and f"- {fourtopics.PAPER}: https://scholar.google.com/" in youtube
    assert youtube.rstrip().endswith(f"Chai Time Tests - {BASE}/")
    for url in re.findall(r"\w+://\S+", youtube):
        assert_absolute(url)


def test_youtube_txt_with_fewer_than_three_chapters_says_why(linked):
    ws, _, _ = linked
    youtube = ws.episode("001-first-brew").path("youtube.txt").read_text(encoding="utf-8")
    assert "Chapters: not listed, as this episode has 2 chapters, fewer than the three YouTube needs for chapter markers.\n" in youtube
    assert "0:00" not in youtube and "Chapters:\n" not in youtube
    assert f"Episode page: {BASE}/episodes/001-first-brew/\n" in youtube and "Guest: Ada Guest" in youtube


@pytest.mark.parametrize("base_line", [f'base_url = "{PLACEHOLDER}"', None], ids=["placeholder", "missing"])
def test_a_placeholder_base_url_is_said_not_linked(tmp_path, base_line):
    root = tmp_path / "show"
    make_workspace(root)
    toml = SHOW_TOML.replace('base_url = "https://pod.example.org/show/"', base_line or "")
    (root / "chaitime.toml").write_text(toml, encoding="utf-8")
    ep = Workspace.open(root).episode("001-first-brew")
    draft_episode(ep, config.load(root))
    youtube = ep.path("youtube.txt").read_text(encoding="utf-8")
    line = next(line for line in youtube.splitlines() if line.startswith("Episode page:"))
    assert line == (f"Episode page: not linked, because chaitime.toml [publish] base_url is still the template's placeholder "
                    f"{PLACEHOLDER!r}. Set base_url to where the site will be served, then run `chaitime draft 001-first-brew`.")
    assert youtube.count("example.com") == 1 and "pod.example.org" not in youtube  # said once, linked nowhere
    assert youtube.rstrip().endswith("\n\nChai Time Tests")


def test_an_untouched_youtube_txt_follows_the_base_url_and_an_edited_one_stays(linked):
    ws, _, _ = linked
    root = ws.root
    ep = ws.episode("001-first-brew")

    def move(base: str) -> None:
        text = (root / "chaitime.toml").read_text(encoding="utf-8")
        (root / "chaitime.toml").write_text(re.sub(r'^base_url = ".*"$', f'base_url = "{base}"', text, flags=re.M), encoding="utf-8")
        draft_episode(ep, config.load(root))

    move("https://cdn.example.net/cast")
    assert "Episode page: https://cdn.example.net/cast/episodes/001-first-brew/" in ep.path("youtube.txt").read_text(encoding="utf-8")
    assert not ep.path("youtube.draft.txt").exists()
    edited = ep.path("youtube.txt").read_text(encoding="utf-8") + "\nMy own line.\n"
    ep.path("youtube.txt").write_text(edited, encoding="utf-8")
    move("https://casts.example.org")
    assert ep.path("youtube.txt").read_text(encoding="utf-8") == edited  # the host's
    assert "Episode page: https://casts.example.org/episodes/001-first-brew/" in ep.path("youtube.draft.txt").read_text(encoding="utf-8")


def test_youtube_chapters_always_listed_from_three_with_short_ones_named():
    meta = EpisodeMeta(title="T", guid="g", date="2024-05-01", guests=("Ada Guest", "Bo Guest"))
    three = [Chapter(2, "Intro"), Chapter(65, "Kaggle"), Chapter(3725, "Gardening")]
    desc = notes.youtube_description(meta, three, summary="We talk.", duration_s=4000, slug="x")
    assert "Chapters:\n0:00 Intro\n1:05 Kaggle\n1:02:05 Gardening\n" in desc and "Guests: Ada Guest, Bo Guest" in desc
    assert "Episode page: not linked, because" in desc  # no settings: nothing to link from
    short = [Chapter(0, "Intro"), Chapter(65, "Kaggle"), Chapter(69, "Tea"), Chapter(200, "End")]
    desc = notes.youtube_description(meta, short, summary="We talk.", duration_s=300)
    assert "Chapters:\n0:00 Intro\n1:05 Kaggle\n1:09 Tea\n3:20 End\n" in desc
    assert '"Kaggle" at 1:05 lasts 4 s' in desc and "10 s or more" in desc
    for chapters, count in (([Chapter(0, "All")], "one chapter"), (three[:2], "2 chapters")):
        desc = notes.youtube_description(meta, chapters, summary="We talk.", duration_s=4000)
        assert f"Chapters: not listed, as this episode has {count}, fewer than the three YouTube needs for chapter markers." in desc
        assert "0:00" not in desc
