#!/usr/bin/env bash
# Why do the LSTM students lose to the DNN teachers on an unseen speaker?  A study on CV data
# only: a "nested" fold whose test speaker is one of the *training* speakers of a real fold, so
# the real fold's test speaker is never touched.
#
# First make the nested fold with run.sh (stages 0-13), e.g. for the real fold theo:
#   ./run.sh --work /tmp/nest_lucas --speakers "george jackson lucas nicolas" --folds lucas \
#            --conditions full --seeds "1 2" --stop-stage 13
# then:
#   local/cv_study.sh --seeds "1 2" /tmp/nest_lucas si_lucas
#
# What it adds, per seed, in WORK/exp/SPLIT/<condition>/seed<S>/ (skip-if-done like run.sh):
#   variants of the LSTM systems that each test one suspect (see VARIANTS below):
#     lstm_ce_splice5   input context of the DNN (+-5 frames) for the baseline LSTM
#     lstm_ce_big       a bigger student: 2 x 256 cells, 128-dim projection (~2.6x parameters)
#     lstm_ce_e20, lstm_ce_e40   twice / four times the epoch limit (under-training)
#     lstm_kt_rand      the KT-pre-trained student itself, never fine-tuned on hard targets
#     lstm_kt_rand_e10_ft        (4) with 10 KT epochs instead of 5
#     lstm_kt_rand_T{1,4}_ft     (4) with KT temperature 1 / 4 instead of 2 (teacher quality:
#                                (4) vs (5), teacher (1) vs (2))
#     lstm_kt_{rand,rbm}_ft_w05  fine-tuning with the KT loss kept as a regulariser (--kt-weight 0.5)
#     lstm_s5_kt_rbm_ft_w05      the same from teacher (2) for a student with +-5 input frames
#   and for every system: WER on the held-out speaker (LMWT as run.sh) and frame CE/accuracy on
#   it (eval-frames against its forced alignment with the fold's GMM) next to the CV accuracy on
#   held-out utterances of the training speakers (train.jsonl), so the speaker-generalisation gap
#   of each system is measured directly; and an LM-weight sweep on the held-out speaker for the
#   GMM and every system (the CV way to choose LMWT). Writes WORK/CV_STUDY.md
#   (scripts/cv_study_table.py).
#
# Usage: local/cv_study.sh [options] <work> <split>     (relative paths: to the current directory)
#   The table is WORK/CV_STUDY.md for --condition full, WORK/CV_STUDY_<condition>.md otherwise.
#   --ref-ali DIR: pdf alignments (ali-to-pdf output) covering the held-out speaker, the reference
#     of the frame metrics; default: its forced alignment with the nested fold's GMM. That GMM has
#     never seen the speaker and can align it badly (lucas: 60% of frames silence); the GMM of the
#     enclosing real fold (which trained on this speaker, never on the real test speaker) gives a
#     sounder reference, e.g. --ref-ali /tmp/fsdd/exp/si_theo/full/tri1_ali (--nn-gmm's pdfs)
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")/.."

