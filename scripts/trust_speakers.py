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
        for name, variant in INGESTED:
            out.append(_through_ingest(media, name, variant, turns, Path(tmp)))
    reference = read_rttm(media / "two-speakers.rttm")
    result = diarize(decode(media / "two-speakers.wav")[:, 0])
    der = diarization_error(reference, result.turns()).der
    out.append((f"DER two-speakers.wav, count estimated (found {result.num_speakers})", f"{der:.1%}", "<= 10%", der <= 0.10))
    return out


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
