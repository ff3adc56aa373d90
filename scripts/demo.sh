#!/usr/bin/env bash
# The main job end to end on the embedded default: synthesize a two-voice sample interview,
# ingest it offline with Whisper tiny.en, and print where the outputs are. Runs in the repository
# root, which is itself a chaitime workspace (episodes/, feeds/).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup-env.sh demo
chaitime demo "$@"
