"""Benchmark transcription engines on the same audio, model and device, each in its own process
timed cold from process start (imports and model loading included, as a user meets them).

Rows: chaitime (`chaitime transcribe FILE -o OUT.json`), stock openai-whisper `transcribe()`,
faster-whisper sequential (`WhisperModel.transcribe`, VAD on) and faster-whisper batched
(`BatchedInferencePipeline`, batch 8), all with language en and word timestamps except stock
openai-whisper (its defaults). Columns: audio seconds, wall seconds, times realtime, WER on
normalized text (when --ref is given), peak memory: the child's peak RSS (os.wait4) and, on
CUDA, torch's max allocated.

Usage:
  python scripts/bench_transcribe.py AUDIO [AUDIO ...] [--ref TEXT_FILE ...] [--minutes N]
      [--device cpu|cuda] [--model NAME|PATH] [--engines chaitime,openai,fw-seq,fw-batched,chaitime-openai] [--json OUT]
Several AUDIO files are joined (1 s of silence between); --ref is given once per AUDIO, as plain
text or an .stm file. --minutes N tiles the joined audio (whole repeats, the reference with it).
Targets (issue 7): CPU tiny.en: chaitime no slower than faster-whisper batched, WER no worse,
peak RSS within 1.3x; GPU: chaitime >= 30x faster than stock openai-whisper.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from chaitime.asr.audio import SAMPLE_RATE_HZ, decode_speech
from chaitime.sample import write_wav

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from textscore import wer  # noqa: E402  (one word error rate for tests and scripts)

ENGINES = ("chaitime", "openai", "fw-seq", "fw-batched")  # also: chaitime-openai (chaitime's openai-whisper engine)

# Child programs: argv[1] wav, argv[2] model name or path, argv[3] device, argv[4] output JSON.
CHILD_COMMON = """
import json, sys, wave, numpy as np
wav, model_arg, device, out = sys.argv[1:5]
from chaitime.asr import models
resolved = models.resolve(model_arg)
def audio():
    with wave.open(wav) as w:
        return np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32) / 32768.0
def gpu_peak():
    try:
        import torch
        return torch.cuda.max_memory_allocated() if torch.cuda.is_available() else None
    except ImportError:
        return None
def done(text):
    json.dump({"text": text, "gpu_peak_bytes": gpu_peak()}, open(out, "w"))
"""
CHILDREN = {
    "chaitime-py": CHILD_COMMON + """
from pathlib import Path
from chaitime.asr import AsrOptions, transcribe
t = transcribe(Path(wav), AsrOptions(model=model_arg, device=device))
done(" ".join(s.text for s in t.segments))
""",
    "openai": CHILD_COMMON + """
from chaitime.asr.openai_engine import load_model
m = load_model(resolved.ref, resolved.name, device, fp16_weights=False)
done(m.transcribe(audio(), language="en", fp16=device == "cuda")["text"])
""",
    "fw-seq": CHILD_COMMON + """
import os
from faster_whisper import WhisperModel
m = WhisperModel(resolved.ref, device=device, compute_type="int8" if device == "cpu" else "float16", cpu_threads=os.cpu_count())
segs, _ = m.transcribe(audio(), language="en", vad_filter=True, word_timestamps=True)
done(" ".join(s.text for s in segs))
""",
    "fw-batched": CHILD_COMMON + """
