"""`chaitime export`: the cut list as an EDL, FCPXML and Audacity labels, each read back by an
independent reader (OpenTimelineIO's cmx_3600 and fcpx_xml adapters; a strict label parser).
Unit tier on a synthetic cut list; one slow test on the ingested sample interview."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import pytest

from chaitime.edit import export as fmt
from chaitime.edit.cutlist import CutList, TimeMap, complement
from chaitime.media.probe import MediaInfo
from chaitime.transcript.model import Segment, Transcript, Word
from conftest import run_chaitime

otio = pytest.importorskip("opentimelineio")

DURATION = 60.0
KEEPS = ((0.0, 10.0), (12.5, 30.0), (41.2, 60.0))


def transcript() -> Transcript:
    def seg(a, b, who, text):
        words = text.split()
        step = (b - a) / len(words)
        return Segment(a, b, text, tuple(Word(a + i * step, a + (i + 1) * step, " " + w) for i, w in enumerate(words)), speaker=who)

    return Transcript((seg(1, 9, "Ada", "welcome to the show today"), seg(13, 29, "Sam", "thanks for having me here"),
                       seg(31, 40, "Sam", "this part is cut away"), seg(42, 58, "Ada", "so tell us more please")), duration_s=DURATION)


def make_cut(rate=Fraction(25), video=True, channels=2) -> fmt.CutExport:
    source = MediaInfo(Path("/media/My Interview.mp4"), DURATION, "aac", channels, 48000, video, 1920 if video else 0, 1080 if video else 0)
    cuts = CutList(complement(list(KEEPS), DURATION))
    length = TimeMap(KEEPS).length_s
    from chaitime.edit.retime import retime_transcript
    from chaitime.writing.chapters import Chapter

    edited = retime_transcript(transcript(), cuts, TimeMap(KEEPS), length)
    markers = fmt.chapter_markers([Chapter(0.0, "Intro"), Chapter(15.0, "The work")], length) + fmt.speaker_turns(edited)
    return fmt.CutExport("Episode One", source, KEEPS, rate, tuple(markers), tuple(fmt.keep_speakers(transcript(), cuts, KEEPS)))


def seconds(t) -> float:
    return t.to_seconds()


def assert_ranges(clips, rate: float, keeps=KEEPS) -> None:
    assert len(clips) == len(keeps)
    record = 0.0
    for clip, (a, b) in zip(clips, keeps):
        r = clip.source_range
        assert abs(seconds(r.start_time) - a) <= 1 / rate + 1e-9, (clip.name, seconds(r.start_time), a)
        assert abs(seconds(r.end_time_exclusive()) - b) <= 1 / rate + 1e-9
        record += b - a
    assert abs(sum(seconds(c.source_range.duration) for c in clips) - record) <= len(keeps) / rate


def test_frame_rates_and_timecode():
    assert fmt.frame_rate(25.0) == 25 and fmt.frame_rate(29.97002997) == Fraction(30000, 1001)
    assert fmt.frame_rate(23.976023976) == Fraction(24000, 1001) and fmt.frame_rate(59.94) == Fraction(60000, 1001)
    assert fmt.timecode(25 * 3661 + 7, Fraction(25)) == "01:01:01:07"
    assert fmt.reel_name("My Interview.mp4") == "MY_INTER" and fmt.reel_name("日本.mov") == "AX"


def test_speakers_per_kept_stretch_and_turns():
    cut = make_cut()
    assert cut.speakers == (("Ada",), ("Sam",), ("Ada",))
    turns = [m for m in cut.markers if m.kind == fmt.SPEAKER]
    assert [m.name for m in turns] == ["Ada", "Sam", "Ada"]  # the cut Sam segment leaves no turn of its own
    assert turns[1].time_s == pytest.approx(10.0 + 0.5, abs=0.01)  # 13 s on the source, 2.5 s cut before it


@pytest.mark.parametrize("rate", [Fraction(25), Fraction(30)])
@pytest.mark.parametrize("video", [True, False])
def test_edl_reads_back_in_opentimelineio(tmp_path, rate, video):
    cut = make_cut(rate, video)
    path = tmp_path / "ep.edl"
    path.write_text(fmt.edl(cut), encoding="utf-8")
    timeline = otio.adapters.read_from_file(str(path), adapter_name="cmx_3600", rate=float(rate))
    assert timeline.name == "Episode One"
    track = timeline.tracks[0]
    clips = list(track.find_clips())
    assert_ranges(clips, float(rate))
    assert all(c.name == "My Interview.mp4" for c in clips)
    assert all(c.metadata["cmx_3600"]["reel"] == "MY_INTER" for c in clips)
    assert [c.metadata["cmx_3600"]["comments"][-1] for c in clips] == ["COMMENT: SPEAKERS: Ada", "COMMENT: SPEAKERS: Sam", "COMMENT: SPEAKERS: Ada"]
    # record timecode: the cut timeline, contiguous from 0
    assert abs(seconds(track.duration()) - sum(b - a for a, b in KEEPS)) <= 3 / float(rate)
    markers = [(c, m) for c in clips for m in c.markers]
    names = [m.name for _, m in markers]
    assert names == ["CHAPTER: Intro", "SPEAKER: Ada", "SPEAKER: Sam", "CHAPTER: The work", "SPEAKER: Ada"]
    # a locator is at source timecode: "The work" is 15 s into the cut = 12.5 + 5 s of the source
    work = next(m for _, m in markers if m.name == "CHAPTER: The work")
    assert seconds(work.marked_range.start_time) == pytest.approx(17.5, abs=1 / float(rate))
    assert {m.color for _, m in markers} == {"YELLOW", "BLUE"}


def test_edl_at_ntsc_rate_counts_real_frames(tmp_path):
    rate = Fraction(30000, 1001)
    cut = make_cut(rate)
    text = fmt.edl(cut)
    assert "FCM: NON-DROP FRAME" in text
    path = tmp_path / "ep.edl"
    path.write_text(text)
    clips = list(otio.adapters.read_from_file(str(path), adapter_name="cmx_3600", rate=float(rate)).tracks[0].find_clips())
    assert_ranges(clips, float(rate))


@pytest.mark.parametrize("video", [True, False])
def test_fcpxml_reads_back_in_opentimelineio(tmp_path, video):
    cut = make_cut(Fraction(30), video)
    text = fmt.fcpxml(cut)
    path = tmp_path / "ep.fcpxml"
    path.write_text(text, encoding="utf-8")
    collection = otio.adapters.read_from_file(str(path), adapter_name="fcpx_xml")
    timeline = collection[0]
    assert timeline.name == "Episode One"
    clips = list(timeline.find_clips())
    assert_ranges(clips, 30.0)
    assert [c.name for c in clips] == ["Ada", "Sam", "Ada"]
    assert all(c.media_reference.target_url == "file:///media/My%20Interview.mp4" for c in clips)
    speaker_markers = [m.name for c in clips for m in c.markers]
    assert speaker_markers == ["Ada", "Sam", "Ada"]
    root = ET.fromstring(text)
    assert root.get("version") == "1.8"
    spine = root.find("./library/event/project/sequence/spine")
    offsets = [c.get("offset") for c in spine.findall("asset-clip")]
    assert offsets == ["0s", "10s", "55/2s"] or offsets == ["0s", "10s", "825/30s"]
    chapters = [(c.get("value"), c.get("start")) for c in spine.iter("chapter-marker")]
    assert [v for v, _ in chapters] == ["Intro", "The work"]
    assert chapters[1][1] in ("35/2s", "525/30s")  # 17.5 s of the source, inside the second clip
    every = [v for c in spine for v in (c.get("offset"), c.get("start"), c.get("duration"))]
    assert all(re.fullmatch(r"0s|\d+s|\d+/\d+s", v) for v in every)


def test_fcpxml_ntsc_times_are_on_the_frame_grid():
    text = fmt.fcpxml(make_cut(Fraction(30000, 1001)))
    assert 'frameDuration="1001/30000s"' in text and 'name="FFVideoFormat1080p2997"' in text
    for value in re.findall(r'(?:offset|start|duration)="([^"]+)"', text):
        if value != "0s":
            num, den = value[:-1].split("/")
            assert den == "30000" and int(num) % 1001 == 0, value


LABEL = re.compile(r"(\d+\.\d{6})\t(\d+\.\d{6})\t([^\t\r\n]*)")


def read_labels(text: str) -> list[tuple[float, float, str]]:
    """Audacity's label format, strictly: every line `start<TAB>end<TAB>label`, start <= end."""
    out = []
    assert text.endswith("\n")
    for line in text.splitlines():
        m = LABEL.fullmatch(line)
        assert m, repr(line)
        a, b = float(m.group(1)), float(m.group(2))
        assert a <= b
        out.append((a, b, m.group(3)))
    return out


