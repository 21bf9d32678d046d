#!/usr/bin/env bash
# The built-in demo (`make demo`): KT pre-training on a synthetic connected-digits corpus.
#
# Corpus (eSpeak NG, generated offline, deterministic from conf/corpus.yaml's seed) -> MFCC +
# monophone GMM -> alignments -> stacked RBMs -> DNN teacher -> soft targets -> LSTM student
# KT-pre-trained and fine-tuned, an LSTM trained from random init as the baseline -> hybrid
# decoding of clean and noisy test sets (unseen speakers) -> RESULTS.md.
#
# Usage: ./run.sh [--stage N] [--stop-stage N] [--nj N] [--teachers "rbm rand"] [--seed N]
#                 [--conf-dir DIR] [--corpus-config FILE] [--test-sets "..."] [--work DIR]
#                 [--extra-nn-opts "..."] [--decode-opts "..."]
# Stages:  0 corpus  1 lang  2 features  3 GMM + alignments  4 graph + GMM decoding
#          5 RBMs  6 DNN teachers  7 soft targets  8 LSTM baseline  9 KT pre-training
#          10 fine-tuning  11 hybrid decoding  12 RESULTS.md
# Every stage skips work already done (a .done marker in its output directory).
set -euo pipefail
cd "$(dirname "$0")"

stage=0
stop_stage=12
nj=2
seed=777
teachers="rbm"          # which teachers teach an LSTM: rbm (RBM-pre-trained DNN), rand (random init)
temperature=1.0
conf_dir=conf          # mfcc.yaml fbank.yaml rbm.yaml dnn.yaml lstm.yaml kt.yaml (and corpus.yaml)
corpus_config=""       # default: $conf_dir/corpus.yaml
test_sets=""            # default: every test set the corpus has
totgauss=1000
work=.                  # where corpus/, data/, mfcc/, fbank/, exp/ go
extra_nn_opts=""        # appended to every neural training command (e.g. "--max-epochs 1")
decode_opts="--min-lmwt 8 --max-lmwt 14"   # LM-weight sweep (each weight is one decoding pass)
help_message="Usage: $0 [--stage N] [--stop-stage N] [--nj N] [--teachers 'rbm rand'] [--seed N] [--temperature T] [--conf-dir DIR] [--corpus-config F] [--test-sets '...'] [--work DIR] [--extra-nn-opts '...'] [--decode-opts '...']"
cmdline="recipes/synth_digits/run.sh $*"
. ../common/parse_options.sh
. ./path.sh
. ../common/stage.sh

conf=$(realpath "$conf_dir")
[ -n "$corpus_config" ] || corpus_config=$conf/corpus.yaml
[ -f "$corpus_config" ] || { echo "$0: corpus config $corpus_config not found" >&2; exit 1; }
corpus_config=$(realpath "$corpus_config")
mkdir -p "$work" && cd "$work"
corpus=corpus
data=$corpus/data
exp=exp

test_sets_of_corpus() {
  local sets=""
  for d in $data/test_*; do [ -f "$d/text" ] && sets="$sets $(basename "$d")"; done
  echo $sets
}

if stage_begins 0 "synthesise the corpus ($corpus_config)"; then
  asrkt synth-digits --config "$corpus_config" --nj $nj $corpus
fi
[ -n "$test_sets" ] || test_sets=$(test_sets_of_corpus)

if stage_begins 1 "lang dir and word-loop grammar"; then
  done_or_run $data/lang asrkt prepare-lang --sil-prob 0.5 --oov-word '<UNK>' $data/local/dict $data/lang
  done_or_run $data/lang_test asrkt make-word-loop $data/lang $data/lang_test
fi

if stage_begins 2 "MFCC (GMM) and fbank (NN) features with per-speaker CMVN"; then
  for x in train $test_sets; do
    for kind in mfcc fbank; do
      d=$data/${kind}/$x
      if [ ! -f $d/.done ]; then
        mkdir -p $d && cp $data/$x/{wav.scp,text,utt2spk,spk2utt} $d/
        asrkt make-feats --config $conf/$kind.yaml --nj $nj $d $kind
        asrkt compute-cmvn $d
        touch $d/.done
      fi
    done
  done
fi

