#!/usr/bin/env bash
# FSDD's Kaldi nnet1 anchor (issue 22): Kaldi's own networks (scripts/kaldi_nnet1.sh, the
# reference build's binaries, CPU only) in the nested folds of local/tri_study.sh, trained on
# exactly what local/targets_study.sh's asrkt networks train on and decoded on the same CV
# speaker with the same graph, so that the LSTM baseline's and the DNN teachers' loss to the
# monophone GMM can be told apart from asrkt's training. Per fold (<work>/nest_<test speaker>/,
# whose test speaker is never read; exp/si_<cv>/<cond>/):
#   features   data/fbank/si_<cv>/<cond>/train (23 log mel fbank), per-speaker mean normalisation
#              (apply-cmvn --norm-means=true --norm-vars=false: the networks' cmvn "speaker",
#              norm_vars false), nnet1's global normalisation after its splice or delay
#   targets    exp/si_<cv>/<cond>/mono_ali/pdf.scp (the monophone alignments)
#   CV         the utterances asrkt's seed-<seed> networks hold out (split_holdout, cv_fraction
#              and utt2uniq groups), so both train and select on the same split
#   rand       (nnet1_rand) conf/dnn.yaml's size: num_layers x hidden_dim sigmoid, splice; nnet1's
#              SGD (learn rate 0.008, minibatch 256) and newbob (max 20 epochs)
#   lstm       (nnet1_lstm, the anchor of lstm_ce) conf/lstm.yaml's size: num_layers
#              <LstmProjected> layers of hidden_dim cells and proj_dim projection, target_delay,
#              nnet-train-multistream with num_streams streams x chunk_len frames, max_epochs;
#              the rest as Kaldi's egs/rm/s5/local/nnet/run_lstm.sh: SGD learn rate 0.0001,
#              momentum 0.9, newbob halving 0.5, make_lstm_proto.py's defaults
#   decoding   the CV speaker (data/fbank/si_<cv>/test) through exp/si_<cv>/<cond>/mono/graph,
#              latgen-faster-mapped at acwt 0.1 and lattice-best-path per LMWT 4..15, with the
#              log-priors scaled by each of --prior-scales (nnet-forward --prior-scale):
#              nnet1/<system><suffix>/decode_test[_ps<S>]
# local/targets_study.sh's table (stage 3, one seed) then has the nnet1_<system> rows beside
# the GMM's and asrkt's (run it with the same --seeds and --targets mono).
#
# Usage: local/nnet1_anchor.sh [options] <work>   (relative paths: to the current directory)
#   e.g. local/nnet1_anchor.sh --systems "lstm rand" /work/fsdd_study
# Stages: 1 CV lists  2 each system trained and decoded at S = 1.0, fold after fold  3 the other
#         prior scales
# Without a Kaldi build that has the nnet1 tools, scripts/kaldi_nnet1.sh says so and this script
# ends with nothing trained (exit 0).
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")/.."

stage=1
stop_stage=3
folds=""                # test speakers of the nested folds (nest_<speaker>); "": every nest_* of <work>
cond=full               # training condition
seed=1                  # the asrkt networks' seed (their CV split); Kaldi keeps its own seed 777
conf=conf               # run.sh's configs: dnn.yaml (rand's size, splice), lstm.yaml (lstm's size)
systems="lstm rand"     # nnet1 systems: lstm (LSTM), rand (DNN, random init)
prior_scales="1.0 0.5 0"  # S of the decoding (1.0 first: nnet1's own)
nn_threads=1            # Kaldi's BLAS threads
kaldi_opts=""           # appended to scripts/kaldi_nnet1.sh (e.g. "--max-iters 1" in tests)
suffix=""               # the systems' dirs are nnet1/<system><suffix> (a variant: e.g. --suffix _e40
                        #   --kaldi-opts "--max-iters 40")
. ../common/parse_options.sh
if [ $# -ne 1 ]; then echo "Usage: $0 [options] <work> (--help for more)" >&2; exit 1; fi
. ./path.sh
. ../common/nnet1_anchor.sh   # + stage.sh, systems.sh
work=$(caller_path "$1")
absolute_options conf
for k in $systems; do
  case $k in rand|lstm) ;; *) echo "$0: --systems: rand or lstm, not '$k'" >&2; exit 1 ;; esac
done
nnet1_dnn_conf "$conf" "$systems"
nnet1_lstm_opts "$conf" "$systems"
. local/nested.sh
[ -n "$folds" ] || folds=$(nested_folds) || exit 1
nested_resolve $folds || exit 1
export OMP_NUM_THREADS=$nn_threads MKL_NUM_THREADS=$nn_threads

for f in $folds; do
  read -r cv e _ train _ _ _ cv_data <<< "${fold_dirs[$f]}"
  for p in $train/feats.scp $cv_data/feats.scp $e/mono_ali/pdf.scp $e/mono/final.mdl $e/mono/graph/HCLG.fst; do
    [ -f $p ] || { echo "$0: $p does not exist (local/tri_study.sh and local/targets_study.sh stage 1 make it)" >&2; exit 1; }
  done
done

kaldi_nnet1() {  # kaldi_nnet1 FOLD SYSTEM [OPTIONS]: scripts/kaldi_nnet1.sh for <e>/nnet1/<system>
  local f=$1 k=$2 cv e train cv_data pre=(); shift 2
  read -r cv e _ train _ _ _ cv_data <<< "${fold_dirs[$f]}"
  [ $k = lstm ] && pre=("${lstm_opts[@]}")
  # shellcheck disable=SC2086
  bash "$ASRKT_ROOT/scripts/kaldi_nnet1.sh" --cv-list $e/nnet1/cv_seed$seed.list \
    --cmvn-opts "--norm-means=true --norm-vars=false" --hid-layers $hid_layers --hid-dim $hid_dim \
    --splice $splice --num-threads $nn_threads --decode-sets $cv_data "${pre[@]}" $kaldi_opts "$@" \
    $train $e/mono_ali $e/mono $e/mono/graph $e/nnet1/$k$suffix
}

if stage_begins 1 "CV lists: the utterances the seed-$seed networks hold out (folds $folds)"; then
  for f in $folds; do
    read -r cv e _ train _ _ _ cv_data <<< "${fold_dirs[$f]}"
    [ -f $e/nnet1/cv_seed$seed.list ] || nnet1_cv_list $train $seed $conf/dnn.yaml $e/nnet1/cv_seed$seed.list
  done
fi

if stage_begins 2 "Kaldi nnet1 $systems, folds $folds, decoded at S = 1.0"; then
  for k in $systems; do
    for f in $folds; do kaldi_nnet1 $f $k; done
  done
fi

if stage_begins 3 "the other prior scales: $prior_scales"; then
  for ps in $prior_scales; do
    case $ps in 1|1.0|1.00) continue ;; esac
    for k in $systems; do
      for f in $folds; do
        read -r cv e _ <<< "${fold_dirs[$f]}"
        [ -e $e/nnet1/$k$suffix/final.nnet ] || continue
        kaldi_nnet1 $f $k --stage 4 --prior-scale $ps --decode-suffix _ps$ps
      done
    done
  done
fi
