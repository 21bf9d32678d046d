#!/usr/bin/env bash
# ANCHOR_nnet1.md (issue 22): Kaldi nnet1 (scripts/kaldi_nnet1.sh, Kaldi's own binaries, CPU)
# trained on exactly what run.sh's DNN teachers (1) dnn_rand and (2) dnn_rbm train on, decoded
# with the same graph on the same speakers, next to them and the monophone GMM:
#   features   data/fbank/<cond>/train<aug> (40 log mel fbank; run.sh's --noise-kt copy when
#              exp/<cond>/mono_ali_aug exists), per-speaker mean normalisation (apply-cmvn
#              --norm-means=true --norm-vars=false: the teachers' cmvn "speaker", norm_vars false),
#              splice and global normalisation (nnet1's feature transform; the teachers' splice
#              and global_norm)
#   targets    exp/<cond>/mono_ali<aug>/pdf.scp (the monophone alignments the teachers use)
#   CV         the utterances the seed-<seed> teachers held out (asrkt's split_holdout with
#              cv_fraction 0.1 and utt2uniq groups), so both train and select on the same split
#   network    --hid-layers/--hid-dim/--splice from conf/dnn.yaml (the teachers' size); nnet1's
#              sigmoid units, SGD (learn rate 0.008, minibatch 256), newbob (max 20 epochs)
#   DBN        (nnet1_dbn) RBMs of conf/rbm.yaml's size and epochs (rbm_iter) on
#              data/fbank/<cond>/train (what run.sh's pretrain-rbm reads), nnet1's RBM settings
#   LSTM       (nnet1_lstm, the anchor of run.sh's LSTM baseline lstm_ce) conf/lstm.yaml's size:
#              num_layers LstmProjected layers of hidden_dim cells and proj_dim projection,
#              target_delay frames of delay (no splicing), nnet-train-multistream with
#              num_streams streams x chunk_len frames, max_epochs; the rest as Kaldi's
#              egs/rm/s5/local/nnet/run_lstm.sh (multistream): SGD learn rate 0.0001, momentum
#              0.9, newbob halving factor 0.5, make_lstm_proto.py's defaults
#   decoding   exp/<cond>/mono/graph and exp/<cond>/mono/final.mdl, latgen-faster-mapped at
#              acwt 0.1, lattice-best-path per LM weight 4..15 (nnet1's decode.sh/score.sh)
# The asrkt teachers (and with --systems lstm the LSTM baseline lstm_ce) are run.sh's (stages 0-4
# and the RBM + teacher + baseline stages with --conditions <cond> --seeds <seed> first; with
# --teacher-freq-mask 0 for teachers trained as nnet1's are, without masking, as in ANCHOR_nnet1.md). This
# script decodes them on dev where run.sh has not (run.sh's
# hybrid decoding: asrkt forward + decode-nnet at LMWT --nn-lmwt), and for the LM-weight study
# again over Kaldi's sweep (4..15, acoustic scale 0.1, lattice beam 8: decode_<set>_sweep); it
# also decodes Kaldi's log-likelihoods with asrkt decode-nnet at LMWT --nn-lmwt (the decoders'
# agreement). The test speakers only with --test true (the final table, as run.sh).
#
# Usage: local/nnet1_anchor.sh [options]      (relative paths: to the current directory)
#   e.g. local/nnet1_anchor.sh --work /work/sc
# Stages: 1 CV list  2 nnet1 random init (rand, lstm)  3 nnet1 DBN-pretrained  4 asrkt decodes
#         5 prior-scale study: every network's log-likelihoods again with the log-priors scaled by
#           each of --prior-scales (asrkt forward --prior-scale / nnet-forward --prior-scale),
#           decoded over LMWT 4..15 (decode_<set>_ps<S>_sweep / decode_<set>_ps<S>)
#         6 ANCHOR_nnet1.md (scripts/nnet1_anchor_table.py)
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")/.."

