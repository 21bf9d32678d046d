#!/usr/bin/env bash
# ANCHOR_nnet1.md (issues 22/23): Kaldi nnet1 (scripts/kaldi_nnet1.sh, Kaldi's own binaries, CPU)
# trained on exactly what run.sh's DNN teacher (1) dnn_rand trains on, decoded through the same
# senone graph on the same dev speakers, next to it, dnn_rbm and the GMMs mono/tri1/tri2 - is a
# DNN that does not beat its GMM on these targets asrkt's doing or the task's?
# recipes/speech_commands/local/nnet1_anchor.sh is the monophone version; what differs here:
#   features   data/fbank/train (full; quarter: data/fbank/quarter/train), 40 log mel fbank,
#              per-speaker mean normalisation (apply-cmvn --norm-means=true --norm-vars=false:
#              the teachers' cmvn "speaker", norm_vars false), splice and global normalisation
#              (nnet1's feature transform; the teachers' splice and global_norm)
#   targets    exp/<nn-gmm>_ali/pdf.scp (run.sh --nn-gmm: tri2's senones; quarter:
#              exp/quarter/<nn-gmm>_ali); an utterance the GMM did not align is skipped, as the
#              teachers skip it (kaldi_nnet1.sh --max-skip-fraction, the teachers' 0.1)
#   CV         the utterances the seed-<seed> teachers held out (recipes/common/nnet1_anchor.sh)
#   network    --hid-layers/--hid-dim/--splice from conf/dnn.yaml (the teachers' size); nnet1's
#              sigmoid units, SGD (learn rate 0.008, minibatch 256), newbob (max 20 epochs);
#              --systems dbn adds the DBN-pretrained network (conf/rbm.yaml's rbm_iter)
#   decoding   exp/<nn-gmm>/graph (the word trigram/bigram graph of data/lang_test) and
#              exp/<nn-gmm>/final.mdl, latgen-faster-mapped at acwt 0.1 (nnet1's decode.sh
#              defaults: beam 13, lattice beam 8), lattice-best-path per LM weight
#              --nn-min-lmwt..--nn-max-lmwt (run.sh's 4..17), compute-wer over the words
# The asrkt teachers are run.sh's (stages 0-9 and 15 with --conditions <cond> --seeds <seed>:
# decode_<set> holds their LM-weight sweep); the GMM rows are run.sh stage 7's decode_<set>.
# The dev speakers only, unless --test true (the final table, as run.sh).
#
# Usage: local/nnet1_anchor.sh [options]      (relative paths: to the current directory)
#   e.g. local/nnet1_anchor.sh --work /work/so762
# Stages: 1 CV list  2 nnet1 random init (rand) [+ DBN-pretrained (dbn)], decoded at prior scale 1.0
#         3 prior-scale study: Kaldi's networks and the asrkt teachers again with the log-priors
#           scaled by each of --prior-scales (nnet-forward / asrkt forward --prior-scale), decoded
#           over the LM weights (decode_<set>_ps<S>, asrkt: decode_<set>_ps<S>_sweep with
#           run.sh's decode-nnet options)
#         4 the decoders' agreement: Kaldi's log-likelihoods through asrkt decode-nnet at
#           --nn-lmwt (decode_<set>_asrkt)
#         5 ANCHOR_nnet1.md (scripts/nnet1_anchor_table.py)
# Every step skips what is done; an interrupted training resumes from its last finished epoch.
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")/.."

