#!/usr/bin/env bash
# Why do the LSTM students lose to the DNN teachers on an unseen speaker?  A study on CV data
# only: a "nested" fold whose test speaker is one of the *training* speakers of a real fold, so
# the real fold's test speaker is never touched.
#
# First make the nested fold with run.sh (stages 0-11), e.g. for the real fold theo:
#   ./run.sh --work /tmp/nest_lucas --speakers "george jackson lucas nicolas" --folds lucas \
#            --conditions full --seeds "1 2" --stop-stage 11
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
# Usage: local/cv_study.sh [--seeds "1 2"] [--conf DIR] [--nn-threads 1] [--nn-lmwt 10] [--nj 2]
#                          [--temperature 2.0] [--min-lmwt 4 --max-lmwt 24] [--condition full]
#                          <work> <split>
#   --condition full|quarter: which training condition of the nested fold [full]; the table is
#     WORK/CV_STUDY.md for full, WORK/CV_STUDY_<condition>.md otherwise
#   --conf: the configs run.sh used (relative: to recipes/fsdd; default conf; conf/tiny in tests)
#   --ref-ali DIR: pdf alignments (ali-to-pdf output) covering the held-out speaker, the reference
#     of the frame metrics; default: its forced alignment with the nested fold's GMM. That GMM has
#     never seen the speaker and can align it badly (lucas: 60% of frames silence); the GMM of the
#     enclosing real fold (which trained on this speaker, never on the real test speaker) gives a
#     sounder reference, e.g. --ref-ali /tmp/fsdd/exp/si_theo/full/mono_ali
set -euo pipefail
seeds="1 2"
nn_threads=1
nn_lmwt=10
nj=2
temperature=2.0
other_temperatures="1 4"  # KT temperatures compared with --temperature (stage 2)
min_lmwt=4              # LM-weight sweep on the held-out speaker (stage 4)
max_lmwt=24
conf=""
ref_ali=""
condition=full          # training condition of the nested fold (full or quarter)
while [ $# -gt 2 ]; do
  case "$1" in
    --seeds) seeds=$2; shift 2 ;;
    --nn-threads) nn_threads=$2; shift 2 ;;
    --nn-lmwt) nn_lmwt=$2; shift 2 ;;
    --nj) nj=$2; shift 2 ;;
    --temperature) temperature=$2; shift 2 ;;
    --conf) conf=$2; shift 2 ;;
    --condition) condition=$2; shift 2 ;;
    --min-lmwt) min_lmwt=$2; shift 2 ;;
    --max-lmwt) max_lmwt=$2; shift 2 ;;
    --ref-ali) ref_ali=$(realpath "$2"); ref_opt=" --ref-ali $2"; shift 2 ;;
    *) echo "$0: unknown option $1" >&2; exit 1 ;;
  esac
done
if [ $# -ne 2 ]; then sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 1; fi
here=$(cd "$(dirname "$0")/.." && pwd)
work=$1; split=$2
conf=$(cd "$here" && realpath "${conf:-conf}")
[ -f "$conf/lstm.yaml" ] || { echo "$0: $conf/lstm.yaml not found (--conf)" >&2; exit 1; }
. "$here/path.sh"
. "$here/../common/stage.sh"
stage=0; stop_stage=100
case "$condition" in full|quarter) ;; *) echo "$0: --condition must be full or quarter" >&2; exit 1 ;; esac
cd "$work"
e=exp/$split/$condition
test_fbank=data/fbank/$split/test
for f in $e/mono/final.mdl $e/mono/graph/HCLG.fst data/mfcc/$split/test/feats.scp $test_fbank/feats.scp; do
  [ -f $f ] || { echo "$0: $work/$f missing: run run.sh stages 0-11 for $split ($condition) first" >&2; exit 1; }
done
export OMP_NUM_THREADS=$nn_threads MKL_NUM_THREADS=$nn_threads
thr="--num-threads $nn_threads"
train=data/fbank/$split/$condition/train

if [ -z "$ref_ali" ]; then
  stage_begins 1 "forced alignment of the held-out speaker ($split test data) with the fold's GMM"
  done_or_run $e/mono_ali_test bash -c "asrkt align --nj $nj data/mfcc/$split/test data/lang $e/mono $e/mono_ali_test && \
    asrkt ali-to-pdf $e/mono_ali_test scp:$e/mono_ali_test/ali.scp $e/mono_ali_test/pdf.ark"
  ref_ali=$e/mono_ali_test
fi
ref_dir=$ref_ali
[ -f $ref_ali/pdf_counts ] || { echo "$0: $ref_ali/pdf_counts missing (not an alignment dir?)" >&2; exit 1; }
if [ -f $ref_ali/tree ] && ! cmp -s $ref_ali/tree $e/mono/tree; then
  echo "$0: $ref_ali/tree differs from $e/mono/tree: its pdf ids are not this fold's" >&2; exit 1
fi
if [ "$ref_ali" != $e/mono_ali_test ]; then
  # a local copy: an alignment dir's pdf.scp may hold paths relative to another work dir
  [ -f $ref_ali/pdf.ark ] || { echo "$0: $ref_ali/pdf.ark missing" >&2; exit 1; }
  done_or_run $e/ref_ali bash -c "mkdir -p $e/ref_ali && cp $ref_ali/pdf.ark $ref_ali/pdf_counts $e/ref_ali/"
  ref_dir=$e/ref_ali
fi

