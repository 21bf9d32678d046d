#!/usr/bin/env bash
# The paper's experiment on real speech (Tang et al. 2015, knowledge-transfer pre-training of an
# LSTM from a DNN teacher) on the Free Spoken Digit Dataset (FSDD, isolated digits, 8 kHz).
#
# FSDD -> MFCC + monophone GMM -> alignments -> triphone GMMs tri1, tri2 (GMM rows of the table;
# the networks train on the monophone's alignments, --nn-gmm) -> (1) DNN teacher from random init,
# (2) DNN teacher from stacked RBMs (both with nnet1's initialisation, conf/dnn.yaml, and frequency
# masking of 8 channels, --teacher-freq-mask) -> soft targets -> (3) LSTM from random init (CE),
# (4)/(5) LSTM KT-pre-trained on the soft targets of (1)/(2), then fine-tuned on the same hard
# targets as (3) -> hybrid decoding through the monophone's HCLG of a digit loop (log-posterior -
# 0.5 log-prior); then the system the CV studies chose (stage 14): (4r)/(5r) fine-tuned with the
# KT loss kept as a regulariser (local/run_kt_reg.sh, weight 0.5) -> RESULTS.md + RESULTS.png.
#
# Usage: ./run.sh [options] [fsdd-dir]    (fsdd-dir holds recordings/; default ../../../shared/data/fsdd)
# Relative paths on the command line are relative to where you run it from (defaults: to
# recipes/fsdd; ../common/paths.sh). The data and work-dir layout:
# local/layout.sh; the stages' commands: ../common/systems.sh. Other variants and studies:
# local/run_vtlp.sh, local/run_cv_lmwt.sh, local/choose_lmwt.sh, local/cv_study.sh,
# local/teacher_study.sh, local/results.sh (a table of any systems).
# Stages:  0 data + dict  1 lang + word loop  2 MFCC/fbank + CMVN + splits  3 monophone GMM +
#          alignments  4 tri1 + alignments  5 tri2  6 graphs + GMM decoding  7 RBMs
#          8 DNN teachers  9 soft targets  10 LSTM baseline  11 KT pre-training  12 fine-tuning
#          13 hybrid decoding  14 the CV studies' systems  15 RESULTS.md/.png
# (stage numbers before the triphone stages, e.g. in README commands of earlier runs: 0-3 the
# same, 4 is now 6, 5-13 are now 7-15)
# Every stage skips work already done (a .done marker in its output directory); remove it to redo.
# A network whose training was interrupted continues from its last checkpoint (--resume).
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")"

stage=0
stop_stage=15
protocol=si             # si: speaker-independent folds (test on one speaker, train on the others); official: indices 0-4 test, 5-49 train
folds=""                # speakers held out, one fold each (si only); "": every speaker
conditions="full quarter"   # full: all training data; quarter: a deterministic 25% of it
seeds="1 2 3"           # seeds of the neural systems (the GMM is the same for every seed)
conf=conf               # training configs (conf: the sized table; conf/tiny: smoke tests)
work=.                  # where data/, exp/, RESULTS.* go (data/all is reused once made: remove data/all/.done to redo it)
speakers=""             # use only these speakers (tests, nested CV folds: local/cv_study.sh); "": all in recordings/
max_index=""            # use only recording indices < N (tiny test corpora); "": all
nj=2                    # parallel jobs of the GMM and feature commands
totgauss=500            # monophone GMM size (Kaldi yesno: 400, train_mono default: 1000)
mono_opts="--num-iters 30 --max-iter-inc 25 --realign-iters '1 2 3 4 5 6 7 8 9 10 13 16 20 24 28'"  # shorter than train_mono.sh's 40 passes, for speed
tri1_leaves=100         # tri1 (train-deltas): tree leaves and Gaussians, chosen on CV speakers
tri1_gauss=125          #   (local/tri_study.sh, TRI_STUDY.md; README "Triphone GMMs")
tri2_leaves=100         # tri2 (train-lda-mllt on tri1's alignments): the same way
tri2_gauss=125
tri_opts=""             # appended to train-deltas and train-lda-mllt (tests: fewer passes)
gmm_systems="mono tri1 tri2"   # GMMs trained (stages 3-5) and decoded (6); "mono" alone skips the triphones
nn_gmm=mono             # the GMM of the networks: they train on its alignments (exp/../<nn_gmm>_ali) and decode
                        #   through its graph and model; one of --gmm-systems, else an error (no fallback: with
                        #   --gmm-systems mono and --nn-gmm tri1 is refused); mono kept on CV speakers (TARGETS_STUDY_seeds.md)
