#!/usr/bin/env bash
# The paper's experiment on real speech (Tang et al. 2015, knowledge-transfer pre-training of an
# LSTM from a DNN teacher) on the Free Spoken Digit Dataset (FSDD, isolated digits, 8 kHz).
#
# FSDD -> MFCC + monophone GMM -> alignments -> (1) DNN teacher from random init, (2) DNN teacher
# from stacked RBMs -> soft targets -> (3) LSTM from random init (CE), (4)/(5) LSTM KT-pre-trained
# on the soft targets of (1)/(2), then fine-tuned on the same hard targets as (3) -> hybrid decoding
# through the monophone HCLG of a digit loop -> RESULTS.md + RESULTS.png.
#
# Usage: ./run.sh [options] [fsdd-dir]      (fsdd-dir holds recordings/; default ../../../shared/data/fsdd)
#   --protocol si|official   si: speaker-independent folds (train on the other speakers, test on
#                            the fold's speaker); official: indices 0-4 test, 5-49 train  [si]
#   --folds "theo ..."       speakers held out, one fold each (si only)      [every speaker]
#   --conditions "full quarter"  all training data / a deterministic 25% of it
#   --seeds "1 2 3"          seeds of the neural systems (the GMM is the same for every seed)
#   --conf DIR               training configs (conf: the sized table; conf/tiny: smoke tests)
#   --work DIR               where data/, exp/, RESULTS.* go (relative: to recipes/fsdd)  [.]
#                            (data/all is reused once made: remove data/all/.done to redo it)
#   --speakers "a b" --max-index N   use only these speakers / indices < N (tiny test corpora;
#                            nested CV folds inside a fold's training speakers: local/cv_study.sh)
#   --stage N --stop-stage N --nj N --nn-threads N --temperature T --extra-nn-opts "..."
#   --gmm-lmwt N --nn-lmwt N LM weights, fixed a priori                     [12, 10]
#   --cv-lmwt DIR            LM weights per fold/condition chosen on CV data (local/choose_lmwt.sh
#                            work dirs DIR/lmwt_<speaker>); si only; writes RESULTS_cvlmwt.*
#   --kt-reg W               also systems lstm_kt_{rand,rbm}_ftreg: fine-tuning keeps the KT loss
#                            with weight W (chosen in local/cv_study.sh: 0.5)         [0: off]
#   --vtlp "0.9 1.1"         also systems dnn_{rand,rbm}_vtlp: the DNN teachers (and their RBMs)
#                            trained on the training data plus VTLN-warped copies of it (vocal tract
#                            length perturbation, asrkt perturb-data-dir), aligned with the GMM [off]
#   --teacher-freq-mask F    also systems dnn_{rand,rbm}_fm<F>: the DNN teachers trained with
#                            frequency masking of up to F channels (train-teacher --freq-mask F;
#                            chosen in local/teacher_study.sh: 8)                      [0: off]
#   --teacher-dropout P      also systems dnn_{rand,rbm}_do<P>: teachers trained with dropout P
#                            (train-teacher --dropout P; compared in local/teacher_study.sh) [0: off]
#   --teachers-only true     only the GMM and the DNN teachers (stages 7-10 skipped; the table
#                            compares dnn_* with the GMM): the hybrid-vs-GMM check, nested CV
#   --totgauss N --mono-opts "..."   monophone GMM size and train-mono schedule options
# Stages:  0 data + dict  1 lang + word loop  2 MFCC/fbank + CMVN + splits  3 GMM + alignments
#          4 graph + GMM decoding  5 RBMs  6 DNN teachers  7 soft targets  8 LSTM baseline
#          9 KT pre-training  10 fine-tuning  11 hybrid decoding  12 RESULTS.md/.png
# Every stage skips work already done (a .done marker in its output directory); remove it to redo.
set -euo pipefail
cd "$(dirname "$0")"