stage_begins 2 "LSTM variants (seeds $seeds)"
for seed in $seeds; do
  s=$e/seed$seed
  [ -f $s/lstm_kt_rand/.done ] || { echo "$0: $s/lstm_kt_rand missing: run run.sh stages 5-11" >&2; exit 1; }
  common="--config $conf/lstm.yaml --seed $seed $thr"
  done_or_run $s/lstm_ce_splice5 asrkt finetune $common --splice 5 $train $e/mono_ali $s/lstm_ce_splice5
  done_or_run $s/lstm_ce_big asrkt finetune $common --hidden-dim 256 --proj-dim 128 $train $e/mono_ali $s/lstm_ce_big
  for n in 20 40; do
    done_or_run $s/lstm_ce_e$n asrkt finetune $common --max-epochs $n $train $e/mono_ali $s/lstm_ce_e$n
  done
  for t in rand rbm; do
    done_or_run $s/lstm_kt_${t}_ft_w05 asrkt finetune $common --init $s/lstm_kt_$t --kt-weight 0.5 \
      --post-dir $s/dnn_${t}_post --temperature $temperature $train $e/mono_ali $s/lstm_kt_${t}_ft_w05
  done
  # KT pre-training: twice the epochs; other temperatures (teacher (1), plain fine-tuning as (4))
  done_or_run $s/lstm_kt_rand_e10 asrkt kt-pretrain --config $conf/kt.yaml --seed $seed $thr \
    --max-epochs 10 --temperature $temperature $train $s/dnn_rand_post $s/lstm_kt_rand_e10
  done_or_run $s/lstm_kt_rand_e10_ft asrkt finetune $common --init $s/lstm_kt_rand_e10 \
    $train $e/mono_ali $s/lstm_kt_rand_e10_ft
  for T in $other_temperatures; do
    done_or_run $s/dnn_rand_post_T$T asrkt dump-posteriors --temperature $T $s/dnn_rand $train \
      $s/dnn_rand_post_T$T
    done_or_run $s/lstm_kt_rand_T$T asrkt kt-pretrain --config $conf/kt.yaml --seed $seed $thr \
      --temperature $T $train $s/dnn_rand_post_T$T $s/lstm_kt_rand_T$T
    done_or_run $s/lstm_kt_rand_T${T}_ft asrkt finetune $common --init $s/lstm_kt_rand_T$T \
      $train $e/mono_ali $s/lstm_kt_rand_T${T}_ft
  done
  done_or_run $s/lstm_s5_kt_rbm asrkt kt-pretrain --config $conf/kt.yaml --seed $seed $thr --splice 5 \
    --temperature $temperature $train $s/dnn_rbm_post $s/lstm_s5_kt_rbm
  done_or_run $s/lstm_s5_kt_rbm_ft_w05 asrkt finetune $common --init $s/lstm_s5_kt_rbm --kt-weight 0.5 \
    --post-dir $s/dnn_rbm_post --temperature $temperature $train $e/mono_ali $s/lstm_s5_kt_rbm_ft_w05
done

systems="dnn_rand dnn_rbm lstm_ce lstm_kt_rand_ft lstm_kt_rbm_ft lstm_ce_splice5 lstm_ce_big lstm_ce_e20 lstm_ce_e40
  lstm_kt_rand lstm_kt_rand_e10_ft $(for T in $other_temperatures; do echo lstm_kt_rand_T${T}_ft; done)
  lstm_kt_rand_ft_w05 lstm_kt_rbm_ft_w05 lstm_s5_kt_rbm_ft_w05"
stage_begins 3 "held-out speaker: WER (LMWT $nn_lmwt) and frame CE/accuracy of every system"
for seed in $seeds; do
  s=$e/seed$seed
  for sys in $systems; do
    done_or_run $s/$sys/decode_test bash -c "asrkt forward $thr $s/$sys $test_fbank $s/$sys/loglikes_test && \
      asrkt decode-nnet --nj $nj --min-lmwt $nn_lmwt --max-lmwt $nn_lmwt --data-dir $test_fbank \
        $e/mono/graph scp:$s/$sys/loglikes_test/loglikes.scp $e/mono $s/$sys/decode_test"
    [ -f $s/$sys/eval_test.json ] || asrkt eval-frames $thr --out $s/$sys/eval_test.json \
      $s/$sys $test_fbank $ref_dir
  done
done

sweep="--min-lmwt $min_lmwt --max-lmwt $max_lmwt"
stage_begins 4 "LM-weight sweep $min_lmwt..$max_lmwt on the held-out speaker (GMM and every system)"
done_or_run $e/mono/decode_sweep asrkt decode --nj $nj $sweep $e/mono/graph data/mfcc/$split/test \
  $e/mono $e/mono/decode_sweep
for seed in $seeds; do
  s=$e/seed$seed
  for sys in $systems; do
    done_or_run $s/$sys/decode_sweep asrkt decode-nnet --nj $nj $sweep --data-dir $test_fbank \
      $e/mono/graph scp:$s/$sys/loglikes_test/loglikes.scp $e/mono $s/$sys/decode_sweep
  done
done

table=CV_STUDY.md
[ $condition = full ] || table=CV_STUDY_$condition.md
cond_opt=""
[ $condition = full ] || cond_opt=" --condition $condition"
stage_begins 5 "$table"
python "$ASRKT_ROOT/scripts/cv_study_table.py" --exp $e --seeds "$seeds" --systems "$systems" \
  --split $split --lmwt $nn_lmwt --ref-ali "$ref_ali" \
  --command "recipes/fsdd/local/cv_study.sh --seeds '$seeds'${cond_opt}${ref_opt:-} $work $split" \
  --out $table
cat $table
