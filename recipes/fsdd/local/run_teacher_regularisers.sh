#!/usr/bin/env bash
# The DNN teachers of run.sh trained with a regulariser: dnn_{rand,rbm}_fm<F> with frequency
# masking of up to F filterbank channels (train-teacher --freq-mask F; F 8 chosen in
# local/teacher_study.sh, run.sh's stage 14) and dnn_{rand,rbm}_do<P> with dropout P
# (train-teacher --dropout P), one pair per value; decoded with the plain teachers as run.sh's
# systems. Needs run.sh stages 0-7 (the GMMs, --nn-gmm's alignments and the RBMs).
# Usage: local/run_teacher_regularisers.sh [options]    (relative paths: to the current directory)
# Stages: 1 teachers  2 hybrid decoding of the plain and the regularised teachers
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
extra_nn_opts=""        # appended to every training command (e.g. "--max-epochs 1")
nn_lmwt=10              # LM weight of the hybrid decoding (as run.sh)
freq_masks=""           # F values: one pair of frequency-masked teachers each (e.g. "8")
dropouts=""             # P values: one pair of teachers with dropout P each (e.g. "0.2")
nn_gmm=mono             # the GMM of the networks' targets and hybrid decoding (as run.sh --nn-gmm)
nn_prior_scale=0.5      # S of the hybrid decoding, log-posterior - S log-prior (as run.sh)
. ../common/parse_options.sh
. ./path.sh
. ../common/stage.sh
. ../common/systems.sh
. local/layout.sh
fsdd_enter_work
# "<name suffix> <train-teacher options>" per variant
variants=()
for f in $freq_masks; do variants+=("fm$f --freq-mask $f"); done
for p in $dropouts; do variants+=("do$p --dropout $p"); done

if stage_begins 1 "DNN teachers with frequency masking (${freq_masks:-none}) and dropout (${dropouts:-none})"; then
  while read -r split cond seed; do
    e=exp/$split/$cond; s=$e/seed$seed
    for variant in "${variants[@]}"; do
      name=${variant%% *}
      opts="--config $conf/dnn.yaml --seed $seed $thr ${variant#* } $extra_nn_opts"
      train_teacher_system $s/dnn_rand_$name data/fbank/$split/$cond/train $e/${nn_gmm}_ali $opts
      train_teacher_system $s/dnn_rbm_$name data/fbank/$split/$cond/train $e/${nn_gmm}_ali $opts --dbn $s/dbn
    done
  done < <(cells)
fi

if stage_begins 2 "hybrid decoding of the teachers (LMWT $nn_lmwt)"; then
  while read -r split cond seed; do
    for t in rand rbm; do
      for name in "" "${variants[@]%% *}"; do
        nn_decode $split $cond $seed dnn_$t${name:+_$name} decode_test $nn_lmwt
      done
    done
  done < <(cells)
fi
