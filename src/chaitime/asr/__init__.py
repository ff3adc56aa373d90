"""Speech recognition: Whisper engines behind one interface, model resolution, chunked audio,
and cleanup of invented words. ``transcribe`` is the one entry point."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from ..transcript.model import Segment, Transcript
from . import cleanup, models
from . import engine as engine_mod
from . import vocabulary as vocab
from .audio import SAMPLE_RATE_HZ, PcmAudio, decode_speech
from .engine import AsrOptions

__all__ = ["AsrOptions", "PcmAudio", "decode_speech", "load_engine", "transcribe", "transcribe_pcm", "engine_version"]

Progress = Callable[[float, float], None]  # (seconds done, seconds total)
# One decode at a time per process: episodes of a batch share the model (loaded once), and a
# decode already uses every core; the other episodes' stages run meanwhile (batch/).
DECODING = threading.Lock()


def load_engine(options: AsrOptions):
    """Resolve engine, device and model; load the model (cached per process)."""
    name, device = engine_mod.choose(options.engine, options.device)
    model = models.resolve(options.model, allow_download=options.allow_download)
    if name == "openai-whisper":
        from .openai_engine import OpenAIWhisperEngine

        return OpenAIWhisperEngine(model, device, options.batch_size)
    from .faster import FasterWhisperEngine

    return FasterWhisperEngine(model, device, options.batch_size)


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
    eng = load_engine(options)
    total = audio.duration_s
    segments: list[Segment] = []
    language = options.lang or "en"
    for start, end in audio.chunk_bounds(chunk_s):
        offset = start / SAMPLE_RATE_HZ
        samples = audio.chunk(start, end)
        with DECODING:
            found, language = eng.transcribe(samples, language=options.lang)
            found = vocab.correct(found, options.vocabulary, lambda spans, entries, samples=samples, language=language: eng.decode_spans(samples, spans, language, entries), SAMPLE_RATE_HZ)
        segments += [_shift(s, offset) for s in found]
        if progress:
            progress(end / SAMPLE_RATE_HZ, total)
    segments, notes = cleanup.flag_language(cleanup.clean(_inside(segments, total)), language, options.model)
    meta = {"engine": eng.name, "device": eng.device, "model": options.model, **({"notes": notes} if notes else {})}
    return Transcript(tuple(segments), language, round(total, 3), meta)


def transcribe(path: Path, options: AsrOptions = AsrOptions(), progress: Progress | None = None, *, work_dir: Path | None = None) -> Transcript:
    """Transcribe any media file: load the engine (a model that can't serve the options fails
    here, before any decoding), decode to speech audio once, then ``transcribe_pcm``."""
    import tempfile

    load_engine(options).check(options.lang)
    with tempfile.TemporaryDirectory(dir=work_dir) as tmp:
        pcm = decode_speech(Path(path), Path(tmp) / "speech.s16")
        return transcribe_pcm(pcm, options, progress)


def _shift(seg: Segment, offset: float) -> Segment:
    if offset == 0:
        return seg
    from dataclasses import replace

    words = tuple(replace(w, start_s=w.start_s + offset, end_s=w.end_s + offset) for w in seg.words)
    return replace(seg, start_s=seg.start_s + offset, end_s=seg.end_s + offset, words=words)


def _inside(segments: list[Segment], total_s: float) -> list[Segment]:
    """Clamp times into the audio and make word times monotonic inside their segment."""
    from dataclasses import replace

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
