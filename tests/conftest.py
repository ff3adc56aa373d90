"""Shared fixtures: real media made by the project, the shared speech folder, an independent
loudness meter, and the chaitime command run as a user runs it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from textscore import wer  # noqa: F401  (tests import it from here)

SHARED_MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"


@pytest.fixture(scope="session")
def shared_media() -> Path:
    if not SHARED_MEDIA.is_dir():
        pytest.skip("../shared/media is absent (a fresh clone): real-speech tests skipped")
    return SHARED_MEDIA


@pytest.fixture(scope="session")
def ffmpeg_bin() -> str:
    from chaitime.media.ffmpeg import ffmpeg_exe

    return ffmpeg_exe()


def ebur128(ffmpeg_bin: str, path: Path) -> dict[str, float]:
    """Loudness measured independently of chaitime's code: ffmpeg's ebur128 filter, parsed here."""
    out = subprocess.run([ffmpeg_bin, "-hide_banner", "-nostdin", "-i", str(path), "-map", "0:a:0",
                          "-af", "ebur128=peak=true:framelog=verbose", "-f", "null", "-"], capture_output=True, text=True, check=True).stderr
    summary = out[out.rfind("Summary:"):]
    return {"I": float(re.search(r"I:\s+(-?[\d.]+)", summary).group(1)), "TP": float(re.search(r"Peak:\s+(-?[\d.]+)", summary).group(1))}


def media_duration(ffmpeg_bin: str, path: Path, stream: str = "a") -> float:
    """Duration of a stream by decoding it (ffmpeg's final time= line), not from headers."""
    out = subprocess.run([ffmpeg_bin, "-hide_banner", "-nostdin", "-i", str(path), "-map", f"0:{stream}:0", "-f", "null", "-"],
                         capture_output=True, text=True, check=True).stderr
    h, m, s = re.findall(r"time=(\d+):(\d+):([\d.]+)", out)[-1]
    return int(h) * 3600 + int(m) * 60 + float(s)


def run_chaitime(*args: str, cwd: Path, check: bool = False, timeout: float = 600) -> subprocess.CompletedProcess:
    """The installed command, in a subprocess, exactly as a user runs it."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run([sys.executable, "-m", "chaitime", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"chaitime {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def sample_recording(tmp_path_factory):
    from chaitime import sample

    return sample.make_sample_recording(tmp_path_factory.mktemp("sample"))
