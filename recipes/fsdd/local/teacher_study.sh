#!/usr/bin/env bash
# Can a regulariser make the DNN teachers generalise better to a new speaker?  A study on CV
# data only: the four nested folds inside the training speakers of a real fold (each of the
# four held out in turn, the real fold's test speaker never read), full condition.
#
# Systems, per nested fold and seed (exp/si_<spk>/full/seed<S>/), each for teacher (1) dnn_rand
# and (2) dnn_rbm:
#   dnn_{rand,rbm}          run.sh's teachers (conf/dnn.yaml) without its frequency masking (--teacher-freq-mask 0)
#   dnn_{rand,rbm}_vtlp     + VTLN-perturbed copies of the training data, warps 0.9 and 1.1
#                             (local/run_vtlp.sh)
#   dnn_{rand,rbm}_do0.2    + dropout 0.2 after each hidden layer (local/run_teacher_regularisers.sh)
#   dnn_{rand,rbm}_fm8      + frequency masking, one band of up to 8 of the 23 channels per
#                             example (local/run_teacher_regularisers.sh)
# The settings were fixed before the study (common values scaled to 23 channels), not tuned.
# Decoded with run.sh's NN LM weight; the table (WORK/TEACHER_STUDY_<real-test-speaker>.md + .png,
# scripts/kt_results.py)
# pools the four nested folds and pairs every variant with its plain teacher, seed by seed.
#
# Usage: local/teacher_study.sh [options] <fsdd-dir> <work> <real-test-speaker>   (relative paths: to the current directory)
#   e.g. local/teacher_study.sh ../../../shared/data/fsdd /tmp/nest_theo theo
# Stages: 1 the nested folds' GMMs, RBMs and plain teachers (run.sh stages 0-8)  2 the VTLP
#         teachers (local/run_vtlp.sh)  3 the dropout and masked teachers, every teacher decoded
#         (local/run_teacher_regularisers.sh)  4 the table
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")/.."

stage=1
stop_stage=4
seeds="1 2 3"           # seeds of the teachers
conf=conf               # training configs (conf/tiny in tests)
nj=2                    # jobs of the GMM, feature and decoding commands
speakers=""             # only these nested speakers ("": every speaker but the real test speaker)
max_index=""            # only recording indices < N (tests); "": all
warps="0.9 1.1"         # the settings of the regularisers, fixed before the study ("": that
                        #   regulariser left out, e.g. in a test)
dropout=0.2
freq_mask=8
nn_prior_scale=0.5      # S of the hybrid decoding, log-posterior - S log-prior (run.sh's; the committed
                        #   TEACHER_STUDY_*.md were made at 1.0: --nn-prior-scale 1.0, in a work dir whose
                        #   decodes are not run.sh's, reproduces that setting)
. ../common/parse_options.sh
if [ $# -ne 3 ]; then echo "Usage: $0 [options] <fsdd-dir> <work> <real-test-speaker> (--help for more)" >&2; exit 1; fi
. ./path.sh
. ../common/stage.sh
fsdd=$(caller_path "$1"); work=$(caller_path "$2"); outer=$3
absolute_options conf
[ -d "$conf" ] || { echo "$0: --conf: no folder '$conf'" >&2; exit 1; }
[ -n "$speakers" ] || speakers=$(ls "$fsdd/recordings" | sed -n 's/^[0-9]_\([a-z]*\)_[0-9]*\.wav$/\1/p' | sort -u)
speakers=$(for s in $speakers; do [ "$s" = "$outer" ] || echo -n "$s "; done)
speakers=${speakers% }
# this study's setting (TEACHER_STUDY_*.md): monophone targets and decoding
nn_gmm=mono
cells=(--work "$work" --conditions full --seeds "$seeds" --conf "$conf" --nj $nj --nn-gmm $nn_gmm
       --nn-prior-scale $nn_prior_scale)
if stage_begins 1 "nested folds ($speakers; $outer never read): GMMs, RBMs and teachers (run.sh)"; then
  run_opts=(--speakers "$speakers")
  [ -z "$max_index" ] || run_opts+=(--max-index $max_index)
  bash run.sh "${cells[@]}" "${run_opts[@]}" --gmm-systems mono --teacher-freq-mask 0 --stop-stage 8 "$fsdd"
fi
if [ -n "$warps" ] && stage_begins 2 "VTLP teachers (warps $warps)"; then
  bash local/run_vtlp.sh "${cells[@]}" --warps "$warps"
fi
if stage_begins 3 "teachers with dropout $dropout and frequency masking $freq_mask; every teacher decoded"; then
  bash local/run_teacher_regularisers.sh "${cells[@]}" --dropouts "$dropout" --freq-masks "$freq_mask"
fi

names=""
[ -z "$warps" ] || names="$names _vtlp"
[ -z "$dropout" ] || names="$names _do$dropout"
[ -z "$freq_mask" ] || names="$names _fm$freq_mask"
systems="mono"
for name in "" $names; do
  systems="$systems dnn_rand$name dnn_rbm$name"
done
table=TEACHER_STUDY_$outer
if stage_begins 4 "$table.md"; then
  . ../common/systems.sh
  . local/layout.sh
  cd "$work"
  protocol=si; folds=$speakers; conditions=full
  fsdd_splits
  fsdd_table $table "$systems" "$(quote_command recipes/fsdd/local/teacher_study.sh "${script_args[@]}")" \
    --temperature "none (no KT in this study)" --lmwt "NN 10 (run.sh's a-priori weight); the GMM 12" \
    --title "DNN teachers with regularisers on new speakers: nested folds inside fold $outer (CV data only)"
fi
