"""Speaker figures of issue 26 on real conversations, the speaker code at BASE (loaded from git)
side by side with this branch's, in one run.

Cases (truth as RTTM; words scored by ../shared/tools/speaker_accuracy.py, turn changes by
../shared/tools/midsentence_turns.py):
  townhall     ../shared/media/real-conversations/townhall-2-voices.wav: a TV town hall, moderator
               (the host) and guest; naming scored with hosts=[moderator], guests=[guest]
  meeting      real-conversations/meeting-4-voices.wav: one minute of an AMI meeting, four people
  telephone    ../shared/media/two-speakers.wav: a telephone call, quick turns
  <pair>       tests/realvoices.py: LibriSpeech readers in turn (16 turns), male-female, male-male,
               female-female, three-voices
  interjections  tests/realvoices.py male-female, 12 turns with 4 short real interjections
  interview    the old bench's (scripts/bench_speakers.py) synthesized two-voice interview
               (sample.TOPIC_SCRIPT, eSpeak NG), host and guest named; interview/2 with --speakers 2
               (the encoder hears eSpeak's two voices as one)
  guest-first  a short synthesized interview where the guest speaks first and asks the rhetorical
               questions, the host welcomes and introduces (--speakers 2)

Per case and side: voices found (truth), word attribution, the share of speaker changes that fall
mid-sentence (changes), whether the host's name landed on the host's voice, and the CPU seconds of
labelling and naming (transcription not counted). Whisper tiny.en on the CPU, transcripts cached
under the system temp folder; the transcript's second pass (speech the first pass left without
words, decoded again on its own) is reported per case.

Usage: python scripts/bench_speakers_real.py [--media ../shared/media] [--only townhall,meeting] [--repeat 2]
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "scripts"))
from gitbase import package_at  # noqa: E402

SHARED = ROOT.parent / "shared"
BASE = "46d575f"  # the speaker code before issue 26
CACHE = Path(tempfile.gettempdir()) / "chaitime-bench-speakers-real"


@dataclass
class Case:
    name: str
    wav: Path
    rttm: Path
    hosts: list[str] = field(default_factory=list)
    guests: list[str] = field(default_factory=list)
    host_truth: str | None = None  # the RTTM label of the host's voice
    num_speakers: int | None = None  # --speakers N (default: estimated)
    words_of: str | None = None  # another case's transcript (the same recording)


def baseline():
    """chaitime.speakers as it was at BASE, as a package of its own (its relative imports of the rest
    of chaitime resolve to today's package; its own modules to BASE's; the weights linked in)."""
    module = package_at(BASE, "speakers", CACHE, links=("data",))
    importlib.import_module(f"{module.__name__}.names")
    return module


def transcribe(wav: Path, name: str):
    from chaitime.asr import AsrOptions
    from chaitime.asr import transcribe as asr_transcribe
    from chaitime.transcript.model import Transcript

    cached = CACHE / f"{name}.tiny.json"
    if not cached.is_file():
        t0 = time.perf_counter()
        cached.write_text(asr_transcribe(wav, AsrOptions(model="tiny.en", device="cpu")).to_json())
        print(f"  (transcribed {name} in {time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    return Transcript.load(cached)


def write_rttm(path: Path, turns: list[tuple[float, float, str]]) -> Path:
    path.write_text("".join(f"SPEAKER {path.stem} 1 {a:.3f} {b - a:.3f} <NA> <NA> {s.replace(' ', '_')} <NA> <NA>\n" for a, b, s in turns))
    return path


def cases(media: Path, only: set[str] | None) -> list[Case]:
    import realvoices as rv
    from chaitime import sample

    real = media / "real-conversations"
    out = [Case("townhall", real / "townhall-2-voices.wav", real / "townhall-2-voices.rttm", ["George Stephanopoulos"], ["Joe Biden"],
                "George_Stephanopoulos"),
           Case("meeting", real / "meeting-4-voices.wav", real / "meeting-4-voices.rttm"),
           Case("telephone", media / "two-speakers.wav", media / "two-speakers.rttm")]
    for name in rv.CONVERSATIONS:
        if only and name not in only:
            continue
        conv = rv.assemble(media, name, "plain", turns=16)
        wav = CACHE / f"{name}.wav"
        if not wav.is_file():
            conv.write_wav(wav)
        out.append(Case(name, wav, write_rttm(CACHE / f"{name}.rttm", [(t.start_s, t.end_s, t.speaker) for t in conv.turns])))
    if not only or "interjections" in only:  # short real turns ("For", "Fortune!") between two turns of one reader
        conv = rv.assemble(media, "male-female", "plain", turns=12, interjections=4)
        wav = CACHE / "interjections.wav"
        if not wav.is_file():
            conv.write_wav(wav)
        out.append(Case("interjections", wav, write_rttm(CACHE / "interjections.rttm", [(t.start_s, t.end_s, t.speaker) for t in conv.turns])))
    if not only or "interview" in only:
        wav = CACHE / "interview.wav"
        tracks, lines = sample.synthesize_tracks(sample.TOPIC_SCRIPT)
        if not wav.is_file():
            mix = sum(t.astype("int32") for t in tracks.values()).clip(-32768, 32767).astype("int16")
            sample.write_wav(wav, mix, sample.ESPEAK_RATE_HZ)
        rttm = write_rttm(CACHE / "interview.rttm", [(ln.start_s, ln.end_s, ln.speaker) for ln in lines])
        out.append(Case("interview", wav, rttm, [sample.HOST], [sample.GUEST], sample.HOST.replace(" ", "_")))
        # eSpeak's two voices sound alike to the encoder (the count comes out 1): told the count
        out.append(Case("interview/2", wav, rttm, [sample.HOST], [sample.GUEST], sample.HOST.replace(" ", "_"), 2, "interview"))
    if not only or "guest-first" in only:
        out.append(_guest_first(sample))
    return [c for c in out if (not only or c.name in only or c.words_of in only) and c.wav.is_file()]


# The guest speaks first (a sound check) and asks the rhetorical questions; the host welcomes,
# introduces and prompts ("Tell me about..."): the naming rule before issue 26 (questions asked,
# a bonus for speaking first) takes the guest for the host.
GUEST_FIRST = (
    ("G", "Is this on? Can you hear me all right? Should I sit closer?"),
    ("H", "We hear you fine. Welcome to the show, everyone. My guest today is Sam Okafor, who builds search engines."),
    ("G", "Thanks for having me. Where do I even start? Why search? Because nobody else would build it for local news."),
    ("H", "Tell me about the first version you built."),
    ("G", "It was slow. Did it work? Barely. Was it useful? For about ten readers, yes."),
    ("H", "And then the newspapers started calling you."),
    ("G", "Two of them did. Who pays for search, though? That took us another year to answer."),
    ("H", "Sam Okafor, thank you for coming in today."),
)


def _guest_first(sample) -> Case:
    lines = [sample.Line(sample.HOST if who == "H" else sample.GUEST, text) for who, text in GUEST_FIRST]
    wav = CACHE / "guest-first.wav"
    tracks, spoken = sample.synthesize_tracks(lines)
    if not wav.is_file():
        mix = sum(t.astype("int32") for t in tracks.values()).clip(-32768, 32767).astype("int16")
        sample.write_wav(wav, mix, sample.ESPEAK_RATE_HZ)
    rttm = write_rttm(CACHE / "guest-first.rttm", [(ln.start_s, ln.end_s, ln.speaker) for ln in spoken])
    return Case("guest-first", wav, rttm, [sample.HOST], [sample.GUEST], sample.HOST.replace(" ", "_"), 2)


def tool(name: str, *args: Path) -> list[str]:
    run = subprocess.run([sys.executable, str(SHARED / "tools" / name), *map(str, args)], capture_output=True, text=True, check=True)
    return run.stdout.split()


def host_right(named, case: Case) -> str:
    """Whether the words named as the host are mostly the host's (by the RTTM, at their midpoints)."""
    if not case.hosts:
        return "n/a"
    turns = [line.split() for line in case.rttm.read_text().splitlines() if line.startswith("SPEAKER")]
    said = {}
    for w in named.words:
        if w.speaker == case.hosts[0]:
            mid = (w.start_s + w.end_s) / 2
            for t in turns:
                if float(t[3]) <= mid <= float(t[3]) + float(t[4]):
                    said[t[7]] = said.get(t[7], 0) + 1
    return "yes" if said and max(said, key=said.get) == case.host_truth else "NO"


