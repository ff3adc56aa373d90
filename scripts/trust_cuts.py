"""Do suggested cuts hold on real voices? (issue 12, "Suggested cuts")

Each case is real audio transcribed by Whisper tiny.en; edit.md is written as ingest writes it
(audio heard by chaitime.edit.audiocheck) and parsed back, unchanged, by the function render uses
(edit.markdown.parse_edit_md). Measured independently on the ORIGINAL audio:

- speech removed: seconds of the pause / dead-air cuts where a VAD hears speech: Silero at its own
  default threshold (0.5, 30 ms padding), and an energy detector written here (5 ms frames, not
  chaitime's), counted apart from the filler cuts, which remove a filler's sound on purpose;
- filler cuts: the next word's onset (the first 5 ms frame after the cut louder than the
  recording's speech level less 30 dB) comes at least 30 ms after the cut ends;
- a turn the transcript misses (its words deleted before edit.md is written): no suggested cut
  touches it, and an [untranscribed] line covers it.

Cases: the realvoices conversations (male-female, male-male, female-female, three voices; plain,
imbalanced, noisy, stereo-bleed mixed to mono), shared/media/two-speakers.wav, the sample
interview (synthesized fillers), a dropped-turn case and a real-voice spliced filler.

Usage: python scripts/trust_cuts.py [--media ../shared/media] [--quick]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
MEDIA = REPO.parent / "shared" / "media"
RATE = 16_000
MARGIN_S = 0.03


# --- independent measures -------------------------------------------------------------------------


def silero_default(audio: np.ndarray) -> list[tuple[float, float]]:
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    opts = VadOptions(threshold=0.5, min_silence_duration_ms=100, speech_pad_ms=30)
    return [(s["start"] / RATE, s["end"] / RATE) for s in get_speech_timestamps(np.ascontiguousarray(audio, dtype=np.float32), opts)]


def frames_db(audio: np.ndarray, hop_s: float = 0.005, win_s: float = 0.01) -> np.ndarray:
    hop, win = int(hop_s * RATE), int(win_s * RATE)
    n = max(0, (len(audio) - win) // hop + 1)
    power = np.array([np.mean(np.square(audio[i * hop:i * hop + win], dtype=np.float64)) for i in range(n)])
    return 10 * np.log10(power + 1e-12)


def sound_threshold(db: np.ndarray) -> float:
    """The recording's speech level (95th percentile of 5 ms frames) less 30 dB, and at least
    10 dB above its noise floor (10th percentile): steady noise is not speech."""
    return float(max(np.percentile(db, 95) - 30.0, np.percentile(db, 10) + 10.0))


def energy_speech(audio: np.ndarray) -> list[tuple[float, float]]:
    db = frames_db(audio)
    loud = db > sound_threshold(db)
    out, start = [], None
    for i, on in enumerate(np.append(loud, False)):
        if on and start is None:
            start = i
        elif not on and start is not None:
            out.append((start * 0.005, i * 0.005 + 0.01))
            start = None
    return out


def onset_after(audio: np.ndarray, t: float, db: np.ndarray | None = None) -> float | None:
    """The first 5 ms frame at or after ``t`` louder than the speech threshold."""
    db = frames_db(audio) if db is None else db
    threshold = sound_threshold(db)
    first = int(np.ceil(t / 0.005))
    loud = np.flatnonzero(db[first:] > threshold)
    return None if not len(loud) else (first + loud[0]) * 0.005


def overlap_s(cuts, speech) -> float:
    from chaitime.intervals import overlap

    return overlap(cuts, speech)


# --- cases ----------------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    audio: np.ndarray  # 16 kHz mono float32, what ingest's speech.s16 holds
    transcript: object
    dropped: tuple[float, float] | None = None  # a turn whose words were deleted from the transcript
    filler: tuple[float, float] | None = None  # a spliced filler's true extent


def speech_file(samples: np.ndarray, folder: Path, name: str) -> Path:
    path = folder / f"{name.replace('/', '-')}.s16"
    np.clip(np.round(samples * 32767), -32768, 32767).astype("<i2").tofile(path)
    return path


def transcribe(path: Path):
    from chaitime import asr

    options = asr.AsrOptions(model="tiny.en", engine="faster-whisper", device="cpu", allow_download=False)
    return asr.transcribe_pcm(asr.PcmAudio(path), options)


def decoded(path: Path, folder: Path) -> tuple[np.ndarray, Path]:
    from chaitime.asr import decode_speech

    pcm = decode_speech(path, folder / (path.stem + ".s16"))
    return pcm.chunk(0, len(pcm.samples())), pcm.path


def conversation_case(media: Path, folder: Path, name: str, variant: str) -> Case:
    sys.path.insert(0, str(REPO / "tests"))
    import realvoices

    conv = realvoices.assemble(media, name, variant)
    audio, path = decoded(conv.write_wav(folder / f"{name}-{variant}.wav"), folder)
    return Case(f"{name}/{variant}", audio, transcribe(path))


def dropped_turn_case(media: Path, folder: Path) -> Case:
    """male-female: the words of its longest turn deleted from tiny.en's transcript, as when
    Whisper drops an answer."""
    sys.path.insert(0, str(REPO / "tests"))
    import realvoices

    conv = realvoices.assemble(media, "male-female", "plain")
    audio, path = decoded(conv.write_wav(folder / "dropped.wav"), folder)
    turn = max(conv.turns, key=lambda t: t.end_s - t.start_s)
    return Case(f"dropped turn {turn.end_s - turn.start_s:.1f} s", audio, drop_words(transcribe(path), turn.start_s, turn.end_s),
                dropped=(turn.start_s, turn.end_s))


def drop_words(transcript, start_s: float, end_s: float):
    segments = []
    for seg in transcript.segments:
        words = tuple(w for w in seg.words if not (start_s - 0.1 <= (w.start_s + w.end_s) / 2 <= end_s + 0.1))
        if words:
            segments.append(replace(seg, words=words, start_s=words[0].start_s, end_s=words[-1].end_s, text="".join(w.text for w in words)))
    return transcript.with_segments(segments)


def spliced_filler_case(media: Path, folder: Path) -> Case:
    """A real voice's syllable (0.3 s of a vowel from reader 533) spliced 0.12 s before a real
    utterance; Whisper's "um" placed as Whisper places fillers, late (0.1 s after the sound)."""
    sys.path.insert(0, str(REPO / "tests"))
    import realvoices

    conv = realvoices.assemble(media, "male-female", "plain")
    mono = conv.samples
    turn = conv.turns[3]
    source = realvoices._decode(realvoices.utterances(media, turn.speaker)[-1])
    db = frames_db(source)
    loudest = int(np.argmax(np.convolve(db, np.ones(60), mode="valid"))) * 80  # the loudest 0.3 s
    syllable = source[loudest:loudest + int(0.3 * RATE)].copy()
    ramp = np.linspace(0, 1, int(0.02 * RATE), dtype=np.float32)
    syllable[: len(ramp)] *= ramp
    syllable[-len(ramp):] *= ramp[::-1]
    # inserted 0.12 s before the utterance's first word (its room-noise lead-in stays around it)
    at = int((onset_after(mono, turn.start_s) - 0.12) * RATE)
    samples = np.concatenate([mono[:at], syllable, mono[at:]]).astype(np.float32)
    audio, path = decoded(speech_wav(samples, folder / "spliced.wav"), folder)
    extent = (at / RATE, at / RATE + 0.3)
    return Case("real-voice filler", audio, with_filler(transcribe(path), extent), filler=extent)


