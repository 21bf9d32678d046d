#!/usr/bin/env bash
# One cell of the neural experiment (a condition and a seed: run.sh stages 8-15) as two processes
# side by side, one per teacher chain (run.sh --kt-teachers), so that a cell's seven networks
# train and decode on 2 cores in about half the wall time of one run.sh process:
#   chain rand   stages 9-10 (dnn_rand, its soft targets), 12-14 (its two students), 15 (the
#                decodes of dnn_rand, lstm_kt_rand_ft, lstm_kt_rand_ftreg)
#   chain rbm    stages 8-14 (the RBMs, dnn_rbm, its soft targets, the LSTM baseline lstm_ce, its
#                two students), 15 (the decodes of dnn_rbm, lstm_ce and its students)
# (the baseline goes with the shorter chain). Each chain logs to <work>/log/cell_<cond>_seed<S>_<chain>.log;
# both are run.sh, so every step skips what is done and an interrupted training resumes.
# Needs run.sh's stages 0-7 of the condition (the --nn-gmm graph is built there: two chains must
# not build it at once). Then, to table cells run in other sittings or on other machines:
# scripts/results_bundle.py (README, "One table from several sittings").
#
# Usage: local/run_cell.sh [options] <corpus-dir> [run.sh options]   (relative paths: to the
#        current directory; the run.sh options after the corpus go to both chains as they are)
#   e.g. local/run_cell.sh --work /work/so762 --cond full --seed 1 --test true /data/speechocean762
#        local/run_cell.sh --work /tmp/w --cond full --seed 2 /data/so762 --conf conf/tiny --nj 1
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")/.."
recipe=$(pwd)

work=.                  # run.sh's work dir
cond=full               # training condition (run.sh --conditions): full or quarter
seed=1                  # seed of the cell's networks
test=false              # also decode the test speakers (only for the final table, as run.sh)
nn_gmm=tri2             # run.sh --nn-gmm
. ../common/parse_options.sh

[ $# -ge 1 ] || { echo "Usage: $0 [options] <corpus-dir> [run.sh options]  e.g. $0 --work /work/so762 --cond full --seed 1 /data/speechocean762" >&2; exit 1; }
corpus=$(caller_path "$1"); shift
run_opts=("$@")
absolute_options work
case $cond in full) g=$work/exp/$nn_gmm ;; quarter) g=$work/exp/quarter/$nn_gmm ;;
  *) echo "$0: --cond: full or quarter, not '$cond'" >&2; exit 1 ;; esac
[ -f $g/graph/.done ] || { echo "$0: $g/graph: not built; run run.sh --stop-stage 7 --conditions $cond first" >&2; exit 1; }
mkdir -p $work/log

# chain NAME SYSTEMS STAGES...: run.sh over each "FIRST-LAST" stage range for chain NAME, then
# stage 15 for its SYSTEMS
cell_opts=(--work "$work" --conditions "$cond" --seeds "$seed" --nn-gmm "$nn_gmm" --test "$test")
chain() {
  local name=$1 systems=$2 range; shift 2
  cd "$CALLER_DIR"    # run.sh options with relative paths are relative to where this was run
  for range in "$@"; do
    $recipe/run.sh "${cell_opts[@]}" --kt-teachers $name --stage ${range%-*} \
      --stop-stage ${range#*-} "${run_opts[@]}" "$corpus" || return 1
  done
  $recipe/run.sh "${cell_opts[@]}" --nn-decode-systems "$systems" --stage 15 --stop-stage 15 \
    "${run_opts[@]}" "$corpus"
}

echo "$(date '+%Y-%m-%d %H:%M:%S') cell $cond seed $seed: two chains, logs $work/log/cell_${cond}_seed${seed}_{rand,rbm}.log" >&2
chain rand "dnn_rand lstm_kt_rand_ft lstm_kt_rand_ftreg" 9-10 12-14 \
  > $work/log/cell_${cond}_seed${seed}_rand.log 2>&1 &
rand=$!
chain rbm "dnn_rbm lstm_ce lstm_kt_rbm_ft lstm_kt_rbm_ftreg" 8-14 \
  > $work/log/cell_${cond}_seed${seed}_rbm.log 2>&1 &
rbm=$!
failed=""
wait $rand || failed="$failed rand"
wait $rbm || failed="$failed rbm"
if [ -n "$failed" ]; then
  for c in $failed; do
    echo "$0: chain $c of cell $cond seed $seed failed: $work/log/cell_${cond}_seed${seed}_$c.log ends:" >&2
    tail -n 3 $work/log/cell_${cond}_seed${seed}_$c.log >&2
  done
  exit 1
fi
echo "$(date '+%Y-%m-%d %H:%M:%S') cell $cond seed $seed: done" >&2
