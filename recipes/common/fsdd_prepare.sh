#!/usr/bin/env bash
# Moved to recipes/fsdd/local/fsdd_prepare.sh (FSDD data prep lives with the FSDD recipe); this
# wrapper keeps the old path working. Usage: see that script.
exec bash "$(cd "$(dirname "$0")" && pwd)/../fsdd/local/fsdd_prepare.sh" "$@"
