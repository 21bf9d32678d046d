#!/usr/bin/env bash
# The GMM sizes of recipes/speechocean762, chosen on dev: triphone systems with several numbers
# of leaves and Gaussians (tri_points of ../common/systems.sh, as the other recipes' tri_study.sh),
# each trained on data/train from the recipe's alignments, decoded on data/dev through its own
# graph over the LM weights --min-lmwt..--max-lmwt (the monophone exp/mono too, through its
# graph), and the table DEV_STUDY_gmm.md (scripts/wer_grid.py --sweep --model-info: %WER per LM
# weight, the best one per system, a best at an end of the sweep marked). --recipe-gmms adds run.sh's
# own exp/tri1 or exp/tri2 (conf/gmm.sh's sizes) as rows, decoded the same way, not retrained.
# Test data is never read.
#
# Usage: local/gmm_dev_study.sh [options] <work-dir>
#   e.g. local/gmm_dev_study.sh --tri1 "1000:5000 2000:10000" /tmp/so762
#   <work-dir>  a run.sh work dir after its stage 4 (tri1 grid) or 5 (tri2 grid)
# --cond quarter studies the 25% condition's sizes on its own data (exp/quarter/mono_ali, ...).
# Systems go to <work-dir>/exp[/quarter]/gmm_study/<tri1|tri2>_l<L>_g<G>, their dev decodes (and mono's)
# to decode_dev_lmwt<min>-<max>; each step skips work already done (.done markers), so the grid
# can grow between runs and a wider sweep re-decodes without retraining (a decode made with other
# --decode-opts stops the study: move it aside).
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")/.."
cond=full               # training condition (run.sh --conditions): full (exp/, data/mfcc/train) or quarter (exp/quarter/, data/mfcc/quarter/train)
tri1="500:4000 1000:8000 2000:10000 3000:20000"   # train-deltas points L:G (--num-leaves L --totgauss G) from the condition's mono_ali
tri2=""                 # train-lda-mllt points L:G from the condition's tri1_ali (empty: none)
recipe_gmms=""          # run.sh's own triphone systems to decode beside the points, not retrained (e.g. "tri2")
min_lmwt=7              # the LM weights of every dev decode (asrkt decode --min-lmwt/--max-lmwt)
max_lmwt=25
decode_opts=""          # further asrkt decode options of every dev decode (e.g. "--beam 10"; kept in each decode's options)
nj=2                    # jobs of every command
out=""                  # the table (default: DEV_STUDY_gmm.md beside this script's recipe)
. ../common/parse_options.sh
. ./path.sh
. ../common/stage.sh
. ../common/systems.sh
[ $# -eq 1 ] || { echo "Usage: $0 [options] <work-dir>  e.g. $0 --tri1 \"1000:5000\" /tmp/so762" >&2; exit 1; }
work=$(caller_path "$1")
recipe=$(pwd)
if [ -n "$out" ]; then out=$(caller_path "$out"); else out=$recipe/DEV_STUDY_gmm.md; fi
case $cond in full) e=exp; train=data/mfcc/train ;; quarter) e=exp/quarter; train=data/mfcc/quarter/train ;;
  *) echo "$0: --cond: full or quarter, not '$cond'" >&2; exit 1 ;; esac
cd "$work"
for g in $recipe_gmms; do
  case $g in tri1|tri2) ;; *) echo "$0: --recipe-gmms: tri1 or tri2, not '$g'" >&2; exit 1 ;; esac
  [ -f $e/$g/.done ] || { echo "$0: --recipe-gmms: $e/$g is not trained (run.sh stages 5-6)" >&2; exit 1; }
done
[ -f $e/mono/.done ] || { echo "$0: $e/mono is not trained (run.sh stage 4, --conditions $cond)" >&2; exit 1; }

name=decode_dev_lmwt${min_lmwt}-${max_lmwt}
sweep=(--min-lmwt $min_lmwt --max-lmwt $max_lmwt $decode_opts)
for g in mono $recipe_gmms; do   # run.sh's own systems: decoded, not trained
  echo "$(date '+%Y-%m-%d %H:%M:%S') $e/$g/$name (run.sh's $g)" >&2
  graph_decode_gmm $e/$g data/lang_test data/mfcc/dev $name --nj $nj "${sweep[@]}"
done
echo "$(date '+%Y-%m-%d %H:%M:%S') tri1 points: $tri1" >&2
tri_points tri1 $e/gmm_study/tri1 $train data/lang $e/mono_ali data/lang_test \
  data/mfcc/dev $name $nj "$tri1" "${sweep[@]}"
echo "$(date '+%Y-%m-%d %H:%M:%S') tri2 points: ${tri2:-none}" >&2
tri_points tri2 $e/gmm_study/tri2 $train data/lang $e/tri1_ali data/lang_test \
  data/mfcc/dev $name $nj "$tri2" "${sweep[@]}"

tsv=$e/gmm_study/$name.tsv
mkdir -p $e/gmm_study
for d in $e/mono $(for g in $recipe_gmms; do echo $e/$g; done) \
         $(point_dirs $e/gmm_study/tri1 "$tri1") $(point_dirs $e/gmm_study/tri2 "$tri2"); do
  printf 'dev\t%s\tdev\t%s\n' $d $d/$name
done > $tsv
python "$ASRKT_ROOT/scripts/wer_grid.py" --tsv $tsv --out "$out" --sweep --model-info --environment \
  --title "speechocean762: GMM sizes chosen on dev" \
  --command "$(quote_command recipes/speechocean762/local/gmm_dev_study.sh "${script_args[@]}")" \
  --note "set: dev (test is not read); condition $cond ($train); tri1_l<L>_g<G>: train-deltas --num-leaves L --totgauss G on $e/mono_ali; tri2_l<L>_g<G>: train-lda-mllt on $e/tri1_ali; $e/mono (and $e/tri1, $e/tri2 where named): run.sh's own systems; no seeds: GMM training is deterministic"
cat "$out"