def test_audacity_labels_on_the_cut_and_cuts_on_the_source():
    cut = make_cut()
    labels = read_labels(fmt.audacity_labels(cut))
    assert [t for _, _, t in labels] == ["Chapter: Intro", "Ada", "Sam", "Chapter: The work", "Ada"]
    length = sum(b - a for a, b in KEEPS)
    assert labels[0][:2] == (0.0, 15.0) and labels[3][:2] == (15.0, pytest.approx(length))
    cuts = read_labels(fmt.audacity_cuts(cut))
    assert [(a, b) for a, b, _ in cuts] == [(10.0, 12.5), (30.0, 41.2)]
    assert cuts[0][2] == "cut 1 (2.50 s)"


def test_a_keep_shorter_than_a_frame_is_dropped():
    cut = make_cut()
    tiny = fmt.CutExport("t", cut.source, ((0.0, 5.0), (5.01, 5.015), (20.0, 30.0)), Fraction(25))
    events = tiny.events()
    assert [(e.source_in, e.source_out) for e in events] == [(0, 125), (500, 750)]
    assert events[1].record_in == 125


# --- the command, on the ingested sample ----------------------------------------------------------

SLUG = "sample-interview"
STRUCK = "Titanic"


@pytest.mark.slow
def test_export_edl_excludes_a_struck_line(tmp_path, sample_recording):
    from chaitime.transcript.model import Transcript as T

    ws = tmp_path / "ws"
    ws.mkdir()
    run_chaitime("ingest", str(sample_recording.path), "--guest", "Sam Okafor", "--date", "2026-11-23", cwd=ws, check=True)
    ep = ws / "episodes" / SLUG
    edit = ep / "edit.md"
    rows = edit.read_text().splitlines(keepends=True)
    (row,) = [r for r in rows if STRUCK in r]
    struck = row.rstrip("\n")
    stamp, rest = re.match(r"(\[[\d:.]+\]\s+(?:\*\*[^*]*?:\*\*\s*)?)(.*)", struck).groups()
    # the whole line struck (a suggested cut already inside it, "~~Um,~~", folded into the one strike)
    edit.write_text("".join(r if r != row else f"{stamp}~~{rest.replace('~~', '')}~~\n" for r in rows))
    # the struck line's words on the recording's timeline
    from chaitime.edit.lines import split_lines

    raw = T.load(ep / ".chaitime" / "transcript.raw.json")
    (line,) = [ln for ln in split_lines(raw) if STRUCK in " ".join(t.text for t in ln.tokens)]
    inside = [(t.start_s + t.end_s) / 2 for t in line.tokens]

    done = run_chaitime("export", "edl", SLUG, cwd=ws, check=True)
    path = ep / "export" / f"{SLUG}.edl"
    assert str(path) in done.stdout and "fps" in done.stdout
    clips = list(otio.adapters.read_from_file(str(path), adapter_name="cmx_3600", rate=25).tracks[0].find_clips())
    ranges = [(seconds(c.source_range.start_time), seconds(c.source_range.end_time_exclusive())) for c in clips]
    assert len(ranges) >= 2
    assert not any(a <= t < b for t in inside for a, b in ranges), (inside, ranges)
    assert any(m.name.startswith("SPEAKER: ") for c in clips for m in c.markers)
    assert any(m.name.startswith("CHAPTER: ") for c in clips for m in c.markers)

    other = tmp_path / "elsewhere"
    done = run_chaitime("export", "audacity", SLUG, "--out", str(other), cwd=ws, check=True)
    cuts = read_labels((other / f"{SLUG}.cuts.txt").read_text())
    assert any(a <= t <= b for t in inside for a, b, _ in cuts)
    read_labels((other / f"{SLUG}.labels.txt").read_text())

    # bad input: one line naming the problem, no traceback
    bad = run_chaitime("export", "edl", "no-such-episode", cwd=ws)
    assert bad.returncode != 0 and "no such episode" in bad.stderr and "Traceback" not in bad.stderr
    edit.write_text(edit.read_text() + "[99:99:99.999] a line that matches nothing\n")
    bad = run_chaitime("export", "fcpxml", SLUG, cwd=ws)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "edit.md" in bad.stderr and "Traceback" not in bad.stderr
    shutil.rmtree(other)


