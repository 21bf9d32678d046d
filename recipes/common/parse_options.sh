#!/usr/bin/env bash
# Option parsing for recipe scripts, with the behaviour of Kaldi's utils/parse_options.sh (our
# own code). A script lists its options as shell variables with their defaults, one per line and
# a comment each, then sources this file:
#
#   stage=0          # first stage to run
#   seeds="1 2 3"    # seeds of the neural systems
#   . ../common/parse_options.sh
#
# `--some-name VALUE` (or `--some-name=VALUE`) then sets some_name (dashes become underscores).
# The variable must already be defined: an unknown option is an error. A variable whose default is
# true or false accepts only true or false. Parsing stops at the first argument that does not
# start with `--`; the rest stay in "$@". `--help` prints $help_message when the script sets one,
# and otherwise the script's header comment followed by its defaults block (every `name=value`
# line above the line that sources this file), so the defaults block documents the options.
# The arguments as given stay in the array script_args (for quoting the command in results), the
# names of the options given in options_given; path options are made absolute with the helpers of
# paths.sh (sourced here): relative to the caller's directory when given, to the script's otherwise.
. "$(dirname "${BASH_SOURCE[0]}")/paths.sh"
_po_usage() {
  local script=$0
  [ -f "$script" ] || script=$(basename "$0")
  [ -f "$script" ] || script=local/$(basename "$0")
  if [ -n "${help_message:-}" ] || [ ! -f "$script" ]; then
    echo "${help_message:-No help available.}"
    return
  fi
  awk 'NR == 1 {next} /^#/ && !body {sub(/^# ?/, ""); print; next} {body = 1}' "$script"
  echo "Options (default after the name):"
  awk '/parse_options\.sh/ {exit}
       /^[a-z_][a-z0-9_]*=/ {i = index($0, "="); name = substr($0, 1, i - 1); gsub("_", "-", name)
                             printf "  --%s %s\n", name, substr($0, i + 1)}' "$script"
}

script_args=("$@")
options_given=""
while [ $# -gt 0 ]; do
  case "$1" in
    --help|-h) _po_usage; exit 0 ;;
    --*=*) _po_name=${1%%=*}; _po_value=${1#*=} ;;
    --*)
      _po_name=$1
      [ $# -ge 2 ] || { echo "$0: option $1 needs a value" >&2; exit 1; }
      _po_value=$2; shift ;;
    *) break ;;
  esac
  _po_name=${_po_name#--}; _po_name=${_po_name//-/_}
  if ! [[ $_po_name =~ ^[a-z_][a-z0-9_]*$ ]] || [ -z "${!_po_name+set}" ]; then
    echo "$0: unknown option --${_po_name//_/-} (see --help)" >&2; exit 1
  fi
  case "${!_po_name}" in
    true|false)
      case "$_po_value" in true|false) ;;
        *) echo "$0: --${_po_name//_/-} takes true or false, not '$_po_value'" >&2; exit 1 ;;
      esac ;;
  esac
  printf -v "$_po_name" '%s' "$_po_value"
  options_given+=" $_po_name"
  shift
done
unset _po_name _po_value
true
