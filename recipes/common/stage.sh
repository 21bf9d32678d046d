#!/usr/bin/env bash
# Stage helpers for recipes (source after parse_options.sh):
#   if stage_begins N "what it does"; then ...; fi   runs the block when stage <= N <= stop_stage,
#                                                     logging a timestamped line
#   done_or_run DIR cmd args...                       runs cmd unless DIR/.done exists, then
#                                                     creates DIR/.done (skip-if-done)
stage_begins() {
  local n=$1; shift
  if [ "$stage" -le "$n" ] && [ "$stop_stage" -ge "$n" ]; then
    echo "$(date '+%Y-%m-%d %H:%M:%S') stage $n: $*" >&2
    return 0
  fi
  return 1
}

done_or_run() {
  local dir=$1; shift
  if [ -f "$dir/.done" ]; then
    echo "  $dir: done already, skipping (remove $dir/.done to redo)" >&2
    return 0
  fi
  "$@"
  mkdir -p "$dir" && touch "$dir/.done"
}

require_dir() {
  [ -d "$1" ] || { echo "$0: $1 not found: $2" >&2; exit 1; }
}
