"""Attribution by level: when each person has their own signal (a track or a stereo channel),
a word belongs to the signal that carries the most energy while it is spoken."""

from __future__ import annotations

import numpy as np

from ..transcript.model import Transcript
from .assign import WhoSpoke, label_transcript
from .audio import frames_of

_WIDEN_S = 0.15  # word times from ASR are approximate; look a little around each word


def attribute_by_level(transcript: Transcript, powers: dict[str, np.ndarray]) -> Transcript:
    """Label words with the key of ``powers`` (per-10 ms power per person) loudest under them."""
    return label_transcript(transcript, loudest(powers))


def loudest(powers: dict[str, np.ndarray]) -> WhoSpoke:
    labels = list(powers)
    n = max(len(p) for p in powers.values())
    stacked = np.zeros((len(labels), n), dtype=np.float32)
    for i, p in enumerate(powers.values()):
        stacked[i, : len(p)] = p
    talk = _speech_weight(stacked)

    def who(start_s: float, end_s: float) -> str:
        span = frames_of(start_s - _WIDEN_S, end_s + _WIDEN_S, n)
        return labels[int(np.argmax(talk[:, span].sum(axis=1)))]

    return who


def _speech_weight(stacked: np.ndarray) -> np.ndarray:
    """Power above each signal's noise floor, scaled by its own loud-speech level, so a hot mic
    or a hissy one doesn't win words that the other person spoke."""
    floor = np.percentile(stacked, 10, axis=1, keepdims=True)
    loud = np.percentile(stacked, 95, axis=1, keepdims=True)
    return np.maximum(stacked - floor, 0.0) / np.maximum(loud - floor, 1e-10)
