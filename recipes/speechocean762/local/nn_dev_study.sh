#!/usr/bin/env bash
# The networks' settings on the dev speakers (issue 22 item 2, issue 23 item 4): one factor at a
# time around run.sh's configs, each network trained as run.sh trains it (conf/dnn.yaml,
# conf/lstm.yaml; dnn_rbm from run.sh's RBMs exp/<cond>/seed<seed>/dbn) on the senone alignments
# of --targets (run.sh's --nn-gmm, tri2; mono, tri1 for the comparison of targets), decoded
# through that GMM's graph at each prior scale of --prior-scales over LM weights 4..17, next to
# the GMM's own dev decoding (run.sh stage 7). Variants are named as in recipes/common/targets.sh
# (dnn_rand_fm8: --freq-mask 8; lstm_ce_e40_st8: --max-epochs 40 --num-streams 8), the KT students
# too, on run.sh's teachers' soft targets (exp/<cond>/seed<seed>/dnn_{rand,rbm}_post, stage 10):
# lstm_kt_rbm_lr0.0003 (KT pre-training, conf/kt.yaml, learning rate 0.0003),
# lstm_kt_rbm_lr0.0003_ft_lr0.0003 (fine-tuned from it, conf/finetune.yaml), lstm_kt_rbm_k5_ft
# (the teacher's top 5 posteriors instead of run.sh's --top-k; dumped into dnn_rbm_post_k5). Decided at
# each system's best LM weight on dev (run.sh's rule for the weight; scripts/targets_table.py
# --rule best). The test speakers are never read.
#
# Usage: local/nn_dev_study.sh [options] <work>   (run.sh's work dir, stages 0-8 done)
#   e.g. local/nn_dev_study.sh --systems 'dnn_rand dnn_rand_fm8 dnn_rand_do20' /work/so762b
# Writes exp/<cond>/seed<seed>/<system>[_<targets>]/decode_dev[_ps<S>]_sweep and --out.
# Stages: 1 networks (train, then decode at every prior scale; one after the other)  2 the table
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")/.."

stage=1
stop_stage=2
cond=full               # training condition (run.sh --conditions): full or quarter
seed=1                  # seed of the networks and of run.sh's RBMs (seed<seed>/dbn)
conf=conf               # run.sh's configs: dnn.yaml, lstm.yaml (rbm.yaml made the RBMs)
targets=tri2            # GMMs whose senone alignments the networks train on (run.sh --nn-gmm first)
systems="dnn_rand dnn_rbm lstm_ce"   # networks and their variants (recipes/common/targets.sh)
prior_scales="1.0 0.5"  # S of log-posterior - S log-prior
temperature=2.0         # the students' KT temperature (run.sh --temperature)
kt_weight=0.25          # the students' KT weight in fine-tuning with the KT loss kept (run.sh --kt-weight)
nj=1                    # jobs of the decoding commands
decode_opts=""          # more asrkt decode-nnet options (e.g. "--beam 10 --max-active 2000")
nn_threads=1            # --num-threads of the neural commands
out=DEV_STUDY_nn.md     # the table (relative: to <work>)
. ../common/parse_options.sh
[ $# -eq 1 ] || { echo "Usage: $0 [options] <work>  e.g. $0 /work/so762b (--help for more)" >&2; exit 1; }
. ./path.sh
. ../common/stage.sh
. ../common/systems.sh
targets_home=${targets%% *}   # run.sh's networks (exp/.../dnn_rand) are on the first targets
targets_lmwts="4 17"          # run.sh's sweep (--nn-min-lmwt/--nn-max-lmwt)
targets_keep_loglikes=false   # hundreds of pdfs x 4 bytes a frame: hundreds of MB per decode
targets_decode_opts=$decode_opts
targets_temperature=$temperature
targets_kt_weight=$kt_weight
. ../common/targets.sh
work=$(caller_path "$1")
case $out in /*) ;; *) out=$work/$out ;; esac
absolute_options conf
[ -d "$conf" ] || { echo "$0: --conf: no folder '$conf'" >&2; exit 1; }
case $cond in full) e=exp; train=data/fbank/train ;; quarter) e=exp/quarter; train=data/fbank/quarter/train ;;
  *) echo "$0: --cond: full or quarter, not '$cond'" >&2; exit 1 ;; esac
thr="--num-threads $nn_threads"
[ "$nn_threads" -gt 0 ] && export OMP_NUM_THREADS=$nn_threads MKL_NUM_THREADS=$nn_threads
cd "$work"
s=exp/$cond/seed$seed
for t in $targets; do
  for f in $e/${t}_ali/pdf.scp $e/$t/graph/HCLG.fst $e/$t/decode_dev/.done; do
    [ -e $f ] || { echo "$0: $work/$f does not exist (run.sh stages 0-7, --conditions $cond)" >&2; exit 1; }
  done
done
for f in $train/feats.scp data/fbank/dev/feats.scp; do
  [ -f $f ] || { echo "$0: $work/$f does not exist (run.sh stage 3)" >&2; exit 1; }
done

if stage_begins 1 "networks ($systems) on $targets senones, dev at prior scales $prior_scales"; then
  case " $systems" in *" dnn_rbm"*)
    [ -f $s/dbn/.done ] || { echo "$0: $work/$s/dbn: no RBMs (run.sh stage 8)" >&2; exit 1; } ;;
  esac
  for t in rand rbm; do
    case " $systems" in *" lstm_kt_$t"*)
      [ -f $s/dnn_${t}_post/.done ] || { echo "$0: $work/$s/dnn_${t}_post: no soft targets (run.sh stage 10)" >&2; exit 1; } ;;
    esac
  done
  for t in $targets; do targets_dev_networks $t; done
fi

if stage_begins 2 "$out"; then
  tsv=$s/nn_dev_study.tsv
  : > $tsv
  for t in $targets; do
    targets_tsv_row $t GMM - dev $PWD/$e/$t/decode_dev - >> $tsv
    targets_dev_rows $t >> $tsv
  done
  python "$ASRKT_ROOT/scripts/targets_table.py" --tsv $tsv --out "$out" --rule best \
    --title "speechocean762: the networks' settings on the dev speakers (senone targets, prior scale, variants)" \
    --command "$(quote_command recipes/speechocean762/local/nn_dev_study.sh "${script_args[@]}")" \
    --setting "condition $cond (training data $train, $(wc -l < $train/feats.scp) utterances), seed $seed, dev speakers only (data/fbank/dev, $(wc -l < data/fbank/dev/feats.scp) utterances; test never read)" \
    --setting "GMM rows: run.sh stage 7's dev decoding ($e/<gmm>/decode_dev); networks: conf/dnn.yaml (dnn_rand; dnn_rbm from $s/dbn), conf/lstm.yaml (lstm_ce), conf/kt.yaml + conf/finetune.yaml (students, T $temperature, ftreg's W $kt_weight, on $s/dnn_{rand,rbm}_post), variants as recipes/common/targets.sh names them, --num-threads $nn_threads"
  cat "$out"
fi
