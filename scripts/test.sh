#!/usr/bin/env bash
# The test suite, with everything it needs installed into .venv. Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup-env.sh test
python -m ruff check --quiet src tests scripts  # lint first: seconds, and a broken import fails here
python -m pytest -q -ra --durations=15 "$@"
