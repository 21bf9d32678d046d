#!/usr/bin/env bash
# Targets and priors of the hybrid networks, on CV speakers only (issue 21 item 5: monophone or
# senone targets; issue 22 item 2: the prior scale and the alignment quality as causes of the
# networks' loss to their GMM). In the nested folds of local/tri_study.sh (<work>/nest_<test
# speaker>/: run.sh work dirs training on the fold's training speakers but one, the CV speaker;
# the folds' test speakers are never read), for each GMM of --targets (mono, and the tri1/tri2
# of the grid with run.sh's sizes, tri1_l<L>_g<G>), its alignments (aligned here when missing),
# its graph and its CV decoding over LMWT 4..15 (the GMM row), then each network of --systems
# trained on its alignments as run.sh trains them (conf/dnn.yaml; dnn_rbm from RBMs of
# conf/rbm.yaml trained here, seed<seed>/dbn; lstm_ce: conf/lstm.yaml), decoded on the CV
# speaker with that GMM's graph and model at each prior scale of --prior-scales (log-likelihood
# = log-posterior - S log-prior; asrkt forward --prior-scale) over LMWT 4..15; %WER pooled over
# the folds (errors / words of all of them, as TRI_STUDY.md).
# With one seed the table also has Kaldi nnet1 on the monophone targets of the same folds where
# local/nnet1_anchor.sh made it (exp/si_<cv>/<cond>/nnet1/<rand|lstm><suffix>/decode_test[_ps<S>]).
#
# Usage: local/targets_study.sh [options] <work>   (relative paths: to the current directory)
#   e.g. local/targets_study.sh /tmp/fsdd_study   (after local/tri_study.sh ... /tmp/fsdd_study)
# Writes, per fold, exp/si_<cv>/<cond>/<gmm>/decode_cv_sweep, seed<seed>/dbn and
# seed<seed>/<system>[_<gmm>]/decode_cv[_ps<S>]_sweep, and --out (scripts/targets_table.py).
# Stages: 1 alignments, graphs, the GMMs' CV sweeps  2 networks (per system, fold after fold:
#         train, then decode at every prior scale)  3 the table
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")/.."

stage=1
stop_stage=3
folds=""                # test speakers of the nested folds (nest_<speaker>); "": every nest_* of <work>
cond=full               # training condition (run.sh --conditions)
seeds=1                 # seeds of the networks and the RBMs (several: the table pools over folds and seeds)
conf=conf               # run.sh's configs: dnn.yaml, rbm.yaml, lstm.yaml
targets=""              # GMM dirs whose alignments the networks train on; "": mono and run.sh's tri1
systems="dnn_rand dnn_rbm"  # networks: dnn_rand, dnn_rbm, lstm_ce; variants (recipes/common/targets.sh): e.g. lstm_ce_e40_fm8
prior_scales="1.0 0.5 0"    # S of log-posterior - S log-prior
nn_lmwt=10              # run.sh's fixed LM weights (the table's "fixed" column)
gmm_lmwt=12
nj=2                    # jobs of the GMM and decoding commands
nn_threads=1            # --num-threads of the neural commands
out=TARGETS_STUDY.md    # the table (relative: to <work>)
title="FSDD: network targets (monophone vs triphone GMM alignments) and prior scale, CV speakers (nested folds)"
                        # the table's title (another for a study of variants, e.g. LSTM_STUDY.md)
