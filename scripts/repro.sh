#!/usr/bin/env bash
# Set everything up, then run the whole pipeline at the default profile with DVC.
# Without network, point MSHC_DATA_DIR at a copy of the upstream files first.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}"
.venv/bin/mshc check
PATH="$PWD/.venv/bin:$PATH" dvc repro "$@"