def measure(pkg, names, case: Case, words, side: str, repeat: int = 1) -> dict:
    cpu = None
    for _ in range(repeat):  # the least of a few runs: the 2 cores are shared
        t0 = time.process_time()
        labeled = pkg.attribute(words, mix_path=case.wav, num_speakers=case.num_speakers,
                                expected_speakers=len(case.hosts + case.guests) or None)  # as ingest does
        named, _ = names.name_speakers(labeled, hosts=case.hosts, guests=case.guests, mapping={})
        cpu = min(cpu if cpu is not None else float("inf"), time.process_time() - t0)
    path = CACHE / f"{case.name.replace('/', '-')}.{side}.json"
    path.write_text(labeled.to_json())
    acc, scored, found, truth = tool("speaker_accuracy.py", path, case.rttm)
    share, changes, mid = tool("midsentence_turns.py", path)
    return {"found": int(found), "truth": int(truth), "acc": float(acc), "scored": int(scored), "share": float(share),
            "changes": int(changes), "mid": int(mid), "host": host_right(named, case), "cpu": cpu}


def second_pass(words) -> str:
    again = words.meta.get("retranscribed") or []
    left = words.meta.get("untranscribed") or []
    got = sum(int(x.get("words", 0)) for x in again)
    return (f"{len(again)} stretch(es) decoded again ({sum(x['end'] - x['start'] for x in again):.1f} s, {got} words back), "
            f"{len(left)} left ({sum(x['end'] - x['start'] for x in left):.1f} s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media", type=Path, default=SHARED / "media")
    parser.add_argument("--only", help="comma-separated case names")
    parser.add_argument("--repeat", type=int, default=2, help="runs per side and case; the CPU seconds are the least")
    args = parser.parse_args(argv)
    if not (args.media / "real-conversations").is_dir():
        print(f"{args.media}/real-conversations: absent, nothing to measure", file=sys.stderr)
        return 1
    CACHE.mkdir(parents=True, exist_ok=True)
    import chaitime.speakers as new
    import chaitime.speakers.names as new_names

    old = baseline()
    old_names = sys.modules[f"{old.__name__}.names"]
    only = set(args.only.split(",")) if args.only else None
    rows, totals = [], {"before": [0, 0, 0, 0.0, 0, 0], "after": [0, 0, 0, 0.0, 0, 0]}
    for case in cases(args.media, only):
        words = transcribe(case.wav, case.words_of or case.name)
        row = {side: measure(pkg, nm, case, words, side, args.repeat)
               for side, pkg, nm in (("before", old, old_names), ("after", new, new_names))}
        rows.append((case, row, second_pass(words), len(words.words)))
        for side, r in row.items():
            t = totals[side]
            t[0] += r["changes"]
            t[1] += r["mid"]
            t[2] += r["scored"]
            t[3] += r["acc"] * r["scored"]
            t[4] += r["host"] == "yes"
            t[5] += r["host"] in ("yes", "NO")
    head = f"{'case':14} {'voices':>6} | {'found':>5} {'words right':>11} {'mid-sentence':>14} {'host':>4} {'cpu s':>6}"
    print(f"{'':14} {'':6} | {'before (' + BASE + ')':^46} | {'after':^46}")
    print(head + " | " + head.split("| ", 1)[1])
    for case, row, _, _ in rows:
        cells = [f"{r['found']:5d} {r['acc']:10.1%} {r['share']:6.0%} ({r['mid']:2d}/{r['changes']:2d}) {r['host']:>4} {r['cpu']:6.1f}"
                 for r in (row["before"], row["after"])]
        print(f"{case.name:14} {row['before']['truth']:6d} | {cells[0]} | {cells[1]}")
    cells = []
    for side in ("before", "after"):
        c, m, n, right, hosts, named = totals[side]
        cpu = sum(r[side]["cpu"] for _, r, _, _ in rows)
        cells.append(f"{'':5} {right / max(1, n):10.1%} {m / max(1, c):6.0%} ({m:2d}/{c:2d}) {hosts}/{named:<2} {cpu:6.1f}")
    print(f"{'all':14} {'':6} | {cells[0]} | {cells[1]}")
    print("\ntranscripts (tiny.en, this branch's second pass):")
    for case, _, passed, count in rows:
        print(f"  {case.name:14} {count:4d} words; {passed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