note=""                 # added to the table's settings (e.g. the commands that made the nnet1 rows)
. ../common/parse_options.sh
if [ $# -ne 1 ]; then echo "Usage: $0 [options] <work> (--help for more)" >&2; exit 1; fi
. ./path.sh
. ../common/stage.sh
. ../common/systems.sh
. ../common/targets.sh
work=$(caller_path "$1")
case $out in /*) ;; *) out=$work/$out ;; esac
absolute_options conf
[ -d "$conf" ] || { echo "$0: --conf: no folder '$conf'" >&2; exit 1; }
run_default() { sed -n "s/^$1=\([^ ]*\).*/\1/p" run.sh; }   # run.sh's GMM sizes
[ -n "$targets" ] || targets="mono tri1_l$(run_default tri1_leaves)_g$(run_default tri1_gauss)"
. local/nested.sh
[ -n "$folds" ] || folds=$(nested_folds) || exit 1
nested_resolve $folds || exit 1   # every fold, before any work
thr="--num-threads $nn_threads"
[ "$nn_threads" -gt 0 ] && export OMP_NUM_THREADS=$nn_threads MKL_NUM_THREADS=$nn_threads

if stage_begins 1 "folds $folds: alignments of $targets, graphs, CV over LMWT 4..15"; then
  for f in $folds; do
    read -r cv e mfcc fbank lang lang_test cv_mfcc cv_fbank <<< "${fold_dirs[$f]}"
    for t in $targets; do
      [ -f $e/$t/final.mdl ] || { echo "$0: $e/$t: no final.mdl (local/tri_study.sh's grid has it)" >&2; exit 1; }
      [ $t = mono ] || align_system $e/${t}_ali $mfcc $lang $e/$t --nj $nj
      targets_gmm_sweep $e $t $lang_test $cv_mfcc decode_cv $nj
    done
  done
fi

if stage_begins 2 "networks ($systems) on $targets targets, folds $folds, seeds $seeds, prior scales $prior_scales"; then
  for seed in $seeds; do
    for sys in $systems; do
      for f in $folds; do
        read -r cv e mfcc fbank lang lang_test cv_mfcc cv_fbank <<< "${fold_dirs[$f]}"
        s=$e/seed$seed
        [[ $sys != dnn_rbm* ]] || rbm_system $s/dbn $fbank --config $conf/rbm.yaml --seed $seed $thr
        for t in $targets; do
          targets_network $e $s $fbank $conf $t $sys $seed "$thr"
          targets_decode $e $s/$(target_net $sys $t) $t $cv_fbank cv $nj "$thr" "$prior_scales"
        done
      done
    done
  done
fi

if stage_begins 3 "$out"; then
  tsv=$work/targets_study.tsv
  : > $tsv
  label() {  # label FOLD CV SEED: the table's column (the seed only with several)
    if [ "$(echo $seeds | wc -w)" = 1 ]; then echo "fold $1: CV $2"; else echo "fold $1: CV $2, seed $3"; fi
  }
  for t in $targets; do
    for seed in $seeds; do   # the GMM has no seed: its row repeats per seed, its pooled %WER unchanged
      for f in $folds; do
        read -r cv e _ <<< "${fold_dirs[$f]}"
        if [ -f $e/$t/decode_cv_sweep/.done ]; then targets_tsv_row $t GMM - "$(label $f $cv $seed)" $e/$t/decode_cv_sweep - >> $tsv; fi
      done
    done
    for sys in $systems; do
      for ps in $prior_scales; do
        for seed in $seeds; do
          for f in $folds; do
            read -r cv e _ <<< "${fold_dirs[$f]}"
            n=$e/seed$seed/$(target_net $sys $t); d=$(targets_sweep_dir $n cv $ps)
            if [ -f $d/.done ]; then targets_tsv_row $t $sys $ps "$(label $f $cv $seed)" $d $n >> $tsv; fi
          done
        done
      done
    done
    [ $t = mono ] && [ "$(echo $seeds | wc -w)" = 1 ] || continue   # nnet1's one run: no seeds column
    read -r cv e _ <<< "${fold_dirs[${folds%% *}]}"
    for k in $(ls "$e/nnet1" 2>/dev/null | grep -E '^(rand|lstm)'); do   # Kaldi nnet1 on the same targets
      for ps in $prior_scales; do                                        # and folds (local/nnet1_anchor.sh)
        for f in $folds; do
          read -r cv e _ <<< "${fold_dirs[$f]}"
          n=$e/nnet1/$k; d=$n/decode_test$(_ps_suffix $ps)
          if [ -f $d/wer_$nn_lmwt ]; then targets_tsv_row $t nnet1_$k $ps "$(label $f $cv $seeds)" $d $n >> $tsv; fi
        done
      done
    done
  done
  read -r cv e mfcc fbank _ <<< "${fold_dirs[${folds%% *}]}"
  python "$ASRKT_ROOT/scripts/targets_table.py" --tsv $tsv --out "$out" --nn-lmwt $nn_lmwt --gmm-lmwt $gmm_lmwt \
    --title "$title" \
    --command "$(quote_command recipes/fsdd/local/targets_study.sh "${script_args[@]}")" \
    --setting "condition $cond, seeds $seeds; nested folds of local/tri_study.sh (each trains on the fold's training speakers but the CV speaker, e.g. $(wc -l < $fbank/feats.scp) utterances; each fold's test speaker never read)" \
    --setting "targets: $targets (tri1_l<L>_g<G>: train-deltas --num-leaves L --totgauss G on the monophone alignments; tri2_l<L>_g<G>: train-lda-mllt on tri1_l$(run_default tri1_leaves)_g$(run_default tri1_gauss)'s alignments; local/tri_study.sh's models of run.sh's sizes)" \
    --setting "networks: conf/dnn.yaml (dnn_rand; dnn_rbm from RBMs of conf/rbm.yaml, seed<seed>/dbn), conf/lstm.yaml (lstm_ce), --num-threads $nn_threads" \
    ${note:+--setting "$note"}
  cat "$out"
fi
