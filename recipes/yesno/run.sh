#!/usr/bin/env bash
# yesno (Kaldi's egs/yesno/s5): monophone GMM-HMM on 60 recordings of eight yes/no words.
# Train on the first half of the sorted files, test on the second half; Kaldi gets %WER 0.00.
#
# Usage: ./run.sh [--stage N] [--stop-stage N] [--nj N] [--grammar unigram|loop] [waves_yesno dir]
#   (default corpus: ../../../shared/data/yesno/waves_yesno)
# Stages: 0 data + dict + LM, 1 lang + G, 2 MFCC + CMVN, 3 train-mono, 4 graph, 5 decode + score.
# Training and graph stages skip work already done (a .done file in their output directory);
# remove it, or the directory, to redo.
set -euo pipefail
cd "$(dirname "$0")"

stage=0
stop_stage=100
nj=1
grammar=unigram       # unigram: Kaldi's task.arpabo (YES/NO); loop: uniform word loop
totgauss=400
help_message="Usage: $0 [--stage N] [--stop-stage N] [--nj N] [--grammar unigram|loop] [waves_dir]"
. ../common/parse_options.sh
. ../common/stage.sh
. ./path.sh

waves=${1:-../../../shared/data/yesno/waves_yesno}

if [ $stage -le 0 ] && [ $stop_stage -ge 0 ]; then
  echo "=== stage 0: data preparation from $waves"
  rm -rf exp/mono0a   # new data: nothing downstream is done
  local/prepare_data.sh "$waves" data
  local/prepare_dict.sh data/local/dict data/local/lm
fi

if [ $stage -le 1 ] && [ $stop_stage -ge 1 ]; then
  echo "=== stage 1: lang and grammar"
  asrkt prepare-lang --sil-prob 0.5 --no-position-dependent-phones --oov-word '<SIL>' \
    data/local/dict data/lang
  if [ "$grammar" = loop ]; then
    asrkt make-word-loop data/lang data/lang_test
  else
    asrkt format-lm data/local/lm/task.arpabo data/lang data/lang_test
  fi
fi

if [ $stage -le 2 ] && [ $stop_stage -ge 2 ]; then
  echo "=== stage 2: MFCC and CMVN"
  for x in train_yesno test_yesno; do
    asrkt make-feats --config conf/mfcc.yaml --nj $nj data/$x mfcc
    asrkt compute-cmvn data/$x
  done
fi

if [ $stage -le 3 ] && [ $stop_stage -ge 3 ]; then
  echo "=== stage 3: monophone training"
  done_or_run exp/mono0a \
    asrkt train-mono --nj $nj --totgauss $totgauss data/train_yesno data/lang exp/mono0a
fi

if [ $stage -le 4 ] && [ $stop_stage -ge 4 ]; then
  echo "=== stage 4: graph"
  done_or_run exp/mono0a/graph_tgpr asrkt make-graph data/lang_test exp/mono0a exp/mono0a/graph_tgpr
fi

if [ $stage -le 5 ] && [ $stop_stage -ge 5 ]; then
  echo "=== stage 5: decoding"
  asrkt decode --nj $nj exp/mono0a/graph_tgpr data/test_yesno exp/mono0a exp/mono0a/decode_test_yesno
  cat exp/mono0a/decode_test_yesno/scoring_kaldi/best_wer
fi
