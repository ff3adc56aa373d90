"""Transcription trust figures (issue 12): vocabulary never costs words, repeat runs are
byte-identical, hard clips stay within 1.3x of faster-whisper's batched pipeline.

Clips (from ../shared/media, built into a temporary folder with ffmpeg and eSpeak NG):
  jfk, librispeech (one reader each), two-speakers (telephone, .stm reference), noisy (two-speakers
  under brown+white noise at 5 dB SNR), mixed (jfk, German eSpeak speech, librispeech, German again),
  joined (jfk + librispeech + two-speakers with 3 s gaps).

``rows()`` returns (figure, measured, target, ok) tuples; ``python scripts/trust_asr.py`` prints
them (``--quick`` skips the timing rounds; ``--parts timing,language`` runs some). Model tiny.en, CPU, faster-whisper engine unless
``--engine`` says otherwise.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from textscore import wer  # noqa: E402  (one word error rate for tests and scripts)

MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"
SR = 16_000
JFK = "And so, my fellow Americans: ask not what your country can do for you, ask what you can do for your country."
LIBRI = ("IT WAS THE FIRST GREAT SORROW OF HIS LIFE IT WAS NOT SO MUCH THE LOSS OF THE COTTON ITSELF "
         "BUT THE FANTASY THE HOPES THE DREAMS BUILT AROUND IT")
GERMAN = ("Guten Morgen und herzlich willkommen zu unserer Sendung. Heute sprechen wir über das Wetter in Berlin "
          "und über die neuen Fahrräder, die unsere Stadt gekauft hat.")
GERMAN_2 = "Vielen Dank fürs Zuhören. Bis zum nächsten Mal, und bleiben Sie gesund."
# Names and terms: some the clips hold (Americans, country, cotton, Sheila, Diane), some they don't.
VOCABULARY = ("Diane", "Sheila", "Kaggle", "Adebayo Okafor", "Raghunathan", "Americans", "cotton", "chaitime")


def stm_text(path: Path) -> str:
    return " ".join(line.split(maxsplit=5)[5] for line in path.read_text().splitlines() if line.strip())


def _load(path: Path) -> np.ndarray:
    from chaitime.media.ffmpeg import ffmpeg_exe

    raw = subprocess.run([ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(path), "-ac", "1", "-ar", str(SR), "-f", "s16le", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.int16).astype(np.float32) / 32768.0


def _german(text: str) -> np.ndarray:
    from chaitime import sample

    audio, _ = sample.synthesize([sample.Line("A", text)], voices={"A": "de"}, sample_rate_hz=SR)
    return audio.astype(np.float32) / 32768.0


def _noisy(speech: np.ndarray, snr_db: float, seed: int = 5) -> np.ndarray:
    """Speech under noise at ``snr_db`` (power over the speech's active part), fixed seed."""
    rng = np.random.default_rng(seed)
    white = rng.standard_normal(len(speech))
    brown = np.cumsum(rng.standard_normal(len(speech)))
    brown -= np.convolve(brown, np.ones(SR // 10) / (SR // 10), mode="same")  # no DC drift
    noise = white / white.std() + brown / brown.std()
    active = speech[np.abs(speech) > 0.01]
    gain = np.sqrt(np.mean(active**2) / np.mean(noise**2) / 10 ** (snr_db / 10))
    return np.clip(speech + gain * noise, -1, 1).astype(np.float32)


def _join(parts: list[np.ndarray], gap_s: float = 1.0) -> np.ndarray:
    gap = np.zeros(int(gap_s * SR), np.float32)
    return np.concatenate([x for p in parts for x in (p, gap)][:-1])


def clips(folder: Path) -> dict[str, tuple[Path, str]]:
    """name -> (16 kHz WAV, English reference text); the mixed clip's reference is its English part."""
    from chaitime import sample

    jfk, libri, two = _load(MEDIA / "jfk.flac"), _load(MEDIA / "librispeech-1995-1837-0001.wav"), _load(MEDIA / "two-speakers.wav")
    two_ref = stm_text(MEDIA / "two-speakers.stm")
    audio = {
        "jfk": (jfk, JFK), "librispeech": (libri, LIBRI), "two-speakers": (two, two_ref),
        "noisy": (_noisy(two, 5.0), two_ref),
        "mixed": (_join([jfk, _german(GERMAN), libri, _german(GERMAN_2)]), f"{JFK} {LIBRI}"),
        "joined": (_join([jfk, libri, two], 3.0), f"{JFK} {LIBRI} {two_ref}"),
    }
    out = {}
    for name, (samples, ref) in audio.items():
        path = folder / f"{name}.wav"
        sample.write_wav(path, (samples * 32767).astype(np.int16), SR)
        out[name] = (path, ref)
    return out


def _transcript(path: Path, vocabulary: tuple[str, ...] = (), engine: str = "faster-whisper"):
    from chaitime.asr import AsrOptions, transcribe

    return transcribe(path, AsrOptions(model="tiny.en", engine=engine, device="cpu", vocabulary=vocabulary))


def vocabulary_rows(all_clips: dict, engine: str) -> list[tuple]:
    rows = []
    for name, (path, ref) in all_clips.items():
        plain, helped = _transcript(path, engine=engine), _transcript(path, VOCABULARY, engine)
        w0, w1 = wer(ref, plain.text), wer(ref, helped.text)
        n0, n1 = len(plain.words), len(helped.words)
        rows.append((f"{name}: WER / words, vocabulary vs none", f"{w1:.3f}/{n1} vs {w0:.3f}/{n0}", "WER <=, words >=",
                     w1 <= w0 + 1e-9 and n1 >= n0))
    return rows


def repeat_rows(all_clips: dict, engine: str, runs: int = 3) -> list[tuple]:
    rows = []
    for name, (path, _) in all_clips.items():
        texts = [_transcript(path, VOCABULARY[:3], engine).to_json() for _ in range(runs)]
        rows.append((f"{name}: {runs} runs byte-identical ({engine})", f"{len(set(texts))} distinct", "1 distinct", len(set(texts)) == 1))
    return rows


def timing_rows(all_clips: dict, engine: str, rounds: int = 3) -> list[tuple]:
    """Hard clips: chaitime vs faster-whisper's BatchedInferencePipeline with its defaults (same
    model, same process, models loaded first), alternating, medians."""
    from faster_whisper import BatchedInferencePipeline

    from chaitime.asr import AsrOptions, load_engine, transcribe_pcm
    from chaitime.asr.audio import decode_speech

    eng = load_engine(AsrOptions(model="tiny.en", engine=engine, device="cpu"))
    fw = BatchedInferencePipeline(model=eng.model) if engine == "faster-whisper" else None
    if fw is None:
        from chaitime.asr.faster import FasterWhisperEngine
        from chaitime.asr.models import resolve

        fw = BatchedInferencePipeline(model=FasterWhisperEngine(resolve("tiny.en"), "cpu").model)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("noisy", "mixed", "two-speakers"):
            path = all_clips[name][0]
            pcm = decode_speech(path, Path(tmp) / f"{name}.s16")
            samples = pcm.chunk(0, len(pcm.samples()))
            ours, theirs = [], []
            for _ in range(rounds):
                t = time.perf_counter()
                mine = transcribe_pcm(pcm, AsrOptions(model="tiny.en", engine=engine, device="cpu"))
                ours.append(time.perf_counter() - t)
                t = time.perf_counter()
                stock = "".join(s.text for s in fw.transcribe(samples, language="en")[0])
                theirs.append(time.perf_counter() - t)
            a, b = statistics.median(ours), statistics.median(theirs)
            pairs = " ".join(f"{x:.2f}/{y:.2f}" for x, y in zip(ours, theirs))
            ref = all_clips[name][1]
            rows.append((f"{name}: wall s chaitime/fw-batched (pairs {pairs}; WER {wer(ref, mine.text):.3f}/{wer(ref, stock):.3f})",
                         f"{a:.2f}/{b:.2f} = {a / b:.2f}x", "<= 1.3x", a / b <= 1.3))
    return rows


def language_rows(all_clips: dict, engine: str) -> list[tuple]:
    t = _transcript(all_clips["mixed"][0], engine=engine)
    flagged = [s for s in t.segments if getattr(s, "flag", None)]
    english = " ".join(s.text for s in t.segments if not getattr(s, "flag", None))
    german_s = [(s.start_s, s.end_s) for s in flagged]
    return [("mixed: German segments flagged", f"{len(flagged)} flagged {german_s}", ">= 1", len(flagged) >= 1),
            ("mixed: WER of unflagged text vs the English", f"{wer(all_clips['mixed'][1], english):.3f}", "<= 0.15",
             wer(all_clips["mixed"][1], english) <= 0.15)]


PARTS = {"vocabulary": vocabulary_rows, "repeat": repeat_rows, "language": language_rows, "timing": timing_rows}


def rows(*, quick: bool = False, engine: str = "faster-whisper", parts: tuple[str, ...] = tuple(PARTS)) -> list[tuple]:
    if not MEDIA.is_dir():
        return [("shared media", "absent", str(MEDIA), False)]
    with tempfile.TemporaryDirectory() as tmp:
        all_clips = clips(Path(tmp))
        return [row for part in parts if not (quick and part == "timing") for row in PARTS[part](all_clips, engine)]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the timing rounds")
    parser.add_argument("--engine", default="faster-whisper", choices=("faster-whisper", "openai-whisper"))
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, of: {', '.join(PARTS)}")
    args = parser.parse_args()
    for figure, measured, target, ok in rows(quick=args.quick, engine=args.engine, parts=tuple(args.parts.split(","))):
        print(f"{'ok  ' if ok else 'FAIL'} {figure}: {measured} (target {target})")
    sys.exit(0)
