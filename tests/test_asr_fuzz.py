"""Transcription never crashes on real recordings, whatever their shape: real speech from
../shared/media cut at many offsets and lengths (down to a fraction of a second), radio-like
bursts with long silence or noise between them (the retry pass once handed faster-whisper a
window of 82 s and CTranslate2 double-freed), resampled to 8 kHz and back, float and integer
WAVs and 8 kHz MP3s, each through `chaitime transcribe` in its own process with faulthandler on:
exit 0, no traceback, words in order and inside the audio."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow

RATE = 16_000
SOURCES = {
    "meeting": "real-conversations/meeting-4-voices.wav",
    "townhall": "real-conversations/townhall-2-voices.wav",
    "phone": "two-speakers.wav",
    "jfk": "jfk.flac",
}


def _cut(x: np.ndarray, rng: np.random.Generator, length_s: float) -> np.ndarray:
    start = rng.uniform(0, max(0.0, len(x) / RATE - length_s))
    return x[int(start * RATE): int((start + length_s) * RATE)]


def _bursts(x: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
    """Short exchanges (0.3-4 s) with 0.5-14 s of silence or noise between them, like radio traffic."""
    parts = []
    for _ in range(int(rng.integers(6, 12))):
        parts += [_cut(x, rng, rng.uniform(0.3, 4.0)), rng.normal(0, noise, int(rng.uniform(0.5, 14) * RATE)).astype(np.float32)]
    y = np.concatenate(parts)
    return y + rng.normal(0, noise / 2, len(y)).astype(np.float32) if noise else y


# (name, source, how, rate the file is written at, format); every case has its own seed.
CASES = [
    *[(f"{src}-cut{length}", src, ("cut", length), 16000, "f32") for src in SOURCES for length in (0.1, 0.4, 29.9, 30.6)],
    *[(f"{src}-cut{length}-8k", src, ("cut", length), 8000, fmt) for src, length, fmt in
      (("meeting", 30.0, "s16"), ("townhall", 7.0, "f32"), ("phone", 12.0, "mp3"), ("jfk", 1.2, "s16"))],
    *[(f"{src}-radio{i}", src, ("bursts", noise), rate, fmt) for i, (src, noise, rate, fmt) in enumerate(
        (("jfk", 0.0, 16000, "mp3"), ("meeting", 0.02, 8000, "mp3"), ("townhall", 0.02, 8000, "mp3"),
         ("phone", 0.0, 8000, "s16"), ("meeting", 0.0, 16000, "f32"), ("jfk", 0.02, 8000, "f32")))],
    ("silence", "jfk", ("silence", 20.0), 16000, "s16"),
    ("noise", "jfk", ("noise", 20.0), 8000, "mp3"),
]


def _make(case, media: Path, out: Path, ffmpeg_bin: str) -> Path:
    name, src, (how, arg), rate, fmt = case
    rng = np.random.default_rng(CASES.index(case))
    x = np.frombuffer(subprocess.run([ffmpeg_bin, "-v", "error", "-i", str(media / SOURCES[src]), "-ac", "1", "-ar", str(RATE), "-f", "f32le", "-"],
                                     capture_output=True, check=True).stdout, np.float32)
    y = {"cut": lambda: _cut(x, rng, arg), "bursts": lambda: _bursts(x, rng, arg),
         "silence": lambda: np.zeros(int(arg * RATE), np.float32),
         "noise": lambda: rng.normal(0, 0.05, int(arg * RATE)).astype(np.float32)}[how]()
    y = np.clip(y * rng.uniform(0.5, 2.0), -1, 1).astype(np.float32)
    codec = {"f32": ["-c:a", "pcm_f32le"], "s16": ["-c:a", "pcm_s16le"], "mp3": ["-c:a", "libmp3lame", "-b:a", "32k"]}[fmt]
    path = out / f"{name}.{'mp3' if fmt == 'mp3' else 'wav'}"
    subprocess.run([ffmpeg_bin, "-v", "error", "-y", "-f", "f32le", "-ar", str(RATE), "-ac", "1", "-i", "-", "-ar", str(rate), *codec, str(path)],
                   input=y.tobytes(), check=True)
    return path


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_transcribe_survives_real_speech_of_any_shape(case, shared_media, ffmpeg_bin, tmp_path):
    recording = _make(case, shared_media, tmp_path, ffmpeg_bin)
    out = tmp_path / "out.json"
    env = {**os.environ, "PYTHONFAULTHANDLER": "1"}
    proc = subprocess.run([sys.executable, "-X", "faulthandler", "-m", "chaitime", "transcribe", str(recording), "-o", str(out)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr[-2000:]}"
    assert "Traceback" not in proc.stderr and "Fatal" not in proc.stderr
    data = json.loads(out.read_text())
    duration = data["duration"]
    words = [w for s in data["segments"] for w in s["words"]]
    starts = [w["start"] for w in words]
    assert starts == sorted(starts), "words out of order"
    assert all(0 <= w["start"] <= w["end"] <= duration + 1e-6 for w in words), "a word outside the audio"
    if case[2][0] in ("silence", "noise"):
        assert not words, f"words invented on {case[2][0]}: {[w['text'] for w in words]}"


# The spans the retry pass used to hand faster-whisper: one failed segment's range across a long
# pause (82 s on a radio recording: a segfault in CTranslate2's align), ranges that overlap or run
# past the end (their sum exceeds the audio: "AssertionError: non-negative timestamp expected").
BAD_SPANS = {
    "across-a-pause": [(0, 45 * RATE)],
    "past-the-end": [(50 * RATE, 62 * RATE)],
    "overlapping": [(0, 20 * RATE), (10 * RATE, 30 * RATE), (15 * RATE, 45 * RATE), (40 * RATE, 60 * RATE)],
    "empty-and-tiny": [(RATE, RATE), (2 * RATE, 2 * RATE + 10), (3 * RATE, 5 * RATE)],
}
DECODE = """
import json, sys, numpy as np
from chaitime.asr import AsrOptions, load_engine, PcmAudio
from chaitime.asr.faster import _options
audio = PcmAudio(__import__("pathlib").Path(sys.argv[1])).chunk(0, None)
found, _ = load_engine(AsrOptions(engine="faster-whisper", device="cpu"))._decode_windows(audio, json.loads(sys.argv[2]), _options("en"))
print(json.dumps([[w.start, w.end] for s in found for w in s.words]))
"""


@pytest.mark.parametrize("name", BAD_SPANS)
def test_any_spans_handed_to_the_decoder_are_made_safe(name, shared_media, ffmpeg_bin, tmp_path):
    speech = tmp_path / "speech.s16"
    subprocess.run([ffmpeg_bin, "-v", "error", "-i", str(shared_media / SOURCES["meeting"]), "-ac", "1", "-ar", str(RATE),
                    "-f", "s16le", str(speech)], check=True)
    proc = subprocess.run([sys.executable, "-X", "faulthandler", "-c", DECODE, str(speech), json.dumps(BAD_SPANS[name])],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr[-1500:]}"
    words = json.loads(proc.stdout)
    assert words and all(0 <= a <= b <= 60.5 for a, b in words)
