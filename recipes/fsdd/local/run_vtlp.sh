#!/usr/bin/env bash
# dnn_{rand,rbm}_vtlp: the DNN teachers of run.sh (and the RBMs of (2)) trained on the training
# data plus VTLN-warped copies of it (vocal tract length perturbation, asrkt perturb-data-dir;
# make-feats warps the copies' filterbanks), the copies aligned with the fold's GMM; decoded as
# run.sh's systems. Compared with the other teacher regularisers in local/teacher_study.sh.
# Needs run.sh stages 0-6 (data, features, GMMs).
# Usage: local/run_vtlp.sh [options]          (relative paths: to the current directory)
# Stages: 1 warped features, training lists with their copies  2 alignments of the copies
#         3 RBMs  4 teachers  5 hybrid decoding
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")/.."

stage=1
stop_stage=5
work=.                  # run.sh's work dir
protocol=si             # the cells of run.sh to add the systems to: si or official,
folds=""                #   speakers held out ("": every speaker of the work dir's data),
conditions="full quarter"   #   training conditions
seeds="1 2 3"           #   and seeds
conf=conf               # configs (as run.sh)
nj=2                    # jobs of the feature, alignment and decoding commands
nn_threads=1            # --num-threads of the neural commands
extra_nn_opts=""        # appended to the teachers' training command (e.g. "--max-epochs 1")
nn_lmwt=10              # LM weight of the hybrid decoding (as run.sh)
warps="0.9 1.1"         # VTLN warp factors of the copies (each copy a speaker of its own for CMVN)
nn_gmm=mono             # the GMM of the networks' targets and hybrid decoding (as run.sh --nn-gmm)
nn_prior_scale=0.5      # S of the hybrid decoding, log-posterior - S log-prior (as run.sh)
. ../common/parse_options.sh
. ./path.sh
. ../common/stage.sh
. ../common/systems.sh
. local/layout.sh
warps=$(printf '%g ' $warps); warps=${warps% }   # 0.90 -> 0.9, as the copies' id prefix vtlp0.9-
fsdd_enter_work

if stage_begins 1 "VTLN-warped copies of the corpus ($warps) and the training lists with their copies"; then
  for kind in mfcc fbank; do
    for w in $warps; do
      d=data/$kind/all_vtlp$w
      [ -f $d/.done ] && continue
      asrkt perturb-data-dir --vtln-warp $w data/all $d
      feats_dir $conf/$kind.yaml $nj $d $d $kind false
    done
    done_or_run data/$kind/all_vtlp asrkt combine-data-dirs data/$kind/all_vtlp data/$kind/all \
      $(for w in $warps; do echo data/$kind/all_vtlp$w; done)
  done
  for split in $splits; do
    for cond in $conditions; do
      lists=data/lists/$split/$cond
      for w in "" $warps; do sed "s/^/${w:+vtlp$w-}/" $lists/train.list; done | LC_ALL=C sort > $lists/train_vtlp.list
      for kind in mfcc fbank; do
        subset_dir $lists/train_vtlp.list data/$kind/all_vtlp data/$kind/$split/$cond/train_vtlp
      done
    done
  done
fi

if stage_begins 2 "alignments of the warped copies with the fold's $nn_gmm GMM (as Kaldi aligns speed-perturbed data)"; then
  for split in $splits; do
    for cond in $conditions; do
      e=exp/$split/$cond
      align_system $e/${nn_gmm}_ali_vtlp data/mfcc/$split/$cond/train_vtlp data/lang $e/$nn_gmm --nj $nj
    done
  done
fi

if stage_begins 3 "stacked RBMs on the augmented data"; then
  while read -r split cond seed; do
    rbm_system exp/$split/$cond/seed$seed/dbn_vtlp data/fbank/$split/$cond/train_vtlp \
      --config $conf/rbm.yaml --seed $seed $thr
  done < <(cells)
fi

if stage_begins 4 "DNN teachers on the augmented data"; then
  while read -r split cond seed; do
    e=exp/$split/$cond; s=$e/seed$seed; train=data/fbank/$split/$cond/train_vtlp
    opts="--config $conf/dnn.yaml --seed $seed $thr $extra_nn_opts"
    train_teacher_system $s/dnn_rand_vtlp $train $e/${nn_gmm}_ali_vtlp $opts
    train_teacher_system $s/dnn_rbm_vtlp $train $e/${nn_gmm}_ali_vtlp $opts --dbn $s/dbn_vtlp
  done < <(cells)
fi

if stage_begins 5 "hybrid decoding (LMWT $nn_lmwt)"; then
  while read -r split cond seed; do
    for t in rand rbm; do
      nn_decode $split $cond $seed dnn_${t}_vtlp decode_test $nn_lmwt
    done
  done < <(cells)
fi
