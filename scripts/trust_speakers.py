"""Speaker figures of issue 12, on the real LibriSpeech readers (tests/realvoices.py).

rows() -> [(figure, measured, target, ok)]: word accuracy of the speaker labels on every
conversation and variant with Whisper tiny.en words (each conversation transcribed once per run),
with the count estimated and with one guest named (hint: host + guest); the count found; DER on
shared/media/two-speakers.wav; and three conversations through `chaitime init` + `chaitime ingest
--guest "Ada Guest"` (transcript.json read back). scripts/bench_trust.py calls rows().

Usage: python scripts/trust_speakers.py [--media ../shared/media] [--turns 16]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import realvoices as rv  # noqa: E402
from chaitime import asr  # noqa: E402
from chaitime.config import PLACEHOLDER_NAME  # noqa: E402
from chaitime.speakers import attribute  # noqa: E402
from chaitime.speakers.audio import decode  # noqa: E402
from chaitime.speakers.der import diarization_error, read_rttm  # noqa: E402
from chaitime.speakers.diarize import diarize  # noqa: E402
from chaitime.transcript.model import Transcript  # noqa: E402

MEDIA = REPO.parent / "shared" / "media"


INGESTED = (("female-female", "plain"), ("three-voices", "plain"), ("male-female", "stereo-bleed"))


def _through_ingest(media: Path, name: str, variant: str, turns: int, tmp: Path) -> tuple[str, str, str, bool]:
    """`chaitime init` + `chaitime ingest conv.wav --guest "Ada Guest"`, as a user runs them."""
    conv = rv.assemble(media, name, variant, turns=turns)
    ws = tmp / f"ws-{name}-{variant}"
    ws.mkdir()
    wav = conv.write_wav(ws / "conversation.wav")
    for args in (["init"], ["ingest", str(wav), "--guest", "Ada Guest", "--quiet"]):
        subprocess.run([sys.executable, "-m", "chaitime", *args], cwd=ws, check=True, capture_output=True)
    (transcript,) = (ws / "episodes").glob("*/transcript.json")
    labeled = Transcript.load(transcript)
    acc, found = rv.word_accuracy(labeled.words, conv), labeled.speakers()
    return (f"speaker words right, {name}/{variant} through chaitime ingest --guest (labels {', '.join(found)})",
            f"{acc:.1%}", ">= 97%", acc >= 0.97 and len(found) == len(conv.speakers) and PLACEHOLDER_NAME not in found)


def _blocks(figure: str, words: Transcript, wav: Path, true: int | None, **kwargs) -> tuple[str, str, str, bool]:
    """Speaker blocks without and with the smoothing of short flips; ``true`` None: no bound."""
    before, after = (rv.speaker_blocks([w.speaker for w in attribute(words, mix_path=wav, smooth=s, **kwargs).words])
                     for s in (False, True))
    if true is None:
        return f"speaker blocks, {figure}: unsmoothed {before}", str(after), f"<= {before}", after <= before
    bound = rv.block_bound(true)
    return (f"speaker blocks, {figure}: unsmoothed {before}, true {true}", str(after), f"{true} +-{bound}",
            abs(after - true) <= bound and abs(after - true) <= abs(before - true))


def rows(media: Path = MEDIA, turns: int = 16) -> list[tuple[str, str, str, bool]]:
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in rv.CONVERSATIONS:
            for variant in rv.VARIANTS:
                conv = rv.assemble(media, name, variant, turns=turns)
                wav = conv.write_wav(Path(tmp) / f"{name}-{variant}.wav")
                words = asr.transcribe(wav)  # once per conversation
                for how, kwargs in (("estimated", {}), ("one guest named", {"expected_speakers": 2})):
                    labeled = attribute(words, mix_path=wav, **kwargs)
                    acc = rv.word_accuracy(labeled.words, conv)
                    found = len(labeled.speakers())
                    out.append((f"speaker words right, {name}/{variant}, count {how} (found {found} of {len(conv.speakers)})",
                                f"{acc:.1%}", ">= 97%", acc >= 0.97 and found == len(conv.speakers)))
                out.append(_blocks(f"{name}/{variant} ({len(conv.turns)} turns placed)", words, wav, rv.true_blocks(words.words, conv)))
        for name in rv.CONVERSATIONS:  # short real turns ("yes", "right") must stay turns
            conv = rv.assemble(media, name, "plain", turns=12, interjections=4)
            wav = conv.write_wav(Path(tmp) / f"{name}-interjections.wav")
            words = asr.transcribe(wav)
            acc = rv.word_accuracy(attribute(words, mix_path=wav).words, conv)
            out.append((f"speaker words right, {name} with 4 short interjections", f"{acc:.1%}", ">= 97%", acc >= 0.97))
            out.append(_blocks(f"{name} with 4 short interjections ({len(conv.turns)} turns placed)", words, wav,
                               rv.true_blocks(words.words, conv)))
        out.extend(_two_speakers_blocks(media))
        out.append(_same_pitch_blocks(Path(tmp)))
        for name, variant in INGESTED:
            out.append(_through_ingest(media, name, variant, turns, Path(tmp)))
    reference = read_rttm(media / "two-speakers.rttm")
    result = diarize(decode(media / "two-speakers.wav")[:, 0])
    der = diarization_error(reference, result.turns()).der
    out.append((f"DER two-speakers.wav, count estimated (found {result.num_speakers})", f"{der:.1%}", "<= 10%", der <= 0.10))
    return out


def _two_speakers_blocks(media: Path) -> list[tuple[str, str, str, bool]]:
    """two-speakers.wav with tiny.en words: 10 true turns (two overlap), quick exchanges."""
    wav = media / "two-speakers.wav"
    words = asr.transcribe(wav)
    return [_blocks(f"two-speakers.wav, {how} (10 true turns)", words, wav, None, **kwargs)
            for how, kwargs in (("count estimated", {}), ("--speakers 2", {"num_speakers": 2}))]


def _same_pitch_blocks(tmp: Path) -> tuple[str, str, str, bool]:
    """The synthesized demo script in two eSpeak voices of one pitch, --speakers 2, words placed
    where each line landed: the case where a voice's label flips inside its sentences."""
    import numpy as np

    from chaitime import sample
    from chaitime.transcript.model import Segment, Word

    voices = {sample.HOST: "en-us", sample.GUEST: "en-us+m3"}
    tracks, lines = sample.synthesize_tracks(sample.DEFAULT_SCRIPT, voices=voices)
    wav = tmp / "same-pitch.wav"
    sample.write_wav(wav, (tracks[sample.HOST].astype(np.int32) + tracks[sample.GUEST]).astype(np.int16), sample.ESPEAK_RATE_HZ)
    segments = []
    for i in range(0, len(lines), 2):  # two lines a segment, so turn changes fall inside segments
        words = []
        for line in lines[i : i + 2]:
            texts = line.text.split()
            edges = np.linspace(line.start_s, line.end_s, len(texts) + 1)
            words += [Word(float(a), float(b) - 0.02, " " + t) for t, a, b in zip(texts, edges[:-1], edges[1:])]
        segments.append(Segment(words[0].start_s, words[-1].end_s, "".join(w.text for w in words).strip(), tuple(words)))
    transcript = Transcript(tuple(segments), "en", lines[-1].end_s + 1)
    true = rv.speaker_blocks([ln.speaker for ln in lines])
    return _blocks("synthesized same-pitch voices, --speakers 2", transcript, wav, true, num_speakers=2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media", type=Path, default=MEDIA)
    parser.add_argument("--turns", type=int, default=16)
    args = parser.parse_args()
    table = rows(args.media, args.turns)
    width = max(len(r[0]) for r in table)
    for figure, measured, target, ok in table:
        print(f"{figure:{width}s}  {measured:>7s}  {target:8s} {'ok' if ok else 'FAIL'}")
    print(f"{sum(r[3] for r in table)}/{len(table)} figures reached")


if __name__ == "__main__":
    main()
