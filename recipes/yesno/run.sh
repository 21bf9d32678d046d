#!/usr/bin/env bash
# yesno (Kaldi's egs/yesno/s5): monophone GMM-HMM on 60 recordings of eight yes/no words.
# Train on the first half of the sorted files, test on the second half; Kaldi gets %WER 0.00.
#
# Usage: ./run.sh [options] [waves_yesno dir]   (default corpus: ../../../shared/data/yesno/waves_yesno)
# Stages: 0 data + dict + LM, 1 lang + G, 2 MFCC + CMVN, 3 train-mono, 4 graph, 5 decode + score;
# the neural stages: 6 alignments + fbank, 7 DNN teacher, 8 soft targets, 9 LSTM baseline,
# 10 LSTM KT pre-training + fine-tuning, 11 hybrid decoding + RESULTS.md.
# Training and graph stages skip work already done (a .done file in their output directory);
# remove it, or the directory, to redo.
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")"

stage=0
stop_stage=100
nj=1                    # parallel jobs
grammar=unigram         # unigram: Kaldi's task.arpabo (YES/NO); loop: uniform word loop
totgauss=400            # monophone GMM size (as Kaldi's egs/yesno)
seed=777                # seed of the neural systems
nn_threads=1            # --num-threads of the neural commands: fixed, so results do not depend on the core count
. ../common/parse_options.sh
. ../common/stage.sh
. ../common/systems.sh
. ./path.sh
thr="--num-threads $nn_threads"

waves=$(caller_path "${1:-}" ../../../shared/data/yesno/waves_yesno)
[ $# -eq 0 ] || [ -d "$waves" ] || { echo "$0: no folder '$waves' (waves_yesno)" >&2; exit 1; }

if stage_begins 0 "data preparation from $waves"; then
  rm -rf exp   # new data: nothing downstream is valid (as Kaldi's egs/yesno run.sh)
  local/prepare_data.sh "$waves" data
  local/prepare_dict.sh data/local/dict data/local/lm
fi

if stage_begins 1 "lang and grammar"; then
  asrkt prepare-lang --sil-prob 0.5 --no-position-dependent-phones --oov-word '<SIL>' \
    data/local/dict data/lang
  if [ "$grammar" = loop ]; then
    asrkt make-word-loop data/lang data/lang_test
  else
    asrkt format-lm data/local/lm/task.arpabo data/lang data/lang_test
  fi
fi

if stage_begins 2 "MFCC and CMVN"; then
  for x in train_yesno test_yesno; do
    asrkt make-feats --config conf/mfcc.yaml --nj $nj data/$x mfcc
    asrkt compute-cmvn data/$x
  done
fi

if stage_begins 3 "monophone training"; then
  train_mono_system exp/mono0a data/train_yesno data/lang --nj $nj --totgauss $totgauss
fi

if stage_begins 4 "graph"; then
  graph_system exp/mono0a/graph_tgpr data/lang_test exp/mono0a
fi

if stage_begins 5 "decoding"; then
  asrkt decode --nj $nj exp/mono0a/graph_tgpr data/test_yesno exp/mono0a exp/mono0a/decode_test_yesno
  cat exp/mono0a/decode_test_yesno/scoring_kaldi/best_wer
fi

if stage_begins 6 "training alignments (pdf targets) and fbank features for the neural nets"; then
  align_system exp/mono0a_ali data/train_yesno data/lang exp/mono0a --nj $nj
  feats_dirs conf/fbank.yaml $nj fbank true \
    "data/train_yesno data/fbank/train_yesno data/test_yesno data/fbank/test_yesno"
fi

if stage_begins 7 "DNN teacher (random init, cross-entropy, newbob)"; then
  train_teacher_system exp/dnn data/fbank/train_yesno exp/mono0a_ali --config conf/dnn.yaml --seed $seed $thr
fi

if stage_begins 8 "soft targets of the teacher"; then
  posteriors_system exp/dnn_post exp/dnn data/fbank/train_yesno $thr
fi

if stage_begins 9 "LSTM baseline (random init, cross-entropy)"; then
  finetune_system exp/lstm_ce data/fbank/train_yesno exp/mono0a_ali --config conf/lstm.yaml --seed $seed $thr
fi

if stage_begins 10 "LSTM KT pre-training on the soft targets, then fine-tuning"; then
  kt_system exp/lstm_kt data/fbank/train_yesno exp/dnn_post --config conf/lstm.yaml --seed $seed $thr
  finetune_system exp/lstm_kt_ft data/fbank/train_yesno exp/mono0a_ali --config conf/lstm.yaml --seed $seed $thr \
    --init exp/lstm_kt
fi

if stage_begins 11 "hybrid decoding and RESULTS.md"; then
  for sys in dnn lstm_ce lstm_kt_ft; do
    decode_system exp/$sys/decode_test_yesno exp/$sys data/fbank/test_yesno exp/mono0a/graph_tgpr \
      exp/mono0a exp/$sys/loglikes_test_yesno "$thr" --nj $nj
  done
  ln -sfn mono0a exp/mono
  python "$ASRKT_ROOT/scripts/results_table.py" --exp exp --systems "mono dnn lstm_ce lstm_kt_ft" \
    --test-sets test_yesno --title "yesno (Kaldi egs/yesno split)" --command "$(quote_command recipes/yesno/run.sh "${script_args[@]}")" --seed $seed \
    --split "train: first 30 sorted files; test: last 30" --out RESULTS.md
  cat RESULTS.md
fi