def speech_wav(samples: np.ndarray, path: Path) -> Path:
    from chaitime import sample

    sample.write_wav(path, np.clip(np.round(samples * 32767), -32768, 32767).astype(np.int16), RATE)
    return path


def with_filler(transcript, extent: tuple[float, float]):
    """Whisper's "um" over a filler at ``extent``, timed late; words Whisper put inside it are replaced."""
    from chaitime.transcript.model import Segment, Word

    a, b = extent
    um = Word(a + 0.1, b + 0.08, " um", 0.5, None)
    segments, placed = [], False
    for seg in transcript.segments:
        words = [w for w in seg.words if not (a - 0.05 <= (w.start_s + w.end_s) / 2 <= b + 0.05)]
        if not placed and words and words[-1].end_s >= um.start_s:
            words = sorted(words + [um], key=lambda w: w.start_s)
            placed = True
        if words:
            segments.append(replace(seg, words=tuple(words), start_s=words[0].start_s, end_s=words[-1].end_s, text="".join(w.text for w in words)))
    if not placed:
        segments.append(Segment(um.start_s, um.end_s, um.text, (um,), None))
        segments.sort(key=lambda s: s.start_s)
    return transcript.with_segments(segments)


def sample_case(folder: Path) -> Case:
    from chaitime import sample

    rec = sample.make_sample_recording(folder, video=False)
    audio, path = decoded(rec.path, folder)
    transcript, extent = transcribe(path), None
    if not any(w.text.strip(" ,.").lower() in ("um", "uh") for w in transcript.words):
        # tiny.en (beam search, no prompt) often writes no filler for eSpeak's "Um,": Whisper's
        # late "um" is placed over the sound the script put there, the first run of sound of the
        # line (the comma's pause ends it).
        for line in (ln for ln in rec.lines if ln.text.startswith("Um,")):
            a, b = next((a, b) for a, b in energy_speech(audio) if b > line.start_s + 0.02)
            extent = extent or (max(a, line.start_s), b)
            transcript = with_filler(transcript, (max(a, line.start_s), b))
    return Case("sample interview", audio, transcript, filler=extent)