stage=0
stop_stage=12
nj=2
protocol=si
folds=""
conditions="full quarter"
seeds="1 2 3"
conf=conf
work=.
speakers=""             # restrict the corpus (tests, nested CV); default every speaker in recordings/
max_index=""            # restrict the corpus to indices < N (tests)
totgauss=500            # monophone GMM size (Kaldi yesno: 400, train_mono default: 1000)
mono_opts="--num-iters 30 --max-iter-inc 25 --realign-iters '1 2 3 4 5 6 7 8 9 10 13 16 20 24 28'"
                        # shorter than train_mono.sh's 40 passes / 23 realignments, for speed
temperature=2.0         # KT temperature (dump-posteriors and kt-pretrain); see README for how chosen
gmm_lmwt=12             # fixed LM weights (acoustic scale 1/LMWT), not tuned on test: Kaldi's
nn_lmwt=10              #   GMM default (acwt 0.0833) and nnet default (acwt 0.1)
cv_lmwt=""              # DIR: per fold and condition, the LM weights chosen on a CV speaker by
                        #   local/choose_lmwt.sh in DIR/lmwt_<speaker>/lmwt_<condition> instead;
                        #   decodes go to decode_test_cv, results to RESULTS_cvlmwt.md/.png
nn_threads=1            # --num-threads of the neural commands: 1 (0 = one per core was 25x slower on a loaded 2-core box)
extra_nn_opts=""        # appended to every neural training command (e.g. "--max-epochs 1")
teachers_only=false     # true: GMM and DNN teachers only (no soft targets, no LSTMs)
teacher_freq_mask=0     # > 0: also teachers dnn_{rand,rbm}_fm<F> trained with --freq-mask F
teacher_dropout=0       # > 0: also teachers dnn_{rand,rbm}_do<P> trained with --dropout P
vtlp=""                 # VTLN warp factors of the augmented DNN teachers (e.g. "0.9 1.1"); "": off
kt_reg=0                # > 0: also (4r)/(5r), fine-tuned from (4)/(5)'s KT students with the KT loss kept
                        #   as a regulariser, (1-W) CE + W KT (finetune --kt-weight W); 0: off
help_message=$(sed -n '2,/^set -euo/p' "$(basename "$0")" | sed '$d' | sed 's/^# \{0,1\}//')
# the command quoted in RESULTS.md: the options that shape the results (not --stage/--stop-stage)
cmdline="recipes/fsdd/run.sh"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --stage|--stop-stage) i=$((i + 1)) ;;
    --stage=*|--stop-stage=*) ;;
    *" "*) cmdline="$cmdline '${args[i]}'" ;;
    *) cmdline="$cmdline ${args[i]}" ;;
  esac
done
. ../common/parse_options.sh
. ./path.sh
. ../common/stage.sh

fsdd=${1:-../../../shared/data/fsdd}
if [ ! -d "$fsdd/recordings" ]; then
  echo "$0: FSDD recordings not found: '$fsdd/recordings' does not exist." >&2
  echo "  Get them with: git clone https://github.com/Jakobovski/free-spoken-digit-dataset" >&2
  echo "  and pass the clone's folder (the one holding recordings/) as the argument." >&2
  exit 1
fi
fsdd=$(realpath "$fsdd")
[ -d "$conf" ] || { echo "$0: config dir '$conf' not found" >&2; exit 1; }
conf=$(realpath "$conf")
for f in mfcc fbank rbm dnn lstm kt; do
  [ -f "$conf/$f.yaml" ] || { echo "$0: $conf/$f.yaml missing" >&2; exit 1; }
done
case "$protocol" in si|official) ;; *) echo "$0: --protocol must be si or official" >&2; exit 1 ;; esac
for c in $conditions; do
  case "$c" in full|quarter) ;; *) echo "$0: unknown condition '$c' (full, quarter)" >&2; exit 1 ;; esac
