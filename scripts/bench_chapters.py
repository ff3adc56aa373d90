"""Chapter and link figures for issue 18, this branch side by side with the baseline (the writing
code at BASE, loaded from git), in one run.

Cases (true topic boundaries known):
  script      tests/fourtopics.py as a transcript with evenly timed words (no audio)
  espeak      the same script spoken by eSpeak NG, transcribed by Whisper tiny.en (CPU); speakers
              from the script's line times (perfect diarization) and, separately, none
  readers     real voices: the five LibriSpeech readers of ../shared/media/librispeech-speakers, each
              reading their own book passage (10 utterances, ~70 s) in turn, transcribed by tiny.en;
              a topic is a passage, speakers unknown (the segmenter sees only words)

A boundary is found when a chapter starts within 20 s of it. Run: python scripts/bench_chapters.py
(``--quick``: the script case only). Transcripts are cached under the system temp folder.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
MEDIA = ROOT.parent / "shared" / "media" / "librispeech-speakers"
BASE = "8cc6ceb"  # the branch point: the draft before issue 18
TOLERANCE_S = 20.0
CACHE = Path(tempfile.gettempdir()) / "chaitime-bench-chapters"


def baseline(module: str):
    """The writing module ``module`` as it was at BASE (relative imports resolve to today's package)."""
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{BASE}:src/chaitime/writing/{module}.py"],
                            capture_output=True, text=True, check=True).stdout
    path = CACHE / f"_baseline_{module}.py"
    CACHE.mkdir(exist_ok=True)
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(f"chaitime.writing._baseline_{module}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def hits(chapters, truth: list[float]) -> int:
    return sum(any(abs(c.start_s - t) <= TOLERANCE_S for c in chapters[1:]) for t in truth)


def script_case():
    import fourtopics
    from test_writing import transcript_from

    tr = transcript_from(fourtopics.SCRIPT, word_s=0.5)
    return tr, [tr.segments[i].start_s for i in fourtopics.BOUNDARIES], [fourtopics.HOST]


def espeak_case(with_speakers: bool):
    import fourtopics
    from chaitime import sample
    from chaitime.asr import AsrOptions, transcribe
    from chaitime.transcript.model import Transcript

    CACHE.mkdir(exist_ok=True)
    wav, cached = CACHE / "fourtopics.wav", CACHE / "fourtopics.json"
    samples, spoken = sample.synthesize(fourtopics.SCRIPT)
    if not cached.is_file():
        sample.write_wav(wav, samples, sample.ESPEAK_RATE_HZ)
        cached.write_text(transcribe(wav, AsrOptions(model="tiny.en", device="cpu")).to_json())
    tr = Transcript.load(cached)
    truth = [spoken[i].start_s for i in fourtopics.BOUNDARIES]
    if with_speakers:
        tr = _label(tr, [(s.start_s, s.end_s, s.speaker) for s in spoken])
    return tr, truth, [fourtopics.HOST]


def readers_case():
    import numpy as np

    import realvoices as rv
    from chaitime import sample
    from chaitime.asr import AsrOptions, transcribe
    from chaitime.transcript.model import Transcript

    CACHE.mkdir(exist_ok=True)
    cached = CACHE / "readers.json"
    parts, truth, t = [], [], 0.0
    gap = np.zeros(int(0.5 * rv.RATE_HZ), dtype=np.float32)
    for n, reader in enumerate(sorted(rv.READERS)):
        if n:
            truth.append(t)
        for path in rv.utterances(MEDIA.parent, reader):
            audio = rv._decode(path)
            parts += [audio, gap]
            t += (len(audio) + len(gap)) / rv.RATE_HZ
    if not cached.is_file():
        wav = CACHE / "readers.wav"
        pcm = np.clip(np.round(np.concatenate(parts) * 32767), -32768, 32767).astype(np.int16)
        sample.write_wav(wav, pcm, rv.RATE_HZ)
        cached.write_text(transcribe(wav, AsrOptions(model="tiny.en", device="cpu")).to_json())
    return Transcript.load(cached), truth, []


def _label(tr, turns):
    from dataclasses import replace

    def who(seg):
        return max(turns, key=lambda x: min(seg.end_s, x[1]) - max(seg.start_s, x[0]))[2]

    return replace(tr, segments=tuple(replace(s, speaker=who(s), words=tuple(replace(w, speaker=who(s)) for w in s.words))
                                      for s in tr.segments))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the script case only (no audio, no Whisper)")
    args = parser.parse_args()
    import fourtopics
    from chaitime.writing import chapters as new
    from chaitime.writing import links as new_links
    from chaitime.writing import text

    old, old_links = baseline("chapters"), baseline("links")
    cases = {"script": script_case}
    if not args.quick:
        cases["espeak+speakers"] = lambda: espeak_case(True)
        cases["espeak, no speakers"] = lambda: espeak_case(False)
        if MEDIA.is_dir():
            cases["readers (real voices)"] = readers_case
    names = [fourtopics.HOST, fourtopics.GUEST, fourtopics.SHOW]
    print(f"{'case':24} {'length':>7} {'true':>5} | {'base: n':>7} {'hits':>5} | {'new: n':>6} {'hits':>5} | new titles")
    for name, build in cases.items():
        tr, truth, hosts = build()
        before = old.make_chapters(tr, hosts=hosts, names=names)
        after = new.make_chapters(tr, hosts=hosts, names=names)
        print(f"{name:24} {tr.duration_s:6.0f}s {len(truth) + 1:5d} | {len(before):7d} {hits(before, truth):3d}/{len(truth)} | "
              f"{len(after):6d} {hits(after, truth):3d}/{len(truth)} | {'; '.join(c.title for c in after)}")
        if name.startswith(("script", "espeak")):
            sents = text.sentences(tr)
            found_old = [link.url for link in old_links.find_links(sents)]
            found_new = [link.url for link in new_links.find_links(sents)]
            want = [fourtopics.URL, "scholar"]
            print(f"{'':24} links: base {sum(any(w in u for u in found_old) for w in want)}/2 {found_old}  "
                  f"new {sum(any(w in u for u in found_new) for w in want)}/2 {found_new}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
