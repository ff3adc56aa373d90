"""Stereo with one person per channel (two mics into a two-channel recorder).

Detected from the channels' independence: in such a recording, long stretches are loud on
one channel and quiet on the other, for each channel in turn. A mono mic copied to both
channels (dual mono) or a panned mix never shows that.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..transcript.model import Transcript
from .assign import relabel_words, renumber
from .audio import FRAME_S, decode, frame_power, to_db
from .diarize import diarize
from .levels import attribute_by_level


def _voice_at(found, start_s: float, end_s: float) -> int:
    """The voice most frames of [start_s, end_s] carry in a channel's diarization."""
    labels = found.frame_labels
    span = labels[int(start_s / FRAME_S) : max(int(start_s / FRAME_S) + 1, int(np.ceil(end_s / FRAME_S)))]
    span = span[span >= 0]
    return int(np.bincount(span).argmax()) if span.size else 0

PROBE_S = 600.0  # the first ten minutes tell
DOMINANCE_DB = 12.0  # one channel this much louder than the other: that person alone
MIN_SHARE = 0.08  # each channel must dominate at least this share of the speech
MIN_SPEECH_S = 2.0
# A channel is one person unless its voices split cleanly: two readers on one channel give a
# silhouette of 0.48, one reader with the other channel's bleed 0.19 (three-voices/stereo-bleed).
CHANNEL_SPLIT_SILHOUETTE = 0.3


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
    """Label words by the louder channel; a channel that carries more than one voice (two guests
    sharing a mic) is diarized on its own words. Labels S1, S2... in order of first speech."""
    channels = [decode(Path(mix_path), only_channel=c)[:, 0] for c in (0, 1)]
    by_level = attribute_by_level(transcript, {f"C{c}": frame_power(ch) for c, ch in enumerate(channels)})
    labels = {}
    for c, samples in enumerate(channels):
        spans = [(w.start_s, w.end_s) for w in by_level.words if w.speaker == f"C{c}" and w.end_s > w.start_s]
        found = diarize(samples, speech=spans, split_silhouette=CHANNEL_SPLIT_SILHOUETTE) if spans else None
        labels[f"C{c}"] = (found, c)
    def who(start_s: float, end_s: float, channel: str) -> str:
        found, c = labels[channel]
        if found is None or found.num_speakers < 2:
            return f"S{c + 1}"
        return f"S{c + 1}_{_voice_at(found, start_s, end_s) + 1}"
    return renumber(relabel_words(by_level, who))
