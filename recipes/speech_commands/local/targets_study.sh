#!/usr/bin/env bash
# Targets and priors of the hybrid networks, on the dev speakers (issue 21 item 5: monophone or
# senone targets; issue 22 item 2: the prior scale and the alignment quality as causes of the
# networks' loss to their GMM). In run.sh's work dir (its stages 0-3: data, features, monophone
# GMM + alignments; the RBMs of stage 7 for dnn_rbm), for each GMM of --targets (mono; tri1 =
# train-deltas on the monophone alignments, tri2 = train-lda-mllt on tri1's, with run.sh's sizes),
# its alignments, graph and dev decoding over LMWT 4..15 (the GMM row), then each network of
# --systems trained on its alignments as run.sh trains them (conf/dnn.yaml, rbm.yaml, lstm.yaml;
# training data data/fbank/<cond>/train, the clean clips; with --noisy true run.sh's train_aug, the
# clean clips and a noisy copy, on the alignments' copy <targets>_ali_aug), decoded with that GMM's graph and model
# at each prior scale of --prior-scales (log-likelihood = log-posterior - S log-prior; asrkt
# forward --prior-scale) over LMWT 4..15. The test speakers are never read. Networks on mono
# targets are run.sh's own (exp/<cond>/seed<seed>/dnn_rand, ...: trained here unless there),
# when run.sh made them with the same command: one it trained otherwise (run.sh's, on the noisy
# copy by default, in a study without --noisy true) stops the study with an error naming it.
# The table also shows Kaldi nnet1 on the same targets where local/nnet1_anchor.sh made it
# (exp/<cond>/nnet1/<rand|dbn|lstm> for mono, nnet1_<targets>/ with its --targets; one seed, so
# only in a table of one seed). With several --seeds, a column per seed and the pooled %WER.
#
# Usage: local/targets_study.sh [options]   (relative paths: to the current directory)
#   e.g. local/targets_study.sh --work /work/sc_clean
#        local/targets_study.sh --work /work/sc_clean --seeds "1 2 3" --targets mono --systems "dnn_rand dnn_rand_fm8"
# Writes exp/<cond>/{tri1,tri1_ali,tri2,tri2_ali} (as run.sh stages 4-5), exp/<cond>/<gmm>/decode_dev_sweep,
# exp/<cond>/seed<seed>/<system>[_<targets>]/decode_dev[_ps<S>]_sweep, and --out (scripts/targets_table.py).
# Stages: 1 GMMs, alignments, graphs and their dev sweeps  2 networks (train, then decode at
#         every prior scale; one network after the other)  3 the table
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")/.."

stage=1
stop_stage=3
work=.                  # run.sh's work dir
cond=full               # training condition (run.sh --conditions)
noisy=false             # true: the networks train on run.sh's training data + noisy copy (data/fbank/<cond>/train_aug,
                        #   exp/<cond>/<targets>_ali_aug: run.sh --noise-kt/--noise-baseline true, its default), so
                        #   that run.sh's own networks are the study's; false: the clean clips
seeds=1                 # seeds of the networks (and of run.sh's RBMs, seed<seed>/dbn); several: a column
                        #   per seed and the pooled %WER (each seed's errors summed; the GMM's row repeats)
conf=conf               # run.sh's configs: dnn.yaml, rbm.yaml, lstm.yaml
targets="mono tri1"     # the GMMs whose alignments the networks train on (mono tri1 tri2)
systems="dnn_rand dnn_rbm"  # networks: dnn_rand, dnn_rbm (run.sh's RBMs), lstm_ce
prior_scales="1.0 0.5 0"    # S of log-posterior - S log-prior
nn_lmwt=10              # run.sh's fixed LM weights (the table's "fixed" column)
gmm_lmwt=12
nj=2                    # jobs of the GMM and decoding commands
nn_threads=1            # --num-threads of the neural commands
out=TARGETS_STUDY.md    # the table (relative: to the work dir)
note=""                 # added to the table's settings (e.g. how the work dir was made)
title="Speech Commands: network targets (monophone vs triphone GMM alignments) and prior scale, dev speakers"  # the table's
. ../common/parse_options.sh
. ./path.sh
. ../common/stage.sh
. ../common/systems.sh
. ../common/targets.sh
absolute_options conf work
[ -d "$conf" ] || { echo "$0: --conf: no folder '$conf'" >&2; exit 1; }
run_default() { sed -n "s/^$1=\([^ ]*\).*/\1/p" run.sh; }   # run.sh's GMM sizes
tri1_leaves=$(run_default tri1_leaves); tri1_gauss=$(run_default tri1_gauss)
tri2_leaves=$(run_default tri2_leaves); tri2_gauss=$(run_default tri2_gauss)
thr="--num-threads $nn_threads"
[ "$nn_threads" -gt 0 ] && export OMP_NUM_THREADS=$nn_threads MKL_NUM_THREADS=$nn_threads
cd "$work"
e=exp/$cond
mfcc=data/mfcc/$cond/train
train=data/fbank/$cond/train
[ $noisy = false ] || { train=data/fbank/$cond/train_aug; targets_ali_suffix=_aug; }   # parse_options: true/false
for f in $mfcc/feats.scp $train/feats.scp $e/mono_ali/pdf.scp data/lang_test/G.fst data/fbank/dev/feats.scp; do
  [ -f $f ] || { echo "$0: $work/$f does not exist (run run.sh stages 0-3 --conditions $cond first)" >&2; exit 1; }
