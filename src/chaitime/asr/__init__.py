"""Speech recognition: Whisper engines behind one interface, model resolution, chunked audio,
and cleanup of invented words. ``transcribe`` is the one entry point."""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from ..transcript.model import Segment, Transcript
from . import batching, cleanup, models, worker
from . import engine as engine_mod
from . import vocabulary as vocab
from .audio import SAMPLE_RATE_HZ, PcmAudio, decode_speech
from .engine import AsrOptions

__all__ = ["AsrOptions", "PcmAudio", "decode_speech", "load_engine", "prepare", "set_lanes", "transcribe", "transcribe_pcm", "engine_version"]

log = logging.getLogger("chaitime")
Progress = Callable[[float, float], None]  # (seconds done, seconds total)
# Decoding runs in worker processes (worker.py): a native crash in an engine fails the recording
# being decoded, not this process. An engine that takes the whole device (a GPU, torch's threads)
# decodes one recording at a time; faster-whisper on the CPU decodes in ``lanes`` side by side,
# each worker on its share of the cores (set_lanes): on 2 cores, two one-thread decodes of 4 files
# took 22.4 s against 28.8 s for one two-thread decode after another (the same words and times:
# CTranslate2's int8 results don't depend on the thread count).
DECODING = threading.Lock()
_lanes: dict = {"count": 1, "threads": None}
_workers = worker.Pool()
atexit.register(_workers.close)


def set_lanes(count: int, threads: int | None = None) -> None:
    """Let ``count`` episodes of this process decode at once on the CPU (batch); 1: one at a time.
    Each lane's worker decodes with ``threads`` (default: the cores split between the lanes; a
    Ray actor gets its share of its node)."""
    count = max(1, count)
    _lanes.update(count=count, threads=threads)
    _workers.resize(count)


