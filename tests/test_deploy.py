"""chaitime deploy against real servers: moto's S3 server, the rsync binary, a bare git repository.

The site folder is built by hand (a feed, an index, one episode's audio): no ingest, no Whisper."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from chaitime.errors import ChaitimeError, ConfigError, InputError, ToolError
from chaitime.publish import deploy as dep

AUDIO = "episodes/x/audio.mp3"
FEED = "podcast.xml"


def build_site(root: Path) -> Path:
    site = root / "public"
    (site / "episodes" / "x").mkdir(parents=True)
    (site / AUDIO).write_bytes(b"ID3" + bytes(range(256)) * 40)
    (site / "episodes" / "x" / "transcript.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:01.000\nhi\n")
    (site / "episodes" / "x" / "index.html").write_text("<html>x</html>")
    (site / "index.html").write_text("<html>index</html>")
    (site / FEED).write_text(f'<?xml version="1.0"?><rss><channel><enclosure url="{AUDIO}"/></channel></rss>')
    (site / "sitemap.xml").write_text('<?xml version="1.0"?><urlset/>')
    (site / ".chaitime-site.json").write_text("[]")  # publish's own manifest: never deployed
    return site


@pytest.fixture
def site(tmp_path) -> Path:
    return build_site(tmp_path)


# --- pure rules ---------------------------------------------------------------------------------

def test_order_types_and_cache():
    entries = dep.scan_site(build_site(Path(__import__("tempfile").mkdtemp())))
    rels = [e.rel for e in entries]
    assert ".chaitime-site.json" not in rels
    assert rels[-1] == FEED and rels[-2] == "sitemap.xml"
    assert rels.index(AUDIO) < rels.index("index.html")
    assert dep.content_type("a/b.vtt") == "text/vtt; charset=utf-8"
    assert dep.content_type("a/b.srt") == "application/x-subrip"
    assert dep.content_type("b.json") == "application/json"
    assert dep.content_type(FEED) == "application/rss+xml; charset=utf-8"
    assert dep.content_type("sitemap.xml") == "application/xml"
    assert dep.content_type("a.mp3") == "audio/mpeg" and dep.content_type("a.mp4") == "video/mp4"
    assert dep.content_type("index.html") == "text/html; charset=utf-8"
    assert dep.cache_control(FEED) == dep.SHORT_CACHE == dep.cache_control("index.html")
    assert dep.cache_control("a.mp3") == dep.LONG_CACHE


@pytest.mark.parametrize("target,kind", [("s3://b/p", "s3"), ("rsync://h/m/p", "rsync"), ("me@host:www", "rsync"),
                                         ("host:www", "rsync"), ("/srv/www", "rsync"), ("./out", "rsync")])
def test_target_kinds(target, kind):
    assert dep.target_kind(target) == kind


@pytest.mark.parametrize("target", ["ftp://x/y", "https://github.com/a/b", ""])
def test_bad_targets_are_input_errors(target):
    with pytest.raises(InputError):
        dep.target_kind(target)


def test_missing_or_unbuilt_site(tmp_path):
    with pytest.raises(InputError, match="chaitime publish"):
        dep.deploy(tmp_path / "public", str(tmp_path / "out"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="not a built site"):
        dep.deploy(tmp_path / "empty", str(tmp_path / "out"))


# --- S3 (moto server) ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def s3_server():
    pytest.importorskip("boto3")
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_server, monkeypatch):
    import uuid

    import boto3

    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client = boto3.client("s3", endpoint_url=s3_server)
    bucket = f"show-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    return client, bucket, s3_server


def keys(client, bucket) -> set[str]:
    return {o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])}


class Counting:
    """The real boto3 client, counting uploads (and failing one key when told): a unit-test wrapper."""

    def __init__(self, client, fail_on: str | None = None):
        self.client, self.fail_on, self.uploads = client, fail_on, []

    def upload_file(self, filename, bucket, key, **kw):
        if self.fail_on and key.endswith(self.fail_on):
            raise OSError(5, "Input/output error")
        self.uploads.append(key)
        return self.client.upload_file(filename, bucket, key, **kw)

    def __getattr__(self, name):
        return getattr(self.client, name)


def test_s3_full_then_nothing_then_one_then_removal(site, s3):
    client, bucket, endpoint = s3
    target = f"s3://{bucket}/show"
    events = []
    first = dep.deploy(site, target, endpoint_url=endpoint, progress=lambda *a: events.append(a))
    assert len(first.uploaded) == 6 and first.unchanged == 0 and not first.removed
    assert keys(client, bucket) == {f"show/{e.rel}" for e in dep.scan_site(site)} | {"show/.chaitime-deploy.json"}
    assert events and events[-1][0] == "upload"
    manifest = json.loads(client.get_object(Bucket=bucket, Key="show/.chaitime-deploy.json")["Body"].read())
    assert set(manifest["files"]) == {e.rel for e in dep.scan_site(site)}

    head = client.head_object(Bucket=bucket, Key=f"show/{FEED}")
    assert head["ContentType"] == "application/rss+xml; charset=utf-8" and head["CacheControl"] == "public, max-age=300"
    head = client.head_object(Bucket=bucket, Key=f"show/{AUDIO}")
    assert head["ContentType"] == "audio/mpeg" and head["CacheControl"] == "public, max-age=86400"
    assert head["Metadata"]["sha256"] == dep.sha256_file(site / AUDIO)
    assert client.head_object(Bucket=bucket, Key="show/episodes/x/transcript.vtt")["ContentType"] == "text/vtt; charset=utf-8"
    assert client.head_object(Bucket=bucket, Key="show/index.html")["ContentType"] == "text/html; charset=utf-8"

    counting = Counting(client)
    second = dep.deploy_s3(dep.scan_site(site), target, client=counting)
    assert counting.uploads == [] and second.unchanged == 6 and not second.removed

    (site / "index.html").write_text("<html>new index</html>")
    counting = Counting(client)
    third = dep.deploy_s3(dep.scan_site(site), target, client=counting)
    assert counting.uploads == ["show/index.html"] and [r for r, _ in third.uploaded] == ["index.html"]

    (site / "sitemap.xml").unlink()
    plan = dep.deploy(site, target, endpoint_url=endpoint, dry_run=True)
    assert plan.removed == ("sitemap.xml",) and not plan.uploaded and "show/sitemap.xml" in keys(client, bucket)
    fourth = dep.deploy(site, target, endpoint_url=endpoint)
    assert fourth.removed == ("sitemap.xml",) and "show/sitemap.xml" not in keys(client, bucket)
    assert fourth.summary() == f"s3://{bucket}/show: 0 uploaded, 5 unchanged, 1 removed"


def test_s3_failure_mid_upload_keeps_the_old_feed(site, s3):
    client, bucket, endpoint = s3
    target = f"s3://{bucket}"
    dep.deploy(site, target, endpoint_url=endpoint)
    old_feed = client.get_object(Bucket=bucket, Key=FEED)["Body"].read()

    # A new episode, a new feed pointing at it, and the old sitemap gone; the new audio fails.
    (site / "episodes" / "y").mkdir()
    (site / "episodes" / "y" / "audio.mp3").write_bytes(b"ID3 new")
    (site / FEED).write_text('<?xml version="1.0"?><rss><enclosure url="episodes/y/audio.mp3"/></rss>')
    (site / "sitemap.xml").unlink()
    with pytest.raises(InputError, match="previous feed is still"):
        dep.deploy_s3(dep.scan_site(site), target, client=Counting(client, fail_on="y/audio.mp3"))
    assert client.get_object(Bucket=bucket, Key=FEED)["Body"].read() == old_feed
    assert {AUDIO, "sitemap.xml"} <= keys(client, bucket)  # nothing removed before the feed went up

    done = dep.deploy(site, target, endpoint_url=endpoint)  # the rerun finishes it
    assert {r for r, _ in done.uploaded} == {"episodes/y/audio.mp3", FEED} and done.removed == ("sitemap.xml",)
    assert b"episodes/y" in client.get_object(Bucket=bucket, Key=FEED)["Body"].read()


def test_s3_missing_bucket_and_credentials(site, s3, monkeypatch):
    _, _, endpoint = s3
    with pytest.raises(InputError, match="no such bucket"):
        dep.deploy(site, "s3://no-such-bucket-here/p", endpoint_url=endpoint)
    with pytest.raises(InputError, match="bucket"):
        dep.parse_s3("s3:///p")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(ConfigError, match="no S3 credentials"):
        dep.deploy(site, "s3://anything/p", endpoint_url=endpoint)


def test_s3_without_boto3_says_how_to_install(site, monkeypatch):
    import builtins

    real = builtins.__import__

    def no_boto3(name, *a, **kw):
        if name == "boto3":
            raise ImportError("no boto3")
        return real(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", no_boto3)
    with pytest.raises(ToolError, match=r'pip install "chaitime\[s3\]"'):
        dep.deploy(site, "s3://bucket/p")


# --- rsync to a local folder --------------------------------------------------------------------

needs_rsync = pytest.mark.skipif(shutil.which("rsync") is None, reason="rsync is not on PATH")


@needs_rsync
def test_rsync_full_then_nothing_then_one_then_removal(site, tmp_path):
    dest = tmp_path / "www"
    first = dep.deploy(site, str(dest))
    assert len(first.uploaded) == 6 and not (dest / ".chaitime-site.json").exists()
    assert (dest / AUDIO).read_bytes() == (site / AUDIO).read_bytes()
    assert dep.deploy(site, str(dest)).uploaded == ()
    (site / "index.html").write_text("<html>changed</html>")
    assert [r for r, _ in dep.deploy(site, str(dest)).uploaded] == ["index.html"]
    shutil.rmtree(site / "episodes" / "x")
    (site / "sitemap.xml").unlink()
    plan = dep.deploy(site, str(dest), dry_run=True)
    assert set(plan.removed) == {"sitemap.xml", AUDIO, "episodes/x/index.html", "episodes/x/transcript.vtt"}
    assert (dest / AUDIO).exists()
    done = dep.deploy(site, str(dest))
    assert set(done.removed) == set(plan.removed) and not (dest / AUDIO).exists() and (dest / FEED).exists()


@needs_rsync
def test_rsync_order_feed_last_and_failure_keeps_old_feed(site, tmp_path, monkeypatch):
    dest = tmp_path / "www"
    dep.deploy(site, str(dest))
    old_feed = (dest / FEED).read_text()
    (site / FEED).write_text("<rss>new</rss>")
    (site / "episodes" / "x" / "new.mp3").write_bytes(b"new")
    real, calls = dep._rsync, []

    def failing_second_pass(args, *a, **kw):
        calls.append(args)
        if len(calls) == 2:
            raise ToolError("rsync failed: connection lost")
        return real(args, *a, **kw)

    monkeypatch.setattr(dep, "_rsync", failing_second_pass)
    with pytest.raises(ToolError):
        dep.deploy(site, str(dest))
    assert (dest / "episodes" / "x" / "new.mp3").exists() and (dest / FEED).read_text() == old_feed


def test_rsync_missing_is_one_clear_error(site, tmp_path, monkeypatch):
    monkeypatch.setattr(dep.shutil, "which", lambda name: None)
    with pytest.raises(ToolError, match="rsync is not installed"):
        dep.deploy(site, str(tmp_path / "www"))


# --- git (GitHub Pages) -------------------------------------------------------------------------

def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def bare(tmp_path) -> Path:
    repo = tmp_path / "show.git"
    git("init", "-q", "--bare", str(repo))
    return repo


def test_git_pages_commit_then_none_then_one(site, bare, tmp_path):
    first = dep.deploy(site, str(bare), git_branch="gh-pages")
    assert first.commit and len(first.uploaded) == 6
    clone = tmp_path / "clone"
    git("clone", "-q", "--branch", "gh-pages", str(bare), str(clone))
    assert (clone / AUDIO).read_bytes() == (site / AUDIO).read_bytes()
    assert (clone / ".nojekyll").exists() and not (clone / ".chaitime-site.json").exists()
    assert git("rev-list", "--count", "gh-pages", cwd=bare).strip() == "1"

    again = dep.deploy(site, str(bare), git_branch="gh-pages")
    assert again.commit is None and again.uploaded == () and again.unchanged == 6
    assert git("rev-list", "--count", "gh-pages", cwd=bare).strip() == "1"

    (site / "index.html").write_text("<html>new</html>")
    (site / "sitemap.xml").unlink()
    plan = dep.deploy(site, str(bare), git_branch="gh-pages", dry_run=True)
    assert [r for r, _ in plan.uploaded] == ["index.html"] and plan.removed == ("sitemap.xml",) and plan.commit is None
    assert git("rev-list", "--count", "gh-pages", cwd=bare).strip() == "1"
    third = dep.deploy(site, str(bare), git_branch="gh-pages")
    assert third.commit and git("rev-list", "--count", "gh-pages", cwd=bare).strip() == "2"
    git("-C", str(clone), "pull", "-q")
    assert (clone / "index.html").read_text() == "<html>new</html>" and not (clone / "sitemap.xml").exists()


def test_git_bad_repository(site, tmp_path):
    with pytest.raises(InputError, match="no such git repository"):
        dep.deploy(site, str(tmp_path / "nope.git"), git_branch="gh-pages")
    (tmp_path / "plain").mkdir()
    with pytest.raises(InputError, match="not a git repository"):
        dep.deploy(site, str(tmp_path / "plain"), git_branch="gh-pages")


# --- the command line -----------------------------------------------------------------------------

@needs_rsync
def test_cli_summary_dry_run_and_errors(site, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from chaitime.cli import _register
    from chaitime.cli.base import cli

    _register()
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    dry = runner.invoke(cli, ["deploy", "www", "--dry-run"], standalone_mode=False)
    assert dry.exit_code == 0, dry.output
    assert f"upload  {AUDIO}" in dry.output and "6 to upload" in dry.output and not (tmp_path / "www").exists()
    done = runner.invoke(cli, ["deploy", "www"])
    assert done.exit_code == 0 and done.output.strip().endswith("www: 6 uploaded, 0 unchanged, 0 removed")
    with pytest.raises(ChaitimeError, match="run `chaitime publish"):
        runner.invoke(cli, ["deploy", "www", "--from", "nothere"], standalone_mode=False, catch_exceptions=False)
    (tmp_path / "chaitime.toml").write_text('[deploy]\ntarget = "www2"\n')  # TARGET from [deploy] target
    from_config = runner.invoke(cli, ["deploy"])
    assert from_config.exit_code == 0 and "www2: 6 uploaded" in from_config.output and (tmp_path / "www2" / FEED).is_file()
    (tmp_path / "chaitime.toml").unlink()
    exe = shutil.which("chaitime")
    if exe:  # through main(): one line on stderr, the exit code of an InputError
        proc = subprocess.run([exe, "deploy", "ftp://x"], cwd=tmp_path, capture_output=True, text=True)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
