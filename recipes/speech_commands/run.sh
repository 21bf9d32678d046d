#!/usr/bin/env bash
# The paper's experiment (Tang et al. 2015, knowledge-transfer pre-training of an LSTM from a DNN
# teacher) on Speech Commands: one-second English words of 212 crowd-sourced speakers, 16 kHz,
# 35 words; the task is the one word of each clip (a one-word grammar with optional silence).
#
# clips -> speaker-disjoint train/dev/test (README) -> MFCC + monophone GMM -> alignments (->
# triphone GMMs tri1, tri2: GMM rows of the tables; the networks train on the alignments of --nn-gmm, mono) ->
# (1) DNN from random init, (2) DNN from stacked RBMs -> soft targets -> (3) LSTM from random init
# (CE), (4)/(5) LSTM KT-pre-trained on the soft targets of (1)/(2), then fine-tuned; (4r)/(5r) the
# same fine-tuned with the KT loss kept (weight --kt-weight) -> hybrid decoding of dev (test only
# with --test true: the test speakers are read once, for the final table; --extra-test DIR: one
# more folder of the same layout, decoded with the trained systems) -> WER (scoring_kaldi/best_wer
# of each decode dir): RESULTS.md + PNG for test, RESULTS_<set>.md for the other sets (mean ± std
# over seeds, paired per-seed comparisons, the paper's claims, CV curves: scripts/kt_results.py)
# and ACCURACY_<set>.md (accuracy on the ten command words and on all words,
# scripts/speech_commands_accuracy.py).
#
# Usage: ./run.sh [options] [corpus-dir]    (default ../../../shared/data/speech_commands)
# Relative paths on the command line are relative to where you run it from (defaults: to
# recipes/speech_commands; ../common/paths.sh). Work-dir layout:
#   data/{all,train,dev,test,noise}, data/lists/train_quarter.list, data/local/dict   (stage 0)
#   data/{mfcc,fbank}/<cond>/train, data/{mfcc,fbank}/<set>        features (<set>: dev test extra)
#   exp/<cond>/{mono,tri1,tri2}, exp/<cond>/{mono,tri1}_ali, exp/<cond>/seed<S>/<system>/decode_<set>
# Stages:  0 data + dict  1 lang + one-word grammar  2 MFCC/fbank + CMVN  3 monophone GMM +
#          alignments (+ noisy copy)  4 tri1 + alignments  5 tri2  6 graphs + GMM decoding
#          7 RBMs  8 DNN teachers  9 soft targets  10 LSTM baseline  11 KT pre-training
#          12 fine-tuning  13 fine-tuning with the KT loss kept  14 hybrid decoding
#          15 RESULTS.md (test) or RESULTS_<set>.md + PNG, ACCURACY_<set>.md
# (stage numbers before the triphone stages, e.g. in README commands of earlier runs: 0-3 the
# same, 4 is now 6, 5-13 are now 7-15)
# Every stage skips work already done (a .done marker in its output directory); remove it to redo.
# A network whose training was interrupted continues from its last checkpoint (--resume).
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")"

stage=0
stop_stage=15
conditions="full quarter"   # full: all training speakers' clips; quarter: the deterministic 25% (data/lists/train_quarter.list)
seeds="1 2 3"           # seeds of the neural systems (the GMM is the same for every seed)
conf=conf               # training configs (conf: chosen on dev, DEV_STUDY.md; conf/ref: before the study; conf/tiny: smoke tests)
work=.                  # where data/, exp/ and the tables go (data/ is reused once made: remove data/.done to redo it)
test=false              # also decode the test speakers (only for the final table)
extra_test=""           # a folder of the same layout decoded as one more test set (no retraining)
extra_name=extra        # the name of that set (data/<name>, decode_<name>; a new name for a new folder)
max_per_word=""         # keep at most N clips of each word per split (tiny test corpora); "": all
nj=2                    # parallel jobs of the GMM and feature commands
totgauss=1000           # monophone GMM size (train_mono.sh's default)
mono_opts="--num-iters 30 --max-iter-inc 25 --realign-iters '1 2 3 4 5 6 7 8 9 10 13 16 20 24 28'"  # as recipes/fsdd
tri1_leaves=300         # tri1 (train-deltas): tree leaves and Gaussians, chosen on the dev speakers
tri1_gauss=750          #   (local/tri_study.sh, TRI_STUDY.md; README "Triphone GMMs")
tri2_leaves=300         # tri2 (train-lda-mllt on tri1's alignments): the same way
tri2_gauss=750
tri_opts=""             # appended to train-deltas and train-lda-mllt (tests: fewer passes)
gmm_systems="mono tri1 tri2"   # GMMs trained (stages 3-5) and decoded (6); "mono" alone skips the triphones
nn_gmm=mono             # the GMM of the networks: they train on its alignments (exp/<cond>/<nn_gmm>_ali, the
                        #   noisy copy's <nn_gmm>_ali_aug) and decode through its graph and model; one of
                        #   --gmm-systems, else an error; mono chosen on dev (TARGETS_STUDY.md)