import os
from faster_whisper import BatchedInferencePipeline, WhisperModel
m = WhisperModel(resolved.ref, device=device, compute_type="int8" if device == "cpu" else "float16", cpu_threads=os.cpu_count())
segs, _ = BatchedInferencePipeline(model=m).transcribe(audio(), language="en", batch_size=8, word_timestamps=True)
done(" ".join(s.text for s in segs))
""",
}


def main() -> int:
    args = parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wav, audio_s, ref = prepare(args, Path(tmp))
        rows = [run_engine(name, wav, audio_s, ref, args, Path(tmp)) for name in args.engines.split(",")]
    print_table(rows)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("audio", nargs="+", type=Path)
    p.add_argument("--ref", action="append", type=Path, help="reference transcript, once per AUDIO (text or .stm)")
    p.add_argument("--minutes", type=float, default=None, help="tile the audio to at least N minutes")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--model", default="tiny.en")
    p.add_argument("--engines", default=",".join(ENGINES))
    p.add_argument("--json", default=None)
    args = p.parse_args()
    if args.ref and len(args.ref) != len(args.audio):
        p.error("give --ref once per AUDIO file, in the same order")
    return args


def prepare(args: argparse.Namespace, tmp: Path) -> tuple[Path, float, str | None]:
    """Join and tile the audio into one 16 kHz WAV; the reference text follows the same tiling."""
    gap = np.zeros(SAMPLE_RATE_HZ, dtype=np.int16)
    pieces = []
    for i, path in enumerate(args.audio):
        pieces += [np.array(decode_speech(path, tmp / f"in{i}.s16").samples()), gap]
    base = np.concatenate(pieces)
    refs = [read_ref(r) for r in args.ref] if args.ref else None
    reps = max(1, math.ceil(args.minutes * 60 * SAMPLE_RATE_HZ / len(base))) if args.minutes else 1
    wav = tmp / "bench.wav"
    write_wav(wav, np.tile(base, reps), SAMPLE_RATE_HZ)
    ref = " ".join(refs * reps) if refs else None
    return wav, len(base) * reps / SAMPLE_RATE_HZ, ref


def read_ref(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".stm":
        return " ".join(line.split(maxsplit=5)[5] for line in text.splitlines() if len(line.split(maxsplit=5)) == 6)
    return text


def run_engine(name: str, wav: Path, audio_s: float, ref: str | None, args, tmp: Path) -> dict:
    out = tmp / f"{name}.json"
    argv = child_argv(name, wav, args, out)
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage: its peak RSS (KiB on Linux)
    wall = time.perf_counter() - start
    row = {"engine": name, "device": args.device, "model": args.model, "audio_s": round(audio_s, 1)}
    if os.waitstatus_to_exitcode(status) != 0 or not out.is_file():
        tail = stderr.strip().splitlines()[-1:] or ["no output"]
        return {**row, "error": tail[0][:160]}
    text, gpu_peak = hypothesis(name, out)
    return {**row, "wall_s": round(wall, 1), "x_realtime": round(audio_s / wall, 1),
            "wer": round(wer(ref, text), 4) if ref else None, "peak_rss_mb": round(usage.ru_maxrss / 1024),
            "gpu_peak_mb": round(gpu_peak / 2**20) if gpu_peak else None}


def child_argv(name: str, wav: Path, args, out: Path) -> list[str]:
    if name.startswith("chaitime") and shutil.which("chaitime"):
        engine = "openai-whisper" if name == "chaitime-openai" else "auto"
        return ["chaitime", "transcribe", str(wav), "-o", str(out), "--model", args.model, "--device", args.device, "--engine", engine, "--quiet"]
    code = CHILDREN["chaitime-py" if name.startswith("chaitime") else name]
    return [sys.executable, "-c", code, str(wav), args.model, args.device, str(out)]


def hypothesis(name: str, out: Path) -> tuple[str, int | None]:
    data = json.loads(out.read_text(encoding="utf-8"))
    if "segments" in data:  # chaitime's transcript.json
        return " ".join(s["text"] for s in data["segments"]), None
    return data["text"], data.get("gpu_peak_bytes")


def print_table(rows: list[dict]) -> None:
    cols = ("engine", "device", "model", "audio_s", "wall_s", "x_realtime", "wer", "peak_rss_mb", "gpu_peak_mb")
    print(" | ".join(cols))
    for row in rows:
        if "error" in row:
            print(f"{row['engine']} | {row['device']} | {row['model']} | failed: {row['error']}")
        else:
            print(" | ".join("-" if row.get(c) is None else str(row[c]) for c in cols))


if __name__ == "__main__":
    sys.exit(main())
