#!/usr/bin/env bash
# Stage helpers for recipes (source after parse_options.sh):
#   if stage_begins N "what it does"; then ...; fi   runs the block when stage <= N <= stop_stage,
#                                                     logging a timestamped line
#   done_or_run DIR cmd args...                       runs cmd unless DIR/.done exists, then
#                                                     creates DIR/.done (skip-if-done)
#   quote_command NAME ARGS...                        the command line for a results header
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


# quote_command NAME ARGS...: "NAME ARGS" as a shell line for a results header, without the
# --stage/--stop-stage options (they do not shape the results); arguments with spaces quoted
quote_command() {
  local line=$1; shift
  while [ $# -gt 0 ]; do
    case "$1" in
      --stage|--stop-stage) shift ;;
      --stage=*|--stop-stage=*) ;;
      ""|*" "*) line="$line '$1'" ;;
      *) line="$line $1" ;;
    esac
    shift
  done
  echo "$line"
}
