"""The fault suite: every bad input a user or a hostile tester can give, through the command line.

Each case asserts what the user sees: the exit code, exactly one line on stderr naming the file
or key and the fix, never a traceback or an internal error, nothing half-written (no temp files,
the feed untouched), and the workspace still working for its other episode. Then the hostile
strings of tests/hostile_strings.txt (OWASP XSS filter evasion style) go through post.md, the
real site build and the feed, and a fuzz pass puts random bytes, truncations and wrong JSON types
into every file chaitime reads back. (kill -9, a full disk and concurrent ingests are in
test_faults_stages.py.)

One episode is ingested once per session (the sample interview) and copied per case: text files
are copied, media hard-linked (chaitime replaces files by renaming, never in place).
"""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import tomllib
import urllib.error
import urllib.request
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import tomli_w

from conftest import ebur128, run_chaitime

pytestmark = pytest.mark.slow

EP1, EP2 = "001-first", "002-second"
HOSTILE = [line for line in (Path(__file__).parent / "hostile_strings.txt").read_text(encoding="utf-8").split("\n") if line]
MEDIA = (".mp3", ".mp4", ".flac", ".s16", ".wav", ".png")


# --- the workspace, built once ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def template(tmp_path_factory, sample_recording) -> Path:
    """A show with two finished episodes: the sample interview ingested, and a copy of it as a
    second episode with its own guid (a second ingest would cost another Whisper run)."""
    from chaitime import sample

    root = tmp_path_factory.mktemp("faults") / "show"
    root.mkdir()
    run_chaitime("init", cwd=root, check=True)
    run_chaitime("ingest", str(sample_recording.path), "--title", "First", "--guest", sample.GUEST, "--number", "1",
                 "--date", "2026-11-20", "--quiet", cwd=root, check=True)
    first, second = root / "episodes" / EP1, root / "episodes" / EP2
    shutil.copytree(first, second)
    meta = tomllib.loads((second / "episode.toml").read_text())
    meta.update(title="Second", number=2, guid="2b1e7c1c-7a7e-4c5e-9a39-000000000002", date="2026-11-27")
    (second / "episode.toml").write_text(tomli_w.dumps(meta))
    (second / ".chaitime" / "source.hash").write_text("0" * 64 + "\n")
    (second / ".chaitime" / "source.json").unlink()
    run_chaitime("feed", cwd=root, check=True)
    return root


def _copy(src: str, dst: str) -> None:
    if src.endswith(MEDIA):
        os.link(src, dst)
    else:
        shutil.copy2(src, dst)


@pytest.fixture
def ws(template, tmp_path) -> Path:
    root = tmp_path / "show"
    shutil.copytree(template, root, copy_function=_copy)
    return root


def put(path: Path, data: bytes | str) -> None:
    """Replace ``path`` (never writing through a hard link into the template)."""
    path.unlink(missing_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


@dataclass
class Result:
    rc: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return [ln for ln in self.err.splitlines() if ln.strip()]


def cli(root: Path, *args: str) -> Result:
    """chaitime's own entry point (``chaitime.cli.main``) run in this process in ``root``: what
    the user sees, without a Python start-up per call."""
    from chaitime.cli import main

    out, err, old = io.StringIO(), io.StringIO(), os.getcwd()
    os.chdir(root)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                main(list(args))
                rc = 0
            except SystemExit as exc:
                rc = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        os.chdir(old)
    return Result(rc, out.getvalue(), err.getvalue())


def sh(root: Path, *args: str, env: dict | None = None) -> Result:
    """The installed command in a subprocess, exactly as a user runs it."""
    proc = subprocess.run([sys.executable, "-m", "chaitime", *args], cwd=root, capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {})})
    return Result(proc.returncode, proc.stdout, proc.stderr)


def no_temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if ".tmp" in p.name or p.name.endswith((".staging", ".old"))]


def assert_one_line(res: Result, *names: str, rc: int | None = None) -> None:
    assert "Traceback" not in res.err + res.out and "internal error" not in res.err, res.err
    assert res.rc != 0 if rc is None else res.rc == rc, (res.rc, res.err)
    assert len(res.err_lines) == 1, res.err
    line = res.err_lines[0]
    assert line.startswith("chaitime: error: "), line
    for name in names:
        assert name in line, (name, line)


