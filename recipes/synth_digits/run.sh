#!/usr/bin/env bash
# The built-in demo (`make demo`): KT pre-training on a synthetic connected-digits corpus.
#
# Corpus (eSpeak NG, generated offline, deterministic from conf/corpus.yaml's seed) -> MFCC +
# monophone GMM -> alignments -> triphone GMMs (tri1: deltas, tree with cross-word context;
# tri2: LDA+MLLT on tri1's alignments) -> stacked RBMs -> DNN teacher -> soft targets -> LSTM
# student KT-pre-trained and fine-tuned, an LSTM trained from random init as the baseline (the
# networks train on the monophone alignments) -> hybrid decoding of clean and noisy test sets
# (unseen speakers) -> RESULTS.md.
#
# Usage: ./run.sh [options]   (relative paths on the command line: to where you run it from;
#                             the defaults: to recipes/synth_digits)
# Stages:  0 corpus  1 lang  2 features  3 monophone GMM + alignments  4 tri1 + alignments
#          5 tri2  6 graphs + GMM decoding  7 RBMs  8 DNN teachers  9 soft targets
#          10 LSTM baseline  11 KT pre-training  12 fine-tuning  13 hybrid decoding  14 RESULTS.md
# Every stage skips work already done (a .done marker in its output directory). The stages'
# commands: ../common/systems.sh. Two runs give the same RESULTS.md but for its date line
# (tests/e2e/test_synth_digits_recipe.py): the corpus, the features and the training are seeded,
# and the neural commands run with a fixed number of threads (--nn-threads).
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")"

stage=0
stop_stage=14
nj=2                    # parallel jobs (corpus, features, GMM, decoding)
seed=777                # seed of the neural systems
teachers="rbm"          # which teachers teach an LSTM: rbm (RBM-pre-trained DNN), rand (random init)
temperature=1.0         # KT temperature
conf_dir=conf           # mfcc.yaml fbank.yaml rbm.yaml dnn.yaml lstm.yaml kt.yaml (and corpus.yaml)
corpus_config=""        # default: $conf_dir/corpus.yaml
test_sets=""            # default: every test set the corpus has
totgauss=1000           # monophone GMM size
tri1_leaves=200         # tri1 (train-deltas): tree leaves and Gaussians; tri2 (train-lda-mllt) the
tri1_gauss=1000         #   same: sized to the training frames as Kaldi's tri1/tri2b settings
tri2_leaves=250         #   (README: about 900 and 180 frames a leaf and a Gaussian for tri1,
tri2_gauss=1500         #   720 and 120 for tri2)
tri_opts=""             # appended to train-deltas and train-lda-mllt (tests: a lower --thresh)
work=.                  # where corpus/, exp/, RESULTS.md go
nn_threads=1            # --num-threads of the neural commands: fixed, so results do not depend on the core count
extra_nn_opts=""        # appended to every neural training command (e.g. "--max-epochs 1")
decode_opts="--min-lmwt 8 --max-lmwt 14"   # LM-weight sweep (each weight is one decoding pass)
. ../common/parse_options.sh
. ./path.sh
. ../common/stage.sh
. ../common/systems.sh

absolute_options conf_dir corpus_config work
conf=$conf_dir
[ -d "$conf" ] || { echo "$0: --conf-dir: no folder '$conf'" >&2; exit 1; }
[ -n "$corpus_config" ] || corpus_config=$conf/corpus.yaml
[ -f "$corpus_config" ] || { echo "$0: corpus config $corpus_config not found" >&2; exit 1; }
thr="--num-threads $nn_threads"
eval "tri_args=($tri_opts)"
mkdir -p "$work" && cd "$work"
corpus=corpus
data=$corpus/data
exp=exp

if stage_begins 0 "synthesise the corpus ($corpus_config)"; then
  asrkt synth-digits --config "$corpus_config" --nj $nj $corpus
fi
[ -n "$test_sets" ] || test_sets=$(for d in $data/test_*; do [ -f "$d/text" ] && echo -n "$(basename "$d") "; done)
test_sets=${test_sets% }

if stage_begins 1 "lang dir and word-loop grammar"; then
  done_or_run $data/lang asrkt prepare-lang --sil-prob 0.5 --oov-word '<UNK>' $data/local/dict $data/lang
  done_or_run $data/lang_test asrkt make-word-loop $data/lang $data/lang_test
fi

if stage_begins 2 "MFCC (GMM) and fbank (NN) features with per-speaker CMVN"; then
  for kind in mfcc fbank; do    # one make-feats process per kind
    pairs=""; for x in train $test_sets; do pairs="$pairs $data/$x $data/$kind/$x"; done
    feats_dirs $conf/$kind.yaml $nj $kind true "$pairs"
  done
