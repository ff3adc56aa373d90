"""faster-whisper (CTranslate2) engine: the default on CPU (int8). The only module that imports
faster_whisper. Uses its batched pipeline with Silero VAD: speech is found first, packed into
windows of at most 30 s and decoded in batches (the Silero VAD it ships is called from vad.py)."""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator
from dataclasses import replace

import numpy as np

from ..errors import ModelError
from ..transcript.model import Segment, Word
from . import batching, cleanup, vad
from .engine import english_only_auto
from .models import ResolvedModel

# The fallback for a window that repeats itself (compression ratio): one more beam search,
# batched, that may not repeat a 3-gram and is penalised for repeated tokens. No sampling: the
# same audio always gives the same words.
FALLBACK = dict(repetition_penalty=1.2, no_repeat_ngram_size=3)
# Batches of 8 on 2 cores (measured with scripts/bench_transcribe.py: 4 and 16 were no faster).
CPU_BATCH = 8
GPU_BATCH = 16


def version() -> str:
    from importlib.metadata import version as v

    return f"faster-whisper {v('faster-whisper')}, ctranslate2 {v('ctranslate2')}"


@functools.lru_cache(maxsize=2)
def _load(ref: str, device: str, compute_type: str, lanes: int = 1, threads: int | None = None):
    """Load once per process (model loading is a large part of a short file's time). ``lanes``
    decodes may run at once, each with ``threads`` (default: its share of the cores)."""
    try:
        from faster_whisper import BatchedInferencePipeline, WhisperModel
    except ImportError as exc:
        raise ModelError("faster-whisper is not installed: `pip install faster-whisper`.") from exc
    try:
        # One lane: a podcast is one stream and all cores go to its matrix products; a batch's lanes
        # share them (asr.set_lanes).
        threads = threads or max(1, (os.cpu_count() or 2) // lanes)
        model = WhisperModel(ref, device=device, compute_type=compute_type, cpu_threads=threads, num_workers=lanes)
    except Exception as exc:  # noqa: BLE001 - ctranslate2/hub raise many kinds
        raise ModelError(f"can't load Whisper model {ref!r} with faster-whisper on {device}: {str(exc).splitlines()[0][:200]}. "
                         "Check the name, or pass --model PATH to a downloaded model folder.") from exc
    return model, BatchedInferencePipeline(model=model)


class FasterWhisperEngine:
    """batch_size 1 runs faster-whisper's sequential decoder (same VAD, no batching)."""

    name = "faster-whisper"

    def __init__(self, model: ResolvedModel, device: str, batch_size: int | None = None, lanes: int = 1, threads: int | None = None) -> None:
        self.device, self.lanes = device, lanes
        self.compute_type = "int8" if device == "cpu" else "float16"
        self.batch_size = batch_size or (CPU_BATCH if device == "cpu" else GPU_BATCH)
        self.model_name = model.name
        self.model, self.pipeline = _load(model.ref, device, self.compute_type, lanes, threads)

    def transcribe(self, audio: np.ndarray, *, language: str | None) -> tuple[list[Segment], str]:
        language = self.check(language)
        common = _options(language)
        if self.batch_size == 1:
            found, info = self.model.transcribe(audio, temperature=0.0, condition_on_previous_text=False, vad_filter=True, **common)
            found, language = self._retry_failed(audio, list(found), {**common, "language": info.language}, None), info.language
        else:
            found, language = self._batched_with_vad(audio, language, common)
        kept = [s for s in found if not cleanup.unlikely_speech(s.no_speech_prob, s.avg_logprob, s.compression_ratio)]
        return [part for s in kept for part in _segments(s, cleanup.unsure_decode(s.avg_logprob))], language or "en"

    @property
    def multilingual(self) -> bool:
        return bool(self.model.model.is_multilingual)

    def decode_spans(self, audio: np.ndarray, spans: list[tuple[int, int]], language: str, hotwords: tuple[str, ...]) -> list[Segment]:
        """``spans`` of ``audio`` decoded in one batch with ``hotwords`` as a prompt (the
        vocabulary's check of a respelling, vocabulary.correct)."""
        found, _ = self._decode_windows(audio, spans, {**_options(language), "hotwords": ", ".join(hotwords)})
        return [part for s in found for part in _segments(s)]

    def check(self, language: str | None) -> str | None:
        """The language to decode with; an English-only model refuses any other, and detection."""
        if self.multilingual:
            return language
        if language is None:
            raise ModelError(english_only_auto(self.model_name))
        if language != "en":
            raise ModelError(f"this model is English-only; it can't transcribe language {language!r}. Use a multilingual model (e.g. small).")
        return "en"

    def _batched_with_vad(self, audio: np.ndarray, language: str | None, common: dict) -> tuple[list, str | None]:
        """VAD once, decode its windows in batches, decode failed windows again (one more batch),
        then decode again the speech left without words (vad.fill_uncovered)."""
        spans = vad.speech_spans(audio)
        found, detected = self._decode_windows(audio, spans, common)
        common = {**common, "language": language or detected}
        found = vad.fill_uncovered(spans, self._retry_failed(audio, found, common, spans),
                                   lambda segs: [(w.start, w.end) for s in segs for w in (s.words or ())],
                                   lambda missing: self._retry_failed(audio, self._decode_windows(audio, missing, common)[0], common, spans))
        return sorted(found, key=lambda s: s.start), common["language"]

    def _decode_windows(self, audio: np.ndarray, spans: list[tuple[int, int]], common: dict) -> tuple[list, str | None]:
        """Speech ``spans`` decoded in batches at temperature 0 by faster-whisper's batched
        pipeline, which packs them into 30 s windows with the silence between them left out and
        maps times back (tiny.en on shared/media: WER 0.094, as faster-whisper alone, against
        0.099 for windows that keep the pauses, which also took 24 windows where this took 19).
        Every caller's spans are first made what the pipeline's own VAD would hand it (vad.windows)."""
        spans = vad.windows(spans, len(audio))
        if not spans:
            return [], common["language"]
        with _speech_found(spans):
            found, info = self.pipeline.transcribe(audio, batch_size=self.batch_size, temperature=0.0, vad_filter=True, **common)
            return list(found), info.language

    def _retry_failed(self, audio: np.ndarray, found: list, common: dict, speech: list[tuple[int, int]] | None) -> list:
        """Decode the segments that repeat themselves once more, all in one batch, with
        ``FALLBACK`` (deterministic: no sampling); each keeps whichever decode is better
        (``_better``). A segment that still repeats is dropped later by ``cleanup.unlikely_speech``.
        An unsure decode (low log-probability) is not retried: a second beam search of it gained
        nothing on the trust clips (German through tiny.en: -1.18 -> -1.19, 1.26 s) and sampling
        would make the transcript change from run to run; it is flagged instead (``_segments``).
        What is decoded again is the detected ``speech`` inside each failed segment (vad.within)."""
        failed = [s for s in found if s.compression_ratio > cleanup.COMPRESSION_MAX]
        if not failed:
            return found
        speech = vad.speech_spans(audio) if speech is None else speech
        spans = [span for s in failed for span in vad.within(speech, s.start, s.end)]
        again, _ = self._decode_windows(audio, spans, {**common, **FALLBACK})
        retried = {id(s) for s in failed}
        out = [s for s in found if id(s) not in retried]
        for seg in failed:
            inside = [r for r in again if seg.start - 0.5 <= r.start and r.end <= seg.end + 0.5]
            out += inside if inside and _better(inside, [seg]) else [seg]
        return out


def _options(language: str | None) -> dict:
    return dict(language=language, word_timestamps=True, beam_size=5, compression_ratio_threshold=cleanup.COMPRESSION_MAX,
                log_prob_threshold=cleanup.LOGPROB_FLOOR, no_speech_threshold=cleanup.NO_SPEECH_PROB)


def _better(new: list, old: list) -> bool:
    """A re-decode wins when it doesn't repeat itself and is surer, or when the old one repeated."""
    def score(segs):
        looped = max(s.compression_ratio for s in segs) > cleanup.COMPRESSION_MAX
        return (not looped, min(s.avg_logprob for s in segs))

    return score(new) > score(old)


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


def _segments(s, unsure: bool = False) -> list[Segment]:
    """Caption-sized segments: the batched pipeline returns one segment per 30 s window, so its
    words are regrouped at sentence ends and pauses (batching.sentences). ``unsure``: flagged
    "language" (cleanup.unsure_decode)."""
    words = [Word(float(w.start), float(w.end), w.word, float(w.probability)) for w in (s.words or ())]
    out = batching.sentences(words) if words else [Segment(float(s.start), float(s.end), s.text.strip(), ())]
    return [replace(x, flag="language") for x in out] if unsure else out