seeds="1 2"             # seeds of the nested fold's neural systems
condition=full          # training condition of the nested fold (full or quarter)
conf=conf               # the configs run.sh used (conf/tiny in tests)
nj=2                    # decoding and alignment jobs
nn_threads=1            # --num-threads of the neural commands
nn_lmwt=10              # LM weight of the held-out speaker's WER (as run.sh)
temperature=2.0         # KT temperature (as run.sh)
other_temperatures="1 4"  # KT temperatures compared with it (stage 2)
min_lmwt=4              # LM-weight sweep on the held-out speaker (stage 4)
max_lmwt=24
nn_gmm=mono             # run.sh's --nn-gmm: the GMM of the networks' targets and hybrid decoding
nn_prior_scale=0.5      # run.sh's --nn-prior-scale: log-posterior - S log-prior
ali_opts=""             # appended to the held-out speaker's align (stage 1; tests: "--retry-beam 400" for tiny GMMs)
ref_ali=""              # reference pdf alignments of the frame metrics (see above); "": stage 1's
. ../common/parse_options.sh
if [ $# -ne 2 ]; then echo "Usage: $0 [options] <work> <split> (--help for more)" >&2; exit 1; fi
. ./path.sh
. ../common/stage.sh
. ../common/systems.sh
. local/layout.sh
stage=0; stop_stage=100
work=$(caller_path "$1"); split=$2
[ -d "$work" ] || { echo "$0: no folder '$work' (run.sh's work dir)" >&2; exit 1; }
absolute_options conf ref_ali
[ -d "$conf" ] || { echo "$0: --conf: no folder '$conf'" >&2; exit 1; }
[ -z "$ref_ali" ] || [ -d "$ref_ali" ] || { echo "$0: --ref-ali: no folder '$ref_ali'" >&2; exit 1; }
fsdd_threads
cd "$work"
e=exp/$split/$condition
test_fbank=data/fbank/$split/test
train=data/fbank/$split/$condition/train

if [ -z "$ref_ali" ]; then
  stage_begins 1 "forced alignment of the held-out speaker ($split test data) with the fold's GMM"
  align_system $e/${nn_gmm}_ali_test data/mfcc/$split/test data/lang $e/$nn_gmm --nj $nj $ali_opts
  ref_ali=$e/${nn_gmm}_ali_test
fi
ref_dir=$ref_ali
if [ -f $ref_ali/tree ] && ! cmp -s $ref_ali/tree $e/$nn_gmm/tree; then
  echo "$0: $ref_ali/tree differs from $e/$nn_gmm/tree: its pdf ids are not this fold's" >&2; exit 1
fi
if [ "$ref_ali" != $e/${nn_gmm}_ali_test ]; then
  # a local copy: an alignment dir's pdf.scp may hold paths relative to another work dir
  mkdir -p $e/ref_ali
  done_or_run $e/ref_ali cp $ref_ali/pdf.ark $ref_ali/pdf_counts $e/ref_ali/
  ref_dir=$e/ref_ali
fi

stage_begins 2 "LSTM variants (seeds $seeds)"
for seed in $seeds; do
  s=$e/seed$seed
  common="--config $conf/lstm.yaml --seed $seed $thr"
  kt="--config $conf/kt.yaml --seed $seed $thr"
  finetune_system $s/lstm_ce_splice5 $train $e/${nn_gmm}_ali $common --splice 5
  finetune_system $s/lstm_ce_big $train $e/${nn_gmm}_ali $common --hidden-dim 256 --proj-dim 128
  for n in 20 40; do
    finetune_system $s/lstm_ce_e$n $train $e/${nn_gmm}_ali $common --max-epochs $n
  done
  for t in rand rbm; do
    finetune_system $s/lstm_kt_${t}_ft_w05 $train $e/${nn_gmm}_ali $common --init $s/lstm_kt_$t \
      --kt-weight 0.5 --post-dir $s/dnn_${t}_post --temperature $temperature
  done
  # KT pre-training: twice the epochs; other temperatures (teacher (1), plain fine-tuning as (4))
  kt_system $s/lstm_kt_rand_e10 $train $s/dnn_rand_post $kt --max-epochs 10 --temperature $temperature
  finetune_system $s/lstm_kt_rand_e10_ft $train $e/${nn_gmm}_ali $common --init $s/lstm_kt_rand_e10
  for T in $other_temperatures; do
    posteriors_system $s/dnn_rand_post_T$T $s/dnn_rand $train --temperature $T $thr
    kt_system $s/lstm_kt_rand_T$T $train $s/dnn_rand_post_T$T $kt --temperature $T
    finetune_system $s/lstm_kt_rand_T${T}_ft $train $e/${nn_gmm}_ali $common --init $s/lstm_kt_rand_T$T
  done
  kt_system $s/lstm_s5_kt_rbm $train $s/dnn_rbm_post $kt --splice 5 --temperature $temperature
  finetune_system $s/lstm_s5_kt_rbm_ft_w05 $train $e/${nn_gmm}_ali $common --init $s/lstm_s5_kt_rbm \
    --kt-weight 0.5 --post-dir $s/dnn_rbm_post --temperature $temperature
done

systems="dnn_rand dnn_rbm lstm_ce lstm_kt_rand_ft lstm_kt_rbm_ft lstm_ce_splice5 lstm_ce_big lstm_ce_e20 lstm_ce_e40
  lstm_kt_rand lstm_kt_rand_e10_ft $(for T in $other_temperatures; do echo lstm_kt_rand_T${T}_ft; done)
  lstm_kt_rand_ft_w05 lstm_kt_rbm_ft_w05 lstm_s5_kt_rbm_ft_w05"
stage_begins 3 "held-out speaker: WER (LMWT $nn_lmwt) and frame CE/accuracy of every system"
for seed in $seeds; do
  for sys in $systems; do
    nn_decode $split $condition $seed $sys decode_test $nn_lmwt
    s=$e/seed$seed/$sys
    [ -f $s/eval_test.json ] || asrkt eval-frames $thr --out $s/eval_test.json $s $test_fbank $ref_dir
  done
done

sweep="--min-lmwt $min_lmwt --max-lmwt $max_lmwt"
stage_begins 4 "LM-weight sweep $min_lmwt..$max_lmwt on the held-out speaker (GMM and every system)"
decode_gmm_system $e/mono/decode_sweep $e/mono/graph data/mfcc/$split/test $e/mono --nj $nj $sweep
for seed in $seeds; do
  for sys in $systems; do
    s=$e/seed$seed/$sys
    decode_system $s/decode_sweep $s $test_fbank $e/$nn_gmm/graph $e/$nn_gmm $s/loglikes_test \
      "$thr --prior-scale $nn_prior_scale" --nj $nj $sweep
  done
done

table=CV_STUDY.md
[ $condition = full ] || table=CV_STUDY_$condition.md
stage_begins 5 "$table"
python "$ASRKT_ROOT/scripts/cv_study_table.py" --exp $e --seeds "$seeds" --systems "$systems" \
  --split $split --lmwt $nn_lmwt --ref-ali "$ref_ali" \
  --command "$(quote_command recipes/fsdd/local/cv_study.sh "${script_args[@]}")" --out $table
cat $table
