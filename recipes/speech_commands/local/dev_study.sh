#!/usr/bin/env bash
# DEV_STUDY.md: the settings of run.sh chosen on the dev speakers only (the test speakers are
# never read here). One factor at a time around a reference (the configs before the study:
# --ref-conf, recipes/fsdd's settings), each variant trained for every condition and seed given
# and decoded on dev; the table (scripts/dev_study_table.py) marks the lowest dev WER of each
# round. The tuning budget is the same for the baseline LSTM (3) and the KT student (5): one
# dev training per variant of the rounds below, 9 for each (the KT-only settings, temperature,
# pre-training epochs and teacher, are matched by as many baseline-only ones: learning rate,
# depth, minibatch, frequency masking of the input).
#
#   round          teachers (1)/(2)   baseline (3) lstm_ce          KT student (5) lstm_kt_rbm_ft
#   epochs         max 20, 40         max 20, 40                    fine-tuning max 20, 40
#   KT epochs                                                       KT pre-training 10, 20
#   KT temperature                                                  T 1, 4 (soft targets + loss)
#   size           hidden 256/proj 128 (both: the LSTMs share one architecture)
#   teacher size   hidden 512
#   baseline only                     lr 0.002, 0.0005; 3 layers;
#                                     16 streams; freq-mask 8
#   teacher                                                         (2) with freq-mask 8 as teacher
#   KT weight      (5r) lstm_kt_rbm_ftreg: W 0.25, 0.75 (reference 0.5)
#   noise          the training data plus a copy with a noise clip of the corpus mixed into
#                  each utterance (asrkt perturb-data-dir --noise-dir, SNR uniform in
#                  --snr-min..--snr-max dB; the clean alignments copied, copy-ali): teacher (2),
#                  baseline, and the student of that teacher, all on the augmented data
#
# Rules: epoch limits: the smallest limit newbob's own stop does not
# reach in either condition (newbob, not the limit, ends every training); the other rounds: the
# lowest mean dev WER over the conditions, the reference on a tie; the LSTM architecture is
# shared by baseline and students: the size with the lower mean over both families; a teacher
# setting of the rounds "teacher" and "noise" is judged by the student it teaches (the soft
# targets are the teacher's job here), the baseline's noise setting by the baseline.
#
# Systems go to exp/<cond>/seed<S>/<system>_<variant> in run.sh's work dir (run.sh stages 0-14
# on dev with the reference configs come first: stage 1).
#
# Usage: local/dev_study.sh [options] [corpus-dir]     (relative paths: to the current directory)
#   e.g. local/dev_study.sh --work /tmp/sc
# Stages: 1 reference systems (run.sh)  2 variants, decoded on dev  3 the noise round
#         4 DEV_STUDY.md
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")/.."

