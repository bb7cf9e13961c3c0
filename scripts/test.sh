#!/usr/bin/env bash
# Set everything up, then run the test suite (unit tests and the pipeline smoke test).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
export HF_HUB_OFFLINE=1
PATH="$PWD/.venv/bin:$PATH" .venv/bin/python -m pytest "$@"
