#!/usr/bin/env bash
# The SI table decoded with LM weights chosen per fold and condition on CV data: for fold <spk>,
# <lmwt-root>/lmwt_<spk>/lmwt_<condition> (written by local/choose_lmwt.sh: "gmm N" and "nn M"
# lines) gives the GMM's and the neural systems' weights. Decodes run.sh's systems again (the
# neural log-likelihoods are reused) into decode_test_cv and writes RESULTS_cvlmwt.md/.png.
# Needs run.sh stages 0-13 (and local/run_kt_reg.sh for the ftreg systems).
# Usage: local/run_cv_lmwt.sh [options] <lmwt-root>     (relative paths: to the current directory)
#   e.g. for f in george jackson lucas nicolas theo; do
#          local/choose_lmwt.sh ../../../shared/data/fsdd /scratch/lmwt_$f $f; done
#        local/run_cv_lmwt.sh --work /scratch/fsdd /scratch
# Stages: 1 GMM decoding  2 hybrid decoding  3 RESULTS_cvlmwt.md/.png
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")/.."

stage=1
stop_stage=3
work=.                  # run.sh's work dir
folds=""                # speakers held out ("": every speaker of the work dir's data)
conditions="full quarter"   # training conditions
seeds="1 2 3"           # seeds of the neural systems
conf=conf               # the configs run.sh used (quoted in the table)
nj=2                    # decoding jobs
nn_threads=1            # --num-threads of forward
temperature=2.0         # run.sh's KT temperature (quoted in the table)
nn_gmm=mono             # the GMM of the networks' hybrid decoding (as run.sh --nn-gmm)
nn_prior_scale=0.5      # S of the hybrid decoding, log-posterior - S log-prior (as run.sh)
systems="dnn_rand dnn_rbm lstm_ce lstm_kt_rand_ft lstm_kt_rbm_ft lstm_kt_rand_ftreg lstm_kt_rbm_ftreg"  # the neural systems (those of RESULTS_cvlmwt.md, which predates the fm8 teachers)
. ../common/parse_options.sh
if [ $# -ne 1 ]; then echo "Usage: $0 [options] <lmwt-root> (--help for more)" >&2; exit 1; fi
. ./path.sh
. ../common/stage.sh
. ../common/systems.sh
. local/layout.sh
lmwt_root=$(caller_path "$1")
[ -d "$lmwt_root" ] || { echo "$0: no folder '$lmwt_root'" >&2; exit 1; }
protocol=si             # LM weights are chosen per speaker-independent fold
fsdd_enter_work

# lmwt_of gmm|nn SPLIT COND: the weight chosen for the fold
lmwt_of() {
  local f=$lmwt_root/lmwt_${2#si_}/lmwt_$3
  awk -v k=$1 '$1 == k {print $2; found = 1} END {exit !found}' "$f" 2>/dev/null ||
    { echo "$0: no '$1 <weight>' line in $f (run local/choose_lmwt.sh for fold ${2#si_})" >&2; exit 1; }
}

if stage_begins 1 "GMM decoding with the weights chosen on CV"; then
  for split in $splits; do
    for cond in $conditions; do
      e=exp/$split/$cond; w=$(lmwt_of gmm $split $cond)
      decode_gmm_system $e/mono/decode_test_cv $e/mono/graph data/mfcc/$split/test $e/mono \
        --nj $nj --min-lmwt $w --max-lmwt $w
    done
  done
fi

if stage_begins 2 "hybrid decoding with the weights chosen on CV"; then
  while read -r split cond seed; do
    w=$(lmwt_of nn $split $cond)
    for sys in $systems; do
      nn_decode $split $cond $seed $sys decode_test_cv $w
    done
  done < <(cells)
fi

if stage_begins 3 "RESULTS_cvlmwt.md and RESULTS_cvlmwt.png"; then
  fsdd_table RESULTS_cvlmwt "mono $systems" "$(quote_command recipes/fsdd/local/run_cv_lmwt.sh "${script_args[@]}")" \
    --temperature $temperature --decode-name decode_test_cv \
    --lmwt "chosen per fold and condition on a CV speaker (local/choose_lmwt.sh, $lmwt_root)"
fi
