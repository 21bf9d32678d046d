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
# Stages:  0 data  1 dict + lang  2 LMs, perplexity table, G.fst
#          (the GMM and neural stages come next; README)
# Every stage skips work already done (a .done marker in its output directory); remove it to redo.
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")"

stage=0
stop_stage=2
work=.                  # where data/ (and later exp/) go
keep_stress=false       # keep the lexicon's stress digits (65 phones, not 39; README)
sil_prob=0.5            # optional-silence probability between words (prepare_lang's default)
lm_orders="2 3 4"       # n-gram orders estimated; the one with the lowest dev perplexity is used
lm_sets="dev test"      # sets in the perplexity table (the first chooses the order)
. ../common/parse_options.sh
. ./path.sh
. ../common/stage.sh

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