nn_prior_scale=0.5      # S of the hybrid decoding, log-posterior - S log-prior (TARGETS_STUDY.md; before: 1.0)
temperature=2.0         # KT temperature (dump-posteriors, kt-pretrain, fine-tuning with KT kept; DEV_STUDY.md, round "KT temperature")
kt_weight=0.25          # (4r)/(5r): (1-W) CE + W KT in fine-tuning (DEV_STUDY.md, round "KT weight")
gmm_lmwt=12             # LM weights fixed a priori (acoustic scale 1/LMWT), not tuned on test:
nn_lmwt=10              #   Kaldi's GMM default (acwt 0.0833) and nnet default (acwt 0.1)
nn_threads=1            # --num-threads of the neural commands
noise_baseline=true     # (3) trains on the training data + a noisy copy (DEV_STUDY.md, round "noise")
noise_kt=true           # the teachers (1)/(2), their soft targets and the students train on it (round "noise")
snr_min=0               # SNR range (dB) of the noisy copy: a clip of data/noise per utterance
snr_max=20              #   (asrkt perturb-data-dir --noise-dir; alignments copied, copy-ali)
teacher_freq_mask=8     # (1)/(2) trained with --freq-mask N (0: off), with conf/dnn.yaml's nnet1 initialisation: both
                        #   chosen on dev, TEACHERS_STUDY_ki_*.md (README "Teachers over three seeds"); 0 until 2026-12-07
extra_nn_opts=""        # appended to every neural training command (e.g. "--max-epochs 1")
. ../common/parse_options.sh
. ./path.sh
. ../common/stage.sh
. ../common/systems.sh
. ../common/kt_stages.sh

corpus=$(caller_path "${1:-}" ../../../shared/data/speech_commands)
local=$(pwd)/local
absolute_options conf work extra_test
[ -d "$conf" ] || { echo "$0: --conf: no folder '$conf'" >&2; exit 1; }
prep_opts=()
[ -z "$max_per_word" ] || prep_opts+=(--max-per-word "$max_per_word")
if [ -n "$extra_test" ]; then
  [ -d "$extra_test" ] || { echo "$0: --extra-test: no folder '$extra_test'" >&2; exit 1; }
fi
eval "mono_args=($mono_opts)"
eval "tri_args=($tri_opts)"
case " $gmm_systems " in *" mono "*) ;; *) echo "$0: --gmm-systems must include mono" >&2; exit 1 ;; esac
has_gmm() { [[ " $gmm_systems " == *" $1 "* ]]; }
has_gmm "$nn_gmm" || { echo "$0: --nn-gmm '$nn_gmm' is not one of --gmm-systems '$gmm_systems'" >&2; exit 1; }
thr="--num-threads $nn_threads"
[ "$nn_threads" -gt 0 ] && export OMP_NUM_THREADS=$nn_threads MKL_NUM_THREADS=$nn_threads
sets=dev
[ "$test" = false ] || sets="$sets test"
[ -z "$extra_test" ] || sets="$sets $extra_name"
mkdir -p "$work" && cd "$work"

cells() {  # one "cond seed" line per neural cell
  local cond seed
  for cond in $conditions; do for seed in $seeds; do echo "$cond $seed"; done; done
}

set_dir() {  # set_dir KIND SET: the feature dir of an evaluation set
  echo data/$1/$2
}

if stage_begins 0 "data and dict from $corpus${extra_test:+, extra test set $extra_test}"; then
  if [ ! -f data/.done ]; then
    python $local/prepare_data.py "${prep_opts[@]}" "$corpus" data
    touch data/.done
  fi
  if [ -n "$extra_test" ] && [ ! -f data/$extra_name/.done ]; then
    python $local/prepare_data.py "${prep_opts[@]}" --no-split "$extra_test" data/$extra_name
    touch data/$extra_name/.done
  fi
fi