stage=1
stop_stage=6
work=.                  # run.sh's work dir
cond=full               # training condition (run.sh --conditions)
seed=1                  # the asrkt teachers' seed (their CV split); Kaldi keeps its own seed 777
conf=conf               # run.sh's configs: dnn.yaml (size, splice), rbm.yaml (RBM epochs)
test=false              # also decode the test speakers (only for the final table)
systems="rand dbn"      # nnet1 systems: rand (random init), dbn (DBN-pretrained), lstm (LSTM)
nn_lmwt=10              # run.sh's fixed LM weight of the hybrid systems
nn_threads=1            # --num-threads of asrkt forward and Kaldi's BLAS
nj=2                    # decode-nnet jobs
prior_scales="0.5 0"    # stage 5: prior scales besides nnet1's and asrkt's 1.0
kaldi_opts=""           # appended to scripts/kaldi_nnet1.sh (e.g. "--max-iters 1" in tests)
targets=mono            # the GMM whose alignments, graph and model Kaldi's networks use: mono, or
                        # tri1/tri2 of local/targets_study.sh (into exp/<cond>/nnet1_<targets>;
                        # then only the Kaldi systems: stages 1-3 and 5, no asrkt decodes, no table)
out=ANCHOR_nnet1.md     # the table (relative: to the work dir)
asrkt_command=""        # for the table: the run.sh command(s) that made the GMM and the teachers
. ../common/parse_options.sh
. ./path.sh
. ../common/nnet1_anchor.sh   # + stage.sh, systems.sh
absolute_options conf work
nnet1_dnn_conf "$conf" "$systems"
nnet1_lstm_opts "$conf" "$systems"
thr="--num-threads $nn_threads"
export OMP_NUM_THREADS=$nn_threads MKL_NUM_THREADS=$nn_threads
sets=dev
[ "$test" = false ] || sets="$sets test"
cd "$work"
aug=""; [ $targets = mono ] && [ -d exp/$cond/mono_ali_aug ] && aug=_aug
train=data/fbank/$cond/train$aug
ali=exp/$cond/${targets}_ali$aug
gmm=exp/$cond/$targets
nnet1=exp/$cond/nnet1
if [ $targets != mono ]; then
  nnet1=exp/$cond/nnet1_$targets
  [ "$stop_stage" -lt 6 ] || stop_stage=5   # the table is the monophone anchor's
fi
for f in $train/feats.scp $ali/pdf.scp $gmm/final.mdl $gmm/graph/HCLG.fst; do
  [ -f $f ] || { echo "$0: $work/$f does not exist (run run.sh stages 0-4 --conditions $cond first)" >&2; exit 1; }
done
decode_dirs=""
for set in $sets; do decode_dirs="$decode_dirs $PWD/data/fbank/$set"; done
asrkt_systems="dnn_rand dnn_rbm"   # the asrkt networks next to Kaldi's (+ the LSTM baseline)
[[ " $systems " != *" lstm "* ]] || asrkt_systems="$asrkt_systems lstm_ce"

if stage_begins 1 "CV list: the utterances the seed-$seed teachers hold out of $train"; then
  nnet1_cv_list $train $seed $conf/dnn.yaml $nnet1/cv.list
fi

common=(--cv-list $nnet1/cv.list --cmvn-opts "--norm-means=true --norm-vars=false"
        --hid-layers $hid_layers --hid-dim $hid_dim --splice $splice --num-threads $nn_threads
        --decode-sets "$decode_dirs")
kaldi_nnet1() {  # kaldi_nnet1 rand|dbn|lstm [OPTIONS]: scripts/kaldi_nnet1.sh for exp/<cond>/nnet1/<system>
  local k=$1 pre=(); shift
  case $k in
    dbn) pre=(--pretrain true --rbm-iter $rbm_iter --dbn-data data/fbank/$cond/train) ;;
    lstm) pre=("${lstm_opts[@]}") ;;
  esac
  # shellcheck disable=SC2086
  bash "$ASRKT_ROOT/scripts/kaldi_nnet1.sh" "${common[@]}" "${pre[@]}" $kaldi_opts "$@" \
    $train $ali $gmm $gmm/graph $nnet1/$k
}
kaldi_skipped() { [ ! -x "${ASRKT_KALDI_ROOT:-$HOME/.cache/asrkt/kaldi}/bin/nnet-train-frmshuff" ]; }
if stage_begins 2 "Kaldi nnet1, random init ($hid_layers x $hid_dim, splice $splice; lstm: conf/lstm.yaml)"; then
  case " $systems " in *" rand "*)
    # shellcheck disable=SC2086
    kaldi_nnet1 rand ;;
  esac
  case " $systems " in *" lstm "*)
    kaldi_nnet1 lstm ;;
  esac
fi

