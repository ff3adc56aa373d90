"""`chaitime render` and `chaitime clip` on a synthesized episode with known sentences and silences.

The fixture episode is built directly (no Whisper): eSpeak speech from chaitime.sample gives the
true position of every sentence; transcript.raw.json has one segment per sentence with words
spread evenly inside it; the video is ffmpeg's testsrc2 muxed with the speech.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from chaitime import config
from chaitime.edit.markdown import write_edit_md
from chaitime.media import ffmpeg
from chaitime.media.probe import probe
from chaitime.sample import DEFAULT_SCRIPT, synthesize, write_wav
from chaitime.transcript.model import Segment, Transcript, Word
from chaitime.workspace import Episode, EpisodeMeta, Workspace
from chaitime.writing.chapters import Chapter, chapters_json, load_chapters

RATE = 44100
FPS = 25
SCRIPT = DEFAULT_SCRIPT[:8]  # ~44 s: two "um"s' worth of talk, one 2.5 s pause, two topics
CUT_LINE = 4  # "What did you learn from your first competitions?"


def spoken_transcript(spoken, duration_s: float) -> Transcript:
    segments = []
    for line in spoken:
        words = line.text.split()
        step = (line.end_s - line.start_s) / len(words)
        ws = tuple(Word(line.start_s + i * step, line.start_s + (i + 1) * step - 0.02, " " + w, 0.9, line.speaker) for i, w in enumerate(words))
        segments.append(Segment(line.start_s, line.end_s, " " + line.text, ws, line.speaker))
    return Transcript(tuple(segments), "en", duration_s)


def read_pcm(path: Path, rate: int = RATE) -> np.ndarray:
    """Mono float samples of any media file's first audio stream."""
    out = subprocess.run([ffmpeg.ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", str(rate), "-f", "f32le", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(out, dtype="<f4")


def onset(samples: np.ndarray, after_s: float, rate: int = RATE) -> float:
    """Time of the first sample louder than the speech threshold at or after ``after_s``."""
    start = int(after_s * rate)
    loud = np.flatnonzero(np.abs(samples[start:]) > 0.01)
    return (start + loud[0]) / rate


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A workspace with one ingested-looking episode; tests copy it."""
    root = tmp_path_factory.mktemp("ws")
    config.init(root)
    ep = Episode(root / "episodes" / "001-sample")
    ep.machine_dir.mkdir(parents=True)
    samples, spoken = synthesize(SCRIPT, sample_rate_hz=RATE)
    samples = np.concatenate([samples, np.zeros(RATE, dtype=np.int16)])  # 1 s of dead air at the end
    duration = len(samples) / RATE
    wav = root / "speech.wav"
    write_wav(wav, samples, RATE, channels=2)
    ffmpeg.run(["-i", str(wav), "-c:a", "flac", str(ep.machine_dir / "master.flac")], what="test master")
    source = ep.path("source.mp4")
    ffmpeg.run(["-f", "lavfi", "-i", f"testsrc2=size=320x180:rate={FPS}:duration={duration:.6f}", "-i", str(wav), "-map", "0:v", "-map", "1:a",
                "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(source)], what="test video")
    (ep.machine_dir / "source.json").write_text(json.dumps({"path": str(source), "has_video": True, "link": "source.mp4"}))
    transcript = spoken_transcript(spoken, duration)
    (ep.machine_dir / "transcript.raw.json").write_text(transcript.to_json())
    ep.path("transcript.json").write_text(transcript.to_json())
    ep.path("chapters.json").write_text(chapters_json([Chapter(0.0, "Kaggle"), Chapter(spoken[6].start_s, "Deployment")]))
    ep.path("edit.md").write_text(write_edit_md(transcript))
    ep.write_meta(EpisodeMeta(title="Sample", guid="g-1", date="2024-06-01", number=1))
    return root, spoken, transcript


@pytest.fixture
def workspace(built, tmp_path):
    root, spoken, transcript = built
    copy = tmp_path / "ws"
    shutil.copytree(root, copy)
    ws = Workspace.open(copy)
    return ws, ws.episode("001-sample"), spoken, transcript
