#!/usr/bin/env bash
# (4r)/(5r) lstm_kt_{rand,rbm}_ftreg: the KT-pre-trained students of run.sh fine-tuned with the KT
# loss kept as a regulariser, (1-W) CE + W KT on the teacher's soft targets (finetune --kt-weight W;
# W 0.5 chosen in local/cv_study.sh), then decoded as run.sh's systems. Needs run.sh stages 0-13
# (run.sh runs this script as its stage 14).
# Usage: local/run_kt_reg.sh [options]        (relative paths: to the current directory)
# Stages: 1 fine-tuning  2 hybrid decoding
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")/.."

stage=1
stop_stage=2
work=.                  # run.sh's work dir
protocol=si             # the cells of run.sh to add the systems to: si or official,
folds=""                #   speakers held out ("": every speaker of the work dir's data),
conditions="full quarter"   #   training conditions
seeds="1 2 3"           #   and seeds
conf=conf               # training configs (as run.sh)
nj=2                    # decoding jobs
nn_threads=1            # --num-threads of the neural commands
extra_nn_opts=""        # appended to the fine-tuning command (e.g. "--max-epochs 1")
temperature=2.0         # KT temperature of the soft targets (as run.sh)
nn_lmwt=10              # LM weight of the hybrid decoding (as run.sh)
kt_weight=0.5           # W: the weight of the KT loss in fine-tuning
nn_gmm=mono             # the GMM of the networks' targets and hybrid decoding (as run.sh --nn-gmm)
nn_prior_scale=0.5      # S of the hybrid decoding, log-posterior - S log-prior (as run.sh)
. ../common/parse_options.sh
. ./path.sh
. ../common/stage.sh
. ../common/systems.sh
. local/layout.sh
fsdd_enter_work

if stage_begins 1 "fine-tuning the KT-pre-trained LSTMs with the KT loss kept (W $kt_weight)"; then
  while read -r split cond seed; do
    e=exp/$split/$cond; s=$e/seed$seed
    for t in rand rbm; do
      finetune_system $s/lstm_kt_${t}_ftreg data/fbank/$split/$cond/train $e/${nn_gmm}_ali \
        --config $conf/lstm.yaml --seed $seed $thr --init $s/lstm_kt_$t --kt-weight $kt_weight \
        --post-dir $s/dnn_${t}_post --temperature $temperature $extra_nn_opts
    done
  done < <(cells)
fi

if stage_begins 2 "hybrid decoding (LMWT $nn_lmwt)"; then
  while read -r split cond seed; do
    for t in rand rbm; do
      nn_decode $split $cond $seed lstm_kt_${t}_ftreg decode_test $nn_lmwt
    done
  done < <(cells)
fi
