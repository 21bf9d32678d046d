#!/usr/bin/env bash
# Choose the triphone GMMs' sizes (tree leaves, Gaussians) of run.sh on the dev speakers: in
# run.sh's work dir (its stages 0-3: data, features, monophone GMM and alignments), tri1
# (train-deltas) for every leaves x Gaussians pair of the grid on the monophone alignments, then
# tri2 (train-lda-mllt) for every pair of its grid on the alignments of one tri1 (--tri2-base),
# each decoded on dev at run.sh's GMM LM weight. The test speakers are never read.
#
# Usage: local/tri_study.sh [options] [corpus-dir]   (default ../../../shared/data/speech_commands)
# Writes exp/<cond>/tri1_l<L>_g<G>, tri2_l<L>_g<G> (each with decode_dev) in --work, and
# <work>/TRI_STUDY.md (scripts/wer_grid.py: dev %WER per condition).
# Stages: 1 run.sh stages 0-3 and the monophone's dev decoding  2 tri1 grid  3 tri2 grid (needs
#         asrkt train-lda-mllt)  4 TRI_STUDY.md
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")/.."

stage=1
stop_stage=4
work=.                  # run.sh's work dir
conditions="full quarter"   # training conditions of run.sh
tri1_leaves="150 300"   # tri1 grid: --num-leaves values ...
tri1_gauss="300 750 1500"   #   ... x --totgauss values
tri2_base="300 750"     # the tri1 (leaves Gaussians) whose alignments train the tri2 grid
tri2_leaves="300"       # tri2 grid: --num-leaves values ...
tri2_gauss="750 1500"   #   ... x --totgauss values
gmm_lmwt=12             # run.sh's GMM LM weight (fixed a priori there)
nj=2                    # jobs of the GMM and decoding commands
conf=conf               # features' configs (as run.sh)
. ../common/parse_options.sh
. ./path.sh
. ../common/stage.sh
. ../common/systems.sh
corpus_args=()
[ $# -eq 0 ] || corpus_args=("$(caller_path "$1")")   # run.sh is called from here
absolute_options conf work
read -r base_l base_g <<< "$tri2_base"
lmwt=(--min-lmwt $gmm_lmwt --max-lmwt $gmm_lmwt)

if stage_begins 1 "run.sh stages 0-3 (data, features, monophone GMMs) and the monophones' dev decoding"; then
  bash run.sh --work "$work" --conditions "$conditions" --nj $nj --conf "$conf" --stop-stage 3 \
    "${corpus_args[@]}"
  for cond in $conditions; do
    e=$work/exp/$cond
    graph_decode_gmm $e/mono $work/data/lang_test $work/data/mfcc/dev decode_dev --nj $nj "${lmwt[@]}"
  done
fi

if stage_begins 2 "tri1 grid: leaves ($tri1_leaves) x Gaussians ($tri1_gauss)"; then
  for cond in $conditions; do
    e=$work/exp/$cond
    tri_grid tri1 $e/tri1 $work/data/mfcc/$cond/train $work/data/lang $e/mono_ali \
      $work/data/lang_test $work/data/mfcc/dev decode_dev $nj "$tri1_leaves" "$tri1_gauss" "${lmwt[@]}"
  done
fi

if stage_begins 3 "tri2 grid on tri1_l${base_l}_g${base_g}'s alignments: leaves ($tri2_leaves) x Gaussians ($tri2_gauss)"; then
  for cond in $conditions; do
    e=$work/exp/$cond
    base=$e/tri1_l${base_l}_g${base_g}
    align_system ${base}_ali $work/data/mfcc/$cond/train $work/data/lang $base --nj $nj
    tri_grid tri2 $e/tri2 $work/data/mfcc/$cond/train $work/data/lang ${base}_ali \
      $work/data/lang_test $work/data/mfcc/dev decode_dev $nj "$tri2_leaves" "$tri2_gauss" "${lmwt[@]}"
  done
fi

if stage_begins 4 "TRI_STUDY.md"; then
  tsv=$work/exp/tri_study.tsv
  : > $tsv
  for cond in $conditions; do
    e=$work/exp/$cond
    for d in $e/mono $(grid_dirs $e/tri1 "$tri1_leaves" "$tri1_gauss") \
             $(grid_dirs $e/tri2 "$tri2_leaves" "$tri2_gauss"); do
      [ -f $d/decode_dev/scoring_kaldi/best_wer ] || continue
      printf '%s\t%s\t%s\t%s\n' $cond $(basename $d) dev $d/decode_dev >> $tsv
    done
  done
  python "$ASRKT_ROOT/scripts/wer_grid.py" --tsv $tsv --out $work/TRI_STUDY.md \
    --title "Speech Commands: triphone GMM sizes chosen on the dev speakers" \
    --command "$(quote_command recipes/speech_commands/local/tri_study.sh "${script_args[@]}")" \
    --note "test speakers never read; tri1_l<L>_g<G>: train-deltas --num-leaves L --totgauss G on the monophone alignments; tri2_l<L>_g<G>: train-lda-mllt on tri1_l${base_l}_g${base_g}'s alignments; LM weight $gmm_lmwt"
  cat $work/TRI_STUDY.md
fi
