#!/usr/bin/env bash
# A results table (scripts/kt_results.py: <out>.md and <out>.png in the work dir) of any systems
# run.sh and local/run_*.sh have decoded, e.g. the official split's table of the paper's systems:
#   ./run.sh --work /tmp/fsdd_official --protocol official --conditions full --seeds 1 --stop-stage 13
#   local/results.sh --work /tmp/fsdd_official --protocol official --conditions full --seeds 1 --out RESULTS_official
# Usage: local/results.sh [options]           (relative paths: to the current directory)
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")/.."

work=.                  # run.sh's work dir
protocol=si             # the cells of the table: si or official,
folds=""                #   speakers held out ("": every speaker of the work dir's data),
conditions="full quarter"   #   training conditions
seeds="1 2 3"           #   and seeds
conf=conf               # the configs run.sh used (quoted in the table)
temperature=2.0         # run.sh's KT temperature (quoted in the table)
gmm_lmwt=12             # run.sh's LM weights (quoted in the table)
nn_lmwt=10
gmm_systems="mono tri1 tri2"   # the GMMs (the table's first rows; a missing one is a row of –)
systems="dnn_rand dnn_rbm lstm_ce lstm_kt_rand_ft lstm_kt_rbm_ft"   # the neural systems ("": the GMMs alone)
out=RESULTS             # the table's name in the work dir
nn_gmm=mono             # run.sh's --nn-gmm and --nn-prior-scale (quoted in the table)
nn_prior_scale=0.5
. ../common/parse_options.sh
. ./path.sh
. ../common/stage.sh
. local/layout.sh
absolute_options conf work
[ -d "$conf" ] || { echo "$0: --conf: no folder '$conf'" >&2; exit 1; }
[ -d "$work" ] || { echo "$0: --work: no folder '$work' (run.sh's work dir)" >&2; exit 1; }
cd "$work"
fsdd_splits
fsdd_table $out "$gmm_systems $systems" "$(quote_command recipes/fsdd/local/results.sh "${script_args[@]}")" \
  --temperature $temperature --lmwt "fixed a priori (no sweep on test): GMM $gmm_lmwt, NN $nn_lmwt"