done
command -v python >/dev/null || { echo "$0: python not found" >&2; exit 1; }
decode_name=decode_test
results=RESULTS
gmm_lmwt_msg=$gmm_lmwt; nn_lmwt_msg=$nn_lmwt
if [ -n "$cv_lmwt" ]; then
  [ "$protocol" = si ] || { echo "$0: --cv-lmwt needs --protocol si" >&2; exit 1; }
  [ -d "$cv_lmwt" ] || { echo "$0: --cv-lmwt: '$cv_lmwt' is not a directory" >&2; exit 1; }
  cv_lmwt=$(realpath "$cv_lmwt"); decode_name=decode_test_cv; results=RESULTS_cvlmwt
  gmm_lmwt_msg="chosen per fold on CV"; nn_lmwt_msg=$gmm_lmwt_msg
fi
# lmwt_of <gmm|nn> <split> <cond>: the LM weight to decode with
lmwt_of() {
  if [ -z "$cv_lmwt" ]; then
    if [ $1 = gmm ]; then echo $gmm_lmwt; else echo $nn_lmwt; fi
    return
  fi
  local f=$cv_lmwt/lmwt_${2#si_}/lmwt_$3 w
  w=$(awk -v k=$1 '$1 == k {print $2}' "$f" 2>/dev/null)
  case "$w" in
    ''|*[!0-9]*) echo "$0: no '$1 <weight>' line in $f (run local/choose_lmwt.sh for fold ${2#si_})" >&2; return 1 ;;
  esac
  echo $w
}
kt_reg_on=$(awk -v w="$kt_reg" 'BEGIN { if (w !~ /^[0-9.]+$/ || w > 1) print "bad"; else print (w > 0) ? 1 : 0 }')
case "$teacher_freq_mask" in ''|*[!0-9]*) echo "$0: --teacher-freq-mask must be an integer >= 0" >&2; exit 1 ;; esac
awk -v p="$teacher_dropout" 'BEGIN { exit !(p ~ /^[0-9.]+$/ && p < 1) }' ||
  { echo "$0: --teacher-dropout must be a number in [0, 1), got '$teacher_dropout'" >&2; exit 1; }
# regularised variants of the teachers, "<name suffix> <train-teacher options>" each
teacher_variants=()
[ $teacher_freq_mask = 0 ] || teacher_variants+=("fm$teacher_freq_mask --freq-mask $teacher_freq_mask")
awk -v p="$teacher_dropout" 'BEGIN { exit !(p > 0) }' && teacher_variants+=("do$teacher_dropout --dropout $teacher_dropout")
case "$teachers_only" in true|false) ;; *) echo "$0: --teachers-only must be true or false" >&2; exit 1 ;; esac
[ "$kt_reg_on" != bad ] || { echo "$0: --kt-reg must be a number in [0, 1], got '$kt_reg'" >&2; exit 1; }
for w in $vtlp; do
  awk -v w="$w" 'BEGIN { exit !(w ~ /^[0-9.]+$/ && w >= 0.5 && w <= 2 && w != 1) }' ||
    { echo "$0: --vtlp: warp factor '$w' is not a number in [0.5, 2] other than 1" >&2; exit 1; }
done
vtlp=$(for w in $vtlp; do awk -v w="$w" 'BEGIN { print w + 0 }'; done | tr '\n' ' ')  # 0.90 -> 0.9: the id prefix vtlp0.9-
vtlp=${vtlp% }
local=$(pwd)/local
scripts=$ASRKT_ROOT/scripts
mkdir -p "$work" && cd "$work"
data=data
exp=exp
prep_opts=()
[ -n "$speakers" ] && prep_opts+=(--speakers "$speakers")
[ -n "$max_index" ] && prep_opts+=(--max-index "$max_index")
thr="--num-threads $nn_threads"
# dump-posteriors and forward have no --num-threads: limit torch/OpenMP threads through the env
[ "$nn_threads" -gt 0 ] && export OMP_NUM_THREADS=$nn_threads MKL_NUM_THREADS=$nn_threads

if stage_begins 0 "data and dict from $fsdd"; then
  if [ ! -f $data/all/.done ]; then
    bash $local/prepare_data.sh "${prep_opts[@]}" "$fsdd" $data
    touch $data/all/.done
  fi