stage=1
stop_stage=5
work=.                  # run.sh's work dir
cond=full               # training condition (run.sh --conditions): full or quarter
seed=1                  # the asrkt teachers' seed (their CV split); Kaldi keeps its own seed 777
conf=conf               # run.sh's configs: dnn.yaml (size, splice), rbm.yaml (with --systems dbn)
nn_gmm=tri2             # run.sh --nn-gmm: the GMM whose senone alignments, graph and model are used
gmms="mono tri1 tri2"   # the GMM rows of the table
test=false              # also decode the test speakers (only for the final table)
systems="rand"          # nnet1 systems: rand (random init), dbn (DBN-pretrained)
nn_min_lmwt=4           # run.sh's LM-weight sweep of the networks
nn_max_lmwt=17
nn_lmwt=10              # the weight of the decoders' agreement (1 / acoustic scale 0.1)
nn_threads=1            # --num-threads of asrkt forward and Kaldi's BLAS
nj=2                    # decode-nnet jobs
prior_scales="0.5"      # stage 3: prior scales besides nnet1's and asrkt's 1.0
kaldi_opts=""           # appended to scripts/kaldi_nnet1.sh (e.g. "--max-iters 1" in tests)
out=ANCHOR_nnet1.md     # the table (relative: to the work dir)
asrkt_command=""        # for the table: the run.sh command that made the GMMs and the teachers
. ../common/parse_options.sh
. ./path.sh
. ../common/nnet1_anchor.sh   # + stage.sh, systems.sh
absolute_options conf work
case $cond in full|quarter) ;; *) echo "$0: --cond: full or quarter, not '$cond'" >&2; exit 1 ;; esac
for k in $systems; do
  case $k in rand|dbn) ;; *) echo "$0: --systems: rand or dbn, not '$k'" >&2; exit 1 ;; esac
done
nnet1_dnn_conf "$conf" "$systems"
thr="--num-threads $nn_threads"
export OMP_NUM_THREADS=$nn_threads MKL_NUM_THREADS=$nn_threads
sets=dev
[ "$test" = false ] || sets="$sets test"
cd "$work" 2>/dev/null || { echo "$0: --work: no folder '$work'" >&2; exit 1; }
e=exp; train=data/fbank/train
[ $cond = full ] || { e=exp/$cond; train=data/fbank/$cond/train; }
ali=$e/${nn_gmm}_ali
gmm=$e/$nn_gmm
nnet1=exp/$cond/nnet1   # next to the teachers in exp/<cond>/seed<S>
for f in $train/feats.scp $ali/pdf.scp $gmm/final.mdl $gmm/graph/HCLG.fst; do
  [ -f $f ] || { echo "$0: $work/$f does not exist (run run.sh stages 0-7 --conditions $cond first)" >&2; exit 1; }
done
decode_dirs=""
for set in $sets; do decode_dirs="$decode_dirs $PWD/data/fbank/$set"; done
lmwts=(--min-lmwt $nn_min_lmwt --max-lmwt $nn_max_lmwt)

if stage_begins 1 "CV list: the utterances the seed-$seed teachers hold out of $train"; then
  [ -f $nnet1/cv.list ] || nnet1_cv_list $train $seed $conf/dnn.yaml $nnet1/cv.list
fi

common=(--cv-list $nnet1/cv.list --cmvn-opts "--norm-means=true --norm-vars=false"
        --hid-layers $hid_layers --hid-dim $hid_dim --splice $splice --num-threads $nn_threads
        --max-skip-fraction 0.1 --decode-sets "$decode_dirs" "${lmwts[@]}")
kaldi_nnet1() {  # kaldi_nnet1 rand|dbn [OPTIONS]: scripts/kaldi_nnet1.sh for exp/<cond>/nnet1/<system>
  local k=$1 pre=(); shift
  [ $k = rand ] || pre=(--pretrain true --rbm-iter $rbm_iter)
  # shellcheck disable=SC2086
  bash "$ASRKT_ROOT/scripts/kaldi_nnet1.sh" "${common[@]}" "${pre[@]}" $kaldi_opts "$@" \
    $train $ali $gmm $gmm/graph $nnet1/$k
}
if stage_begins 2 "Kaldi nnet1 ($systems; $hid_layers x $hid_dim, splice $splice) on $ali, decoded at prior scale 1.0"; then
  for k in $systems; do kaldi_nnet1 $k; done