def assert_other_episode_works(root: Path) -> None:
    res = cli(root, "draft", EP2)
    assert res.rc == 0 and "Traceback" not in res.err, res.err
    assert (root / "episodes" / EP2 / "post.md").read_text(encoding="utf-8").startswith("---\ntitle: \"Second\"")


# --- bad chaitime.toml: one line naming the file and key, before any work --------------------------

CONFIG_CASES = {
    "show-title-empty": ('[show]\ntitle = ""\n', "title"),
    "show-title-control-char": ('[show]\ntitle = "a\\u0001b"\n', "title"),
    "show-title-too-long": (f'[show]\ntitle = "{"x" * 300}"\n', "title"),
    "show-description-empty": ('[show]\ndescription = "  "\n', "description"),
    "show-author-newline": ('[show]\nauthor = "a\\nb"\n', "author"),
    "show-language-zz": ('[show]\nlanguage = "zz"\n', "language"),
    "show-hosts-not-text": ("[show]\nhosts = [1, 2]\n", "hosts"),
    "transcribe-language-zz": ('[transcribe]\nlanguage = "zz"\n', "language"),
    "transcribe-vocabulary-control-char": ('[transcribe]\nvocabulary = ["ok", "b\\u007fad"]\n', "vocabulary"),
    "audio-fillers-not-text": ("[audio]\nfillers = [3]\n", "fillers"),
    "config-not-utf8": (b"[show]\ntitle = \"\xff\xfe\"\n", "UTF-8"),
    "config-invalid-toml": ("[show\ntitle = 1\n", "TOML"),
    "config-unknown-key": ("[show]\ntitel = \"x\"\n", "titel"),
}


@pytest.mark.parametrize("case", CONFIG_CASES, ids=list(CONFIG_CASES))
def test_bad_chaitime_toml_is_one_line_before_any_work(ws, case):
    text, key = CONFIG_CASES[case]
    put(ws / "chaitime.toml", text)
    feed_before = (ws / "feeds" / "podcast.xml").read_bytes()
    for args in (("feed",), ("draft", EP2), ("ingest", str(ws / "episodes" / EP1 / "source.mp4"))):
        res = cli(ws, *args)
        assert_one_line(res, "chaitime.toml", key, rc=3)
    assert (ws / "feeds" / "podcast.xml").read_bytes() == feed_before
    assert sorted(p.name for p in (ws / "episodes").iterdir()) == [EP1, EP2] and not no_temp_files(ws)


# --- bad episode.toml in one episode: that episode is named; the other still works ----------------

META_CASES = {
    "meta-random-bytes": (bytes(random.Random(1).randrange(256) for _ in range(300)), "episode.toml"),
    "meta-nul-bytes": ("title = \"a\x00b\"\n", "episode.toml"),
    "meta-empty-file": ("", "title"),
    "meta-title-control-char": (None, "title"),
    "meta-title-not-text": ({"title": 5}, "title"),
    "meta-title-too-long": ({"title": "t" * 400}, "title"),
    "meta-guest-control-char": ({"guests": ["Sam\x1bOkafor"]}, "guests"),
    "meta-guests-not-list": ({"guests": "Sam"}, "guests"),
    "meta-description-control-char": ({"description": "ok\x07"}, "description"),
    "meta-date-invalid": ({"date": "2026-13-40"}, "date"),
    "meta-number-negative": ({"number": -3}, "number"),
    "meta-speakers-not-table": ({"speakers": "host"}, "speakers"),
    "meta-speaker-name-not-text": ({"speakers": {"S1": 5}}, "speakers"),
}


def _meta_with(ws: Path, change) -> bytes | str:
    if isinstance(change, (bytes, str)):
        return change
    data = tomllib.loads((ws / "episodes" / EP1 / "episode.toml").read_text())
    if change is None:  # what `--title "$(printf 'a\x01b')"` wrote before validation
        return (ws / "episodes" / EP1 / "episode.toml").read_text().replace('title = "First"', 'title = "a\\u0001b"')
    data.update(change)
    return tomli_w.dumps(data)


