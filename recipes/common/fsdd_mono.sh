#!/usr/bin/env bash
# FSDD monophone GMM check (not run in CI; the full FSDD experiment is recipes/fsdd/run.sh):
# prepare (recipes/fsdd/local/fsdd_prepare.sh), MFCC + CMN, train-mono, word-loop graph,
# decode, score. Prints the best %WER.
# Usage: fsdd_mono.sh [options] <fsdd dir> <work dir>
set -euo pipefail
split=official          # official, or heldout:<speaker>
nj=1                    # parallel jobs
totgauss=1000           # monophone GMM size
stage=0                 # first stage to run
. "$(dirname "$0")/parse_options.sh"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/stage.sh"
. "$here/systems.sh"
[ $# -eq 2 ] || { echo "Usage: $0 [options] <fsdd dir> <work dir> (--help for more)" >&2; exit 1; }
src=$(caller_path "$1"); work=$(caller_path "$2")   # before the cd into $work below
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
  train_mono_system exp/mono data/train data/lang --nj $nj --totgauss $totgauss
fi
if [ $stage -le 3 ]; then
  graph_decode_gmm exp/mono data/lang_loop data/test decode_test --nj $nj
fi
