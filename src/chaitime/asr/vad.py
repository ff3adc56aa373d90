"""Voice-activity detection for both engines, run once per chunk: where the speech is, so
silence, music and noise never reach the decoder (the first defence against invented words) and windows are full of speech.
The detector is the Silero VAD that faster-whisper ships (ONNX on the CPU; measured here: 0.5 s for 158 s of audio on 2 cores).
This module is its one home (``silero_speech``); the engines import it, it imports no engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import ModelError
from ..intervals import clip, merge, split_long
from .audio import SAMPLE_RATE_HZ
from .batching import WINDOW_S


@dataclass(frozen=True)
class VadSettings:
    threshold: float = 0.5  # Silero's own default
    min_silence_ms: int = 160  # faster-whisper's batched pipeline uses 160 ms: short pauses split speech
    speech_pad_ms: int = 400  # Silero's default; 200 ms cost tiny.en 0.01 WER on shared/media (clipped word edges)
    max_speech_s: float = 29.0  # a region always fits one 30 s window with its padding


def speech_spans(audio: np.ndarray, settings: VadSettings = VadSettings()) -> list[tuple[int, int]]:
    """Speech regions of 16 kHz float32 ``audio`` as (start, end) sample indices, in order."""
    if len(audio) < SAMPLE_RATE_HZ // 10:
        return []
    spans = silero_speech(audio, threshold=settings.threshold, min_silence_ms=settings.min_silence_ms,
                          speech_pad_ms=settings.speech_pad_ms, max_speech_s=settings.max_speech_s)
    return [(max(0, s), min(len(audio), e)) for s, e in spans if e > s]


# The shortest stretch handed to a decoder: Silero's own minimum speech length (250 ms) less
# its padding; the detector never finds less (speech_spans).
MIN_WINDOW_S = 0.1


def windows(spans: list[tuple[int, int]], samples: int, max_s: float = WINDOW_S) -> list[tuple[int, int]]:
    """``spans`` (sample indices) as faster-whisper's own pipeline builds them from its VAD: in
    order, disjoint, inside the audio, none shorter than MIN_WINDOW_S or longer than ``max_s``.
    Anything else crashes it: a stretch over 30 s becomes an empty window and one longer than the
    encoder's output, whose word alignment reads past it (a segfault in CTranslate2's align);
    stretches that overlap or run past the end add up to more than the audio (an AssertionError
    in its "VAD filter removed" log line)."""
    limit, shortest = int(max_s * SAMPLE_RATE_HZ), int(MIN_WINDOW_S * SAMPLE_RATE_HZ)
    inside = merge(clip(((int(a), int(b)) for a, b in spans), 0, samples))
    return [(a, b) for a, b in split_long(inside, limit) if b - a >= shortest]


def within(speech: list[tuple[int, int]], start_s: float, end_s: float) -> list[tuple[int, int]]:
    """The detected ``speech`` (sample indices) between two times: what a segment's re-decode
    covers. A batched window leaves the pauses between its speech out, so a segment's start and
    end can lie minutes apart on the recording's timeline with only seconds of speech between."""
    return clip(speech, int(start_s * SAMPLE_RATE_HZ), int(np.ceil(end_s * SAMPLE_RATE_HZ)))


def silero_speech(audio: np.ndarray, *, threshold: float, min_silence_ms: int, speech_pad_ms: int, max_speech_s: float) -> list[tuple[int, int]]:
    """Speech regions (sample indices) found by the Silero VAD that faster-whisper ships (ONNX)."""
    try:
        from faster_whisper.vad import VadOptions, get_speech_timestamps
    except ImportError as exc:
        raise ModelError("faster-whisper is not installed (it provides the voice-activity detector): `pip install faster-whisper`.") from exc
    options = VadOptions(threshold=threshold, min_silence_duration_ms=min_silence_ms, speech_pad_ms=speech_pad_ms, max_speech_duration_s=max_speech_s)
    return [(int(s["start"]), int(s["end"])) for s in get_speech_timestamps(audio, options)]


def uncovered(spans: list[tuple[int, int]], covered_s: list[tuple[float, float]], min_s: float = 2.0) -> list[tuple[int, int]]:
    """Stretches of detected speech (samples) of at least ``min_s`` where no word was decoded.
    A batched decoder sometimes ends a window early (an end-of-text token after the first
    sentence), silently dropping the rest; these stretches are decoded again."""
    cover = sorted((int(a * SAMPLE_RATE_HZ), int(b * SAMPLE_RATE_HZ)) for a, b in covered_s)
    slack, out = SAMPLE_RATE_HZ // 2, []  # words may end a little before the VAD's padded edge
    for start, end in spans:
        pos = start
        for a, b in cover:
            if b <= pos or a >= end:
                continue
            if a - pos >= min_s * SAMPLE_RATE_HZ:
                out.append((pos, a))
            pos = max(pos, b + slack)
        if end - pos >= min_s * SAMPLE_RATE_HZ:
            out.append((pos, end))
    return out


def fill_uncovered(spans: list[tuple[int, int]], found: list, covered: Callable[[list], list[tuple[float, float]]],
                   decode: Callable[[list[tuple[int, int]]], list]) -> list:
    """Decode again the detected speech that ``found`` left without words (``uncovered``), once.
    ``covered(found)`` gives word (start, end) seconds; ``decode(spans)`` returns more of what
    ``found`` holds."""
    missing = uncovered(spans, covered(found))
    return found + decode(missing) if missing else found
