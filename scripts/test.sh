#!/usr/bin/env bash
# The test suite, with everything it needs installed into .venv. Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup-env.sh test
python -m ruff check --quiet src tests scripts  # lint first: seconds, and a broken import fails here
# The unit tier first (no Whisper, no media rendering: under a minute), so a broken rule fails
# in seconds; then the tests that transcribe, render, ingest or drive a browser (marked slow).
# One worker per core, each test file on one worker (module fixtures built once).
tier() { python -m pytest -q -ra -n auto --dist loadfile "$@" || { rc=$?; [ "$rc" -eq 5 ] || exit "$rc"; }; }  # 5: none collected
tier -m "not slow" "$@"
tier --durations=15 -m slow "$@"