fi
[ -f $data/all/utt2spk ] || { echo "$0: $data/all missing: run stage 0 first" >&2; exit 1; }

if [ $protocol = official ]; then
  splits=official
else
  [ -n "$folds" ] || folds=$(cut -d' ' -f1 $data/all/spk2utt | tr '\n' ' ')
  splits=""
  for f in $folds; do splits="$splits si_$f"; done
fi

if stage_begins 1 "lang dir and digit-loop grammar"; then
  done_or_run $data/lang asrkt prepare-lang --sil-prob 0.5 $data/local/dict $data/lang
  done_or_run $data/lang_test asrkt make-word-loop $data/lang $data/lang_test
fi

if stage_begins 2 "MFCC (GMM) and fbank (NN) features; splits ($splits; $conditions) with their own CMVN"; then
  for kind in mfcc fbank; do
    d=$data/$kind/all
    if [ ! -f $d/.done ]; then
      mkdir -p $d && cp $data/all/{wav.scp,text,utt2spk,spk2utt} $d/
      asrkt make-feats --config $conf/$kind.yaml --nj $nj $d $kind
      touch $d/.done
    fi
    [ -n "$vtlp" ] || continue
    # VTLN-perturbed copies of the whole corpus (features once), then their union with it
    for w in $vtlp; do
      d=$data/$kind/all_vtlp$w
      [ -f $d/.done ] && continue
      asrkt perturb-data-dir --vtln-warp $w $data/all $d
      asrkt make-feats --config $conf/$kind.yaml --nj $nj $d $kind
      touch $d/.done
    done
    d=$data/$kind/all_vtlp
    done_or_run $d asrkt combine-data-dirs $d $data/$kind/all $(for w in $vtlp; do echo $data/$kind/all_vtlp$w; done)
  done
  for split in $splits; do
    for cond in $conditions; do
      lists=$data/lists/$split/$cond
      [ -f $lists/.done ] || { bash $local/split_lists.sh $data/all $split $cond $lists && touch $lists/.done; }
      for kind in mfcc fbank; do
        for part in train test; do
          if [ $part = train ]; then d=$data/$kind/$split/$cond/train; else d=$data/$kind/$split/test; fi
          [ -f $d/.done ] && continue
          asrkt subset-data-dir --utt-list $lists/$part.list $data/$kind/all $d
          asrkt compute-cmvn $d     # CMVN stats of this subset only
          touch $d/.done
        done
        [ -n "$vtlp" ] || continue
        # the training list and its warped copies (each warp a speaker of its own for CMVN)
        d=$data/$kind/$split/$cond/train_vtlp
        [ -f $d/.done ] && continue
        for w in "" $vtlp; do sed "s/^/${w:+vtlp$w-}/" $lists/train.list; done | LC_ALL=C sort > $lists/train_vtlp.list
        asrkt subset-data-dir --utt-list $lists/train_vtlp.list $data/$kind/all_vtlp $d
        asrkt compute-cmvn $d
        touch $d/.done
      done
    done
  done
fi

if stage_begins 3 "monophone GMM (flat start) and training alignments"; then
  for split in $splits; do
    for cond in $conditions; do
      e=$exp/$split/$cond
      done_or_run $e/mono bash -c "asrkt train-mono --nj $nj --totgauss $totgauss $mono_opts \
        $data/mfcc/$split/$cond/train $data/lang $e/mono"
      done_or_run $e/mono_ali bash -c "asrkt align --nj $nj $data/mfcc/$split/$cond/train $data/lang $e/mono $e/mono_ali && \
        asrkt ali-to-pdf $e/mono_ali scp:$e/mono_ali/ali.scp $e/mono_ali/pdf.ark"
      [ -n "$vtlp" ] || continue
      # the warped copies aligned with the same GMM (as Kaldi aligns speed-perturbed data)
      done_or_run $e/mono_ali_vtlp bash -c "asrkt align --nj $nj $data/mfcc/$split/$cond/train_vtlp $data/lang $e/mono $e/mono_ali_vtlp && \
        asrkt ali-to-pdf $e/mono_ali_vtlp scp:$e/mono_ali_vtlp/ali.scp $e/mono_ali_vtlp/pdf.ark"
    done
  done
