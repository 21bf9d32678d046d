#!/usr/bin/env bash
# Choose the triphone GMMs' sizes (tree leaves, Gaussians) of run.sh on CV data only. For each
# speaker-independent fold, a nested fold inside the fold's training speakers holds out one of
# them (the next speaker after the test speaker in alphabetical order, cyclically, as
# local/choose_lmwt.sh) and trains on the others: the monophone GMM and its alignments (run.sh
# stages 0-3), tri1 (train-deltas) for every leaves x Gaussians pair of the grid, then tri2
# (train-lda-mllt) for every pair of its grid on the alignments of one tri1 (--tri2-base); each
# is decoded on the held-out speaker at run.sh's GMM LM weight. The folds' test speakers are
# never read.
#
# Usage: local/tri_study.sh [options] <fsdd-dir> <work>   (relative paths: to the current directory)
#   e.g. local/tri_study.sh ../../../shared/data/fsdd /tmp/tri_study
# Writes <work>/nest_<test-speaker>/ (one run.sh work dir per fold: exp/si_<cv>/<cond>/mono,
# tri1_l<L>_g<G>, tri2_l<L>_g<G>, each with decode_cv) and <work>/TRI_STUDY.md (scripts/wer_grid.py:
# %WER per nested fold and pooled, per condition).
# Stages: 1 nested folds: data, features, monophone GMM + alignments, its decoding
#         2 tri1 grid  3 tri2 grid (needs asrkt train-lda-mllt)  4 TRI_STUDY.md
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")/.."

stage=1
stop_stage=4
folds=""                # test speakers of the outer folds; "": every speaker in recordings/
conditions="full quarter"   # training conditions of run.sh
tri1_leaves="50 100 150"    # tri1 grid: --num-leaves values ...
tri1_gauss="100 125"    #   ... x --totgauss values (README "Triphone GMMs": how the grid was run)
tri2_base="100 125"     # the tri1 (leaves Gaussians) whose alignments train the tri2 grid
tri2_leaves="100 150"   # tri2 grid: --num-leaves values ...
tri2_gauss="125 250"    #   ... x --totgauss values
gmm_lmwt=12             # run.sh's GMM LM weight (fixed a priori there)
nj=2                    # jobs of the GMM and decoding commands
conf=conf               # features' configs (as run.sh)
. ../common/parse_options.sh
if [ $# -ne 2 ]; then echo "Usage: $0 [options] <fsdd-dir> <work> (--help for more)" >&2; exit 1; fi
. ./path.sh
. ../common/stage.sh
. ../common/systems.sh
fsdd=$(caller_path "$1"); work=$(caller_path "$2")
absolute_options conf
[ -d "$fsdd/recordings" ] || { echo "$0: no recordings/ in '$fsdd'" >&2; exit 1; }
speakers=$(ls "$fsdd/recordings" | sed -n 's/^[0-9]_\([A-Za-z]*\)_[0-9]*\.wav$/\1/p' | sort -u)
[ -n "$folds" ] || folds=$(echo $speakers)
read -r base_l base_g <<< "$tri2_base"
mkdir -p "$work"

cv_speaker() {  # the speaker after $1, cyclically (local/choose_lmwt.sh's rule)
  echo "$speakers" | awk -v t="$1" '{a[NR] = $1; if ($1 == t) i = NR} END {print a[i % NR + 1]}'
}

nest_args() {  # nest_args SPEAKER: exp dir, training data, lang, lang_test, CV data of SPEAKER's nested fold ($cond)
  local cv nest=$work/nest_$1
  cv=$(cv_speaker $1)
  echo $nest/exp/si_$cv/$cond $nest/data/mfcc/si_$cv/$cond/train $nest/data/lang $nest/data/lang_test $nest/data/mfcc/si_$cv/test
}

if stage_begins 1 "nested folds ($folds; their test speakers never read): data, features, monophone GMMs"; then
  for s in $folds; do
    cv=$(cv_speaker $s)
    nest=$work/nest_$s
    train_spks=$(echo "$speakers" | grep -vx "$s" | tr '\n' ' ')
    echo "$0: fold $s: CV speaker $cv, nested training speakers: $(echo $train_spks | tr ' ' '\n' | grep -vx "$cv" | tr '\n' ' ')" >&2
    bash run.sh --work $nest --speakers "$train_spks" --folds $cv --conditions "$conditions" \
      --nj $nj --conf "$conf" --stop-stage 3 "$fsdd"
    for cond in $conditions; do
      e=$nest/exp/si_$cv/$cond
      graph_decode_gmm $e/mono $nest/data/lang_test $nest/data/mfcc/si_$cv/test decode_cv \
        --nj $nj --min-lmwt $gmm_lmwt --max-lmwt $gmm_lmwt
    done
  done
fi

if stage_begins 2 "tri1 grid: leaves ($tri1_leaves) x Gaussians ($tri1_gauss)"; then
  for s in $folds; do
    for cond in $conditions; do
      read -r e train lang lang_test test <<< "$(nest_args $s)"
      tri_grid tri1 $e/tri1 $train $lang $e/mono_ali $lang_test $test decode_cv $nj \
        "$tri1_leaves" "$tri1_gauss" --min-lmwt $gmm_lmwt --max-lmwt $gmm_lmwt
    done
  done
fi

if stage_begins 3 "tri2 grid on tri1_l${base_l}_g${base_g}'s alignments: leaves ($tri2_leaves) x Gaussians ($tri2_gauss)"; then
  for s in $folds; do
    for cond in $conditions; do
      read -r e train lang lang_test test <<< "$(nest_args $s)"
      base=$e/tri1_l${base_l}_g${base_g}
      align_system ${base}_ali $train $lang $base --nj $nj
      tri_grid tri2 $e/tri2 $train $lang ${base}_ali $lang_test $test decode_cv $nj \
        "$tri2_leaves" "$tri2_gauss" --min-lmwt $gmm_lmwt --max-lmwt $gmm_lmwt
    done
  done
fi

if stage_begins 4 "TRI_STUDY.md"; then
  tsv=$work/decodes.tsv
  : > $tsv
  for cond in $conditions; do
    for s in $folds; do
      e=$work/nest_$s/exp/si_$(cv_speaker $s)/$cond
      for d in $e/mono $(grid_dirs $e/tri1 "$tri1_leaves" "$tri1_gauss") \
               $(grid_dirs $e/tri2 "$tri2_leaves" "$tri2_gauss"); do
        [ -f $d/decode_cv/scoring_kaldi/best_wer ] || continue
        printf '%s\t%s\t%s\t%s\n' $cond $(basename $d) "fold $s: CV $(cv_speaker $s)" $d/decode_cv >> $tsv
      done
    done
  done
  python "$ASRKT_ROOT/scripts/wer_grid.py" --tsv $tsv --out $work/TRI_STUDY.md \
    --title "FSDD: triphone GMM sizes chosen on CV speakers (nested folds)" \
    --command "$(quote_command recipes/fsdd/local/tri_study.sh "${script_args[@]}")" \
    --note "each fold's test speaker never read; tri1_l<L>_g<G>: train-deltas --num-leaves L --totgauss G on the monophone alignments; tri2_l<L>_g<G>: train-lda-mllt on tri1_l${base_l}_g${base_g}'s alignments; LM weight $gmm_lmwt"
  cat $work/TRI_STUDY.md
fi