def _in_worker(options: AsrOptions, fn: Callable, *args):
    """``fn(options, threads, *args)`` in a decoding worker, on this lane's share of the cores."""
    lanes = _lanes["count"] if engine_mod.choose(options.engine, options.device) == ("faster-whisper", "cpu") else 1
    threads = _lanes["threads"] or max(1, (os.cpu_count() or 2) // lanes)
    with contextlib.nullcontext() if lanes > 1 else DECODING:
        return _workers.call(fn, options, threads, *args)


def prepare(options: AsrOptions) -> None:
    """Load the engine and model in a worker and check that they serve the options (a model that
    can't fails here, before any audio is decoded); done beside the decoding of the recording."""
    _in_worker(options, _prepare)


def _worker_engine(options: AsrOptions, threads: int):
    """In a worker: the engine for ``options``, with ``threads`` decoding threads (cached per process)."""
    set_lanes(1, threads)
    return load_engine(options)


def _prepare(options: AsrOptions, threads: int) -> None:
    _worker_engine(options, threads).check(options.lang)


def _decode_chunk(options: AsrOptions, threads: int, path: Path, start: int, end: int) -> tuple[list[Segment], str, list[batching.Refill]]:
    """In a worker: samples ``start:end`` of a speech file decoded, speech left without words
    decoded again on its own (``_second_pass``), the vocabulary applied."""
    eng = _worker_engine(options, threads)
    samples = PcmAudio(path).chunk(start, end)
    found, language = eng.transcribe(samples, language=options.lang)
    found, refills = _second_pass(eng, samples, found, language)
    found = vocab.correct(found, options.vocabulary, lambda spans, entries: eng.decode_spans(samples, spans, language, entries), SAMPLE_RATE_HZ)
    return found, language, refills


def _second_pass(eng, samples, found: list[Segment], language: str) -> tuple[list[Segment], list[batching.Refill]]:
    """Every stretch of voice activity over batching.GAP_MIN_S that the decode left without words,
    decoded again by itself with a second of context on each side (a decoder that ended a window
    early, or dropped a window as unsure, often hears the same speech fine on its own) and merged
    in (batching.fill_gaps). The voice-activity detector is asked again only where there are no
    words for that long (over a whole chunk it would cost ~0.5% of the audio's length)."""
    from . import vad

    speech = []
    for lo_s, hi_s in batching.untranscribed(found, [(0.0, len(samples) / SAMPLE_RATE_HZ)]):
        lo = int(lo_s * SAMPLE_RATE_HZ)
        speech += [((lo + a) / SAMPLE_RATE_HZ, (lo + b) / SAMPLE_RATE_HZ) for a, b in vad.speech_spans(samples[lo : int(hi_s * SAMPLE_RATE_HZ)])]

    def redecode(lo_s: float, hi_s: float) -> list[Segment]:
        piece = samples[int(lo_s * SAMPLE_RATE_HZ) : int(hi_s * SAMPLE_RATE_HZ)]
        again, _ = eng.transcribe(piece, language=language)
        return [_shift(seg, lo_s) for seg in again]

    return batching.fill_gaps(found, speech, redecode, end_s=len(samples) / SAMPLE_RATE_HZ)


def load_engine(options: AsrOptions):
    """Resolve engine, device and model; load the model (cached per process)."""
    name, device = engine_mod.choose(options.engine, options.device)
    model = models.resolve(options.model, allow_download=options.allow_download)
    if name == "openai-whisper":
        from .openai_engine import OpenAIWhisperEngine

        return OpenAIWhisperEngine(model, device, options.batch_size)
    from .faster import FasterWhisperEngine

    cpu = device == "cpu"
    return FasterWhisperEngine(model, device, options.batch_size, lanes=_lanes["count"] if cpu else 1, threads=_lanes["threads"] if cpu else None)


def engine_version(name: str) -> str:
    if name == "openai-whisper":
        from . import openai_engine

        return openai_engine.version()
    from . import faster

    return faster.version()


def transcribe_pcm(audio: PcmAudio, options: AsrOptions = AsrOptions(), progress: Progress | None = None, *, chunk_s: float = 1800.0) -> Transcript:
    """Transcribe raw 16 kHz speech chunk by chunk (bounded memory: a 30-minute chunk is 115 MB
    of float samples; a 3-hour recording is never in memory at once), in the original timeline.
    The vocabulary respells words after decoding (vocabulary.correct); it never changes which
    speech is decoded. Segments that don't sound like the language are flagged ("language"),
    with a line for the user in ``meta["notes"]``."""
    name, device = engine_mod.choose(options.engine, options.device)
    total = audio.duration_s
    segments: list[Segment] = []
    language = options.lang or "en"
    refills: list[batching.Refill] = []
    for start, end in audio.chunk_bounds(chunk_s):
        found, language, again = _in_worker(options, _decode_chunk, audio.path, start, end)
        segments += [_shift(s, start / SAMPLE_RATE_HZ) for s in found]
        refills += [replace(r, start_s=r.start_s + start / SAMPLE_RATE_HZ, end_s=r.end_s + start / SAMPLE_RATE_HZ) for r in again]
        if progress:
            progress(end / SAMPLE_RATE_HZ, total)
    segments, notes = cleanup.flag_language(cleanup.clean(_inside(segments, total)), language, options.model)
    meta = {"engine": name, "device": device, "model": options.model, **_refill_record(refills, segments, options.model)}
    notes = notes + meta.pop("_notes")
    return Transcript(tuple(segments), language, round(total, 3), {**meta, **({"notes": notes} if notes else {})})


def _refill_record(refills: list[batching.Refill], segments: list[Segment], model: str) -> dict:
    """What the second pass did, for meta: "retranscribed" (stretches whose words came back) and
    "untranscribed" (speech still without words, each also a note for the user, with its times)."""
    words = [(w.start_s + w.end_s) / 2 for s in segments for w in s.words]
    kept = [replace(r, words=sum(r.start_s <= m <= r.end_s for m in words)) for r in refills]  # after cleanup
    back, left = [r for r in kept if r.words], [r for r in kept if not r.words]
    for r in back:
        log.info("speech at %s-%s had no words; decoded again on its own: %d words", _clock(r.start_s), _clock(r.end_s), r.words)
    notes = []
    if left:
        where = ", ".join(f"{_clock(r.start_s)}-{_clock(r.end_s)} ({r.end_s - r.start_s:.1f} s)" for r in left)
        notes.append(f"speech without words even when decoded again on its own: {where}. edit.md marks it [untranscribed] "
                     f"(kept unless you strike it); listen there, or transcribe with a larger model than {model} (--model small).")
    return {**({"retranscribed": [r.to_dict() for r in back]} if back else {}),
            **({"untranscribed": [r.to_dict() for r in left]} if left else {}), "_notes": notes}


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}" if whole >= 3600 else f"{whole // 60}:{whole % 60:02d}"


def transcribe(path: Path, options: AsrOptions = AsrOptions(), progress: Progress | None = None, *, work_dir: Path | None = None) -> Transcript:
    """Transcribe any media file: load the engine (a model that can't serve the options fails
    here, before any decoding), decode to speech audio once, then ``transcribe_pcm``."""
    import tempfile

    prepare(options)
    with tempfile.TemporaryDirectory(dir=work_dir) as tmp:
        pcm = decode_speech(Path(path), Path(tmp) / "decoded.s16")
        return transcribe_pcm(pcm, options, progress)


def _shift(seg: Segment, offset: float) -> Segment:
    if offset == 0:
        return seg
    words = tuple(replace(w, start_s=w.start_s + offset, end_s=w.end_s + offset) for w in seg.words)
    return replace(seg, start_s=seg.start_s + offset, end_s=seg.end_s + offset, words=words)


def _inside(segments: list[Segment], total_s: float) -> list[Segment]:
    """Clamp times into the audio and make word times monotonic inside their segment."""
    out = []
    for seg in sorted(segments, key=lambda s: s.start_s):
        last, words = seg.start_s, []
        for w in seg.words:
            start = min(max(w.start_s, last), total_s)
            end = min(max(w.end_s, start), total_s)
            words.append(replace(w, start_s=round(start, 3), end_s=round(end, 3)))
            last = start
        start = min(seg.start_s, words[0].start_s) if words else seg.start_s
        end = max(seg.end_s, words[-1].end_s) if words else seg.end_s
        out.append(replace(seg, start_s=round(max(0.0, start), 3), end_s=round(min(end, total_s), 3), words=tuple(words)))
    return out