fi

if stage_begins 3 "prior-scale study on $sets: log-priors scaled by $prior_scales, LMWT $nn_min_lmwt..$nn_max_lmwt"; then
  s=exp/$cond/seed$seed
  for ps in $prior_scales; do
    for k in $systems; do
      [ -e $nnet1/$k/final.nnet ] || continue
      kaldi_nnet1 $k --stage 4 --prior-scale $ps --decode-suffix _ps$ps
    done
    for sys in dnn_rand dnn_rbm; do
      [ -f $s/$sys/final.pt ] || { echo "  $s/$sys: not trained (run.sh stage 9), skipped" >&2; continue; }
      for set in $sets; do
        l=$s/$sys/loglikes_${set}_ps$ps
        [ -f $s/$sys/decode_${set}_ps${ps}_sweep/.done ] ||
          [ -f $l/loglikes.scp ] || asrkt forward $thr --prior-scale $ps $s/$sys data/fbank/$set $l </dev/null
        done_or_run $s/$sys/decode_${set}_ps${ps}_sweep asrkt decode-nnet --nj $nj "${lmwts[@]}" \
          --acoustic-scale 0.1 --data-dir data/fbank/$set $gmm/graph \
          scp:$l/loglikes.scp $gmm $s/$sys/decode_${set}_ps${ps}_sweep </dev/null
        rm -rf $l   # 416 pdfs x 4 bytes a frame
      done
    done
  done
fi

if stage_begins 4 "Kaldi's log-likelihoods of $sets through asrkt decode-nnet (LMWT $nn_lmwt)"; then
  for k in $systems; do
    for set in $sets; do
      l=$nnet1/$k/decode_$set/loglikes.scp
      [ -f $l ] || { echo "  $l: not decoded (stage 2), skipped" >&2; continue; }
      done_or_run $nnet1/$k/decode_${set}_asrkt asrkt decode-nnet --nj $nj --min-lmwt $nn_lmwt --max-lmwt $nn_lmwt \
        --acoustic-scale 0.1 --data-dir data/fbank/$set $gmm/graph scp:$l $gmm \
        $nnet1/$k/decode_${set}_asrkt </dev/null
    done
  done
fi

if stage_begins 5 "$out"; then
  command=$(quote_command recipes/speechocean762/local/nnet1_anchor.sh "${script_args[@]}")
  gmm_dirs=""
  for g in $gmms; do gmm_dirs="$gmm_dirs $g=$e/$g"; done
  python "$ASRKT_ROOT/scripts/nnet1_anchor_table.py" --exp exp/$cond --seed $seed --sets "$sets" \
    --nn-lmwt $nn_lmwt --min-lmwt $nn_min_lmwt --max-lmwt $nn_max_lmwt --prior-scales "$prior_scales" \
    --kaldi-systems "$systems" --gmms "$gmm_dirs" --asrkt-sweep "decode_{set}" \
    --gmm-lmwt $nn_lmwt --about "Every network trains on the same fbank features, $nn_gmm's senone alignments ($(cat $nnet1/${systems%% *}/num_pdf 2>/dev/null || echo '?') pdfs) and CV utterances and decodes through the same HCLG ($nn_gmm's graph over data/lang_test: the $(cat data/local/lm/order 2>/dev/null || echo '?')-gram LM of the training text); %WER over the words of the sentences. Lattice beam: 8 in Kaldi's decodes (decode.sh), 6 in asrkt's (run.sh's decode-nnet and decode); the best path at a weight is the same unless the lattice pruned it." \
    --command "$command" --out "$out" --asrkt-command "$asrkt_command" \
    --title "Kaldi nnet1 anchor: speechocean762, condition $cond, seed $seed" \
    --train-data "$train ($(wc -l < $train/feats.scp) utterances; alignments $ali)"
  cat "$out"
fi
