"""Make src/chaitime/speakers/data/ge2e.npz, the speaker encoder weights chaitime ships.

The GE2E speaker encoder (3-layer LSTM over 40 mel bands, 256-d d-vectors) was trained by
Resemble AI and published in the resemblyzer wheel on PyPI (Apache-2.0) as pretrained.pt: 17 MB,
most of it optimizer state. This script reads that checkpoint straight from the wheel (no torch,
no resemblyzer import; the reader refuses anything but tensors and dicts) and keeps only the
model's float32 weights (~5.7 MB). Run it again only to refresh the shipped file.

Usage:
  python -m pip download --no-deps resemblyzer==0.1.4 -d /tmp/wheel
  python scripts/convert_ge2e.py /tmp/wheel/Resemblyzer-0.1.4-py3-none-any.whl
  (without an argument it runs that pip download itself, into a temporary folder)
"""

from __future__ import annotations

import argparse
import hashlib
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from chaitime.fsutil import atomic_path
from chaitime.speakers.checkpoint import read_model_weights

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "src" / "chaitime" / "speakers" / "data" / "ge2e.npz"
WHEEL = "resemblyzer==0.1.4"
MEMBER = "resemblyzer/pretrained.pt"


def download(folder: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", WHEEL, "-d", str(folder)], check=True)
    return next(folder.glob("*.whl"))


def convert(wheel: Path, out: Path = OUT) -> dict[str, tuple[int, ...]]:
    with zipfile.ZipFile(wheel) as z:
        raw = z.read(MEMBER)
    weights = read_model_weights(io.BytesIO(raw))
    weights["source_sha256"] = np.frombuffer(hashlib.sha256(raw).digest(), np.uint8)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **weights)
    return {k: v.shape for k, v in weights.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", nargs="?", type=Path, help="the resemblyzer wheel (downloaded with pip when omitted)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download(Path(tmp))
        shapes = convert(wheel, args.out)
    print(f"{args.out}: {args.out.stat().st_size / 1e6:.1f} MB, {len(shapes)} arrays")
    for name, shape in sorted(shapes.items()):
        print(f"  {name:22s} {shape}")


if __name__ == "__main__":
    main()