fi

if stage_begins 4 "decoding graphs and GMM decoding (LMWT $gmm_lmwt_msg)"; then
  for split in $splits; do
    for cond in $conditions; do
      e=$exp/$split/$cond
      w=$(lmwt_of gmm $split $cond)
      done_or_run $e/mono/graph asrkt make-graph $data/lang_test $e/mono $e/mono/graph
      done_or_run $e/mono/$decode_name asrkt decode --nj $nj --min-lmwt $w --max-lmwt $w \
        $e/mono/graph $data/mfcc/$split/test $e/mono $e/mono/$decode_name
    done
  done
fi

# every (split, condition, seed) of the neural systems: "split cond seed" lines
nn_runs() {
  for split in $splits; do for cond in $conditions; do for seed in $seeds; do
    echo "$split $cond $seed"
  done; done; done
}

if stage_begins 5 "stacked RBMs (pretrain_dbn)"; then
  nn_runs | while read -r split cond seed; do
    s=$exp/$split/$cond/seed$seed
    done_or_run $s/dbn asrkt pretrain-rbm --config $conf/rbm.yaml --seed $seed $thr \
      $data/fbank/$split/$cond/train $s/dbn </dev/null
    [ -z "$vtlp" ] || done_or_run $s/dbn_vtlp asrkt pretrain-rbm --config $conf/rbm.yaml --seed $seed $thr \
      $data/fbank/$split/$cond/train_vtlp $s/dbn_vtlp </dev/null
  done
fi