if stage_begins 3 "Kaldi nnet1, DBN-pretrained ($hid_layers RBMs x $hid_dim, rbm_iter $rbm_iter, on data/fbank/$cond/train)"; then
  case " $systems " in *" dbn "*)
    # shellcheck disable=SC2086
    kaldi_nnet1 dbn ;;
  esac
fi

if [ $targets = mono ] && stage_begins 4 "asrkt decodes of $sets: teachers at LMWT $nn_lmwt (as run.sh) and over 4..15, the GMM over 4..15; Kaldi's log-likelihoods through asrkt decode-nnet"; then
  s=exp/$cond/seed$seed
  for sys in $asrkt_systems; do
    [ -f $s/$sys/final.pt ] || { echo "  $s/$sys: not trained (run.sh's teacher/baseline stage), skipped" >&2; continue; }
    for set in $sets; do
      decode_system $s/$sys/decode_$set $s/$sys data/fbank/$set $gmm/graph $gmm $s/$sys/loglikes_$set "$thr" \
        --nj $nj --min-lmwt $nn_lmwt --max-lmwt $nn_lmwt
      done_or_run $s/$sys/decode_${set}_sweep asrkt decode-nnet --nj $nj --min-lmwt 4 --max-lmwt 15 \
        --acoustic-scale 0.1 --lattice-beam 8 --data-dir data/fbank/$set $gmm/graph \
        scp:$s/$sys/loglikes_$set/loglikes.scp $gmm $s/$sys/decode_${set}_sweep </dev/null
    done
  done
  for set in $sets; do
    done_or_run $gmm/decode_${set}_sweep asrkt decode --nj $nj --min-lmwt 4 --max-lmwt 15 $gmm/graph \
      data/mfcc/$set $gmm $gmm/decode_${set}_sweep </dev/null
  done
  for k in $systems; do
    for set in $sets; do
      l=$nnet1/$k/decode_$set/loglikes.scp
      if [ ! -f $l ]; then kaldi_skipped && echo "  $l: no Kaldi build with the nnet1 tools, skipped" >&2; continue; fi
      done_or_run $nnet1/$k/decode_${set}_asrkt asrkt decode-nnet --nj $nj --min-lmwt $nn_lmwt --max-lmwt $nn_lmwt \
        --data-dir data/fbank/$set $gmm/graph scp:$l $gmm $nnet1/$k/decode_${set}_asrkt </dev/null
    done
  done
fi

if stage_begins 5 "prior-scale study on $sets: log-priors scaled by $prior_scales, LMWT 4..15"; then
  s=exp/$cond/seed$seed
  for ps in $prior_scales; do
    for sys in $asrkt_systems; do
      [ $targets = mono ] && [ -f $s/$sys/final.pt ] || continue
      for set in $sets; do
        l=$s/$sys/loglikes_${set}_ps$ps
        [ -f $l/loglikes.scp ] || asrkt forward $thr --prior-scale $ps $s/$sys data/fbank/$set $l </dev/null
        done_or_run $s/$sys/decode_${set}_ps${ps}_sweep asrkt decode-nnet --nj $nj --min-lmwt 4 --max-lmwt 15 \
          --acoustic-scale 0.1 --lattice-beam 8 --data-dir data/fbank/$set $gmm/graph \
          scp:$l/loglikes.scp $gmm $s/$sys/decode_${set}_ps${ps}_sweep </dev/null
      done
    done
    for k in $systems; do
      [ -e $nnet1/$k/final.nnet ] || continue
      kaldi_nnet1 $k --stage 4 --prior-scale $ps --decode-suffix _ps$ps
    done
  done
fi

if stage_begins 6 "$out"; then
  command=$(quote_command recipes/speech_commands/local/nnet1_anchor.sh "${script_args[@]}")
  python "$ASRKT_ROOT/scripts/nnet1_anchor_table.py" --exp exp/$cond --seed $seed --sets "$sets" \
    --nn-lmwt $nn_lmwt --prior-scales "$prior_scales" --command "$command" --out "$out" \
    --kaldi-systems "$systems" \
    --asrkt-command "$asrkt_command" --title "Kaldi nnet1 anchor: Speech Commands, condition $cond, seed $seed" \
    --train-data "$train ($(wc -l < $train/feats.scp) utterances$([ -z "$aug" ] || echo ", with the noisy copy"); alignments $ali)"
  cat "$out"
fi
