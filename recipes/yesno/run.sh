#!/usr/bin/env bash
# yesno (Kaldi's egs/yesno/s5): monophone GMM-HMM on 60 recordings of eight yes/no words.
# Train on the first half of the sorted files, test on the second half; Kaldi gets %WER 0.00.
#
# Usage: ./run.sh [--stage N] [--stop-stage N] [--nj N] [--grammar unigram|loop] [waves_yesno dir]
#   (default corpus: ../../../shared/data/yesno/waves_yesno)
# Stages: 0 data + dict + LM, 1 lang + G, 2 MFCC + CMVN, 3 train-mono, 4 graph, 5 decode + score;
# the neural stages: 6 alignments + fbank, 7 DNN teacher, 8 soft targets, 9 LSTM baseline,
# 10 LSTM KT pre-training + fine-tuning, 11 hybrid decoding + RESULTS.md.
# Training and graph stages skip work already done (a .done file in their output directory);
# remove it, or the directory, to redo.
set -euo pipefail
cd "$(dirname "$0")"

stage=0
stop_stage=100
nj=1
grammar=unigram       # unigram: Kaldi's task.arpabo (YES/NO); loop: uniform word loop
totgauss=400
seed=777
help_message="Usage: $0 [--stage N] [--stop-stage N] [--nj N] [--grammar unigram|loop] [--seed N] [waves_dir]"
cmdline="recipes/yesno/run.sh $*"
. ../common/parse_options.sh
. ../common/stage.sh
. ./path.sh

waves=${1:-../../../shared/data/yesno/waves_yesno}

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
  done_or_run exp/mono0a \
    asrkt train-mono --nj $nj --totgauss $totgauss data/train_yesno data/lang exp/mono0a
fi

if stage_begins 4 "graph"; then
  done_or_run exp/mono0a/graph_tgpr asrkt make-graph data/lang_test exp/mono0a exp/mono0a/graph_tgpr
fi

if stage_begins 5 "decoding"; then
  asrkt decode --nj $nj exp/mono0a/graph_tgpr data/test_yesno exp/mono0a exp/mono0a/decode_test_yesno
  cat exp/mono0a/decode_test_yesno/scoring_kaldi/best_wer
fi

if stage_begins 6 "training alignments (pdf targets) and fbank features for the neural nets"; then
  done_or_run exp/mono0a_ali bash -c "asrkt align --nj $nj data/train_yesno data/lang exp/mono0a exp/mono0a_ali && \
    asrkt ali-to-pdf exp/mono0a_ali scp:exp/mono0a_ali/ali.scp exp/mono0a_ali/pdf.ark"
  for x in train_yesno test_yesno; do
    if [ ! -f data/fbank/$x/.done ]; then
      mkdir -p data/fbank/$x && cp data/$x/{wav.scp,text,utt2spk,spk2utt} data/fbank/$x/
      asrkt make-feats --config conf/fbank.yaml --nj $nj data/fbank/$x fbank
      asrkt compute-cmvn data/fbank/$x
      touch data/fbank/$x/.done
    fi
  done
fi

if stage_begins 7 "DNN teacher (random init, cross-entropy, newbob)"; then
  done_or_run exp/dnn asrkt train-teacher --config conf/dnn.yaml --seed $seed \
    data/fbank/train_yesno exp/mono0a_ali exp/dnn
fi

if stage_begins 8 "soft targets of the teacher"; then
  done_or_run exp/dnn_post asrkt dump-posteriors exp/dnn data/fbank/train_yesno exp/dnn_post
fi

if stage_begins 9 "LSTM baseline (random init, cross-entropy)"; then
  done_or_run exp/lstm_ce asrkt finetune --config conf/lstm.yaml --seed $seed \
    data/fbank/train_yesno exp/mono0a_ali exp/lstm_ce
fi

if stage_begins 10 "LSTM KT pre-training on the soft targets, then fine-tuning"; then
  done_or_run exp/lstm_kt asrkt kt-pretrain --config conf/lstm.yaml --seed $seed \
    data/fbank/train_yesno exp/dnn_post exp/lstm_kt
  done_or_run exp/lstm_kt_ft asrkt finetune --config conf/lstm.yaml --seed $seed --init exp/lstm_kt \
    data/fbank/train_yesno exp/mono0a_ali exp/lstm_kt_ft
fi

if stage_begins 11 "hybrid decoding and RESULTS.md"; then
  for sys in dnn lstm_ce lstm_kt_ft; do
    done_or_run exp/$sys/decode_test_yesno bash -c "asrkt forward exp/$sys data/fbank/test_yesno exp/$sys/loglikes_test_yesno && \
      asrkt decode-nnet --nj $nj --data-dir data/fbank/test_yesno exp/mono0a/graph_tgpr \
        scp:exp/$sys/loglikes_test_yesno/loglikes.scp exp/mono0a exp/$sys/decode_test_yesno"
  done
  ln -sfn mono0a exp/mono
  python "$ASRKT_ROOT/scripts/results_table.py" --exp exp --systems "mono dnn lstm_ce lstm_kt_ft" \
    --test-sets test_yesno --title "yesno (Kaldi egs/yesno split)" --command "$cmdline" --seed $seed \
    --split "train: first 30 sorted files; test: last 30" --out RESULTS.md
  cat RESULTS.md
fi
