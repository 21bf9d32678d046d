#!/usr/bin/env bash
# Can a regulariser make the DNN teachers generalise better to a new speaker?  A study on CV
# data only: the four nested folds inside the training speakers of a real fold (each of the
# four held out in turn, the real fold's test speaker never read), full condition.
#
# Systems, per nested fold and seed (exp/si_<spk>/full/seed<S>/), each for teacher (1) dnn_rand
# and (2) dnn_rbm:
#   dnn_{rand,rbm}          run.sh's teachers (conf/dnn.yaml)
#   dnn_{rand,rbm}_vtlp     + VTLN-perturbed copies of the training data, warps 0.9 and 1.1
#                             (run.sh --vtlp "0.9 1.1")
#   dnn_{rand,rbm}_do0.2    + dropout 0.2 after each hidden layer (run.sh --teacher-dropout 0.2)
#   dnn_{rand,rbm}_fm8      + frequency masking, one band of up to 8 of the 23 channels per
#                             example (run.sh --teacher-freq-mask 8)
# The settings were fixed before the study (common values scaled to 23 channels), not tuned.
# Decoded with run.sh's NN LM weight; the table (WORK/TEACHER_STUDY_<real-test-speaker>.md + .png,
# scripts/fsdd_results.py)
# pools the four nested folds and pairs every variant with its plain teacher, seed by seed.
#
# Usage: local/teacher_study.sh [--seeds "1 2 3"] [--conf DIR] [--nj 2] <fsdd-dir> <work> <real-test-speaker>
#   e.g. local/teacher_study.sh ../../../shared/data/fsdd /tmp/nest_theo theo
#   --conf: the configs (relative: to recipes/fsdd; conf/tiny in tests)
#   --speakers "a b" --max-index N: only these nested speakers / recording indices < N (tests)
set -euo pipefail
seeds="1 2 3"
conf=conf
nj=2
speakers=""
max_index=""
while [ $# -gt 3 ]; do
  case "$1" in
    --seeds) seeds=$2; shift 2 ;;
    --conf) conf=$2; shift 2 ;;
    --nj) nj=$2; shift 2 ;;
    --speakers) speakers=$2; shift 2 ;;
    --max-index) max_index=$2; shift 2 ;;
    *) echo "$0: unknown option $1" >&2; exit 1 ;;
  esac
done
if [ $# -ne 3 ]; then sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 1; fi
here=$(cd "$(dirname "$0")/.." && pwd)
fsdd=$(realpath "$1"); work=$(realpath -m "$2"); outer=$3
conf=$(cd "$here" && realpath "$conf")
[ -f "$conf/dnn.yaml" ] || { echo "$0: $conf/dnn.yaml not found (--conf)" >&2; exit 1; }
[ -d "$fsdd/recordings" ] || { echo "$0: $fsdd/recordings not found" >&2; exit 1; }
[ -n "$speakers" ] || speakers=$(ls "$fsdd/recordings" | sed -n 's/^[0-9]_\([a-z]*\)_[0-9]*\.wav$/\1/p' | sort -u | tr '\n' ' ')
speakers=$(for s in $speakers; do [ "$s" = "$outer" ] || echo -n "$s "; done)
speakers=${speakers% }
[ $(echo $speakers | wc -w) -ge 2 ] || { echo "$0: need at least 2 speakers other than '$outer'" >&2; exit 1; }
. "$here/path.sh"
. "$here/../common/stage.sh"
stage=0; stop_stage=100
dropout=0.2
run_opts=(--work "$work" --speakers "$speakers" --conditions full --seeds "$seeds" --conf "$conf"
          --nj $nj --vtlp "0.9 1.1" --teacher-freq-mask 8 --teacher-dropout $dropout --teachers-only true)
[ -z "$max_index" ] || run_opts+=(--max-index $max_index)
stage_begins 1 "nested folds ($speakers; $outer never read): GMMs and all teachers, decoded (run.sh)"
bash "$here/run.sh" "${run_opts[@]}" --stop-stage 11 "$fsdd"

cd "$work"

systems="mono"
for name in "" _vtlp _do$dropout _fm8; do
  systems="$systems dnn_rand$name dnn_rbm$name"
done
table=TEACHER_STUDY_$outer
stage_begins 2 "$table.md"
python "$ASRKT_ROOT/scripts/fsdd_results.py" --exp exp --splits "$(for s in $speakers; do echo -n "si_$s "; done)" \
  --conditions full --seeds "$seeds" --systems "$systems" --protocol si \
  --command "recipes/fsdd/local/teacher_study.sh --seeds '$seeds' <fsdd> $work $outer" --conf "$conf" \
  --temperature "none (no KT in this study)" --lmwt "NN 10 (run.sh's a-priori weight); the GMM 12" --decode-name decode_test \
  --title "DNN teachers with regularisers on new speakers: nested folds inside fold $outer (CV data only)" \
  --out $table.md --png $table.png
cat $table.md
