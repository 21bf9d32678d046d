#!/usr/bin/env bash
# The GPU check: one prepared run of at most 5 minutes (see scripts/gpu_check.py).
#   scripts/gpu_check.sh [--device cuda] [--out FILE] [--work DIR]
# (relative paths: to the current directory; the default --out: gpu-check/gpu-check.json in the
# repository)
# Exit 0: every CPU/GPU comparison passed; 1: one failed (or the run timed out: 124);
# 2: no GPU here.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)   # no cd: paths in "$@" stay relative to the caller
PY=${PYTHON:-$root/.venv/bin/python}
[ -x "$PY" ] || PY=python3
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
exec timeout 300 "$PY" "$root/scripts/gpu_check.py" "$@"
