"""Stereo with one person per channel (two mics into a two-channel recorder).

Detected from the channels' independence: in such a recording, long stretches are loud on
one channel and quiet on the other, for each channel in turn. A mono mic copied to both
channels (dual mono) or a panned mix never shows that.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..transcript.model import Transcript
from .audio import decode, frame_power, to_db
from .levels import attribute_by_level

PROBE_S = 600.0  # the first ten minutes tell
DOMINANCE_DB = 12.0  # one channel this much louder than the other: that person alone
MIN_SHARE = 0.08  # each channel must dominate at least this share of the speech
MIN_SPEECH_S = 2.0


def channels_independent(path: Path) -> bool:
    """True when ``path`` is two-channel and each channel carries its own person."""
    from ..media.probe import probe

    if probe(Path(path)).channels != 2:
        return False  # known without decoding ten minutes
    samples = decode(Path(path), channels=None, limit_s=PROBE_S)
    if samples.shape[1] != 2:
        return False
    left, right = (to_db(frame_power(samples[:, c])) for c in (0, 1))
    loud = np.maximum(left, right)
    active = loud > np.percentile(loud, 10) + 15.0
    if active.sum() * 0.01 < MIN_SPEECH_S:
        return False
    diff = (left - right)[active]
    return bool(np.mean(diff > DOMINANCE_DB) >= MIN_SHARE and np.mean(diff < -DOMINANCE_DB) >= MIN_SHARE)


def attribute_stereo(transcript: Transcript, mix_path: Path) -> Transcript:
    """Label words S1/S2 by the louder channel (numbered in order of first speech)."""
    powers = {f"S{c + 1}": frame_power(decode(Path(mix_path), only_channel=c)[:, 0]) for c in (0, 1)}
    return attribute_by_level(transcript, powers)