nn_prior_scale=0.5      # S of the hybrid decoding, log-posterior - S log-prior (TARGETS_STUDY.md; before: 1.0)
temperature=2.0         # KT temperature (dump-posteriors and kt-pretrain); see README for how chosen
gmm_lmwt=12             # LM weights fixed a priori (acoustic scale 1/LMWT), not tuned on test:
nn_lmwt=10              #   Kaldi's GMM default (acwt 0.0833) and nnet default (acwt 0.1)
nn_threads=1            # --num-threads of the neural commands (0 = one per core was 25x slower on a loaded 2-core box)
extra_nn_opts=""        # appended to every neural training command (e.g. "--max-epochs 1")
kt_weight=0.5           # stage 14: KT weight W of (4r)/(5r), (1-W) CE + W KT (chosen in local/cv_study.sh)
teacher_freq_mask=8     # the teachers (1)/(2) trained with --freq-mask N (0: off; chosen on CV speakers:
                        #   local/teacher_study.sh, TEACHERS_STUDY_ki.md; before: the extra systems (1m)/(2m))
. ../common/parse_options.sh
. ./path.sh
. ../common/stage.sh
. ../common/systems.sh
. local/layout.sh

fsdd=$(caller_path "${1:-}" ../../../shared/data/fsdd)   # before the cd into $work below
local=$(pwd)/local
absolute_options conf work
[ -d "$conf" ] || { echo "$0: --conf: no folder '$conf'" >&2; exit 1; }
prep_opts=()
[ -z "$speakers" ] || prep_opts+=(--speakers "$speakers")
[ -z "$max_index" ] || prep_opts+=(--max-index "$max_index")
eval "mono_args=($mono_opts)"
eval "tri_args=($tri_opts)"
case " $gmm_systems " in *" mono "*) ;; *) echo "$0: --gmm-systems must include mono" >&2; exit 1 ;; esac
has_gmm() { [[ " $gmm_systems " == *" $1 "* ]]; }
has_gmm "$nn_gmm" || { echo "$0: --nn-gmm '$nn_gmm' is not one of --gmm-systems '$gmm_systems'" >&2; exit 1; }
fsdd_threads
mkdir -p "$work" && cd "$work"

if stage_begins 0 "data and dict from $fsdd"; then
  if [ ! -f data/all/.done ]; then
    bash $local/prepare_data.sh "${prep_opts[@]}" "$fsdd" data
    touch data/all/.done
  fi
fi

fsdd_splits
if stage_begins 1 "lang dir and digit-loop grammar"; then
  done_or_run data/lang asrkt prepare-lang --sil-prob 0.5 data/local/dict data/lang
  done_or_run data/lang_test asrkt make-word-loop data/lang data/lang_test
fi

if stage_begins 2 "MFCC (GMM) and fbank (NN) features; splits ($splits; $conditions) with their own CMVN"; then
  for kind in mfcc fbank; do
    feats_dir $conf/$kind.yaml $nj data/all data/$kind/all $kind false   # CMVN per subset below
  done
  for split in $splits; do
    for cond in $conditions; do
      lists=data/lists/$split/$cond
      [ -f $lists/.done ] || { bash $local/split_lists.sh data/all $split $cond $lists && touch $lists/.done; }
      for kind in mfcc fbank; do
        subset_dir $lists/train.list data/$kind/all data/$kind/$split/$cond/train
        subset_dir $lists/test.list data/$kind/all data/$kind/$split/test
      done
    done
  done
fi

if stage_begins 3 "monophone GMM (flat start) and training alignments"; then
  for split in $splits; do
    for cond in $conditions; do
      e=exp/$split/$cond
      train_mono_system $e/mono data/mfcc/$split/$cond/train data/lang --nj $nj --totgauss $totgauss "${mono_args[@]}"
      align_system $e/mono_ali data/mfcc/$split/$cond/train data/lang $e/mono --nj $nj
    done
  done
fi

if has_gmm tri1 && stage_begins 4 "tri1: triphone GMMs on deltas ($tri1_leaves leaves, $tri1_gauss Gaussians) and their alignments"; then
  for split in $splits; do
    for cond in $conditions; do
      e=exp/$split/$cond
      train_deltas_system $e/tri1 data/mfcc/$split/$cond/train data/lang $e/mono_ali --nj $nj \
        --num-leaves $tri1_leaves --totgauss $tri1_gauss "${tri_args[@]}"
      align_system $e/tri1_ali data/mfcc/$split/$cond/train data/lang $e/tri1 --nj $nj
    done
  done
fi

if has_gmm tri2 && stage_begins 5 "tri2: LDA+MLLT triphone GMMs ($tri2_leaves leaves, $tri2_gauss Gaussians) on tri1's alignments"; then
  for split in $splits; do
    for cond in $conditions; do
      e=exp/$split/$cond
      train_lda_mllt_system $e/tri2 data/mfcc/$split/$cond/train data/lang $e/tri1_ali --nj $nj \
        --num-leaves $tri2_leaves --totgauss $tri2_gauss "${tri_args[@]}"
      [ $nn_gmm != tri2 ] || align_system $e/tri2_ali data/mfcc/$split/$cond/train data/lang $e/tri2 --nj $nj
    done
  done
fi

