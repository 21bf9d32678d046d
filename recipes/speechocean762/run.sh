#!/usr/bin/env bash
# speechocean762: connected read English of 250 non-native speakers (Mandarin L1; 104 children),
# 16 kHz; word recognition with an n-gram LM (issue 23). This script builds the skeleton:
#
# corpus -> data/{train,dev,test} (dev: every 5th training speaker of each age-group x gender
# stratum, README) -> dict (the corpus lexicon without stress digits: --keep-stress keeps them)
# + lang (optional silence 0.5) -> Kneser-Ney LMs of orders --lm-orders on the training text,
# vocabulary closed over the lexicon, perplexity on dev (and test, for the table only) ->
# the order with the lowest dev perplexity compiled into data/lang_test.
#
# Usage: ./run.sh [options] <corpus-dir>
#   e.g. ./run.sh --work /tmp/so762 /data/speechocean762     (the folder with WAVE/ train/ test/)
# Relative paths on the command line are relative to where you run it from (../common/paths.sh).
# Work-dir layout:
#   data/{train,dev,test}                                    (stage 0)
#   data/local/dict, data/lang                               (stage 1)
#   data/local/lm (ppl.txt, order, lm.arpa), data/lang_test  (stage 2)
#   data/{mfcc,fbank}/{train,dev,test}                      (stage 3)
#   exp/{mono,tri1,tri2} (+ _ali: training alignments), exp/<gmm>/graph, decode_dev  (stages 4-7)
# Stages:  0 data  1 dict + lang  2 LMs, perplexity table, G.fst  3 features + CMVN
#          4 mono  5 tri1 (deltas)  6 tri2 (LDA+MLLT)  7 graphs, dev decoding of the GMMs
#          (the neural stages and the test tables come next; README)
# The GMM sizes (--mono-gauss, --tri1-leaves, --tri1-gauss, --tri2-leaves, --tri2-gauss): their
# defaults are in conf/gmm.sh, shared with local/kaldi_anchor.sh; tri1's chosen on dev
# (local/gmm_dev_study.sh, DEV_STUDY_gmm.md); tri2 takes tri1's for now.
# Every stage skips work already done (a .done marker in its output directory); remove it to redo.
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")"

stage=0
stop_stage=7
nj=2                    # parallel jobs of the feature, GMM and decoding commands
. ./conf/gmm.sh         # the GMM sizes: --mono-gauss, --tri1-leaves/--tri1-gauss, --tri2-leaves/--tri2-gauss
gmms="mono tri1 tri2"   # systems of stage 7
decode_opts=""          # extra options of asrkt decode (e.g. "--beam 10 --max-active 2000")
work=.                  # where data/ (and later exp/) go
keep_stress=false       # keep the lexicon's stress digits (65 phones, not 39; README)
sil_prob=0.5            # optional-silence probability between words (prepare_lang's default)
lm_orders="2 3 4"       # n-gram orders estimated; the one with the lowest dev perplexity is used
lm_sets="dev test"      # sets in the perplexity table (the first chooses the order)
. ../common/parse_options.sh
. ./path.sh
. ../common/stage.sh
. ../common/systems.sh

[ $# -eq 1 ] || { echo "Usage: $0 [options] <corpus-dir>  e.g. $0 --work /tmp/so762 /data/speechocean762 (--help for more)" >&2; exit 1; }
corpus=$(caller_path "$1")
local=$(pwd)/local
absolute_options work
dict_opts=()
[ "$keep_stress" = false ] || dict_opts+=(--keep-stress)
mkdir -p "$work" && cd "$work"

if stage_begins 0 "data dirs (train, dev, test) from $corpus"; then
  done_or_run data python $local/prepare_data.py "$corpus" data
fi

stress=removed; [ "$keep_stress" = false ] || stress=kept
if stage_begins 1 "dict (lexicon stress digits $stress) and lang dir"; then
  done_or_run data/local/dict python $local/prepare_dict.py "${dict_opts[@]}" "$corpus" data/local/dict
  done_or_run data/lang asrkt prepare-lang --sil-prob $sil_prob data/local/dict data/lang
fi

if stage_begins 2 "n-gram LMs (orders $lm_orders) on the training text, perplexity on $lm_sets, G.fst"; then
  done_or_run data/local/lm bash $local/train_lm.sh --orders "$lm_orders" --sets "$lm_sets" \
    data data/local/dict data/local/lm
  cat data/local/lm/ppl.txt >&2
  done_or_run data/lang_test asrkt format-lm data/local/lm/lm.arpa data/lang data/lang_test
fi

if stage_begins 3 "MFCC (GMM) and fbank (NN) features with per-speaker CMVN (train dev test)"; then
  for x in train dev test; do
    for kind in mfcc fbank; do
      feats_dir $local/../conf/$kind.yaml $nj data/$x data/$kind/$x $kind true
    done
  done
fi

if stage_begins 4 "monophone GMM (flat start, --totgauss $mono_gauss) and training alignments"; then
  train_mono_system exp/mono data/mfcc/train data/lang --nj $nj --totgauss $mono_gauss
  align_system exp/mono_ali data/mfcc/train data/lang exp/mono --nj $nj
fi

if stage_begins 5 "tri1: tree + delta GMMs ($tri1_leaves leaves, $tri1_gauss Gaussians) and alignments"; then
  train_deltas_system exp/tri1 data/mfcc/train data/lang exp/mono_ali --nj $nj \
    --num-leaves $tri1_leaves --totgauss $tri1_gauss
  align_system exp/tri1_ali data/mfcc/train data/lang exp/tri1 --nj $nj
fi

if stage_begins 6 "tri2: LDA+MLLT GMMs ($tri2_leaves leaves, $tri2_gauss Gaussians) and alignments"; then
  train_lda_mllt_system exp/tri2 data/mfcc/train data/lang exp/tri1_ali --nj $nj \
    --num-leaves $tri2_leaves --totgauss $tri2_gauss
  align_system exp/tri2_ali data/mfcc/train data/lang exp/tri2 --nj $nj
fi

if stage_begins 7 "decoding graphs and dev decoding of $gmms (LM weights 7..17)"; then
  for g in $gmms; do
    graph_system exp/$g/graph data/lang_test exp/$g
    decode_gmm_system exp/$g/decode_dev exp/$g/graph data/mfcc/dev exp/$g --nj $nj $decode_opts
    grep WER exp/$g/decode_dev/best_wer 2>/dev/null >&2 || true
  done
fi
