"""Recognize the host from a short enrollment clip ([show] host_voice = "host.wav"): the label
whose speech sounds most like the clip."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..transcript.model import Transcript
from . import embed
from .audio import decode, frame_power
from .diarize import _cut, _gain, _merge, window_spans
from .vad import speech_regions

log = logging.getLogger("chaitime")
MAX_WINDOWS = 40  # per speaker: plenty for a stable average voice


def closest_label(labeled: Transcript, mix_path: Path, host_voice: Path) -> str | None:
    """The label most similar to ``host_voice``; None without the d-vector embedder."""
    if "dvector" not in embed.available():
        log.warning("host_voice needs the speaker encoder (%s); using who speaks first instead.", embed.INSTALL_HINT)
        return None
    if not Path(host_voice).is_file():
        raise InputError(f"{host_voice}: host_voice clip not found. Fix [show] host_voice in chaitime.toml or remove it.")
    host = _voice(decode(Path(host_voice))[:, 0], None)
    if host is None:
        return None
    samples = decode(Path(mix_path))[:, 0]
    voices = {label: _voice(samples, _spans_of(labeled, label)) for label in labeled.speakers()}
    scored = {label: float(v @ host) for label, v in voices.items() if v is not None}
    log.debug("host_voice similarity: %s", scored)
    return max(scored, key=scored.get) if scored else None


def _spans_of(labeled: Transcript, label: str) -> list[tuple[float, float]]:
    return _merge([(w.start_s, w.end_s) for w in labeled.words if w.speaker == label and w.end_s > w.start_s])


def _voice(samples: np.ndarray, spans: list[tuple[float, float]] | None) -> np.ndarray | None:
    """Mean unit d-vector over (at most MAX_WINDOWS of) the speech in ``spans``."""
    power = frame_power(samples)
    regions = spans if spans is not None else speech_regions(power)
    windows = window_spans(regions)
    if not windows:
        return None
    gain = _gain(power, regions)
    picked = [_cut(samples, *windows[i], gain) for i in np.linspace(0, len(windows) - 1, min(len(windows), MAX_WINDOWS)).astype(int)]
    mean = embed.embed(picked, "dvector").mean(axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-9)