@pytest.mark.slow
def test_youtube_and_spotify_folders_ready_to_upload(tmp_path, sample_recording, ffmpeg_bin):
    from chaitime.publish.cover import image_info
    from conftest import ebur128, media_duration

    ws = tmp_path / "ws"
    ws.mkdir()
    run_chaitime("ingest", str(sample_recording.path), "--guest", "Sam Okafor", "--date", "2026-11-23", cwd=ws, check=True)
    ep = ws / "episodes" / SLUG
    done = run_chaitime("export", "youtube", SLUG, cwd=ws, check=True)
    yt = ep / "export" / "youtube"
    assert f"ready to upload to YouTube in {yt}" in done.stdout
    assert sorted(p.name for p in yt.iterdir()) == ["description.txt", "tags.txt", "thumbnail.jpg", "title.txt", "transcript.srt",
                                                    "transcript.vtt", "video.mp4"]
    assert (yt / "video.mp4").read_bytes() == (ep / "video.mp4").read_bytes()  # the podcast master's video as it is
    assert (yt / "description.txt").read_text() == (ep / "youtube.txt").read_text()
    assert (yt / "transcript.vtt").read_text().startswith("WEBVTT")
    thumb = image_info(yt / "thumbnail.jpg")
    assert (thumb.format, thumb.width, thumb.height) == ("jpeg", 1280, 720)
    # --lufs -14: the sound mastered for YouTube (measured here, not by chaitime), the picture copied
    loud = tmp_path / "yt14"
    done = run_chaitime("export", "youtube", SLUG, "--lufs", "-14", "--out", str(loud), cwd=ws, check=True)
    measured = ebur128(ffmpeg_bin, loud / "video.mp4")
    assert abs(measured["I"] + 14) <= 0.5 and measured["TP"] <= -1.0, measured
    assert abs(ebur128(ffmpeg_bin, ep / "video.mp4")["I"] + 16) <= 0.5
    assert abs(media_duration(ffmpeg_bin, loud / "video.mp4", "v") - media_duration(ffmpeg_bin, ep / "video.mp4", "v")) < 0.1
    # Spotify: the video, the transcripts it takes, the cover
    run_chaitime("export", "spotify", SLUG, cwd=ws, check=True)
    assert {"video.mp4", "transcript.vtt", "transcript.srt", "cover.png", "title.txt", "description.txt"} == \
        {p.name for p in (ep / "export" / "spotify").iterdir()}
    # an audio-only episode: its sound over the poster, a real H.264 picture
    (ep / "video.mp4").unlink()
    still = tmp_path / "still"
    run_chaitime("export", "youtube", SLUG, "--out", str(still), cwd=ws, check=True)
    probe = subprocess.run([ffmpeg_bin, "-hide_banner", "-i", str(still / "video.mp4")], capture_output=True, text=True).stderr
    assert "Video: h264" in probe and "1280x720" in probe and "Audio: aac" in probe
    assert abs(media_duration(ffmpeg_bin, still / "video.mp4") - media_duration(ffmpeg_bin, ep / "audio.mp3")) < 0.6
    assert abs(ebur128(ffmpeg_bin, still / "video.mp4")["I"] + 14) <= 0.5
    # bad input: one line, nothing written
    bad = run_chaitime("export", "youtube", SLUG, "--lufs", "-3", "--out", str(tmp_path / "bad"), cwd=ws)
    assert bad.returncode == 2 and "--lufs -3: out of range" in bad.stderr and not (tmp_path / "bad").exists()
