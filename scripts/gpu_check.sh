#!/usr/bin/env bash
# The GPU check: one prepared run of at most 5 minutes (see scripts/gpu_check.py).
#   scripts/gpu_check.sh [--device cuda] [--out gpu-check/gpu-check.json]
# Exit 0: every CPU/GPU comparison passed; 1: one failed (or the run timed out: 124);
# 2: no GPU here.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
exec timeout 300 "$PY" scripts/gpu_check.py "$@"
