"""media.pcm, the one audio decoder: streams, channels, stretches, the end, into memory or a file.
Unit tier: small files made with ffmpeg here."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from chaitime.media import pcm


@pytest.fixture(scope="module")
def two_streams(tmp_path_factory, ffmpeg_bin):
    """4 s: stream 0 stereo, a rising chirp left (no two places alike) and silence right; stream 1 a mono 1 kHz tone."""
    path = tmp_path_factory.mktemp("pcm") / "two.mka"
    subprocess.run([ffmpeg_bin, "-v", "error", "-f", "lavfi", "-i", "aevalsrc=0.5*sin(2*PI*(200+150*t)*t)|0:s=48000:d=4",
                    "-f", "lavfi", "-i", "sine=f=1000:r=48000:d=4", "-map", "0:a", "-map", "1:a", "-c:a", "pcm_s16le", str(path)], check=True)
    return path



def _freq(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x.astype(np.float64)))
    return float(np.argmax(spectrum) * rate / len(x))


def _offset(part: np.ndarray, whole: np.ndarray) -> int:
    """Where ``part`` sits in ``whole`` (the best match of its first 400 samples)."""
    probe = part[:400].astype(np.float64)
    scores = [float(np.dot(probe, whole[i:i + 400].astype(np.float64))) for i in range(len(whole) - 400)]
    return int(np.argmax(scores))


def test_streams_channels_and_stretches(two_streams, tmp_path):
    both = pcm.decode(two_streams, rate=16000, channels=None)
    assert both.shape == (64000, 2) and np.abs(both[:, 0]).max() > 10000 and np.abs(both[:, 1]).max() == 0
    other = pcm.decode(two_streams, rate=16000, stream=1)
    assert other.shape == (64000, 1) and abs(_freq(other[:, 0], 16000) - 1000) < 2
    right = pcm.decode(two_streams, rate=8000, only_channel=1)
    assert right.shape == (32000, 1) and np.abs(right).max() == 0
    mono = pcm.decode(two_streams, rate=16000)
    part = pcm.decode(two_streams, rate=16000, start_s=1.0, length_s=0.5)
    # a seek lands within 3 ms (the container's packets, then the resampler)
    assert abs(len(part) - 8000) <= 8 and abs(_offset(part[:, 0], mono[:, 0]) - 16000) <= 48
    end = pcm.decode(two_streams, rate=16000, last_s=1.0)
    assert abs(len(end) - 16000) <= 8 and abs(_offset(end[:, 0], mono[:, 0]) - 48000) <= 48
    raw = tmp_path / "speech.s16"
    pcm.decode_file(two_streams, raw, rate=16000, stream=1)
    assert np.array_equal(np.fromfile(raw, dtype="<i2"), other[:, 0])
