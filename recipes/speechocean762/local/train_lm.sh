#!/usr/bin/env bash
# n-gram language models of the speechocean762 recipe, on the training transcripts only
# (DATA/train/text: never dev or test text): for each order, kaldingram's Kneser-Ney estimate
# (SRILM's -ukndiscount, no count cut-offs), its vocabulary closed over the lexicon's words
# (local/lm.py close: the lexicon words absent from the training text share the Good-Turing
# unseen mass), then kaldingram ppl on each set in --sets. LM_DIR/ppl.txt is the table,
# LM_DIR/order the order with the lowest perplexity on the first set (dev; a tie: the lower
# order) and LM_DIR/lm.arpa that model.
#
# Usage: local/train_lm.sh [options] <data-dir> <dict-dir> <lm-dir>
#   e.g. local/train_lm.sh --orders "2 3 4" data data/local/dict data/local/lm
set -euo pipefail
orders="2 3 4"          # the n-gram orders estimated
sets="dev test"         # the sets whose perplexity is in the table (the first chooses the order)
. "$(dirname "$0")/../../common/parse_options.sh"
[ $# -eq 3 ] || { echo "Usage: $0 [options] <data-dir> <dict-dir> <lm-dir> (--help for more)" >&2; exit 1; }
data=$1 dict=$2 dir=$3
local=$(cd "$(dirname "$0")" && pwd)
for f in $data/train/text $dict/lexicon.txt; do
  [ -f $f ] || { echo "$0: no $f (run the earlier stages first)" >&2; exit 1; }
done
mkdir -p $dir/log
cut -d' ' -f2- $data/train/text > $dir/train.txt
set_args=()
for set in $sets; do
  [ -f $data/$set/text ] || { echo "$0: no $data/$set/text (run stage 0 first)" >&2; exit 1; }
  cut -d' ' -f2- $data/$set/text > $dir/$set.txt
  set_args+=(--set $set=$data/$set/text)
done
for n in $orders; do
  kaldingram train --ngram-order $n --text $dir/train.txt --lm $dir/train_${n}gram.arpa \
    2> $dir/log/train_${n}gram.log || { echo "$0: kaldingram train failed (see $dir/log/train_${n}gram.log)" >&2; exit 1; }
  python $local/lm.py close $dir/train_${n}gram.arpa $dir/train.txt $dict $dir/lm_${n}gram.arpa
  for set in $sets; do
    kaldingram ppl --lm $dir/lm_${n}gram.arpa --text $dir/$set.txt > $dir/ppl_${n}_$set.txt \
      2> $dir/log/ppl_${n}_$set.log || { echo "$0: kaldingram ppl failed (see $dir/log/ppl_${n}_$set.log)" >&2; exit 1; }
  done
done
python $local/lm.py table --orders "$orders" --lm-dir $dir --train-text $data/train/text "${set_args[@]}"
cp $dir/lm_$(cat $dir/order)gram.arpa $dir/lm.arpa