if stage_begins 6 "DNN teachers: random init and RBM-pre-trained (cross-entropy, newbob)"; then
  nn_runs | while read -r split cond seed; do
    e=$exp/$split/$cond; s=$e/seed$seed
    for t in rand rbm; do
      dbn_opt=""; [ $t = rbm ] && dbn_opt="--dbn $s/dbn"
      done_or_run $s/dnn_$t asrkt train-teacher --config $conf/dnn.yaml --seed $seed $thr $dbn_opt $extra_nn_opts \
        $data/fbank/$split/$cond/train $e/mono_ali $s/dnn_$t </dev/null
      for variant in "${teacher_variants[@]}"; do
        name=${variant%% *}
        done_or_run $s/dnn_${t}_$name asrkt train-teacher --config $conf/dnn.yaml --seed $seed $thr $dbn_opt \
          ${variant#* } $extra_nn_opts $data/fbank/$split/$cond/train $e/mono_ali $s/dnn_${t}_$name </dev/null
      done
      [ -n "$vtlp" ] || continue
      dbn_opt=""; [ $t = rbm ] && dbn_opt="--dbn $s/dbn_vtlp"
      done_or_run $s/dnn_${t}_vtlp asrkt train-teacher --config $conf/dnn.yaml --seed $seed $thr $dbn_opt $extra_nn_opts \
        $data/fbank/$split/$cond/train_vtlp $e/mono_ali_vtlp $s/dnn_${t}_vtlp </dev/null
    done
  done
fi

if [ $teachers_only = false ] && stage_begins 7 "soft targets of the teachers (T=$temperature)"; then
  nn_runs | while read -r split cond seed; do
    s=$exp/$split/$cond/seed$seed
    for t in rand rbm; do
      done_or_run $s/dnn_${t}_post asrkt dump-posteriors --temperature $temperature \
        $s/dnn_$t $data/fbank/$split/$cond/train $s/dnn_${t}_post </dev/null
    done
  done
fi

if [ $teachers_only = false ] && stage_begins 8 "LSTM baseline: random init, cross-entropy"; then
  nn_runs | while read -r split cond seed; do
    e=$exp/$split/$cond; s=$e/seed$seed
    done_or_run $s/lstm_ce asrkt finetune --config $conf/lstm.yaml --seed $seed $thr $extra_nn_opts \
      $data/fbank/$split/$cond/train $e/mono_ali $s/lstm_ce </dev/null
  done
fi

if [ $teachers_only = false ] && stage_begins 9 "LSTM KT pre-training on each teacher's soft targets (T=$temperature)"; then
  nn_runs | while read -r split cond seed; do
    s=$exp/$split/$cond/seed$seed
    for t in rand rbm; do
      done_or_run $s/lstm_kt_$t asrkt kt-pretrain --config $conf/kt.yaml --seed $seed $thr --temperature $temperature \
        $extra_nn_opts $data/fbank/$split/$cond/train $s/dnn_${t}_post $s/lstm_kt_$t </dev/null
    done
  done
fi

if [ $teachers_only = false ] && stage_begins 10 "fine-tuning the KT-pre-trained LSTMs on hard targets (schedule of the baseline)"; then
  nn_runs | while read -r split cond seed; do
    e=$exp/$split/$cond; s=$e/seed$seed
    for t in rand rbm; do
      done_or_run $s/lstm_kt_${t}_ft asrkt finetune --config $conf/lstm.yaml --seed $seed $thr --init $s/lstm_kt_$t \
        $extra_nn_opts $data/fbank/$split/$cond/train $e/mono_ali $s/lstm_kt_${t}_ft </dev/null
      [ $kt_reg_on = 1 ] || continue
      done_or_run $s/lstm_kt_${t}_ftreg asrkt finetune --config $conf/lstm.yaml --seed $seed $thr --init $s/lstm_kt_$t \
        --kt-weight $kt_reg --post-dir $s/dnn_${t}_post --temperature $temperature \
        $extra_nn_opts $data/fbank/$split/$cond/train $e/mono_ali $s/lstm_kt_${t}_ftreg </dev/null
    done
  done
fi

nn_systems="dnn_rand dnn_rbm lstm_ce lstm_kt_rand_ft lstm_kt_rbm_ft"
[ $kt_reg_on = 0 ] || nn_systems="$nn_systems lstm_kt_rand_ftreg lstm_kt_rbm_ftreg"
[ $teachers_only = false ] || nn_systems="dnn_rand dnn_rbm"
[ -z "$vtlp" ] || nn_systems="$nn_systems dnn_rand_vtlp dnn_rbm_vtlp"
for variant in "${teacher_variants[@]}"; do
  nn_systems="$nn_systems dnn_rand_${variant%% *} dnn_rbm_${variant%% *}"
done
if stage_begins 11 "hybrid decoding (log-posterior - log-prior through HCLG, LMWT $nn_lmwt_msg)"; then
  nn_runs | while read -r split cond seed; do
    e=$exp/$split/$cond; s=$e/seed$seed
    w=$(lmwt_of nn $split $cond)
    for sys in $nn_systems; do
      ll=$s/$sys/loglikes_test   # written atomically: present means complete
      [ -f $ll/loglikes.scp ] || asrkt forward $s/$sys $data/fbank/$split/test $ll </dev/null
      done_or_run $s/$sys/$decode_name asrkt decode-nnet --nj $nj --min-lmwt $w --max-lmwt $w \
        --data-dir $data/fbank/$split/test $e/mono/graph scp:$ll/loglikes.scp $e/mono $s/$sys/$decode_name </dev/null
    done
  done
fi

if stage_begins 12 "$results.md and $results.png"; then
  if [ -n "$cv_lmwt" ]; then lmwt_text="chosen per fold and condition on a CV speaker (local/choose_lmwt.sh, $cv_lmwt)"
  else lmwt_text="fixed a priori (no sweep on test): GMM $gmm_lmwt, NN $nn_lmwt"; fi
  python "$scripts/fsdd_results.py" --exp $exp --splits "$splits" --conditions "$conditions" \
    --seeds "$seeds" --systems "mono $nn_systems" --protocol $protocol --command "$cmdline" \
    --conf "$conf" --temperature $temperature --lmwt "$lmwt_text" --decode-name $decode_name \
    --out $results.md --png $results.png
  cat $results.md
fi
