"""The trust benchmark (issue 12): figures for chaitime's automatic judgements on real voices.

Runs each section's ``rows()`` and prints one table: figure, measured, target, met. Sections:
  cuts      suggested cuts vs an independent VAD, filler margins (scripts/trust_cuts.py)
  speakers  word accuracy on real-voice conversations, DER on two-speakers (scripts/trust_speakers.py)
  asr       vocabulary vs none, run-to-run identity, speed vs faster-whisper batched (scripts/trust_asr.py)

Needs ../shared/media (real voices); prints why and exits 2 without it.

    python scripts/bench_trust.py [--only cuts,speakers,asr]
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SECTIONS = {"cuts": "trust_cuts", "speakers": "trust_speakers", "asr": "trust_asr"}
MEDIA = HERE.parents[1] / "shared" / "media"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections: " + ", ".join(SECTIONS))
    args = parser.parse_args(argv)
    if not MEDIA.is_dir():
        print(f"{MEDIA}: absent; the trust figures are measured on the real voices there.", file=sys.stderr)
        return 2
    sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]
    rows: list[tuple[str, str, str, str, str]] = []
    for name in [s.strip() for s in args.only.split(",") if s.strip()]:
        if name not in SECTIONS:
            parser.error(f"unknown section {name!r}; choose from {', '.join(SECTIONS)}")
        started = time.monotonic()
        module = importlib.import_module(SECTIONS[name])
        for figure, measured, target, ok in module.rows():
            rows.append((name, figure, str(measured), str(target), "yes" if ok else "NO"))
        print(f"[{name}: {time.monotonic() - started:.0f} s]", file=sys.stderr)
    _print_table(("section", "figure", "measured", "target", "met"), rows)
    missed = sum(r[-1] == "NO" for r in rows)
    print(f"\n{len(rows) - missed} of {len(rows)} figures met")
    return 0


def _print_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())


if __name__ == "__main__":
    sys.exit(main())
