"""faster-whisper (CTranslate2) engine: the default on CPU (int8). The only module that imports
faster_whisper. Uses its batched pipeline with Silero VAD: speech is found first, packed into
windows of at most 30 s and decoded in batches. Its Silero VAD is lent to the GPU engine too."""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator

import numpy as np

from ..errors import ModelError
from ..transcript.model import Segment, Word
from . import batching, cleanup
from .audio import SAMPLE_RATE_HZ
from .models import ResolvedModel

# openai-whisper's temperature fallback (transcribe.py): 0 first, then hotter when a decode
# repeats itself (compression ratio) or is unsure (average log-probability).
FALLBACK_TEMPERATURES = (0.2, 0.4, 0.6, 0.8, 1.0)
# Batches of 8 on 2 cores (measured with scripts/bench_transcribe.py: 4 and 16 were no faster).
CPU_BATCH = 8
GPU_BATCH = 16


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
        # One worker: a podcast is one stream; all cores go to the matrix products.
        model = WhisperModel(ref, device=device, compute_type=compute_type, cpu_threads=os.cpu_count() or 2, num_workers=1)
    except Exception as exc:  # noqa: BLE001 - ctranslate2/hub raise many kinds
        raise ModelError(f"can't load Whisper model {ref!r} with faster-whisper on {device}: {str(exc).splitlines()[0][:200]}. "
                         "Check the name, or pass --model PATH to a downloaded model folder.") from exc
    return model, BatchedInferencePipeline(model=model)


def silero_speech(audio: np.ndarray, *, threshold: float, min_silence_ms: int, speech_pad_ms: int, max_speech_s: float) -> list[tuple[int, int]]:
    """Speech regions (sample indices) found by the Silero VAD that faster-whisper ships (ONNX)."""
    try:
        from faster_whisper.vad import VadOptions, get_speech_timestamps
    except ImportError as exc:
        raise ModelError("faster-whisper is not installed (it provides the voice-activity detector): `pip install faster-whisper`.") from exc
    options = VadOptions(threshold=threshold, min_silence_duration_ms=min_silence_ms, speech_pad_ms=speech_pad_ms, max_speech_duration_s=max_speech_s)
    return [(int(s["start"]), int(s["end"])) for s in get_speech_timestamps(audio, options)]


