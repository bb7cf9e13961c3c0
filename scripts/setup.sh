#!/usr/bin/env bash
# Create .venv and install mshc with its dev tools; safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."

python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
# torch is pinned to 2.13.0 in pyproject.toml: a looser range pulls a CUDA build of
# several GB from PyPI.
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[dev]"
