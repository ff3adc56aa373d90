"""Studio sound, measured: raw input vs ffmpeg-only chains (dynaudnorm, speechnorm) vs chaitime's
sound stage, each mastered the same way (chaitime's loudness master, -19 LUFS mono MP3).

Cases, from real readers (tests/realvoices.py, exact turn truth): (a) the guest 12 dB quieter,
mixed mono; (b) speech + pink noise at 15 dB SNR + 50 Hz hum (with harmonics); (c) clean speech;
(d) separate tracks, one per reader (the other's voice bleeding in at -25 dB, a -50 dB noise floor
each), the guest's 12 dB quieter: the sum as the recording, and chaitime from the tracks; (e) pink
noise 30 dB under the quieter reader (light noise). On b and e the sound stage also runs with each
other denoiser forced (rows "ct NAME": afftdn, RNNoise, DeepFilterNet3), the rest of its plan alike.
Figures: per-speaker loudness difference (pyloudnorm over the true turns), loudness, LRA and
true peak by ffmpeg's ebur128 (independent of chaitime's parser), DNSMOS P.835 (speechmos'
ONNX models), PESQ wb and STOI against the clean reference, WER of Whisper tiny.en against its own
transcript of the clean reference (LibriSpeech's texts don't ship with the readers: the question is
whether the sound costs words, not Whisper's own errors); CPU s: the CPU-seconds (this process and
its children: ffmpeg, the denoiser's workers) of the sound stage and mastering; cost of the sound
stage vs mastering. WER is coarse: at ~330 words a case one word is 0.3 points, and five settings
of the sound stage on case b (24 turns) scored 8.2 to 12.4% against the raw input's 12.4%.

    PYTHONPATH=src python scripts/bench_sound.py [--turns 12]

Before and after a change: run it on the old tree's code with ``--save before.json --only-chaitime``
(PYTHONPATH pointing at that tree's src), then on the new one with ``--before before.json``: each
case's table gains the old run's chaitime rows ("HEAD ..."), side by side with the new
(``--table after.json --before before.json`` prints that from two saved runs).
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "tests"), str(Path(__file__).resolve().parent)]
from trust_asr import wer  # noqa: E402

import realvoices as rv  # noqa: E402
from chaitime.media import ffmpeg, loudness, sound  # noqa: E402
from chaitime.transcript.model import Segment, Transcript, Word  # noqa: E402

# The denoisers forced on a case besides the one auto picks (the sound stage's plan otherwise alike).
FORCED = {"b": ("afftdn", "rnnoise", "deepfilternet"), "e": ("afftdn", "rnnoise", "deepfilternet")}
STRENGTH = {"afftdn": "light", "rnnoise": "strong", "deepfilternet": "strong"}

MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"
CHAINS = {
    "raw": None,
    "dynaudnorm": "dynaudnorm=f=500:g=31:p=0.9:m=20",
    "speechnorm": "speechnorm=e=12.5:r=0.0001:l=1",
}


def cases(turns: int) -> dict[str, tuple[rv.Conversation, np.ndarray, dict | None]]:
    """name -> (conversation as heard, clean reference samples, separate tracks or None)."""
    plain = rv.assemble(MEDIA, "male-female", "plain", turns=turns)
    imbalanced = quieter_guest(plain, 12.0)
    rng = np.random.default_rng(7)
    speech = plain.samples.astype(np.float64)
    rms = np.sqrt(np.mean(speech[np.abs(speech) > 1e-4] ** 2))
    t = np.arange(len(speech)) / rv.RATE_HZ
    hum = sum(np.sin(2 * np.pi * 50 * h * t) / h for h in (1, 2, 3, 4)) * rms * 10 ** (-20 / 20)
    noisy = speech + rv.pink(len(speech), rng) * rms * 10 ** (-15 / 20) + hum
    noisy *= min(1.0, 0.9 / np.abs(noisy).max())
    noisy_conv = rv.Conversation("noisy+hum", noisy.astype(np.float32), plain.turns)
    tracks = rv.separate_tracks(plain, gap_db=12.0, noise_db=-50.0)
    mixed = sum(tracks.values())
    mixed *= min(1.0, 0.9 / np.abs(mixed).max())
    light = rv.with_noise_under_quietest(plain, 30.0)
    return {"a guest -12 dB": (imbalanced, imbalanced.samples, None), "b noise+hum": (noisy_conv, plain.samples, None),
            "c clean": (plain, plain.samples, None),
            "d tracks, guest -12 dB": (rv.Conversation("tracks", mixed.astype(np.float32), plain.turns), plain.samples, tracks),
            "e light noise 30 dB": (light, plain.samples, None)}


def cpu_s() -> float:
    """CPU-seconds of this process and its finished children (ffmpeg, the denoiser's workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def quieter_guest(conv: rv.Conversation, db: float) -> rv.Conversation:
    """The second reader ``db`` quieter than the first in loudness (pyloudnorm over their turns):
    the readers' own levels differ by several dB, so a fixed -12 dB scale isn't a 12 dB gap."""
    x = conv.samples.astype(np.float64)
    level = rv.speaker_lufs(x, conv)
    host, guest = conv.speakers[:2]
    factor = 10 ** ((level[host] - db - level[guest]) / 20)
    for t in conv.turns:
        if t.speaker == guest:
            x[int(t.start_s * 16000):int(t.end_s * 16000)] *= factor
    x *= min(1.0, 0.9 / np.abs(x).max())
    return rv.Conversation(f"{conv.name}/guest-{db:g}dB", x.astype(np.float32), conv.turns)


def truth(conv: rv.Conversation) -> Transcript:
    segs = tuple(Segment(x.start_s, x.end_s, "x", (Word(x.start_s, x.end_s, "x", 1.0, x.speaker),), x.speaker) for x in conv.turns)
    return Transcript(segs, "en", conv.duration_s)


def decode16(path: Path) -> np.ndarray:
    out = subprocess.run([ffmpeg.ffmpeg_exe(), "-v", "error", "-i", str(path), "-ac", "1", "-ar", "16000", "-f", "f32le", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(out, np.float32).astype(np.float64)


def ebur128(path: Path) -> tuple[float, float, float]:
    err = subprocess.run([ffmpeg.ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path), "-af", "ebur128=peak=true", "-f", "null", "-"],
                         capture_output=True, text=True, check=True).stderr
    s = err[err.rfind("Summary:"):]
    get = lambda p: float(re.search(p, s).group(1))  # noqa: E731
    return get(r"I:\s+(-?[\d.]+)"), get(r"LRA:\s+(-?[\d.]+)"), get(r"Peak:\s+(-?[\d.]+)")


def master(source: Path, out: Path) -> None:
    before = loudness.measure(source, true_peak=False)
    loudness.master_mp3(source, before, loudness.MONO_TARGET_LUFS, 1, out)


def words(path: Path) -> str:
    from chaitime.asr import AsrOptions, transcribe

    return " ".join(w.text for w in transcribe(path, AsrOptions(model="tiny.en", device="cpu")).words)


def measures(mp3: Path, conv: rv.Conversation, clean: np.ndarray, reference: str) -> dict:
    from pystoi import stoi
    from speechmos import dnsmos

    x = decode16(mp3)
    n = min(len(x), len(clean))
    x, ref = x[:n], clean[:n].astype(np.float64)
    levels = list(rv.speaker_lufs(x, conv).values())
    i, lra, tp = ebur128(mp3)
    mos = dnsmos.run(np.clip(x, -1, 1).astype(np.float32), 16000)
    # PESQ/STOI against the clean reference at the same loudness (a level shift is no degradation).
    scaled = ref * np.sqrt(np.mean(x**2) / max(1e-12, np.mean(ref**2)))
    return {"diff_db": max(levels) - min(levels), "I": i, "LRA": lra, "TP": tp, "SIG": mos["sig_mos"], "BAK": mos["bak_mos"],
            "OVRL": mos["ovrl_mos"], "PESQ": pesq_mean(scaled, x), "STOI": stoi(scaled, x, 16000),
            "WER%": 100 * wer(reference, words(mp3))}


def pesq_mean(reference: np.ndarray, degraded: np.ndarray, seconds: int = 30) -> float:
    """Wideband PESQ, the mean over 30 s pieces (the pesq library crashes on minutes of audio)."""
    from pesq import pesq

    step = seconds * 16000
    scores = [pesq(16000, reference[i:i + step], degraded[i:i + step], "wb") for i in range(0, len(reference) - step // 2, step)]
    return float(np.mean(scores))


def describe(plan) -> str:
    engine = getattr(plan, "engine", None) or ("-" if plan.denoise == "off" else {"light": "afftdn", "strong": "rnnoise"}[plan.denoise])
    return f"denoise={plan.denoise}/{engine} hum={','.join(f'{f:g}' for f in plan.hum_hz) or '-'} snr={plan.snr_db:.0f}dB"


def run_case(name: str, conv: rv.Conversation, clean: np.ndarray, folder: Path, tracks: dict | None = None,
             only_chaitime: bool = False) -> tuple[list[tuple[str, dict]], dict]:
    from dataclasses import fields, replace

    wav = conv.write_wav(folder / "in.wav")
    reference = words(rv.Conversation("clean", clean, conv.turns).write_wav(folder / "clean.wav"))
    rows, cost = [], {}
    for chain, spec in CHAINS.items():
        if only_chaitime and chain != "raw":
            continue
        src = wav
        started, cpu = time.perf_counter(), cpu_s()
        if spec:
            src = folder / f"{chain}.flac"
            ffmpeg.run(["-i", str(wav), "-af", spec, "-c:a", "flac", str(src)], what=chain)
        out = folder / f"{chain}.mp3"
        master(src, out)
        if chain == "raw":
            cost["master_s"] = time.perf_counter() - started
        spent = cpu_s() - cpu
        row = measures(out, conv, clean, reference)
        row["CPU s"] = spent
        rows.append((chain, row))
    pcm = np.clip(np.round(conv.samples * 32767), -32768, 32767).astype(np.int16)
    plan = sound.analyse(pcm, truth(conv), sound.Settings())
    plans = [("chaitime", plan)]
    if "denoiser" in {f.name for f in fields(plan)}:  # (an older tree has no choice of denoiser)
        plans += [(f"ct {e}", replace(plan, denoise=STRENGTH[e], denoiser=e)) for e in FORCED.get(name[0], ()) if e != plan.engine]
    for label, each in plans:
        started, cpu = time.perf_counter(), cpu_s()
        sound.apply(wav, each, 1, folder / "sound.flac", folder / "sound.s16", target_lufs=loudness.MONO_TARGET_LUFS)
        if label == "chaitime":
            cost["sound_s"] = time.perf_counter() - started
        master(folder / "sound.flac", folder / "chaitime.mp3")
        spent = cpu_s() - cpu
        row = measures(folder / "chaitime.mp3", conv, clean, reference)
        row["CPU s"], row["plan"] = spent, describe(each)
        rows.append((label, row))
    if tracks:  # the sound stage from the separate tracks (levelled, ducked, mixed), as ingest --track does
        paths = {}
        for speaker, x in tracks.items():
            paths[speaker] = rv.Conversation(speaker, x, conv.turns).write_wav(folder / f"track-{speaker}.wav")
        pcm_tracks = {s: np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16) for s, x in tracks.items()}
        sound.mix_levelled_tracks(paths, sound.track_gains(pcm_tracks, truth(conv)), 1, conv.duration_s, folder / "mix.flac", folder / "mix.s16")
        plan = sound.analyse(np.fromfile(folder / "mix.s16", np.int16), truth(conv), sound.Settings())
        sound.apply(folder / "mix.flac", plan, 1, folder / "tsound.flac", folder / "tsound.s16", target_lufs=loudness.MONO_TARGET_LUFS)
        master(folder / "tsound.flac", folder / "tracks.mp3")
        row = measures(folder / "tracks.mp3", conv, clean, reference)
        row["plan"], row["CPU s"] = f"from the tracks: {describe(plan)}", float("nan")
        rows.append(("chaitime+trk", row))
    cost["words"] = len(reference.split())
    return rows, cost


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=24, help="turns per case (24: ~3 minutes, ~330 words)")
    parser.add_argument("--cases", default="abcde", help="which cases to run, by letter")
    parser.add_argument("--save", type=Path, help="write every row's figures to this JSON file")
    parser.add_argument("--before", type=Path, help="a --save file of an older tree: its chaitime rows join each table as HEAD ...")
    parser.add_argument("--table", type=Path, help="print the tables of a --save file instead of running")
    parser.add_argument("--only-chaitime", action="store_true", help="only the raw input and chaitime's rows, no ffmpeg-only chains")
    args = parser.parse_args()
    if not MEDIA.is_dir():
        sys.exit(f"{MEDIA} is absent: the benchmark needs the shared real voices")
    before = json.loads(args.before.read_text()) if args.before else {}
    saved = json.loads(args.table.read_text()) if args.table else {}
    for name, (conv, clean, tracks) in cases(args.turns).items():
        if name[0] not in args.cases or (args.table and name not in saved):
            continue
        if not args.table:
            with tempfile.TemporaryDirectory() as tmp:
                rows, cost = run_case(name, conv, clean, Path(tmp), tracks, args.only_chaitime)
            saved[name] = {"rows": rows, "cost": cost}
        show(name, conv.duration_s, saved[name], before.get(name))
    if args.save:
        args.save.write_text(json.dumps(saved, indent=1, default=float) + "\n")


def show(name: str, duration_s: float, result: dict, before: dict | None) -> None:
    """One case's table; an older run's chaitime rows ("HEAD ...") before this one's."""
    keys = ("diff_db", "I", "LRA", "TP", "SIG", "BAK", "OVRL", "PESQ", "STOI", "WER%", "CPU s")
    rows, cost = list(result["rows"]), result["cost"]
    if before:
        at = next((i for i, (chain, _) in enumerate(rows) if chain == "chaitime"), len(rows))
        rows[at:at] = [(f"HEAD {chain}", m) for chain, m in before["rows"] if chain.startswith("chaitime")]
    print(f"\n== {name} ({duration_s:.0f} s); sound stage {cost['sound_s']:.2f} s vs mastering {cost['master_s']:.2f} s "
          f"(x{cost['sound_s'] / cost['master_s']:.2f}), {duration_s / cost['sound_s']:.0f}x realtime; WER over {cost['words']} words")
    print(f"{'chain':17}" + "".join(f"{k:>8}" for k in keys))
    for chain, m in rows:
        print(f"{chain:17}" + "".join(f"{m.get(k, float('nan')):8.2f}" for k in keys) + (f"  {m['plan']}" if "plan" in m else ""), flush=True)


if __name__ == "__main__":
    main()