class FasterWhisperEngine:
    """batch_size 1 runs faster-whisper's sequential decoder (same VAD, no batching)."""

    name = "faster-whisper"

    def __init__(self, model: ResolvedModel, device: str, batch_size: int | None = None) -> None:
        self.device = device
        self.compute_type = "int8" if device == "cpu" else "float16"
        self.batch_size = batch_size or (CPU_BATCH if device == "cpu" else GPU_BATCH)
        self.model, self.pipeline = _load(model.ref, device, self.compute_type)

    def transcribe(self, audio: np.ndarray, *, language: str | None, vocabulary: tuple[str, ...]) -> tuple[list[Segment], str]:
        language = self._language(language)
        common = dict(language=language, word_timestamps=True, hotwords=_hotwords(vocabulary),
                      beam_size=5, compression_ratio_threshold=cleanup.COMPRESSION_MAX,
                      log_prob_threshold=cleanup.LOGPROB_FLOOR, no_speech_threshold=cleanup.NO_SPEECH_PROB)
        if self.batch_size == 1:
            found, info = self.model.transcribe(audio, temperature=[0.0, *FALLBACK_TEMPERATURES], condition_on_previous_text=False,
                                                vad_filter=True, **common)
            found, language = list(found), info.language
        else:
            found, language = self._batched_with_vad(audio, language, vocabulary, common)
        kept = [s for s in found if not cleanup.unlikely_speech(s.no_speech_prob, s.avg_logprob, s.compression_ratio)]
        return [part for s in kept for part in _segments(s)], language or "en"

    def _language(self, language: str | None) -> str | None:
        if self.model.model.is_multilingual:
            return language
        if language not in (None, "en"):
            raise ModelError(f"this model is English-only; it can't transcribe language {language!r}. Use a multilingual model (e.g. small).")
        return "en"

    def _batched_with_vad(self, audio: np.ndarray, language: str | None, vocabulary: tuple[str, ...], common: dict) -> tuple[list, str | None]:
        """VAD once, decode its windows in batches, retry failed windows hotter, then decode again
        the speech left without words (vad.fill_uncovered)."""
        from . import vad

        spans = vad.speech_spans(audio)
        found, detected = self._decode_windows(audio, spans, common)
        language = language or detected
        found = vad.fill_uncovered(
            spans, self._retry_failed(audio, found, language, vocabulary),
            lambda segs: [(w.start, w.end) for s in segs for w in (s.words or ())],
            lambda missing, hint: self._decode_windows(audio, missing, {**common, "language": language, "hotwords": _hotwords(hint)})[0],
            vocabulary)
        return sorted(found, key=lambda s: s.start), language

    def _decode_windows(self, audio: np.ndarray, spans: list[tuple[int, int]], common: dict) -> tuple[list, str | None]:
        """Speech ``spans`` decoded in batches at temperature 0 by faster-whisper's batched
        pipeline, which packs them into 30 s windows with the silence between them left out and
        maps times back (tiny.en on shared/media: WER 0.094, as faster-whisper alone, against
        0.099 for windows that keep the pauses, which also took 24 windows where this took 19)."""
        if not spans:
            return [], common["language"]
        with _speech_found(spans):
            found, info = self.pipeline.transcribe(audio, batch_size=self.batch_size, temperature=0.0, vad_filter=True, **common)
            return list(found), info.language

    def _retry_failed(self, audio: np.ndarray, found: list, language: str | None, vocabulary: tuple[str, ...]) -> list:
        """Re-decode each segment that repeats itself or is unsure, hotter, the way openai-whisper
        falls back; a window that still fails is dropped later by ``cleanup.unlikely_speech``."""
        out = []
        for seg in found:
            if not cleanup.needs_fallback(seg.no_speech_prob, seg.avg_logprob, seg.compression_ratio):
                out.append(seg)
                continue
            lo, hi = int(seg.start * SAMPLE_RATE_HZ), int(seg.end * SAMPLE_RATE_HZ)
            retried = self._decode_alone(audio[lo:hi], language, vocabulary, list(FALLBACK_TEMPERATURES))
            out += [_shifted(s, seg.start) for s in retried]
        return out

    def _decode_alone(self, audio: np.ndarray, language: str | None, vocabulary: tuple[str, ...], temperatures: list[float]) -> list:
        """One stretch of speech through the sequential decoder, with openai-whisper's fallback rules."""
        found, _ = self.model.transcribe(
            audio, language=language, temperature=temperatures, word_timestamps=True, vad_filter=False,
            condition_on_previous_text=False, hotwords=_hotwords(vocabulary), compression_ratio_threshold=cleanup.COMPRESSION_MAX,
            log_prob_threshold=cleanup.LOGPROB_FLOOR, no_speech_threshold=cleanup.NO_SPEECH_PROB)
        return list(found)


@contextlib.contextmanager
def _speech_found(spans: list[tuple[int, int]]) -> Iterator[None]:
    """Hand the batched pipeline the speech we found instead of letting it run the VAD again
    (1.6 s per 10 minutes here). Its only way in is the module-level get_speech_timestamps it
    calls; if a faster-whisper release renames that, it simply runs its own VAD."""
    import faster_whisper.transcribe as fw

    original = getattr(fw, "get_speech_timestamps", None)
    if original is None:
        yield
        return
    fw.get_speech_timestamps = lambda *args, **kwargs: [{"start": a, "end": b} for a, b in spans]
    try:
        yield
    finally:
        fw.get_speech_timestamps = original


def _hotwords(vocabulary: tuple[str, ...]) -> str | None:
    return ", ".join(vocabulary) if vocabulary else None


def _shifted(s, offset_s: float):
    from dataclasses import replace

    words = [replace(w, start=w.start + offset_s, end=w.end + offset_s) for w in (s.words or ())]
    return replace(s, start=s.start + offset_s, end=s.end + offset_s, words=words)


def _segments(s) -> list[Segment]:
    """Caption-sized segments: the batched pipeline returns one segment per 30 s window, so its
    words are regrouped at sentence ends and pauses (batching.sentences)."""
    words = [Word(float(w.start), float(w.end), w.word, float(w.probability)) for w in (s.words or ())]
    return batching.sentences(words) if words else [Segment(float(s.start), float(s.end), s.text.strip(), ())]