def two_speakers_case(media: Path, folder: Path) -> Case:
    audio, path = decoded(media / "two-speakers.wav", folder)
    return Case("two-speakers.wav", audio, transcribe(path))


def all_cases(media: Path, folder: Path, quick: bool = False):
    sys.path.insert(0, str(REPO / "tests"))
    import realvoices

    variants = ("plain", "noisy") if quick else ("plain", "imbalanced", "noisy", "stereo-bleed")
    names = ("male-female",) if quick else tuple(realvoices.CONVERSATIONS)
    for name in names:
        for variant in variants:
            yield conversation_case(media, folder, name, variant)
    yield two_speakers_case(media, folder)
    yield sample_case(folder)
    yield dropped_turn_case(media, folder)
    yield spliced_filler_case(media, folder)


# --- measuring --------------------------------------------------------------------------------------


@dataclass
class Measured:
    name: str
    duration_s: float
    gap_cuts: int
    speech_removed_s: float  # by the pause / dead-air cuts, Silero default or the energy detector here
    fillers: int
    filler_margins: list  # onset - cut end, per filler cut (s)
    dropped_covered: bool | None = None  # the dropped turn: untouched by cuts and flagged
    filler_removed: bool | None = None  # the spliced filler: its sound inside the cut


def measure(case: Case) -> Measured:
    from chaitime.edit.audiocheck import listen
    from chaitime.edit.markdown import parse_edit_md, write_edit_md

    transcript = case.transcript if case.transcript.duration_s else replace(case.transcript, duration_s=len(case.audio) / RATE)
    text = write_edit_md(transcript, hearing=listen(case.audio))
    cuts = parse_edit_md(text, transcript, path=case.name)
    words = transcript.words
    removed = [w for i, w in enumerate(words) if i in cuts.removed_words]
    filler_cuts = [c for c in cuts.cuts if any(c[0] - 0.2 <= w.start_s and w.end_s <= c[1] + 0.2 for w in removed)]
    gap_cuts = [(a, min(b, len(case.audio) / RATE)) for a, b in cuts.cuts if (a, b) not in filler_cuts]
    speech = list(silero_default(case.audio)) + energy_speech(case.audio)
    db = frames_db(case.audio)
    margins = []
    for _a, b in filler_cuts:
        onset = onset_after(case.audio, b, db)
        margins.append(np.inf if onset is None else onset - b)
    result = Measured(case.name, len(case.audio) / RATE, len(gap_cuts), overlap_s(gap_cuts, speech), len(filler_cuts), margins)
    if case.dropped:
        a, b = case.dropped
        flags = [m.groups() for ln in text.splitlines() if (m := re.match(r"^\[([\d:.]+)\] \[untranscribed ([\d.]+) s\]$", ln))]
        flagged = sum(max(0.0, min(b, _seconds(s) + float(n)) - max(a, _seconds(s))) for s, n in flags)
        result.dropped_covered = overlap_s(cuts.cuts, [case.dropped]) == 0 and flagged >= 0.8 * (b - a)
    if case.filler:
        a, b = case.filler
        result.filler_removed = any(c[0] <= a + 0.03 and b - 0.03 <= c[1] for c in filler_cuts)
    return result


