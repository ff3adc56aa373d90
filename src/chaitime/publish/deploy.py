"""`chaitime deploy`: put a built site folder (``chaitime publish --out public``) on a host.

Three kinds of target, one order: files are compared by content (SHA-256), only new and changed
ones are sent, media and everything else first, then the HTML pages, then the feeds (the podcast
feed last of all), and only then are files no longer in the site removed. A failure part way
leaves the previous feed in place, and it points only at media that are still there.

- ``s3://BUCKET/PREFIX`` (AWS S3, or R2/B2/MinIO with ``endpoint_url``): boto3, imported here
  lazily (``pip install "chaitime[s3]"``). A manifest object ``PREFIX/.chaitime-deploy.json``
  (path -> sha256) says what is there, so a deploy with no changes sends nothing.
- ``rsync://...``, ``user@host:path`` or a local folder: the rsync binary, ``--checksum``, three
  passes (media, pages, feed with ``--delete-after``).
- a git repository (path or URL) with ``git_branch`` (GitHub Pages): one commit on that branch,
  made in a temporary git folder and pushed; none when the tree did not change.

Library code never prints: ``progress(stage, done, total, unit)`` is called as work goes on.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ChaitimeError, ConfigError, InputError, ToolError
from .mediatypes import content_type
from .site import MANIFEST as SITE_MANIFEST
from .urls import FEED_NAME

DEPLOY_MANIFEST = ".chaitime-deploy.json"
INDEX_NAME = "index.html"
SHORT_CACHE = "public, max-age=300"  # feed, pages, sitemap, search index, styles: they change in place
LONG_CACHE = "public, max-age=86400"  # media and images: a new episode is a new file
S3_INSTALL = 'S3 deploys need boto3: pip install "chaitime[s3]"'
LONG_LIVED = ("audio/", "video/", "image/", "font/")

Progress = Callable[..., None]


@dataclass(frozen=True)
class SiteEntry:
    """One file of the built site."""

    rel: str  # posix path inside the site folder
    path: Path
    size: int
    sha256: str

    @property
    def phase(self) -> int:
        """Upload order: 0 media and the rest, 1 pages, 2 other XML (sitemap), 3 the podcast feed."""
        return phase(self.rel)


@dataclass(frozen=True)
class DeployReport:
    target: str
    uploaded: tuple[tuple[str, int], ...]  # (path, size) sent, or to send on a dry run
    unchanged: int
    removed: tuple[str, ...]
    dry_run: bool = False
    commit: str | None = None  # git: the new commit, None when there was nothing to commit
    notes: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> str:
        verb = ("to upload", "unchanged", "to remove") if self.dry_run else ("uploaded", "unchanged", "removed")
        return (f"{self.target}: {len(self.uploaded)} {verb[0]}, {self.unchanged} {verb[1]}, {len(self.removed)} {verb[2]}"
                + (" (dry run: nothing changed)" if self.dry_run else ""))


def phase(rel: str) -> int:
    name = rel.rsplit("/", 1)[-1].lower()
    if name == FEED_NAME:
        return 3
    if name.endswith(".xml"):
        return 2
    if name.endswith((".html", ".htm")):
        return 1
    return 0


def cache_control(rel: str, path: Path | None = None) -> str:
    return LONG_CACHE if content_type(rel, path).startswith(LONG_LIVED) else SHORT_CACHE


def sha256_file(path: Path, chunk_bytes: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk_bytes):
            h.update(block)
    return h.hexdigest()


def _skipped(rel: str) -> bool:
    parts = rel.split("/")
    return rel in (SITE_MANIFEST, DEPLOY_MANIFEST) or ".git" in parts


def require_site(folder: Path) -> None:
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder. Build the site first: run `chaitime publish --out {folder}`.")
    if not (folder / FEED_NAME).is_file() and not (folder / INDEX_NAME).is_file():
        raise InputError(f"{folder}: not a built site (no {FEED_NAME} or {INDEX_NAME}). "
                         f"Run `chaitime publish --out {folder}` first, or pass --from FOLDER.")


def scan_site(folder: Path) -> list[SiteEntry]:
    """Every file of the site folder (publish's own manifest left out), hashed, in upload order."""
    require_site(folder)
    entries = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if _skipped(rel) or not path.is_file():
            continue
        try:
            entries.append(SiteEntry(rel, path, path.stat().st_size, sha256_file(path)))
        except OSError as exc:
            raise InputError(f"{path}: can't be read ({exc.strerror or exc}); nothing was deployed. "
                             "Fix its permissions or run `chaitime publish` again.") from exc
    return ordered(entries)


def ordered(entries: list[SiteEntry]) -> list[SiteEntry]:
    return sorted(entries, key=lambda e: (e.phase, e.rel))


# --- targets ----------------------------------------------------------------------------------

_REMOTE = re.compile(r"^(?:[^@/\s]+@)?[^/:\s]+:")  # user@host:path or host:path (scp style)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
TARGET_FORMS = ("s3://BUCKET/PREFIX, rsync://HOST/MODULE/PATH, USER@HOST:PATH, a local folder, "
                "or a git repository with --git-branch gh-pages")


def target_kind(target: str, git_branch: str | None = None) -> str:
    """'s3', 'rsync' or 'git' for a TARGET string; InputError for one chaitime can't deploy to."""
    text = target.strip()
    if not text:
        raise InputError(f"no deploy target. Give one ({TARGET_FORMS}) or set [deploy] target in chaitime.toml.")
    if git_branch:
        if text.startswith(("s3://", "rsync://")):
            raise InputError(f"{target}: --git-branch needs a git repository (a path or URL), not {text.split(':', 1)[0]}://.")
        return "git"
    if text.startswith("s3://"):
        return "s3"
    if text.startswith("rsync://"):
        return "rsync"
    if _SCHEME.match(text):
        hint = " (a git repository? add --git-branch gh-pages)" if text.startswith(("https://", "http://", "ssh://", "git://")) else ""
        raise InputError(f"{target}: can't deploy there{hint}. Targets: {TARGET_FORMS}.")
    return "rsync"  # user@host:path, host:path or a local folder


def deploy(folder: Path, target: str, *, git_branch: str | None = None, endpoint_url: str | None = None,
           dry_run: bool = False, progress: Progress | None = None) -> DeployReport:
    """Deploy the built site in ``folder`` to ``target`` (see the module docstring)."""
    kind = target_kind(target, git_branch)
    entries = scan_site(Path(folder))
    if kind == "s3":
        return deploy_s3(entries, target, endpoint_url=endpoint_url, dry_run=dry_run, progress=progress)
    if kind == "git":
        return deploy_git(Path(folder), entries, target, git_branch or "gh-pages", dry_run=dry_run, progress=progress)
    return deploy_rsync(Path(folder), entries, target, dry_run=dry_run, progress=progress)


def _notify(progress: Progress | None, stage: str, done: float, total: float, unit: str) -> None:
    if progress is not None:
        progress(stage, done, total, unit)


def _half_note(what: str) -> str:
    return (f"{what}; the previous feed is still the one online (it lists only media that are still there). "
            "Run the same command again to finish")


# --- S3 ---------------------------------------------------------------------------------------

def parse_s3(target: str) -> tuple[str, str]:
    rest = target.strip()[len("s3://"):]
    bucket, _, prefix = rest.partition("/")
    if not bucket or not re.fullmatch(r"[a-zA-Z0-9._-]{3,63}", bucket):
        raise InputError(f"{target}: not a bucket name. Use s3://BUCKET/PREFIX (the prefix may be empty).")
    return bucket, prefix.strip("/")


def s3_client(endpoint_url: str | None = None) -> Any:
    try:
        import boto3  # optional extra: only S3 deploys need it
    except ImportError:
        raise ToolError(S3_INSTALL) from None
    if endpoint_url and not re.match(r"^https?://", endpoint_url):
        raise InputError(f"endpoint URL {endpoint_url!r} must start with https:// (or http://).")
    try:
        return boto3.session.Session().client("s3", endpoint_url=endpoint_url or None)
    except Exception as exc:  # botocore's configuration errors (no region, bad profile)
        raise ConfigError(f"S3 is not set up: {_one_line(exc)}. Set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY "
                          "(and AWS_DEFAULT_REGION).") from exc


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


def _s3_error(exc: BaseException, bucket: str, what: str) -> ChaitimeError:
    """Turn botocore's errors into one line a host can act on."""
    name = type(exc).__name__
    code = ""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = str(response.get("Error", {}).get("Code", ""))
    text = _one_line(exc)
    if name in ("NoCredentialsError", "PartialCredentialsError"):
        return ConfigError("no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE); "
                           "for R2/B2/MinIO use their keys and --endpoint-url. chaitime.toml never holds them.")
    if code in ("NoSuchBucket", "404", "NotFound") or "NoSuchBucket" in text:
        return InputError(f"s3://{bucket}: no such bucket (or not at this endpoint). Create it, or check the name and --endpoint-url.")
    if code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch", "Forbidden", "ExpiredToken") \
            or "AccessDenied" in text or "InvalidAccessKeyId" in text or "SignatureDoesNotMatch" in text:
        return ConfigError(f"s3://{bucket}: access denied while {what} ({code or text}). Check the credentials and their permissions on the bucket.")
    if name in ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError"):
        return ChaitimeError(f"can't reach S3 while {what}: {text}. Check the network and --endpoint-url.")
    return ChaitimeError(f"S3 failed while {what}: {text}.")


def _s3_key(prefix: str, rel: str) -> str:
    return f"{prefix}/{rel}" if prefix else rel


def read_s3_manifest(client: Any, bucket: str, prefix: str) -> dict[str, str]:
    """path -> sha256 of what the last deploy put under the prefix ({} when there is none)."""
    try:
        body = client.get_object(Bucket=bucket, Key=_s3_key(prefix, DEPLOY_MANIFEST))["Body"].read()
    except Exception as exc:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", "")) if isinstance(getattr(exc, "response", None), dict) else ""
        if code in ("NoSuchKey", "404"):
            return {}
        raise _s3_error(exc, bucket, "reading the deploy manifest") from exc
    try:
        files = json.loads(body)["files"]
        return {str(k): str(v) for k, v in files.items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        return {}  # unreadable: send everything again, remove nothing we can't name


def _write_s3_manifest(client: Any, bucket: str, prefix: str, files: dict[str, str]) -> None:
    body = (json.dumps({"version": 1, "files": dict(sorted(files.items()))}, indent=1) + "\n").encode("utf-8")
    client.put_object(Bucket=bucket, Key=_s3_key(prefix, DEPLOY_MANIFEST), Body=body,
                      ContentType="application/json", CacheControl="no-cache")


def deploy_s3(entries: list[SiteEntry], target: str, *, endpoint_url: str | None = None, dry_run: bool = False,
              progress: Progress | None = None, client: Any = None) -> DeployReport:
    bucket, prefix = parse_s3(target)
    client = client if client is not None else s3_client(endpoint_url)
    try:
        client.head_bucket(Bucket=bucket)
    except Exception as exc:
        raise _s3_error(exc, bucket, "opening the bucket") from exc
    old = read_s3_manifest(client, bucket, prefix)
    send = [e for e in entries if old.get(e.rel) != e.sha256]
    gone = sorted(set(old) - {e.rel for e in entries})
    unchanged = len(entries) - len(send)
    label = f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}"
    report = DeployReport(label, tuple((e.rel, e.size) for e in send), unchanged, tuple(gone), dry_run)
    if dry_run:
        return report
    state = dict(old)  # what is there now: written back even after a failure, so a rerun resumes
    total_mb, done = sum(e.size for e in send) / 1e6, [0]

    def sent(n: int) -> None:
        done[0] += n
        _notify(progress, "upload", done[0] / 1e6, total_mb, "MB")

    try:
        for e in send:
            extra = {"ContentType": content_type(e.rel, e.path), "CacheControl": cache_control(e.rel, e.path),
                     "Metadata": {"sha256": e.sha256}}
            try:
                client.upload_file(str(e.path), bucket, _s3_key(prefix, e.rel), ExtraArgs=extra, Callback=sent)
            except OSError as exc:
                raise InputError(_half_note(f"{e.path}: can't be read ({exc.strerror or exc})") + ".") from exc
            except Exception as exc:
                err = _s3_error(exc.__cause__ or exc if type(exc).__name__ == "S3UploadFailedError" else exc, bucket, f"uploading {e.rel}")
                raise type(err)(_half_note(str(err).rstrip(".")) + ".") from exc
            state[e.rel] = e.sha256
        for i, rel in enumerate(gone, 1):
            try:
                client.delete_object(Bucket=bucket, Key=_s3_key(prefix, rel))
            except Exception as exc:
                err = _s3_error(exc, bucket, f"removing {rel}")
                raise type(err)(f"{err} The new site is up; run again to remove the old files.") from exc
            state.pop(rel, None)
            _notify(progress, "remove", i, len(gone), " files")
    finally:
        if state != old:
            try:
                _write_s3_manifest(client, bucket, prefix, state)
            except Exception as exc:  # the uploads stand; the next deploy sends them again
                raise _s3_error(exc, bucket, "writing the deploy manifest") from exc
    return report


# --- rsync ------------------------------------------------------------------------------------

def _rsync_bin() -> str:
    found = shutil.which("rsync")
    if not found:
        raise ToolError("rsync is not installed: install it (apt install rsync, brew install rsync), "
                        "or deploy to s3://... or a git repository instead.")
    return found


def _rsync_dest(target: str) -> str:
    text = target.strip()
    if target_kind(text) != "rsync":
        raise InputError(f"{target}: not an rsync target.")
    if not is_remote_rsync(text):
        path = Path(text).expanduser()
        if not path.parent.is_dir():
            raise InputError(f"{target}: its parent folder {path.parent} does not exist. Create it, or check the path.")
        return str(path) + "/"
    return text if text.endswith("/") else text + "/"


def is_remote_rsync(target: str) -> bool:
    text = target.strip()
    return text.startswith("rsync://") or bool(_REMOTE.match(text) and not text.startswith((".", "/", "~")))


_ITEM = re.compile(r"^(\*deleting\s*|\S{11})\|(\d*)\|(.*)$")


def _rsync(args: list[str], progress: Progress | None, stage: str, total: int) -> list[tuple[str, int, str]]:
    """Run rsync with one ``%i|%l|%n`` line per item; return (flags, size, path) of each."""
    items: list[tuple[str, int, str]] = []
    try:
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace")
    except OSError as exc:
        raise ToolError(f"rsync could not start: {exc}.") from exc
    assert proc.stdout is not None and proc.stderr is not None
    for line in proc.stdout:
        m = _ITEM.match(line.rstrip("\n"))
        if not m:
            continue
        flags, size, name = m.group(1).strip(), int(m.group(2) or 0), m.group(3)
        items.append((flags, size, name))
        if flags[1:2] == "f" and flags[0] in "<>":
            _notify(progress, stage, sum(1 for f, _, _ in items if f[1:2] == "f" and f[0] in "<>"), total, " files")
    err = proc.stderr.read()
    if proc.wait() != 0:
        last = next((ln for ln in reversed(err.strip().splitlines()) if ln.strip()), f"exit status {proc.returncode}")
        raise ToolError(_half_note(f"rsync failed: {last.strip()}") + ".")
    return items


def deploy_rsync(folder: Path, entries: list[SiteEntry], target: str, *, dry_run: bool = False,
                 progress: Progress | None = None) -> DeployReport:
    rsync = _rsync_bin()
    dest = _rsync_dest(target)
    src = str(folder.resolve()) + "/"
    if not is_remote_rsync(dest) and Path(dest).expanduser().resolve().is_relative_to(folder.resolve()):
        raise InputError(f"{target}: inside the site folder {folder}. Deploy somewhere else.")
    base = [rsync, "-rlt", "--checksum", "--chmod=D755,F644", "--out-format=%i|%l|%n",
            f"--exclude=/{SITE_MANIFEST}", f"--exclude=/{DEPLOY_MANIFEST}", "--exclude=.git/"]
    pages = ["--exclude=*.html", "--exclude=*.htm", "--exclude=*.xml"]
    sent: dict[str, int] = {}
    removed: list[str] = []

    def collect(items: list[tuple[str, int, str]]) -> None:
        for flags, size, name in items:
            if flags == "*deleting":
                if not name.endswith("/") and name not in removed:
                    removed.append(name)
            elif flags[1:2] == "f" and flags[0] in "<>":
                sent[name] = size

    if dry_run:
        collect(_rsync([*base, "--dry-run", "--delete", src, dest], progress, "plan", len(entries)))
    else:
        total = len(entries)
        collect(_rsync([*base, *pages, src, dest], progress, "upload", total))  # media and the rest
        collect(_rsync([*base, f"--exclude=/{FEED_NAME}", src, dest], progress, "upload", total))  # pages, sitemap
        collect(_rsync([*base, "--delete-after", src, dest], progress, "upload", total))  # the feed; then removals
    removed_files = tuple(sorted(removed))  # folders (named with a trailing slash) left out above
    order = {e.rel: i for i, e in enumerate(entries)}
    uploaded = tuple(sorted(sent.items(), key=lambda kv: order.get(kv[0], -1)))
    label = target.strip()
    return DeployReport(label, uploaded, len(entries) - len(uploaded), removed_files, dry_run)


# --- git (GitHub Pages) -----------------------------------------------------------------------

def _git_bin() -> str:
    found = shutil.which("git")
    if not found:
        raise ToolError("git is not installed: install it (apt install git, brew install git) to deploy with --git-branch.")
    return found


def _git(git_dir: Path, *args: str, work_tree: Path | None = None, input: bytes | None = None,
         env: dict[str, str] | None = None, what: str = "") -> str:
    cmd = [_git_bin(), f"--git-dir={git_dir}"] + ([f"--work-tree={work_tree}"] if work_tree else []) + list(args)
    run_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})}
    done = subprocess.run(cmd, input=input, capture_output=True, env=run_env, cwd=work_tree)
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()
        last = next((ln for ln in reversed(err) if ln.strip()), f"exit status {done.returncode}")
        raise ToolError(f"git failed {what or 'running ' + args[0]}: {last.strip()}.")
    return done.stdout.decode("utf-8", "replace")


