#!/usr/bin/env bash
# Make (or reuse) .venv with chaitime installed. Sourced by demo.sh and test.sh.
# Usage: . scripts/setup-env.sh [demo|test]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
py="${PYTHON:-python3}"
if [ ! -x "$here/.venv/bin/python" ]; then
  "$py" -m venv "$here/.venv"
fi
# shellcheck disable=SC1091
. "$here/.venv/bin/activate"
pip_q() { python -m pip install -q --disable-pip-version-check "$@"; }
extra="${1:-demo}"
stamp="$here/.venv/.chaitime-$extra-$(cat "$here/pyproject.toml" | python -c 'import sys,hashlib;print(hashlib.md5(sys.stdin.buffer.read()).hexdigest())')"
if [ ! -f "$stamp" ]; then
  pip_q -e "$here[$extra]"
  if [ "$extra" = "test" ]; then
    # The PyTorch engine needs torch. Without a GPU, take the CPU build (pinned: an unpinned
    # torch pulls several GB of CUDA packages). With one, keep what is there.
    if ! python -c 'import torch' 2>/dev/null; then
      if command -v nvidia-smi >/dev/null 2>&1; then pip_q torch; else pip_q "torch==2.13.0"; fi
    fi
    pip_q --no-deps "openai-whisper>=20240930"
    pip_q tiktoken more-itertools numba
  fi
  touch "$stamp"
fi