if stage_begins 6 "decoding graphs and GMM decoding ($gmm_systems; LMWT $gmm_lmwt)"; then
  for split in $splits; do
    for cond in $conditions; do
      e=exp/$split/$cond
      for sys in $gmm_systems; do
        graph_decode_gmm $e/$sys data/lang_test data/mfcc/$split/test decode_test \
          --nj $nj --min-lmwt $gmm_lmwt --max-lmwt $gmm_lmwt
      done
    done
  done
fi

if stage_begins 7 "stacked RBMs (pretrain_dbn)"; then
  while read -r split cond seed; do
    rbm_system exp/$split/$cond/seed$seed/dbn data/fbank/$split/$cond/train --config $conf/rbm.yaml --seed $seed $thr
  done < <(cells)
fi

teacher_opts=""
[ "$teacher_freq_mask" = 0 ] || teacher_opts="--freq-mask $teacher_freq_mask"
if stage_begins 8 "DNN teachers: random init and RBM-pre-trained (cross-entropy, newbob; $nn_gmm's alignments${teacher_opts:+; $teacher_opts})"; then
  while read -r split cond seed; do
    e=exp/$split/$cond; s=$e/seed$seed; train=data/fbank/$split/$cond/train
    opts="--config $conf/dnn.yaml --seed $seed $thr $extra_nn_opts $teacher_opts"
    train_teacher_system $s/dnn_rand $train $e/${nn_gmm}_ali $opts
    train_teacher_system $s/dnn_rbm $train $e/${nn_gmm}_ali $opts --dbn $s/dbn
  done < <(cells)
fi

if stage_begins 9 "soft targets of the teachers (T=$temperature)"; then
  while read -r split cond seed; do
    s=exp/$split/$cond/seed$seed
    for t in rand rbm; do
      posteriors_system $s/dnn_${t}_post $s/dnn_$t data/fbank/$split/$cond/train --temperature $temperature $thr
    done
  done < <(cells)
fi

if stage_begins 10 "LSTM baseline: random init, cross-entropy"; then
  while read -r split cond seed; do
    e=exp/$split/$cond
    finetune_system $e/seed$seed/lstm_ce data/fbank/$split/$cond/train $e/${nn_gmm}_ali \
      --config $conf/lstm.yaml --seed $seed $thr $extra_nn_opts
  done < <(cells)
fi

if stage_begins 11 "LSTM KT pre-training on each teacher's soft targets (T=$temperature)"; then
  while read -r split cond seed; do
    s=exp/$split/$cond/seed$seed
    for t in rand rbm; do
      kt_system $s/lstm_kt_$t data/fbank/$split/$cond/train $s/dnn_${t}_post \
        --config $conf/kt.yaml --seed $seed $thr --temperature $temperature $extra_nn_opts
    done
  done < <(cells)
fi

if stage_begins 12 "fine-tuning the KT-pre-trained LSTMs on hard targets (schedule of the baseline)"; then
  while read -r split cond seed; do
    e=exp/$split/$cond; s=$e/seed$seed
    for t in rand rbm; do
      finetune_system $s/lstm_kt_${t}_ft data/fbank/$split/$cond/train $e/${nn_gmm}_ali \
        --config $conf/lstm.yaml --seed $seed $thr --init $s/lstm_kt_$t $extra_nn_opts
    done
  done < <(cells)
fi

paper_systems="dnn_rand dnn_rbm lstm_ce lstm_kt_rand_ft lstm_kt_rbm_ft"
if stage_begins 13 "hybrid decoding (log-posterior - $nn_prior_scale log-prior through $nn_gmm's HCLG, LMWT $nn_lmwt)"; then
  while read -r split cond seed; do
    for sys in $paper_systems; do
      nn_decode $split $cond $seed $sys decode_test $nn_lmwt
    done
  done < <(cells)
fi

cell_opts=(--work "$work" --protocol $protocol --folds "$folds" --conditions "$conditions"
           --seeds "$seeds" --conf "$conf" --nj $nj --nn-threads $nn_threads --nn-lmwt $nn_lmwt
           --extra-nn-opts "$extra_nn_opts" --nn-gmm $nn_gmm --nn-prior-scale $nn_prior_scale)
if stage_begins 14 "the CV studies' systems: KT kept in fine-tuning (W $kt_weight)"; then
  bash $local/run_kt_reg.sh "${cell_opts[@]}" --temperature $temperature --kt-weight $kt_weight
fi

if stage_begins 15 "RESULTS.md and RESULTS.png"; then
  fsdd_table RESULTS "$gmm_systems $paper_systems lstm_kt_rand_ftreg lstm_kt_rbm_ftreg" \
    "$(quote_command recipes/fsdd/run.sh "${script_args[@]}")" --temperature $temperature --lmwt "fixed a priori (no sweep on test): GMM $gmm_lmwt, NN $nn_lmwt" \
    --note "DNN teachers (1)/(2): conf/dnn.yaml${teacher_opts:+, $teacher_opts} (run.sh --teacher-freq-mask $teacher_freq_mask)"
fi