if stage_begins 3 "monophone GMM (flat start) and training alignments"; then
  done_or_run $exp/mono asrkt train-mono --nj $nj --totgauss $totgauss $data/mfcc/train $data/lang $exp/mono
  done_or_run $exp/mono_ali bash -c "asrkt align --nj $nj $data/mfcc/train $data/lang $exp/mono $exp/mono_ali && \
    asrkt ali-to-pdf $exp/mono_ali scp:$exp/mono_ali/ali.scp $exp/mono_ali/pdf.ark"
fi

if stage_begins 4 "decoding graph and GMM decoding"; then
  done_or_run $exp/mono/graph asrkt make-graph $data/lang_test $exp/mono $exp/mono/graph
  for x in $test_sets; do
    done_or_run $exp/mono/decode_$x asrkt decode --nj $nj $decode_opts $exp/mono/graph $data/mfcc/$x $exp/mono $exp/mono/decode_$x
  done
fi

ali=$exp/mono_ali
train=$data/fbank/train
if stage_begins 5 "stacked RBMs (pretrain_dbn)"; then
  [[ " $teachers " == *" rbm "* ]] && \
    done_or_run $exp/dbn asrkt pretrain-rbm --config $conf/rbm.yaml --seed $seed $train $exp/dbn
fi

if stage_begins 6 "DNN teachers (cross-entropy, newbob)"; then
  for t in $teachers; do
    dbn_opt=""; [ $t = rbm ] && dbn_opt="--dbn $exp/dbn"
    done_or_run $exp/dnn_$t asrkt train-teacher --config $conf/dnn.yaml --seed $seed $dbn_opt $extra_nn_opts \
      $train $ali $exp/dnn_$t
  done
fi

if stage_begins 7 "soft targets from the teachers (T=$temperature)"; then
  for t in $teachers; do
    done_or_run $exp/dnn_${t}_post asrkt dump-posteriors --temperature $temperature $exp/dnn_$t $train $exp/dnn_${t}_post
  done
fi

if stage_begins 8 "LSTM baseline: random init, cross-entropy"; then
  done_or_run $exp/lstm_ce asrkt finetune --config $conf/lstm.yaml --seed $seed $extra_nn_opts $train $ali $exp/lstm_ce
fi

if stage_begins 9 "LSTM KT pre-training on each teacher's soft targets"; then
  for t in $teachers; do
    done_or_run $exp/lstm_kt_$t asrkt kt-pretrain --config $conf/kt.yaml --seed $seed --temperature $temperature \
      $extra_nn_opts $train $exp/dnn_${t}_post $exp/lstm_kt_$t
  done
fi

if stage_begins 10 "fine-tuning the KT-pre-trained LSTMs on hard targets"; then
  for t in $teachers; do
    done_or_run $exp/lstm_kt_${t}_ft asrkt finetune --config $conf/lstm.yaml --seed $seed --init $exp/lstm_kt_$t \
      $extra_nn_opts $train $ali $exp/lstm_kt_${t}_ft
  done
fi

nn_systems() {
  local s=""
  for t in $teachers; do s="$s dnn_$t"; done
  s="$s lstm_ce"
  for t in $teachers; do s="$s lstm_kt_${t}_ft"; done
  echo $s
}

if stage_begins 11 "hybrid decoding (log-posterior - log-prior through HCLG)"; then
  for sys in $(nn_systems); do
    for x in $test_sets; do
      done_or_run $exp/$sys/decode_$x bash -c "asrkt forward $exp/$sys $data/fbank/$x $exp/$sys/loglikes_$x && \
        asrkt decode-nnet --nj $nj $decode_opts --data-dir $data/fbank/$x $exp/mono/graph scp:$exp/$sys/loglikes_$x/loglikes.scp \
          $exp/mono $exp/$sys/decode_$x"
    done
  done
fi

if stage_begins 12 "results table"; then
  python "$ASRKT_ROOT/scripts/results_table.py" --exp $exp --systems "mono $(nn_systems)" \
    --test-sets "$test_sets" --title "synth_digits (asrkt demo)" \
    --command "$cmdline" --seed $seed \
    --split "train: $data/train; test: unseen speakers ($test_sets)" \
    --corpus-config $corpus/config.yaml --out RESULTS.md
  cat RESULTS.md
fi
