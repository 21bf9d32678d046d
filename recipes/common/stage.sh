#!/usr/bin/env bash
# Stage helpers for recipes (source after parse_options.sh):
#   if stage_begins N "what it does"; then ...; fi   runs the block when stage <= N <= stop_stage,
#                                                     logging a timestamped line
#   done_or_run DIR cmd args...                       runs cmd unless DIR/.done exists, then
#                                                     writes DIR/.done (skip-if-done) with the
#                                                     command (done_signature); a DIR done by
#                                                     another command (other data, options) is
#                                                     an error, not a skip
#   quote_command NAME ARGS...                        the command line for a results header
#   result_opts OPTS...                               OPTS without --nj, --num-threads
stage_begins() {
  local n=$1; shift
  if [ "$stage" -le "$n" ] && [ "$stop_stage" -ge "$n" ]; then
    echo "$(date '+%Y-%m-%d %H:%M:%S') stage $n: $*" >&2
    return 0
  fi
  return 1
}

_stage_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# result_opts OPTS...: the options without those that do not change a result (--nj, --num-threads)
result_opts() {
  local out=()
  while [ $# -gt 0 ]; do
    case $1 in
      --nj|--num-threads) shift ;;
      --nj=*|--num-threads=*) ;;
      *) out+=("$1") ;;
    esac
    shift
  done
  echo "${out[*]}"
}

# done_signature cmd args...: the command as DIR/.done records it: result_opts' (no --nj,
# --num-threads) without --resume either (they do not change the result), with this checkout's
# path as <repo>/ (a moved checkout still recognises its work) and ./ dropped from paths
# (./exp/mono is exp/mono)
done_signature() {
  local args=() a
  for a in "$@"; do
    [ "$a" != --resume ] || continue
    a=${a//$_stage_repo\//<repo>/}; a=${a//\/.\//\/}   # <repo>/; a/./b -> a/b
    while [[ $a == ./?* ]]; do a=${a#./}; done          # ./exp -> exp
    args+=("$a")
  done
  result_opts "${args[@]}"
}

done_or_run() {
  local dir=$1; shift
  local sig; sig=$(done_signature "$@")
  if [ -f "$dir/.done" ]; then
    # an empty .done (earlier runs) is taken as this command's
    if [ -s "$dir/.done" ] && [ "$(cat "$dir/.done")" != "$sig" ]; then
      echo "ERROR: $dir was made by another command ($(cat "$dir/.done")); move it aside or remove it to run: $sig" >&2
      return 2
    fi
    echo "  $dir: done already, skipping (remove $dir/.done to redo)" >&2
    return 0
  fi
  "$@"
  mkdir -p "$dir" && echo "$sig" > "$dir/.done"
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
