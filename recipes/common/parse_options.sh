#!/usr/bin/env bash
# Kaldi-style option parsing for recipe scripts (as utils/parse_options.sh): for every
# variable defined before sourcing this file, `--name value` or `--name=value` on the command
# line sets it (dashes in names become underscores). `--help` prints $help_message.
# Usage (inside a script):   stage=0; . ../common/parse_options.sh
while true; do
  [ -z "${1:-}" ] && break
  case "$1" in
    --help|-h)
      echo "${help_message:-No help available.}"; exit 0 ;;
    --*=*)
      name=${1%%=*}; name=${name#--}; name=${name//-/_}; value=${1#*=} ;;
    --*)
      name=${1#--}; name=${name//-/_}
      if [ $# -lt 2 ]; then echo "$0: option $1 needs a value" >&2; exit 1; fi
      value=$2; shift ;;
    *) break ;;
  esac
  if [ -z "${!name+set}" ]; then
    echo "$0: unknown option --${name//_/-}" >&2; exit 1
  fi
  printf -v "$name" '%s' "$value"
  shift
done
true