def _identity(git_dir: Path) -> dict[str, str]:
    """The host's git identity when set; otherwise chaitime's, so a commit never fails for want of one."""
    env = {}
    for key, var, fallback in (("user.name", "NAME", "chaitime"), ("user.email", "EMAIL", "chaitime@localhost")):
        have = subprocess.run([_git_bin(), f"--git-dir={git_dir}", "config", key], capture_output=True, text=True).stdout.strip()
        if not have and not os.environ.get(f"GIT_AUTHOR_{var}"):
            env[f"GIT_AUTHOR_{var}"] = env[f"GIT_COMMITTER_{var}"] = fallback
    return env


def deploy_git(folder: Path, entries: list[SiteEntry], target: str, branch: str, *, dry_run: bool = False,
               progress: Progress | None = None) -> DeployReport:
    """Commit the site as the whole tree of ``branch`` of ``target`` and push it (one atomic update)."""
    repo = target.strip()
    if not _SCHEME.match(repo) and not _REMOTE.match(repo):
        local = Path(repo).expanduser()
        if not local.exists():
            raise InputError(f"{target}: no such git repository. Give a repository path or URL, e.g. git@github.com:you/show.git.")
        repo = str(local.resolve())
    if not re.fullmatch(r"[A-Za-z0-9._/-]+", branch) or branch.startswith(("-", "/")) or ".." in branch:
        raise InputError(f"--git-branch {branch!r}: not a branch name (e.g. gh-pages).")
    ref = f"refs/heads/{branch}"
    with tempfile.TemporaryDirectory(prefix="chaitime-deploy-") as tmp:
        git_dir = Path(tmp) / "git"
        _git(git_dir, "init", "--bare", "-q", str(git_dir), what="setting up a temporary repository")
        try:
            heads = _git(git_dir, "ls-remote", "--heads", repo, ref, what=f"reading {target}")
        except ToolError as exc:
            raise InputError(f"{target}: not a git repository chaitime can reach ({str(exc).split(': ', 1)[-1].rstrip('.')}). "
                             "Check the path or URL and your git credentials.") from exc
        parent = None
        if heads.strip():
            _notify(progress, "fetch", 0, 1, " steps")
            _git(git_dir, "fetch", "-q", "--depth=1", repo, f"{ref}:{ref}", what=f"fetching {branch} from {target}")
            parent = _git(git_dir, "rev-parse", ref).strip()
            _git(git_dir, "read-tree", ref)
        # The site folder itself is the work tree: git only reads it; index and objects stay in tmp.
        _git(git_dir, "add", "-A", "-f", ".", work_tree=folder.resolve(), what="adding the site")
        for skip in (SITE_MANIFEST, DEPLOY_MANIFEST):
            _git(git_dir, "rm", "-q", "--cached", "--ignore-unmatch", skip, work_tree=folder.resolve())
        blob = _git(git_dir, "hash-object", "-w", "--stdin", input=b"").strip()
        _git(git_dir, "update-index", "--add", "--cacheinfo", f"100644,{blob},.nojekyll")  # serve _files as they are
        changes = _git(git_dir, "diff", "--cached", "--name-status", "--no-renames", "-z",
                       *([parent] if parent else ["4b825dc642cb6eb9a060e54bf8d69288fbee4904"]))  # the empty tree
        fields = [f for f in changes.split("\0") if f]
        status = dict(zip(fields[1::2], fields[0::2], strict=False))
        sizes = {e.rel: e.size for e in entries}
        order = {e.rel: i for i, e in enumerate(entries)}
        uploaded = tuple((rel, sizes[rel]) for rel in sorted((r for r, s in status.items() if s != "D" and r in sizes),
                                                               key=order.__getitem__))
        removed = tuple(sorted(r for r, s in status.items() if s == "D"))
        unchanged = len(entries) - len(uploaded)
        label = f"{target} ({branch})"
        if dry_run or not status:
            return DeployReport(label, uploaded, unchanged, removed, dry_run)
        tree = _git(git_dir, "write-tree").strip()
        message = f"chaitime deploy: {len(uploaded)} changed, {len(removed)} removed\n".encode()
        commit = _git(git_dir, "commit-tree", tree, *(["-p", parent] if parent else []), input=message,
                      env=_identity(git_dir), what="committing the site").strip()
        _notify(progress, "push", 0, 1, " steps")
        try:
            _git(git_dir, "push", "-q", repo, f"{commit}:{ref}", what=f"pushing to {target}")
        except ToolError as exc:
            raise ToolError(_half_note(str(exc).rstrip(".")) + ".") from exc
        _notify(progress, "push", 1, 1, " steps")
        return DeployReport(label, uploaded, unchanged, removed, False, commit)
