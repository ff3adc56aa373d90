"""Voice-activity detection for the GPU engine: where the speech is, so silence, music and noise
never reach the decoder (the first defence against invented words) and windows are full of speech.
The detector is the Silero VAD that faster-whisper ships (ONNX, CPU, ~1 ms per second of audio)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .audio import SAMPLE_RATE_HZ


@dataclass(frozen=True)
class VadSettings:
    threshold: float = 0.5  # Silero's own default
    min_silence_ms: int = 160  # faster-whisper's batched pipeline uses 160 ms: short pauses split speech
    speech_pad_ms: int = 200
    max_speech_s: float = 29.0  # a region always fits one 30 s window with its padding


def speech_spans(audio: np.ndarray, settings: VadSettings = VadSettings()) -> list[tuple[int, int]]:
    """Speech regions of 16 kHz float32 ``audio`` as (start, end) sample indices, in order."""
    if len(audio) < SAMPLE_RATE_HZ // 10:
        return []
    from .faster import silero_speech

    spans = silero_speech(audio, threshold=settings.threshold, min_silence_ms=settings.min_silence_ms,
                          speech_pad_ms=settings.speech_pad_ms, max_speech_s=settings.max_speech_s)
    return [(max(0, s), min(len(audio), e)) for s, e in spans if e > s]