done
if [ $noisy = true ]; then   # run.sh copies only its --nn-gmm's alignments to the noisy copy
  for t in $targets; do
    [ -f $e/${t}_ali_aug/pdf.scp ] || { echo "$0: --noisy true: $work/$e/${t}_ali_aug/pdf.scp does not exist (run.sh makes the noisy copy's alignments of its --nn-gmm only: run it with --nn-gmm $t, or --noisy false)" >&2; exit 1; }
  done
fi

if stage_begins 1 "GMMs of $targets (tri1 $tri1_leaves/$tri1_gauss, tri2 $tri2_leaves/$tri2_gauss), alignments, graphs, dev over LMWT 4..15"; then
  for t in $targets; do
    case $t in
      mono) ;;
      tri1) train_deltas_system $e/tri1 $mfcc data/lang $e/mono_ali --nj $nj --num-leaves $tri1_leaves --totgauss $tri1_gauss
            align_system $e/tri1_ali $mfcc data/lang $e/tri1 --nj $nj ;;
      tri2) train_lda_mllt_system $e/tri2 $mfcc data/lang $e/tri1_ali --nj $nj --num-leaves $tri2_leaves --totgauss $tri2_gauss
            align_system $e/tri2_ali $mfcc data/lang $e/tri2 --nj $nj ;;
      *) echo "$0: --targets: mono, tri1 or tri2, not '$t'" >&2; exit 1 ;;
    esac
    targets_gmm_sweep $e $t data/lang_test data/mfcc/dev decode_dev $nj
  done
fi

if stage_begins 2 "networks ($systems) on $targets targets, seeds $seeds, dev at prior scales $prior_scales"; then
  for seed in $seeds; do
    s=$e/seed$seed
    for t in $targets; do targets_dev_networks $t; done
  done
fi

if stage_begins 3 "$out"; then
  tsv=$e/targets_study.tsv
  : > $tsv
  several=false; [ "$(echo $seeds | wc -w)" = 1 ] || several=true
  label() {  # label SEED: the table's column (the seed only with several)
    if [ $several = false ]; then echo dev; else echo "seed $1"; fi
  }
  for t in $targets; do
    for seed in $seeds; do   # the GMM has no seed: its row repeats per seed, its pooled %WER unchanged
      if [ -f $e/$t/decode_dev_sweep/.done ]; then targets_tsv_row $t GMM - "$(label $seed)" $PWD/$e/$t/decode_dev_sweep - >> $tsv; fi
    done
    for seed in $seeds; do
      s=$e/seed$seed
      targets_dev_rows $t "$(label $seed)" >> $tsv
    done
    [ $several = false ] || continue   # nnet1's one run is no column of a seeds table
    for k in rand dbn lstm; do   # Kaldi nnet1 on the same targets (local/nnet1_anchor.sh --targets)
      n=$e/nnet1$([ $t = mono ] || echo _$t)/$k
      for ps in $prior_scales; do
        d=$n/decode_dev$(_ps_suffix $ps)
        if [ -f $d/wer_$nn_lmwt ]; then targets_tsv_row $t nnet1_$k $ps dev $PWD/$d $PWD/$n >> $tsv; fi
      done
    done
  done
  tri_note=""
  [ "$targets" = mono ] || tri_note="tri1: train-deltas --num-leaves $tri1_leaves --totgauss $tri1_gauss on exp/$cond/mono_ali; tri2: train-lda-mllt --num-leaves $tri2_leaves --totgauss $tri2_gauss on tri1's alignments (run.sh's sizes)"
  copy="no noisy copy"   # a noisy copy (run.sh's train_aug) has utt2noise
  [ ! -f $train/utt2noise ] || copy="the clean clips and a noisy copy of each"
  python "$ASRKT_ROOT/scripts/targets_table.py" --tsv $tsv --out "$out" --nn-lmwt $nn_lmwt --gmm-lmwt $gmm_lmwt \
    --title "$title" \
    --command "$(quote_command recipes/speech_commands/local/targets_study.sh "${script_args[@]}")" \
    --setting "condition $cond (training data $train, $(wc -l < $train/feats.scp) utterances, $copy), seeds $seeds, dev speakers only (data/fbank/dev, $(wc -l < data/fbank/dev/feats.scp) clips; test never read)" \
    ${tri_note:+--setting "$tri_note"} \
    --setting "networks: conf/dnn.yaml (dnn_rand; dnn_rbm from run.sh's RBMs seed<seed>/dbn, conf/rbm.yaml), conf/lstm.yaml (lstm_ce), --num-threads $nn_threads" \
    ${note:+--setting "$note"}
  cat "$out"
fi