def _seconds(stamp: str) -> float:
    h, m, s = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def run(media: Path = MEDIA, quick: bool = False) -> list[Measured]:
    with tempfile.TemporaryDirectory(prefix="chaitime-trust-") as tmp:
        return [measure(case) for case in all_cases(Path(media), Path(tmp), quick)]


def rows(media: Path = MEDIA, quick: bool = False, results: list[Measured] | None = None) -> list[tuple[str, str, str, bool]]:
    """(figure, measured, target, ok) for scripts/bench_trust.py."""
    results = results if results is not None else run(media, quick)
    removed_ms = 1000 * sum(r.speech_removed_s for r in results)
    margins = [m for r in results for m in r.filler_margins]
    dropped = [r for r in results if r.dropped_covered is not None]
    spliced = [r for r in results if r.filler_removed is not None]
    minutes = sum(r.duration_s for r in results) / 60
    return [
        (f"speech removed by suggested pause/dead-air cuts ({len(results)} recordings, {minutes:.1f} min, {sum(r.gap_cuts for r in results)} cuts)",
         f"{removed_ms:.0f} ms", "0 ms", removed_ms == 0),
        (f"filler cuts ending >= 30 ms before the next word's onset ({len(margins)} cuts)",
         f"{sum(m >= MARGIN_S for m in margins)}/{len(margins)}, least {min(margins, default=np.inf) * 1000:.0f} ms",
         "all", bool(margins) and all(m >= MARGIN_S for m in margins)),
        ("a turn missing from the transcript: no cut in it, flagged [untranscribed]",
         ", ".join(r.name + (" ok" if r.dropped_covered else " FAILED") for r in dropped), "flagged, uncut", all(r.dropped_covered for r in dropped)),
        ("a real-voice filler: its sound inside the suggested cut", ", ".join("yes" if r.filler_removed else "no" for r in spliced), "yes",
         all(r.filler_removed for r in spliced)),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media", type=Path, default=MEDIA)
    parser.add_argument("--quick", action="store_true", help="one conversation, two variants")
    args = parser.parse_args()
    results = run(args.media, args.quick)
    for r in results:
        margins = ", ".join(f"{m * 1000:.0f}" for m in r.filler_margins) or "-"
        print(f"  {r.name:28s} {r.duration_s:6.1f} s  gap cuts {r.gap_cuts:2d}  speech removed {r.speech_removed_s * 1000:5.0f} ms  "
              f"filler margins (ms) {margins}")
    table = rows(results=results)
    width = max(len(f) for f, *_ in table)
    for figure, measured, target, ok in table:
        print(f"{figure:{width}s}  {measured:>24s}  target {target:14s}  {'ok' if ok else 'FAIL'}")
    return 0 if all(ok for *_, ok in table) else 1


if __name__ == "__main__":
    sys.exit(main())
