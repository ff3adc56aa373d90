"""faster-whisper (CTranslate2) engine: the default on CPU (int8). The only module that imports
faster_whisper. Uses its batched pipeline with Silero VAD: speech is found first, packed into
windows of at most 30 s and decoded in batches."""

from __future__ import annotations

import functools
import os

import numpy as np

from ..errors import ModelError
from ..transcript.model import Segment, Word
from . import cleanup
from .models import ResolvedModel


def version() -> str:
    from importlib.metadata import version as v

    return f"faster-whisper {v('faster-whisper')}, ctranslate2 {v('ctranslate2')}"


@functools.lru_cache(maxsize=2)
def _load(ref: str, device: str, compute_type: str):
    """Load once per process (model loading is a large part of a short file's time)."""
    try:
        from faster_whisper import BatchedInferencePipeline, WhisperModel
    except ImportError as exc:
        raise ModelError("faster-whisper is not installed: `pip install faster-whisper`.") from exc
    try:
        model = WhisperModel(ref, device=device, compute_type=compute_type, cpu_threads=os.cpu_count() or 2)
    except Exception as exc:  # noqa: BLE001 - ctranslate2/hub raise many kinds
        raise ModelError(f"can't load Whisper model {ref!r} with faster-whisper on {device}: {str(exc).splitlines()[0][:200]}. "
                         "Check the name, or pass --model PATH to a downloaded model folder.") from exc
    return model, BatchedInferencePipeline(model=model)


class FasterWhisperEngine:
    name = "faster-whisper"

    def __init__(self, model: ResolvedModel, device: str, batch_size: int | None = None) -> None:
        self.device = device
        self.compute_type = "int8" if device == "cpu" else "float16"
        self.batch_size = batch_size or (8 if device == "cpu" else 16)
        self.model, self.pipeline = _load(model.ref, device, self.compute_type)

    def transcribe(self, audio: np.ndarray, *, language: str | None, vocabulary: tuple[str, ...]) -> tuple[list[Segment], str]:
        if not self.model.model.is_multilingual and language not in (None, "en"):
            raise ModelError(f"this model is English-only; it can't transcribe language {language!r}. Use a multilingual model (e.g. small).")
        segments, info = self.pipeline.transcribe(
            audio,
            language=language or ("en" if not self.model.model.is_multilingual else None),
            batch_size=self.batch_size,
            word_timestamps=True,
            vad_filter=True,
            hotwords=", ".join(vocabulary) if vocabulary else None,
            beam_size=1 if self.device == "cpu" else 5,
            temperature=[0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
            compression_ratio_threshold=2.4,
            log_prob_threshold=-1.0,
            no_speech_threshold=0.6,
        )
        kept = [s for s in segments if not cleanup.unlikely_speech(s.no_speech_prob, s.avg_logprob, s.compression_ratio)]
        return [_segment(s) for s in kept], info.language


def _segment(s) -> Segment:
    words = tuple(Word(float(w.start), float(w.end), w.word, float(w.probability)) for w in (s.words or ()))
    return Segment(float(s.start), float(s.end), s.text.strip(), words)
