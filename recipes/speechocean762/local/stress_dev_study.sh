#!/usr/bin/env bash
# The lexicon's stress digits removed (run.sh's default) or kept (--keep-stress true), chosen on
# dev: run.sh's stages 1-6 with --keep-stress true in <work-dir>/stress_kept (its own dict, lang,
# LM and GMMs, the full condition, conf/gmm.sh's sizes; the data dirs and features of <work-dir>
# linked, not computed again), then mono, tri1 and tri2 of both dicts decoded on dev over the LM
# weights --min-lmwt..--max-lmwt, and the table DEV_STUDY_stress.md (scripts/wer_grid.py --sweep
# --model-info). Kept stress follows Kaldi's WSJ dict: a vowel's variants share a tree root and
# stress is an extra question (asrkt.corpora.speechocean762.write_dict). Test data is never read.
#
# Usage: local/stress_dev_study.sh [options] <work-dir> <corpus-dir>
#   e.g. local/stress_dev_study.sh --nj 2 /tmp/so762 /data/speechocean762
#   <work-dir>  a run.sh work dir after its stage 6 (full condition)
# Each step skips work already done (.done markers); decodes go to decode_dev_lmwt<min>-<max>.
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")/.."
gmms="mono tri1 tri2"   # the systems compared
min_lmwt=7              # the LM weights of every dev decode (asrkt decode --min-lmwt/--max-lmwt)
max_lmwt=25
decode_opts=""          # further asrkt decode options of every dev decode (e.g. "--beam 10")
run_opts=""             # further run.sh options of the stress-kept run (e.g. its GMM sizes, for tests)
nj=2                    # jobs of every command
out=""                  # the table (default: DEV_STUDY_stress.md beside this script's recipe)
. ../common/parse_options.sh
. ./path.sh
. ../common/stage.sh
. ../common/systems.sh
[ $# -eq 2 ] || { echo "Usage: $0 [options] <work-dir> <corpus-dir>  e.g. $0 /tmp/so762 /data/speechocean762" >&2; exit 1; }
work=$(caller_path "$1")
corpus=$(caller_path "$2")
recipe=$(pwd)
if [ -n "$out" ]; then out=$(caller_path "$out"); else out=$recipe/DEV_STUDY_stress.md; fi
for g in $gmms; do
  case $g in mono|tri1|tri2) ;; *) echo "$0: --gmms: mono, tri1 or tri2, not '$g'" >&2; exit 1 ;; esac
  [ -f $work/exp/$g/.done ] || { echo "$0: $work/exp/$g is not trained (run.sh stages 4-6)" >&2; exit 1; }
done
if grep -q '[0-9]' $work/data/local/dict/nonsilence_phones.txt; then
  echo "$0: $work was run with --keep-stress true; the study compares it with run.sh's default" >&2
  exit 1
fi

kept=stress_kept       # the stress-kept run's work dir, inside <work-dir>
mkdir -p $work/$kept/data
for d in train dev test mfcc fbank; do
  [ -e $work/$kept/data/$d ] || ln -s ../../data/$d $work/$kept/data/$d
done
[ -f $work/$kept/data/.done ] || touch $work/$kept/data/.done     # stage 0: the linked data dirs
echo "$(date '+%Y-%m-%d %H:%M:%S') run.sh --keep-stress true, stages 1-6, in $work/$kept" >&2
# shellcheck disable=SC2086  # run_opts: options, split into words
bash ./run.sh --keep-stress true --conditions full --stage 1 --stop-stage 6 --nj $nj $run_opts \
  --work $work/$kept $corpus

cd "$work"
name=decode_dev_lmwt${min_lmwt}-${max_lmwt}
for w in . $kept; do
  for g in $gmms; do
    echo "$(date '+%Y-%m-%d %H:%M:%S') $w/exp/$g/$name" >&2
    graph_decode_gmm $w/exp/$g $w/data/lang_test data/mfcc/dev $name --nj $nj \
      --min-lmwt $min_lmwt --max-lmwt $max_lmwt $decode_opts
  done
done

tsv=$kept/$name.tsv
for w in . $kept; do
  for g in $gmms; do
    d=$w/exp/$g; d=${d#./}
    printf 'dev\t%s\tdev\t%s\n' $d $d/$name
  done
done > $tsv
phones() { wc -w < $1/data/local/dict/nonsilence_phones.txt; }
python "$ASRKT_ROOT/scripts/wer_grid.py" --tsv $tsv --out "$out" --sweep --model-info --environment \
  --title "speechocean762: the lexicon's stress digits removed or kept, on dev" \
  --command "$(quote_command recipes/speechocean762/local/stress_dev_study.sh "${script_args[@]}")" \
  --note "set: dev (test is not read); condition full (data/mfcc/train); exp/<gmm>: run.sh's systems, stress removed ($(phones .) phones + SIL); $kept/exp/<gmm>: run.sh --keep-stress true ($(phones $kept) phones + SIL, a vowel's stress variants one tree root, stress an extra question), the same sizes (conf/gmm.sh) and the same features; no seeds: GMM training is deterministic"
cat "$out"