fi

if stage_begins 3 "monophone GMM (flat start) and training alignments"; then
  train_mono_system $exp/mono $data/mfcc/train $data/lang --nj $nj --totgauss $totgauss
  align_system $exp/mono_ali $data/mfcc/train $data/lang $exp/mono --nj $nj
fi

if stage_begins 4 "tri1: triphone GMM on deltas ($tri1_leaves leaves, $tri1_gauss Gaussians) and its alignments"; then
  train_deltas_system $exp/tri1 $data/mfcc/train $data/lang $exp/mono_ali --nj $nj \
    --num-leaves $tri1_leaves --totgauss $tri1_gauss "${tri_args[@]}"
  align_system $exp/tri1_ali $data/mfcc/train $data/lang $exp/tri1 --nj $nj
fi

if stage_begins 5 "tri2: LDA+MLLT triphone GMM ($tri2_leaves leaves, $tri2_gauss Gaussians) on tri1's alignments"; then
  train_lda_mllt_system $exp/tri2 $data/mfcc/train $data/lang $exp/tri1_ali --nj $nj \
    --num-leaves $tri2_leaves --totgauss $tri2_gauss "${tri_args[@]}"
fi

gmm_systems="mono tri1 tri2"
if stage_begins 6 "decoding graphs and GMM decoding ($gmm_systems)"; then
  for sys in $gmm_systems; do
    graph_system $exp/$sys/graph $data/lang_test $exp/$sys
    for x in $test_sets; do
      decode_gmm_system $exp/$sys/decode_$x $exp/$sys/graph $data/mfcc/$x $exp/$sys --nj $nj $decode_opts
    done
  done
fi

ali=$exp/mono_ali
train=$data/fbank/train
if stage_begins 7 "stacked RBMs (pretrain_dbn)"; then
  [[ " $teachers " != *" rbm "* ]] || rbm_system $exp/dbn $train --config $conf/rbm.yaml --seed $seed $thr
fi

if stage_begins 8 "DNN teachers (cross-entropy, newbob)"; then
  for t in $teachers; do
    dbn_opt=""; [ $t = rbm ] && dbn_opt="--dbn $exp/dbn"
    train_teacher_system $exp/dnn_$t $train $ali --config $conf/dnn.yaml --seed $seed $thr $dbn_opt $extra_nn_opts
  done
fi

if stage_begins 9 "soft targets from the teachers (T=$temperature)"; then
  for t in $teachers; do
    posteriors_system $exp/dnn_${t}_post $exp/dnn_$t $train --temperature $temperature $thr
  done
fi

if stage_begins 10 "LSTM baseline: random init, cross-entropy"; then
  finetune_system $exp/lstm_ce $train $ali --config $conf/lstm.yaml --seed $seed $thr $extra_nn_opts
fi

if stage_begins 11 "LSTM KT pre-training on each teacher's soft targets"; then
  for t in $teachers; do
    kt_system $exp/lstm_kt_$t $train $exp/dnn_${t}_post --config $conf/kt.yaml --seed $seed $thr \
      --temperature $temperature $extra_nn_opts
  done
fi

if stage_begins 12 "fine-tuning the KT-pre-trained LSTMs on hard targets"; then
  for t in $teachers; do
    finetune_system $exp/lstm_kt_${t}_ft $train $ali --config $conf/lstm.yaml --seed $seed $thr \
      --init $exp/lstm_kt_$t $extra_nn_opts
  done
fi

nn_systems=$(echo $(for t in $teachers; do echo dnn_$t; done) lstm_ce $(for t in $teachers; do echo lstm_kt_${t}_ft; done))
if stage_begins 13 "hybrid decoding (log-posterior - log-prior through HCLG)"; then
  for sys in $nn_systems; do
    for x in $test_sets; do
      decode_system $exp/$sys/decode_$x $exp/$sys $data/fbank/$x $exp/mono/graph $exp/mono \
        $exp/$sys/loglikes_$x "$thr" --nj $nj $decode_opts
    done
  done
fi

if stage_begins 14 "results table"; then
  python "$ASRKT_ROOT/scripts/results_table.py" --exp $exp --systems "$gmm_systems $nn_systems" \
    --test-sets "$test_sets" --title "synth_digits (asrkt demo)" \
    --command "$(quote_command recipes/synth_digits/run.sh "${script_args[@]}")" --seed $seed \
    --split "train: $data/train; test: unseen speakers ($test_sets)" \
    --corpus-config $corpus/config.yaml --out RESULTS.md
  cat RESULTS.md
fi
