#!/usr/bin/env bash
# Choose the LM weights of one speaker-independent fold on CV data only: a nested fold inside the
# fold's training speakers holds out one of them (the next speaker after the test speaker in
# alphabetical order, cyclically: a rule fixed before any result), trains the GMM and the two DNN
# teachers on the others (run.sh stages 0-6, seed 1), decodes the held-out speaker over an
# LM-weight sweep and picks the weight with the lowest WER: one for the GMM, one for the neural
# systems (mean WER of the two teachers). The fold's test speaker is never read.
#
# Usage: local/choose_lmwt.sh [--conditions "full quarter"] [--min-lmwt 4] [--max-lmwt 24]
#                             [--nj 2] [--conf DIR] <fsdd-dir> <work> <test-speaker>
#   e.g. local/choose_lmwt.sh ../../../shared/data/fsdd /tmp/lmwt_theo theo
# Writes <work>/lmwt_<condition> with two lines, "gmm N" and "nn M", and <work>/lmwt_<condition>.md
# (the sweep); run.sh --lmwt-dir <work> then decodes the fold at these weights.
set -euo pipefail
conditions="full quarter"
min_lmwt=4
max_lmwt=24
nj=2
conf=conf
while [ $# -gt 3 ]; do
  case "$1" in
    --conditions) conditions=$2; shift 2 ;;
    --min-lmwt) min_lmwt=$2; shift 2 ;;
    --max-lmwt) max_lmwt=$2; shift 2 ;;
    --nj) nj=$2; shift 2 ;;
    --conf) conf=$2; shift 2 ;;
    *) echo "$0: unknown option $1" >&2; exit 1 ;;
  esac
done
if [ $# -ne 3 ]; then sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 1; fi
here=$(cd "$(dirname "$0")/.." && pwd)
fsdd=$(realpath "$1"); work=$(realpath -m "$2"); test_spk=$3
[ -d "$fsdd/recordings" ] || { echo "$0: $fsdd/recordings not found" >&2; exit 1; }
speakers=$(LC_ALL=C ls "$fsdd/recordings" | sed -n 's/^[0-9]_\([A-Za-z]*\)_[0-9]*\.wav$/\1/p' | LC_ALL=C sort -u)
echo "$speakers" | grep -qx "$test_spk" || { echo "$0: no recordings of speaker '$test_spk'" >&2; exit 1; }
train_spks=$(echo "$speakers" | grep -vx "$test_spk" | tr '\n' ' ')
[ $(echo $train_spks | wc -w) -ge 2 ] || { echo "$0: need at least 3 speakers" >&2; exit 1; }
# the CV speaker: the next speaker after the test speaker, cyclically
cv_spk=$(echo "$speakers" | awk -v t="$test_spk" '{a[NR] = $1; if ($1 == t) i = NR} END {print a[i % NR + 1]}')
echo "$0: fold $test_spk: CV speaker $cv_spk, nested training speakers: $(echo $train_spks | tr ' ' '\n' | grep -vx "$cv_spk" | tr '\n' ' ')" >&2

(cd "$here" && ./run.sh --work "$work" --speakers "$train_spks" --folds "$cv_spk" \
   --conditions "$conditions" --seeds 1 --nj $nj --conf "$conf" --stop-stage 6 "$fsdd")

. "$here/path.sh"
. "$here/../common/stage.sh"
cd "$work"
split=si_$cv_spk
sweep="--min-lmwt $min_lmwt --max-lmwt $max_lmwt"
for cond in $conditions; do
  e=exp/$split/$cond
  d=$e/mono/decode_sweep
  done_or_run $d asrkt decode --nj $nj $sweep $e/mono/graph data/mfcc/$split/test $e/mono $d
  for t in dnn_rand dnn_rbm; do
    s=$e/seed1/$t
    [ -f $s/loglikes_cv/loglikes.scp ] || asrkt forward $s data/fbank/$split/test $s/loglikes_cv
    done_or_run $s/decode_sweep asrkt decode-nnet --nj $nj $sweep --data-dir data/fbank/$split/test \
      $e/mono/graph scp:$s/loglikes_cv/loglikes.scp $e/mono $s/decode_sweep
  done
  python "$ASRKT_ROOT/scripts/choose_lmwt.py" --gmm $e/mono/decode_sweep \
    --nn "$e/seed1/dnn_rand/decode_sweep $e/seed1/dnn_rbm/decode_sweep" \
    --out lmwt_$cond --table lmwt_$cond.md \
    --title "fold $test_spk ($cond): LM weights chosen on CV speaker $cv_spk"
  cat lmwt_$cond >&2
done
