# Puts the asrkt from this checkout's virtual environment first on PATH (as Kaldi's path.sh).
ASRKT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ -x "$ASRKT_ROOT/.venv/bin/asrkt" ]; then
  export PATH="$ASRKT_ROOT/.venv/bin:$PATH"
fi
command -v asrkt >/dev/null || { echo "path.sh: asrkt not found (run 'make install' in $ASRKT_ROOT)" >&2; return 1; }
export LC_ALL=C