@pytest.mark.parametrize("case", META_CASES, ids=list(META_CASES))
def test_bad_episode_toml_names_it_and_spares_the_other_episode(ws, case):
    change, key = META_CASES[case]
    path = ws / "episodes" / EP1 / "episode.toml"
    put(path, _meta_with(ws, change))
    feed_before = (ws / "feeds" / "podcast.xml").read_bytes()
    res = cli(ws, "feed")
    assert_one_line(res, str(path), key, rc=3)
    assert (ws / "feeds" / "podcast.xml").read_bytes() == feed_before
    check = cli(ws, "check", "--no-loudness")
    assert check.rc == 1 and "Traceback" not in check.err and f"episodes/{EP1}" in check.err
    assert_other_episode_works(ws)
    assert not no_temp_files(ws)


# --- files read back: transcript.json, chapters.json, audio.mp3, edit.md ----------------------------

def _transcript_bytes(ws: Path, kind: str) -> bytes | str:
    good = (ws / "episodes" / EP1 / "transcript.json").read_text()
    data = json.loads(good)
    return {
        "list": "[1, 2]",
        "null": "null",
        "random-bytes": bytes(random.Random(2).randrange(256) for _ in range(500)),
        "truncated": good[: len(good) // 2],
        "segments-not-list": json.dumps({**data, "segments": "x"}),
        "start-not-number": json.dumps({**data, "segments": [{**data["segments"][0], "start": "zero"}]}),
        "words-not-objects": json.dumps({**data, "segments": [{**data["segments"][0], "words": [1, 2]}]}),
        "nan-time": good.replace('"start": 0', '"start": NaN', 1) if '"start": 0' in good else json.dumps(
            {**data, "segments": [{**data["segments"][0], "start": float("nan")}]}),
    }[kind]


TRANSCRIPT_CASES = ["list", "null", "random-bytes", "truncated", "segments-not-list", "start-not-number", "words-not-objects", "nan-time"]


@pytest.mark.parametrize("kind", TRANSCRIPT_CASES, ids=[f"transcript-{k}" for k in TRANSCRIPT_CASES])
def test_bad_transcript_json_names_it(ws, kind):
    path = ws / "episodes" / EP1 / "transcript.json"
    put(path, _transcript_bytes(ws, kind))
    res = cli(ws, "publish", "--out", "public")
    assert_one_line(res, str(path), "ingest --force", rc=2)
    assert not (ws / "public").exists() and not no_temp_files(ws)
    assert_other_episode_works(ws)


CHAPTER_CASES = {
    "chapters-list": "[1, 2]",
    "chapters-random-bytes": bytes(random.Random(3).randrange(256) for _ in range(200)),
    "chapters-start-not-number": '{"version": "1.2.0", "chapters": [{"startTime": "soon", "title": "x"}]}',
    "chapters-missing-key": '{"version": "1.2.0"}',
}


@pytest.mark.parametrize("case", CHAPTER_CASES, ids=list(CHAPTER_CASES))
def test_bad_chapters_json_names_it(ws, case):
    path = ws / "episodes" / EP1 / "chapters.json"
    put(path, CHAPTER_CASES[case])
    feed_before = (ws / "feeds" / "podcast.xml").read_bytes()
    assert_one_line(cli(ws, "feed"), str(path), rc=2)
    assert (ws / "feeds" / "podcast.xml").read_bytes() == feed_before
    assert_other_episode_works(ws)


def test_control_characters_in_chapter_titles_never_reach_the_feed(ws):
    """A chapter title is host-edited text: the feed (XML forbids these) drops them, no traceback."""
    from lxml import etree

    put(ws / "episodes" / EP1 / "chapters.json", json.dumps({"version": "1.2.0", "chapters": [{"startTime": 0, "title": "Intro\x01\x1b here"}]}))
    res = cli(ws, "feed")
    assert res.rc == 0, res.err
    raw = (ws / "feeds" / "podcast.xml").read_bytes()
    etree.fromstring(raw)
    assert b"\x01" not in raw and b"\x1b" not in raw
    # The feed's description is the post's show notes now; the chapter titles reach the page.
    res = cli(ws, "publish", "--out", "public")
    assert res.rc == 0, res.err
    page = (ws / "public" / "episodes" / EP1 / "index.html").read_text(encoding="utf-8")
    assert "Intro here" in page and "\x01" not in page


def _mp3_bytes(ws: Path, kind: str) -> bytes:
    good = (ws / "episodes" / EP1 / "audio.mp3").read_bytes()
    return {"truncated-in-tag": good[:2000], "truncated-mid-audio": good[: len(good) // 2], "empty": b"",
            "random-bytes": bytes(random.Random(4).randrange(256) for _ in range(5000))}[kind]


MP3_CASES = ["truncated-in-tag", "truncated-mid-audio", "empty", "random-bytes"]


@pytest.mark.parametrize("kind", MP3_CASES, ids=[f"audio-mp3-{k}" for k in MP3_CASES])
def test_bad_audio_mp3_names_it(ws, kind):
    path = ws / "episodes" / EP1 / "audio.mp3"
    put(path, _mp3_bytes(ws, kind))
    feed_before = (ws / "feeds" / "podcast.xml").read_bytes()
    assert_one_line(cli(ws, "feed"), str(path), "ingest --force", rc=2)
    assert (ws / "feeds" / "podcast.xml").read_bytes() == feed_before
    assert_other_episode_works(ws)


EDIT_CASES = {
    "edit-md-random-bytes": (bytes(random.Random(5).randrange(128, 256) for _ in range(400)), "UTF-8"),
    "edit-md-nul-bytes": ("hello\x00world\n", "NUL"),
    "edit-md-unclosed-strike": (None, "~~"),
    "edit-md-time-changed": ("[99:99] nobody said this\n", "line 1"),
}


@pytest.mark.parametrize("case", EDIT_CASES, ids=list(EDIT_CASES))
def test_bad_edit_md_names_it_and_renders_nothing(ws, case):
    data, key = EDIT_CASES[case]
    path = ws / "episodes" / EP1 / "edit.md"
    if data is None:
        lines = path.read_text(encoding="utf-8").splitlines()
        n = next(i for i, ln in enumerate(lines) if ln.startswith("["))
        lines[n] = lines[n].replace("] ", "] ~~", 1)
        data = "\n".join(lines) + "\n"
    put(path, data)
    audio = (ws / "episodes" / EP1 / "audio.mp3").stat()
    res = cli(ws, "render", EP1, "--quiet")
    assert_one_line(res, "edit.md", key, rc=2)
    after = (ws / "episodes" / EP1 / "audio.mp3").stat()
    assert (after.st_ino, after.st_size) == (audio.st_ino, audio.st_size) and not no_temp_files(ws)
    assert_other_episode_works(ws)


# --- command-line text: checked before anything is written ------------------------------------------

INGEST_CASES = {
    "ingest-title-control-char": (["--title", "a\x01b"], "--title"),
    "ingest-title-escape-sequence": (["--title", "\x1b[31mred"], "--title"),
    "ingest-title-newline": (["--title", "two\nlines"], "--title"),
    "ingest-title-empty": (["--title", ""], "--title"),
    "ingest-title-too-long": (["--title", "x" * 300], "--title"),
    "ingest-guest-control-char": (["--guest", "Sam\x7f"], "--guest"),
    "ingest-language-zz": (["--language", "zz"], "--language"),
    "ingest-date-invalid": (["--date", "2026-02-30"], "--date"),
}


@pytest.mark.parametrize("case", INGEST_CASES, ids=list(INGEST_CASES))
def test_bad_ingest_options_write_nothing(ws, sample_recording, case):
    args, key = INGEST_CASES[case]
    before = {p: p.stat().st_mtime_ns for p in ws.rglob("*") if p.is_file()}
    res = sh(ws, "ingest", str(sample_recording.path), *args, "--force") if case == "ingest-title-control-char" \
        else cli(ws, "ingest", str(sample_recording.path), *args, "--force")
    assert_one_line(res, key, rc=2)
    assert {p: p.stat().st_mtime_ns for p in ws.rglob("*") if p.is_file()} == before  # nothing written, not even a lock
    assert cli(ws, "feed").rc == 0


def test_missing_engine_is_one_line(ws, tmp_path, sample_recording):
    """--engine openai-whisper where it isn't installed (hidden here by a module that fails to import)."""
    shim = tmp_path / "shim"
    shim.mkdir()
    for name in ("whisper", "torch"):
        (shim / f"{name}.py").write_text(f'raise ModuleNotFoundError("No module named {name!r}", name={name!r})\n')
    env = {"PYTHONPATH": os.pathsep.join([str(shim), *filter(None, [os.environ.get("PYTHONPATH")])])}
    res = sh(ws, "ingest", str(sample_recording.path), "--engine", "openai-whisper", "--force", env=env)
    assert_one_line(res, "openai-whisper", rc=5)
    assert not no_temp_files(ws)


@pytest.mark.parametrize("port", ["99999", "-1"], ids=["serve-port-99999", "serve-port-negative"])
def test_serve_bad_port_is_one_line(ws, port):
    assert cli(ws, "publish", "--out", "public").rc == 0
    assert_one_line(cli(ws, "serve", "public", "--port", port), "--port", rc=2)


# --- serve: only the site's files, Range headers as HTTP says -----------------------------------------

@pytest.fixture
def served(ws):
    from chaitime.publish.serve import make_server

    assert cli(ws, "publish", "--out", "public").rc == 0
    server = make_server(ws / "public", port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", ws / "public"
    server.shutdown()
    server.server_close()


def _status(url: str, headers: dict | None = None) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {})) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


SERVE_CASES = {
    "serve-no-folder-listing": ("/episodes/", None, 404),
    "serve-no-manifest": ("/.chaitime-site.json", None, 404),
    "serve-no-dot-files": ("/episodes/../.chaitime-site.json", None, 404),
    "serve-malformed-range-ignored": (f"/episodes/{EP1}/audio.mp3", {"Range": "bytes=abc"}, 200),
    "serve-multi-range-ignored": (f"/episodes/{EP1}/audio.mp3", {"Range": "bytes=0-1,5-9"}, 200),
    "serve-range-past-end-416": (f"/episodes/{EP1}/audio.mp3", {"Range": "bytes=999999999-"}, 416),
}


@pytest.mark.parametrize("case", SERVE_CASES, ids=list(SERVE_CASES))
def test_serve_answers(served, case):
    base, out = served
    path, headers, expected = SERVE_CASES[case]
    status, body = _status(base + path, headers)
    assert status == expected
    if expected == 200:
        assert body == (out / path.lstrip("/")).read_bytes()


# --- media that is wrong in ways ffmpeg accepts: notes at ingest, the right loudness ----------------

def _ingest_notes(ws: Path, recording: Path) -> list[str]:
    res = cli(ws, "ingest", str(recording), "--speakers", "1")
    assert res.rc == 0, res.err
    return [ln.strip()[len("note: "):] for ln in res.out.splitlines() if ln.strip().startswith("note: ")]


def test_truncated_wav_is_noted(ws, sample_recording, ffmpeg_bin):
    wav = ws / "cut.wav"
    subprocess.run([ffmpeg_bin, "-loglevel", "error", "-i", str(sample_recording.path), "-t", "8", "-ac", "1", "-ar", "16000", str(wav)], check=True)
    data = wav.read_bytes()
    put(wav, data[: len(data) // 2])
    assert any("cut.wav ends early" in n and "truncated" in n for n in _ingest_notes(ws, wav))


def test_truncated_mp4_is_noted(ws, sample_recording, ffmpeg_bin):
    """A faststart MP4 (the index first) cut off mid-file: the header promises the whole length."""
    whole, mp4 = ws / "whole.mp4", ws / "cut.mp4"
    subprocess.run([ffmpeg_bin, "-loglevel", "error", "-i", str(sample_recording.path), "-t", "10", "-c", "copy", "-movflags", "+faststart",
                    str(whole)], check=True)
    data = whole.read_bytes()
    put(mp4, data[: len(data) // 2])
    assert any("cut.mp4 ends early" in n for n in _ingest_notes(ws, mp4))


def test_silence_is_noted(ws):
    from chaitime import sample

    wav = ws / "silence.wav"
    sample.write_wav(wav, np.zeros(16000 * 30, np.int16), 16000, channels=1)
    assert any("nearly silent" in n for n in _ingest_notes(ws, wav))


def test_a_broken_episode_does_not_stop_ingesting_another(ws):
    """episode.toml of one episode damaged: a new recording is still ingested; the feed (which
    needs every episode) is left as it was, with a note naming the file."""
    from chaitime import sample

    bad = ws / "episodes" / EP1 / "episode.toml"
    put(bad, _meta_with(ws, None))
    feed_before = (ws / "feeds" / "podcast.xml").read_bytes()
    wav = ws / "quiet.wav"
    sample.write_wav(wav, np.zeros(16000 * 5, np.int16), 16000, channels=1)
    notes = _ingest_notes(ws, wav)
    assert any(n.startswith("the feed was not refreshed") and str(bad) in n for n in notes), notes
    assert (ws / "episodes" / "quiet" / "audio.mp3").is_file()
    assert (ws / "feeds" / "podcast.xml").read_bytes() == feed_before


def test_dialogue_in_the_centre_of_5_1_reaches_the_target(ws, sample_recording, ffmpeg_bin):
    """5.1 with speech only in the centre channel: measured on the stereo downmix it is mastered
    from, so the MP3 lands on -16 LUFS (was -23.8: measured on six channels)."""
    wav = ws / "centre.wav"
    pan = "pan=5.1|FL=0*c0|FR=0*c0|FC=c0|LFE=0*c0|BL=0*c0|BR=0*c0"
    subprocess.run([ffmpeg_bin, "-loglevel", "error", "-i", str(sample_recording.path), "-t", "10", "-af", pan, "-ar", "48000", str(wav)], check=True)
    _ingest_notes(ws, wav)
    (ep,) = [p for p in (ws / "episodes").iterdir() if p.name.startswith("centre")]
    before = json.loads((ep / ".chaitime" / "loudness.json").read_text())["integrated_lufs"]
    assert abs(ebur128(ffmpeg_bin, ep / ".chaitime" / "master.flac")["I"] - before) <= 0.2
    assert abs(ebur128(ffmpeg_bin, ep / "audio.mp3")["I"] + 16.0) <= 0.5


# --- hostile strings through post.md, the site and the feed ------------------------------------------

ALLOWED_TAGS = {"html", "head", "meta", "title", "link", "body", "header", "a", "img", "main", "footer", "script", "article", "p",
                "h1", "h2", "h3", "h4", "h5", "h6", "time", "span", "section", "ol", "ul", "li", "div", "audio", "video", "strong",
                "em", "code", "pre", "blockquote", "hr", "br", "button", "output", "nav", "form", "label", "input", "track"}


def assert_inert(root, where: str) -> None:
    """No markup from user text: only the tags our templates use, no on* or style attributes, no
    script URLs, scripts only our player."""
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        assert el.tag.lower() in ALLOWED_TAGS, (where, el.tag)
        for name, value in el.attrib.items():
            assert not name.lower().startswith("on") and name.lower() != "style", (where, el.tag, name, value)
            squashed = "".join(value.split()).lower()
            assert not squashed.startswith(("javascript:", "vbscript:", "data:")), (where, el.tag, name, value)
        if el.tag == "script" and el.get("type") == "application/ld+json":
            # JSON-LD: data, never code; user text can't close the element (<, > and & are \u escapes).
            json.loads(el.text or "")
            assert "<" not in (el.text or "") and set(el.attrib) == {"type"}, where
        elif el.tag == "script":
            assert el.get("src", "").endswith("static/player.js") and not (el.text or "").strip(), where
        if el.tag == "meta":
            assert set(el.attrib) <= {"charset", "name", "content", "property"} and el.get("http-equiv") is None, where
        if el.tag == "img":
            assert el.get("src", "").rsplit("/", 1)[-1].startswith("cover."), where


@pytest.fixture(scope="module")
def hostile_site(template, tmp_path_factory):
    """Every hostile string as a guest name (names go into post.md), in the episode's and the
    show's description, and as chapter titles; post.md drafted, the site built, the feed written."""
    root = tmp_path_factory.mktemp("hostile") / "show"
    shutil.copytree(template, root, copy_function=_copy)
    ep = root / "episodes" / EP1
    meta = tomllib.loads((ep / "episode.toml").read_text())
    meta.update(guests=HOSTILE, description="\n\n".join(HOSTILE[:30]), title=HOSTILE[1])
    put(ep / "episode.toml", tomli_w.dumps(meta))
    put(ep / "chapters.json", json.dumps({"version": "1.2.0", "chapters": [{"startTime": i, "title": s} for i, s in enumerate(HOSTILE)]}))
    config = tomllib.loads((root / "chaitime.toml").read_text())
    config["show"].update(description="\n".join(HOSTILE[30:]), author=HOSTILE[0])
    put(root / "chaitime.toml", tomli_w.dumps(config))
    for args in (("draft", EP1), ("publish", "--out", "public"), ("feed",)):
        res = cli(root, *args)
        assert res.rc == 0 and "Traceback" not in res.err, (args, res.err)
    return root


def test_hostile_strings_leave_no_markup_in_the_site_or_the_feed(hostile_site):
    import lxml.html
    from lxml import etree

    pages = sorted((hostile_site / "public").rglob("*.html"))
    assert len(pages) == 5  # the index, two episode pages, two embed pages
    for page in pages:
        assert_inert(lxml.html.parse(str(page)).getroot(), str(page))
    # The items' description and content:encoded are HTML (the channel's description is plain text).
    feed = etree.parse(str(hostile_site / "feeds" / "podcast.xml"))
    bodies = [el.text for item in feed.iter("item") for el in item if el.tag.endswith(("description", "encoded")) and el.text]
    assert len(bodies) >= 2 and "alert" in "".join(bodies)
    for body in bodies:
        assert_inert(lxml.html.fragment_fromstring(body, create_parent="div"), "feed")


@pytest.mark.parametrize("text", HOSTILE, ids=[f"hostile-{i:02d}" for i in range(len(HOSTILE))])
def test_hostile_string_is_shown_as_text(hostile_site, text):
    """Each string reaches the page and the feed as the text the host typed, markup inert."""
    import lxml.html
    from lxml import etree

    page = lxml.html.parse(str(hostile_site / "public" / "episodes" / EP1 / "index.html")).getroot()
    byline = page.find_class("byline")[0].text_content()
    assert text in byline
    chapters = [li.text_content() for li in page.find_class("chapters")[0]]
    assert any(text in c for c in chapters)
    post = (hostile_site / "episodes" / EP1 / "post.md").read_text(encoding="utf-8")
    assert json.dumps(text, ensure_ascii=False) in post  # the front matter keeps the name exactly
    feed = etree.parse(str(hostile_site / "feeds" / "podcast.xml"))
    persons = [el.text for el in feed.iter("{https://podcastindex.org/namespace/1.0}person")]
    assert text in persons


# --- fuzz: random bytes, truncations and wrong JSON types into every file chaitime reads --------------

def _mutations(good: bytes, rng: random.Random, json_file: bool) -> list[bytes]:
    flipped = bytearray(good)
    for _ in range(max(1, len(good) // 50)):
        flipped[rng.randrange(len(flipped))] = rng.randrange(256)
    out = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400))), good[: rng.randrange(len(good))], bytes(flipped),
           good[: len(good) // 3] + b"\x00" * 7 + good[len(good) // 3 :]]
    if json_file:
        out += [json.dumps(v).encode() for v in (None, 1, "x", [1, 2], {"segments": {}}, {"chapters": [None]}, {"version": [1]})]
    return out


FUZZ_TARGETS = {
    "chaitime.toml": ("chaitime.toml", [("check", "--no-loudness"), ("feed",), ("draft", EP1)]),
    "episode.toml": (f"episodes/{EP1}/episode.toml", [("check", "--no-loudness"), ("feed",), ("draft", EP1), ("render", EP1, "--quiet")]),
    "transcript.json": (f"episodes/{EP1}/transcript.json", [("draft", EP1), ("publish", "--out", "public")]),
    "chapters.json": (f"episodes/{EP1}/chapters.json", [("check", "--no-loudness"), ("feed",), ("draft", EP1)]),
    "edit.md": (f"episodes/{EP1}/edit.md", [("render", EP1, "--quiet")]),
    "audio.mp3": (f"episodes/{EP1}/audio.mp3", [("check", "--no-loudness"), ("feed",), ("publish", "--out", "public")]),
}


@pytest.mark.parametrize("target", FUZZ_TARGETS, ids=[f"fuzz-{t}" for t in FUZZ_TARGETS])
def test_fuzz_never_gives_a_traceback(ws, target):
    rel, commands = FUZZ_TARGETS[target]
    path = ws / rel
    good = path.read_bytes()
    if target == "audio.mp3":
        good = good[:60_000]  # the ID3 tag and the first frames: enough to damage, quick to read
    rng = random.Random(f"fuzz-{target}")
    failures = []
    for n, data in enumerate(_mutations(good, rng, rel.endswith(".json"))):
        put(path, data)
        for args in commands:
            res = cli(ws, *args)
            if "Traceback" in res.err + res.out or "internal error" in res.err or res.rc not in (0, 1, 2, 3, 4, 5, 6) \
                    or (res.rc != 0 and len(res.err_lines) != 1 and args[0] != "check"):
                failures.append((n, args, res.rc, res.err[-400:]))
    assert not failures, failures
    assert not no_temp_files(ws)
