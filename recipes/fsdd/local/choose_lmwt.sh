#!/usr/bin/env bash
# Choose the LM weights of one speaker-independent fold on CV data only: a nested fold inside the
# fold's training speakers holds out one of them (the next speaker after the test speaker in
# alphabetical order, cyclically: a rule fixed before any result), trains the GMM and the two DNN
# teachers on the others (run.sh stages 0-8, seed 1), decodes the held-out speaker over an
# LM-weight sweep and picks the weight with the lowest WER: one for the GMM, one for the neural
# systems (mean WER of the two teachers). The fold's test speaker is never read.
#
# Usage: local/choose_lmwt.sh [options] <fsdd-dir> <work> <test-speaker>   (relative paths: to the current directory)
#   e.g. local/choose_lmwt.sh ../../../shared/data/fsdd /tmp/lmwt_theo theo
# Writes <work>/lmwt_<condition> with two lines, "gmm N" and "nn M", and <work>/lmwt_<condition>.md
# (the sweep); local/run_cv_lmwt.sh <dir holding lmwt_<test-speaker>> then decodes the fold at
# these weights.
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")/.."

conditions="full quarter"   # training conditions (one choice each)
min_lmwt=4              # the LM-weight sweep
max_lmwt=24
nj=2                    # jobs of the GMM and decoding commands
nn_threads=1            # --num-threads of the neural commands
conf=conf               # training configs (as run.sh)
nn_gmm=mono             # the GMM of the teachers' targets and hybrid decoding (as run.sh --nn-gmm)
nn_prior_scale=0.5      # S of the hybrid decoding, log-posterior - S log-prior (as run.sh)
. ../common/parse_options.sh
if [ $# -ne 3 ]; then echo "Usage: $0 [options] <fsdd-dir> <work> <test-speaker> (--help for more)" >&2; exit 1; fi
. ./path.sh
. ../common/stage.sh
. ../common/systems.sh
fsdd=$(caller_path "$1"); work=$(caller_path "$2"); test_spk=$3
absolute_options conf
[ -d "$fsdd/recordings" ] || { echo "$0: no recordings/ in '$fsdd'" >&2; exit 1; }
speakers=$(ls "$fsdd/recordings" | sed -n 's/^[0-9]_\([A-Za-z]*\)_[0-9]*\.wav$/\1/p' | sort -u)
echo "$speakers" | grep -qx "$test_spk" || { echo "$0: no recordings of speaker '$test_spk' in $fsdd/recordings" >&2; exit 1; }
train_spks=$(echo "$speakers" | grep -vx "$test_spk" | tr '\n' ' ')
# the CV speaker: the next speaker after the test speaker, cyclically
cv_spk=$(echo "$speakers" | awk -v t="$test_spk" '{a[NR] = $1; if ($1 == t) i = NR} END {print a[i % NR + 1]}')
case $nn_gmm in   # the GMMs run.sh trains: mono and those nn_gmm needs
  mono) gmms=mono ;; tri1) gmms="mono tri1" ;; tri2) gmms="mono tri1 tri2" ;;
  *) echo "$0: --nn-gmm is mono, tri1 or tri2, not '$nn_gmm'" >&2; exit 1 ;;
esac
echo "$0: fold $test_spk: CV speaker $cv_spk, nested training speakers: $(echo $train_spks | tr ' ' '\n' | grep -vx "$cv_spk" | tr '\n' ' ')" >&2

bash run.sh --work "$work" --speakers "$train_spks" --folds "$cv_spk" --conditions "$conditions" \
  --seeds 1 --nj $nj --nn-threads $nn_threads --conf "$conf" --gmm-systems "$gmms" \
  --nn-gmm $nn_gmm --nn-prior-scale $nn_prior_scale --stop-stage 8 "$fsdd"

cd "$work"
split=si_$cv_spk
sweep="--min-lmwt $min_lmwt --max-lmwt $max_lmwt"
for cond in $conditions; do
  e=exp/$split/$cond
  decode_gmm_system $e/mono/decode_sweep $e/mono/graph data/mfcc/$split/test $e/mono --nj $nj $sweep
  for t in dnn_rand dnn_rbm; do
    decode_system $e/seed1/$t/decode_sweep $e/seed1/$t data/fbank/$split/test $e/$nn_gmm/graph $e/$nn_gmm \
      $e/seed1/$t/loglikes_cv "--num-threads $nn_threads --prior-scale $nn_prior_scale" --nj $nj $sweep
  done
  python "$ASRKT_ROOT/scripts/choose_lmwt.py" --gmm $e/mono/decode_sweep \
    --nn "$e/seed1/dnn_rand/decode_sweep $e/seed1/dnn_rbm/decode_sweep" \
    --out lmwt_$cond --table lmwt_$cond.md \
    --title "fold $test_spk ($cond): LM weights chosen on CV speaker $cv_spk"
  cat lmwt_$cond >&2
done