stage=1
stop_stage=4
work=.                  # run.sh's work dir
seeds="1"               # seeds of every variant
conditions="full quarter"
ref_conf=conf/ref       # the reference configs (before the study; recipes/fsdd's)
nj=2                    # jobs of the feature, alignment and decoding commands
nn_threads=1            # --num-threads of the neural commands
nn_lmwt=10              # LM weight of the hybrid decoding (as run.sh)
temperature=2.0         # reference KT temperature and KT weight (run.sh's before the study)
kt_weight=0.5
snr_min=0               # the noise round's SNR range (dB)
snr_max=20
extra_nn_opts=""        # appended to every neural training command (tests: "--max-epochs 1")
. ../common/parse_options.sh
. ./path.sh
. ../common/stage.sh
. ../common/systems.sh
corpus_args=()
[ $# -eq 0 ] || corpus_args=("$(caller_path "$1")")   # run.sh is called from here
absolute_options ref_conf work
conf=$ref_conf
[ -d "$conf" ] || { echo "$0: --ref-conf: no folder '$conf'" >&2; exit 1; }
thr="--num-threads $nn_threads"
export OMP_NUM_THREADS=$nn_threads MKL_NUM_THREADS=$nn_threads
cells=(--work "$work" --conditions "$conditions" --seeds "$seeds" --conf "$conf" --nj $nj
       --temperature $temperature --kt-weight $kt_weight --nn-threads $nn_threads
       --extra-nn-opts "$extra_nn_opts")

if stage_begins 1 "reference systems on dev (run.sh stages 0-14, $conf)"; then
  # this study's setting (DEV_STUDY.md): monophone targets, log-posterior - log-prior (as decode_dev),
  # teachers without frequency masking (its round "teacher" measures masking)
  bash run.sh "${cells[@]}" --gmm-systems mono --nn-gmm mono --nn-prior-scale 1.0 --teacher-freq-mask 0 \
    --stop-stage 14 "${corpus_args[@]}"
fi
cd "$work"
rows=exp/dev_study.tsv   # round, family, system, what: the table's rows
aug=""                  # "_aug": the variants below train on data/fbank/<cond>/train_aug
dbn_name=dbn            # the RBMs of the RBM-pre-trained teachers below

row() {  # row ROUND FAMILY SYSTEM WHAT: one row of the table (once)
  grep -q "^$1	$2	$3	" $rows 2>/dev/null || printf '%s\t%s\t%s\t%s\n' "$@" >> $rows
}

decode_dev() {  # decode_dev SYSTEM_DIR COND
  decode_system $1/decode_dev $1 data/fbank/dev exp/$2/mono/graph exp/$2/mono $1/loglikes_dev \
    "$thr" --nj $nj --min-lmwt $nn_lmwt --max-lmwt $nn_lmwt
}

baseline() {  # baseline NAME ROUND WHAT OPTS...: lstm_ce_NAME, random init, CE
  local name=$1 round=$2 what=$3 cond seed s; shift 3
  row "$round" baseline lstm_ce_$name "$what"
  for cond in $conditions; do for seed in $seeds; do
    s=exp/$cond/seed$seed
    finetune_system $s/lstm_ce_$name data/fbank/$cond/train$aug exp/$cond/mono_ali$aug \
      --config $conf/lstm.yaml --seed $seed $thr $extra_nn_opts "$@"
    decode_dev $s/lstm_ce_$name $cond
  done; done
}

student() {  # student NAME ROUND WHAT TEACHER T "KT OPTS" "FT OPTS": lstm_kt_NAME(_ft)
  local name=$1 round=$2 what=$3 teacher=$4 t=$5 kt_opts=$6 ft_opts=$7 cond seed s post
  row "$round" student lstm_kt_${name}_ft "$what"
  for cond in $conditions; do for seed in $seeds; do
    s=exp/$cond/seed$seed; post=$s/${teacher}_post
    [ "$t" = "$temperature" ] || post=${post}_T$t
    posteriors_system $post $s/$teacher data/fbank/$cond/train$aug --temperature $t $thr
    kt_system $s/lstm_kt_$name data/fbank/$cond/train$aug $post --config $conf/kt.yaml --seed $seed \
      $thr --temperature $t $extra_nn_opts $kt_opts
    finetune_system $s/lstm_kt_${name}_ft data/fbank/$cond/train$aug exp/$cond/mono_ali$aug \
      --config $conf/finetune.yaml --seed $seed $thr --init $s/lstm_kt_$name $extra_nn_opts $ft_opts
    decode_dev $s/lstm_kt_${name}_ft $cond
  done; done
}

finetune_only() {  # finetune_only NAME ROUND FAMILY WHAT OPTS...: lstm_kt_rbm_NAME from lstm_kt_rbm
  local name=$1 round=$2 family=$3 what=$4 cond seed s; shift 4
  row "$round" $family lstm_kt_rbm_$name "$what"
  for cond in $conditions; do for seed in $seeds; do
    s=exp/$cond/seed$seed
    finetune_system $s/lstm_kt_rbm_$name data/fbank/$cond/train exp/$cond/mono_ali \
      --config $conf/finetune.yaml --seed $seed $thr --init $s/lstm_kt_rbm $extra_nn_opts \
      "${@//POST/$s/dnn_rbm_post}"
    decode_dev $s/lstm_kt_rbm_$name $cond
  done; done
}

teacher() {  # teacher NAME KIND ROUND WHAT OPTS...: dnn_KIND_NAME (KIND rand or rbm; rbm: on
  local name=$1 kind=$2 round=$3 what=$4 cond seed s dbn; shift 4   # the RBMs of $dbn_name)
  row "$round" teacher_$kind dnn_${kind}_$name "$what"
  for cond in $conditions; do for seed in $seeds; do
    s=exp/$cond/seed$seed; dbn=(); [ $kind = rand ] || dbn=(--dbn $s/$dbn_name)
    train_teacher_system $s/dnn_${kind}_$name data/fbank/$cond/train$aug exp/$cond/mono_ali$aug \
      --config $conf/dnn.yaml --seed $seed $thr "${dbn[@]}" $extra_nn_opts "$@"
    decode_dev $s/dnn_${kind}_$name $cond
  done; done
}

if stage_begins 2 "variants, one factor at a time, decoded on dev"; then
  reference=(ref "the reference (configs $ref_conf, T $temperature, W $kt_weight)")
  row reference teacher_rand dnn_rand "${reference[1]}"
  row reference teacher_rbm dnn_rbm "${reference[1]}"
  row reference baseline lstm_ce "${reference[1]}"
  row reference student lstm_kt_rbm_ft "${reference[1]}"
  row reference ktweight lstm_kt_rbm_ftreg "${reference[1]}"
  for e in 20 40; do
    teacher e$e rand epochs "max epochs $e" --max-epochs $e
    teacher e$e rbm epochs "max epochs $e" --max-epochs $e
    baseline e$e epochs "max epochs $e" --max-epochs $e
    finetune_only ft_e$e epochs student "fine-tuning max epochs $e" --max-epochs $e
  done
  for e in 10 20; do
    student rbm_k$e "KT epochs" "KT pre-training max epochs $e" dnn_rbm $temperature "--max-epochs $e" ""
  done
  for t in 1 4; do
    student rbm_T$t "KT temperature" "temperature $t" dnn_rbm $t "" ""
  done
  size="--hidden-dim 256 --proj-dim 128"
  baseline h256 size "hidden 256, projection 128" $size
  student rbm_h256 size "hidden 256, projection 128" dnn_rbm $temperature "$size" "$size"
  baseline lr0.002 "baseline only" "learning rate 0.002" --learning-rate 0.002
  baseline lr0.0005 "baseline only" "learning rate 0.0005" --learning-rate 0.0005
  baseline s16 "baseline only" "16 streams per minibatch, not 32 (twice the updates)" --num-streams 16
  baseline l3 "baseline only" "3 LSTM layers" --num-layers 3
  baseline fm8 "baseline only" "frequency masking, up to 8 of 40 channels" --freq-mask 8
  teacher h512 rand "teacher size" "hidden 512" --hidden-dim 512
  for cond in $conditions; do for seed in $seeds; do
    rbm_system exp/$cond/seed$seed/dbn_h512 data/fbank/$cond/train --config $conf/rbm.yaml \
      --seed $seed $thr --hid-dim 512
  done; done
  dbn_name=dbn_h512
  teacher h512 rbm "teacher size" "hidden 512 (RBMs of 512 units)" --hidden-dim 512
  dbn_name=dbn
  teacher fm8 rbm teacher "frequency masking, up to 8 of 40 channels" --freq-mask 8
  student rbm_fm8 teacher "teacher (2) with frequency masking 8" dnn_rbm_fm8 $temperature "" ""
  for w in 0.25 0.75; do
    finetune_only ftreg_w$w "KT weight" ktweight "KT weight $w in fine-tuning" \
      --kt-weight $w --post-dir POST --temperature $temperature
  done
fi

if stage_begins 3 "noise: the training data plus a noisy copy (SNR $snr_min-$snr_max dB)"; then
  for cond in $conditions; do
    noisy_dir $conf/fbank.yaml $nj data/fbank/$cond/train data/fbank/$cond/train_aug \
      --noise-dir data/noise --snr-min $snr_min --snr-max $snr_max --seed 1 --copy 1
    copy_ali_system exp/$cond/mono_ali_aug data/fbank/$cond/train_aug exp/$cond/mono_ali
  done
  aug=_aug
  what="training data + a noisy copy (SNR $snr_min-$snr_max dB)"
  teacher noise rbm noise "$what"
  baseline noise noise "$what"
  student rbm_noise noise "$what (teacher dnn_rbm_noise)" dnn_rbm_noise $temperature "" ""
  aug=""
fi

if stage_begins 4 "DEV_STUDY.md"; then
  python "$ASRKT_ROOT/scripts/dev_study_table.py" --exp exp --rows $rows --conditions "$conditions" \
    --seeds "$seeds" --command "$(quote_command recipes/speech_commands/local/dev_study.sh "${script_args[@]}")" \
    --out DEV_STUDY.md
  cat DEV_STUDY.md
fi
