#!/usr/bin/env bash
# Path arguments of the recipes and scripts: one rule. A relative path given on the command line
# is relative to the directory the script was called from, as for any command; a script's own
# defaults (conf, the corpus beside the repository) are relative to its folder, where Kaldi-style
# recipes run. Both are made absolute when the options are parsed, before any cd, so a path is
# checked and used as the same file. A script that cds into its folder first records where it was
# called from (upper case: neither an option nor in --help's defaults):
#
#   CALLER_DIR=$PWD
#   cd "$(dirname "$0")"
#   work=.            # where the outputs go
#   . ../common/parse_options.sh    # sources this file; records the options given
#   absolute_options work           # --work X: X against CALLER_DIR; the default: against here
#   corpus=$(caller_path "${1:-}" ../../../shared/data/corpus)
#
#   abs_path PATH [BASE]         PATH against BASE (default: the current directory), normalised
#                                (realpath -m: it need not exist); an empty PATH stays empty
#   caller_path VALUE [DEFAULT]  a positional path: VALUE against the caller's directory, or when
#                                VALUE is empty, DEFAULT against the current directory
#   absolute_options NAME...     each named option variable made absolute: against the caller's
#                                directory when given on the command line, else (a default)
#                                against the current directory
abs_path() {
  [ -n "$1" ] || { echo; return 0; }
  case "$1" in
    /*) realpath -m -- "$1" ;;
    *) realpath -m -- "${2:-$PWD}/$1" ;;
  esac
}

caller_path() {
  if [ -n "$1" ]; then abs_path "$1" "${CALLER_DIR:-$PWD}"; else abs_path "${2:-}"; fi
}

absolute_options() {
  local name base
  for name in "$@"; do
    base=$PWD
    case " ${options_given:-} " in *" $name "*) base=${CALLER_DIR:-$PWD} ;; esac
    printf -v "$name" '%s' "$(abs_path "${!name}" "$base")"
  done
}
