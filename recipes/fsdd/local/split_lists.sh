#!/usr/bin/env bash
# Train/test utterance lists of one FSDD protocol and training condition, from a data dir made by
# local/prepare_data.sh (utterance ids <speaker>-<digit>-<index>).
# Usage: split_lists.sh <data-dir> <split> <condition> <out-dir>
#   split:     official   indices 0-4 test, 5-49 train (the dataset authors' split)
#              si_<SPK>   speaker independent: test on SPK, train on the other speakers
#   condition: full       all training utterances
#              quarter    every 4th training utterance of each speaker/digit (positions 0, 4, 8, ...
#                         of its sorted indices): the deterministic 25% limited-data condition
# Writes <out-dir>/train.list and <out-dir>/test.list (one utterance id per line, sorted). The test
# list does not depend on the condition. CV data is held out of train.list by the NN trainers.
set -euo pipefail
if [ $# -ne 4 ]; then echo "Usage: $0 <data-dir> <official|si_SPK> <full|quarter> <out-dir>" >&2; exit 1; fi
data=$1; split=$2; cond=$3; out=$4
[ -f "$data/utt2spk" ] || { echo "$0: $data/utt2spk not found" >&2; exit 1; }
case "$split" in
  official) test_awk='{split($1, f, "-"); if (f[3] + 0 <= 4) print $1}' ;;
  si_*) spk=${split#si_}
        grep -q " $spk\$" "$data/utt2spk" || { echo "$0: speaker '$spk' not in $data" >&2; exit 1; }
        test_awk="\$2 == \"$spk\" {print \$1}" ;;
  *) echo "$0: bad split '$split' (official, si_<speaker>)" >&2; exit 1 ;;
esac
case "$cond" in full|quarter) ;; *) echo "$0: bad condition '$cond' (full, quarter)" >&2; exit 1 ;; esac
mkdir -p "$out"
awk "$test_awk" "$data/utt2spk" | LC_ALL=C sort > "$out/test.list"
LC_ALL=C join -v 1 <(cut -d' ' -f1 "$data/utt2spk" | LC_ALL=C sort) "$out/test.list" > "$out/train_full.list"
if [ "$cond" = quarter ]; then
  # group = <speaker>-<digit>; keep positions 0, 4, 8, ... inside each group (ids sorted)
  awk '{g = $1; sub(/-[0-9]+$/, "", g); if (g != last) {n = 0; last = g}; if (n % 4 == 0) print $1; n++}' \
    "$out/train_full.list" > "$out/train.list"
else
  cp "$out/train_full.list" "$out/train.list"
fi
rm "$out/train_full.list"
[ -s "$out/train.list" ] && [ -s "$out/test.list" ] || { echo "$0: empty train or test list ($split $cond)" >&2; exit 1; }
