#!/usr/bin/env bash
# The GMM sizes of recipes/speechocean762, chosen on dev: triphone systems with several numbers
# of leaves and Gaussians, each trained on data/train from the recipe's alignments, decoded on
# data/dev through its own graph (LM weights 7..17, the best one per system), and the table
# DEV_STUDY_gmm.md (scripts/gmm_study_table.py). Test data is never read.
#
# Usage: local/gmm_dev_study.sh [options] <work-dir>
#   e.g. local/gmm_dev_study.sh --tri1 "1000:5000 2000:10000" /tmp/so762
#   <work-dir>  a run.sh work dir after its stage 4 (tri1 grid) or 5 (tri2 grid)
#   --tri1 "L:G ..."   train-deltas grid (--num-leaves L --totgauss G) from exp/mono_ali
#   --tri2 "L:G ..."   train-lda-mllt grid from exp/tri1_ali (empty: none)
#   --nj N             jobs of every command (default 2)
#   --out FILE         the table (default DEV_STUDY_gmm.md beside this script's recipe)
# Systems go to <work-dir>/exp/gmm_study/<tri1|tri2>_<L>_<G>; each step skips work already
# done (.done markers), so the grid can grow between runs.
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")/.."
tri1="500:4000 1000:8000 2000:10000 3000:20000"
tri2=""
nj=2
out=""
. ../common/parse_options.sh
. ./path.sh
. ../common/stage.sh
. ../common/systems.sh
[ $# -eq 1 ] || { echo "Usage: $0 [options] <work-dir>  e.g. $0 --tri1 \"1000:5000\" /tmp/so762" >&2; exit 1; }
work=$(caller_path "$1")
recipe=$(pwd)
if [ -n "$out" ]; then out=$(caller_path "$out"); else out=$recipe/DEV_STUDY_gmm.md; fi
cd "$work"

systems=()
for kind in tri1 tri2; do
  grid=$tri1; ali=exp/mono_ali; train=train_deltas_system
  if [ $kind = tri2 ]; then grid=$tri2; ali=exp/tri1_ali; train=train_lda_mllt_system; fi
  for point in $grid; do
    leaves=${point%%:*}; gauss=${point##*:}
    dir=exp/gmm_study/${kind}_${leaves}_${gauss}
    echo "$(date '+%Y-%m-%d %H:%M:%S') $dir" >&2
    $train $dir data/mfcc/train data/lang $ali --nj $nj --num-leaves $leaves --totgauss $gauss
    graph_system $dir/graph data/lang_test $dir
    decode_gmm_system $dir/decode_dev $dir/graph data/mfcc/dev $dir --nj $nj
    systems+=("$dir")
  done
done
python "$ASRKT_ROOT/scripts/gmm_study_table.py" --work . --systems "exp/mono ${systems[*]}" \
  --set dev --command "$(quote_command recipes/speechocean762/local/gmm_dev_study.sh --tri1 "$tri1" --tri2 "$tri2" "$1")" \
  --out "$out"
cat "$out"
