#!/usr/bin/env bash
# Helpers of the scripts that run Kaldi's binaries on asrkt directories (kaldi_nnet1.sh; sourced
# after setting NAME, the script's name for its messages):
#   die MSG...            "NAME: error: MSG" on stderr, exit 1 (one line)
#   log MSG...            a timestamped "NAME: MSG" line on stderr
#   run LOG CMD...        CMD with its stderr to LOG (the command line first); on failure the
#                         log's last lines and "failed, see LOG", exit 1
#   runsh LOG 'PIPELINE'  as run, for a shell pipeline (bash -o pipefail -c)
die() { echo "$NAME: error: $*" >&2; exit 1; }
log() { echo "$(date '+%Y-%m-%d %H:%M:%S') $NAME: $*" >&2; }
run() {
  local logf=$1; shift
  mkdir -p "$(dirname "$logf")"
  echo "# $*" > "$logf"
  if ! "$@" 2>>"$logf"; then
    tail -4 "$logf" >&2; die "failed, see $logf"
  fi
}
runsh() { local logf=$1; shift; run "$logf" bash -o pipefail -c "$1"; }