if stage_begins 1 "lang dir and one-word grammar"; then
  done_or_run data/lang asrkt prepare-lang --sil-prob 0.5 data/local/dict data/lang
  done_or_run data/lang_test asrkt make-word-loop --one-word data/lang data/lang_test
fi

if stage_begins 2 "MFCC (GMM) and fbank (NN) features with CMVN: training conditions ($conditions), $sets"; then
  for kind in mfcc fbank; do
    feats_dir $conf/$kind.yaml $nj data/train data/$kind/full/train $kind true
    for cond in $conditions; do
      case $cond in
        full) ;;
        quarter) subset_dir data/lists/train_quarter.list data/$kind/full/train data/$kind/quarter/train ;;
        *) echo "$0: --conditions: full or quarter, not '$cond'" >&2; exit 1 ;;
      esac
    done
    for set in $sets; do
      src=data/$set; [ "$set" != "$extra_name" ] || src=data/$extra_name/all
      feats_dir $conf/$kind.yaml $nj $src $(set_dir $kind $set) $kind true
    done
  done
fi

teacher_nn_opts=""       # recipes/common/kt_stages.sh: the teachers' own options
[ "$teacher_freq_mask" = 0 ] || teacher_nn_opts="--freq-mask $teacher_freq_mask"
base_aug=""; kt_aug=""   # "_aug": train on data/fbank/<cond>/train_aug with exp/<cond>/${nn_gmm}_ali_aug
[ "$noise_baseline" = false ] || base_aug=_aug
[ "$noise_kt" = false ] || kt_aug=_aug
noisy_note=""
[ -z "$base_aug$kt_aug" ] || noisy_note=", a noisy copy of the training data (SNR $snr_min-$snr_max dB)"
nn_train() {  # nn_train ROLE COND (kt_stages.sh): the RBMs on the clean copy, the others by --noise-*
  case $1 in rbm) echo data/fbank/$2/train ;; kt) echo data/fbank/$2/train$kt_aug ;; base) echo data/fbank/$2/train$base_aug ;; esac
}
nn_ali() {  # nn_ali ROLE COND: $nn_gmm's alignments (of the noisy copy with it)
  case $1 in kt) echo exp/$2/${nn_gmm}_ali$kt_aug ;; base) echo exp/$2/${nn_gmm}_ali$base_aug ;; esac
}
nn_ali_aug() {  # nn_ali_aug COND: $nn_gmm's alignments copied to the noisy copy (once they exist)
  [ -n "$base_aug$kt_aug" ] || return 0
  copy_ali_system exp/$1/${nn_gmm}_ali_aug data/fbank/$1/train_aug exp/$1/${nn_gmm}_ali
}
if stage_begins 3 "monophone GMM (flat start) and training alignments$noisy_note"; then
  for cond in $conditions; do
    train_mono_system exp/$cond/mono data/mfcc/$cond/train data/lang --nj $nj --totgauss $totgauss "${mono_args[@]}"
    align_system exp/$cond/mono_ali data/mfcc/$cond/train data/lang exp/$cond/mono --nj $nj
    [ -n "$base_aug$kt_aug" ] || continue
    noisy_dir $conf/fbank.yaml $nj data/fbank/$cond/train data/fbank/$cond/train_aug \
      --noise-dir data/noise --snr-min $snr_min --snr-max $snr_max --seed 1 --copy 1
    [ $nn_gmm != mono ] || nn_ali_aug $cond
  done
fi

if has_gmm tri1 && stage_begins 4 "tri1: triphone GMMs on deltas ($tri1_leaves leaves, $tri1_gauss Gaussians) and their alignments"; then
  for cond in $conditions; do
    train_deltas_system exp/$cond/tri1 data/mfcc/$cond/train data/lang exp/$cond/mono_ali --nj $nj \
      --num-leaves $tri1_leaves --totgauss $tri1_gauss "${tri_args[@]}"
    align_system exp/$cond/tri1_ali data/mfcc/$cond/train data/lang exp/$cond/tri1 --nj $nj
    [ $nn_gmm != tri1 ] || nn_ali_aug $cond
  done
fi

if has_gmm tri2 && stage_begins 5 "tri2: LDA+MLLT triphone GMMs ($tri2_leaves leaves, $tri2_gauss Gaussians) on tri1's alignments"; then
  for cond in $conditions; do
    train_lda_mllt_system exp/$cond/tri2 data/mfcc/$cond/train data/lang exp/$cond/tri1_ali --nj $nj \
      --num-leaves $tri2_leaves --totgauss $tri2_gauss "${tri_args[@]}"
    if [ $nn_gmm = tri2 ]; then
      align_system exp/$cond/tri2_ali data/mfcc/$cond/train data/lang exp/$cond/tri2 --nj $nj
      nn_ali_aug $cond
    fi
  done
fi

if stage_begins 6 "decoding graphs and GMM decoding ($gmm_systems) of $sets (LMWT $gmm_lmwt)"; then
  for cond in $conditions; do
    for sys in $gmm_systems; do
      graph_system exp/$cond/$sys/graph data/lang_test exp/$cond/$sys
      for set in $sets; do
        decode_gmm_system exp/$cond/$sys/decode_$set exp/$cond/$sys/graph $(set_dir mfcc $set) exp/$cond/$sys \
          --nj $nj --min-lmwt $gmm_lmwt --max-lmwt $gmm_lmwt
      done
    done
  done
fi

if stage_begins 7 "stacked RBMs (pretrain_dbn)"; then
  kt_rbm_stage
fi

if stage_begins 8 "DNN teachers: random init and RBM-pre-trained (cross-entropy, newbob${teacher_nn_opts:+, $teacher_nn_opts})"; then
  kt_teachers_stage
fi

if stage_begins 9 "soft targets of the teachers (T=$temperature)"; then
  kt_posteriors_stage
fi

if stage_begins 10 "LSTM baseline: random init, cross-entropy${base_aug:+, with the noisy copy}"; then
  kt_baseline_stage
fi

if stage_begins 11 "LSTM KT pre-training on each teacher's soft targets (T=$temperature)"; then
  kt_students_stage
fi

if stage_begins 12 "fine-tuning the KT-pre-trained LSTMs on hard targets (conf/finetune.yaml)"; then
  kt_finetune_stage ft 0
fi

if stage_begins 13 "fine-tuning with the KT loss kept (W $kt_weight): (4r)/(5r)"; then
  kt_finetune_stage ftreg $kt_weight
fi

systems=$kt_systems   # recipes/common/kt_stages.sh
if stage_begins 14 "hybrid decoding of $sets (log-posterior - $nn_prior_scale log-prior through $nn_gmm's HCLG, LMWT $nn_lmwt)"; then
  while read -r cond seed; do
    for sys in $systems; do
      s=exp/$cond/seed$seed/$sys
      for set in $sets; do
        decode_system $s/decode_$set $s $(set_dir fbank $set) exp/$cond/$nn_gmm/graph exp/$cond/$nn_gmm \
          $s/loglikes_$set "--num-threads $nn_threads --prior-scale $nn_prior_scale" --nj $nj --min-lmwt $nn_lmwt --max-lmwt $nn_lmwt
      done
    done
  done < <(cells)
fi

if stage_begins 15 "tables: RESULTS.md (test; RESULTS_<set>.md for the others) + PNG, ACCURACY_<set>.md for $sets"; then
  command=$(quote_command recipes/speech_commands/run.sh "${script_args[@]}")
  for set in $sets; do
    out=RESULTS_$set; [ $set != test ] || out=RESULTS
    python "$ASRKT_ROOT/scripts/kt_results.py" --exp exp --splits . --conditions "$conditions" \
      --seeds "$seeds" --systems "$gmm_systems $systems" --command "$command" --conf "$conf" \
      --decode-name decode_$set --temperature $temperature --targets $nn_gmm --prior-scale $nn_prior_scale \
      --lmwt "fixed a priori: GMM $gmm_lmwt, NN $nn_lmwt" \
      --title "Results: Speech Commands, set '$set', KT pre-training of LSTMs" \
      --split-text "speaker-disjoint by the speaker id mod 20 (README): 145 training, 34 dev, 33 test speakers; this table: $set" \
      --conditions-text "full = every training clip; quarter = the clips whose utterance id's SHA-1 is 0 mod 4 (25%); CV = 10% of the training utterances, held out by the trainers" \
      --note "DNN teachers (1)/(2): conf/dnn.yaml${teacher_nn_opts:+, $teacher_nn_opts} (run.sh --teacher-freq-mask $teacher_freq_mask)" \
      --out $out.md --png $out.png
    python "$ASRKT_ROOT/scripts/speech_commands_accuracy.py" --exp exp --conditions "$conditions" --seeds "$seeds" \
      --systems "$gmm_systems $systems" --set $set --text $(set_dir fbank $set)/text \
      --command "$command" --out ACCURACY_$set.md
    cat $out.md ACCURACY_$set.md
  done
fi
