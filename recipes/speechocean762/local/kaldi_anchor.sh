#!/usr/bin/env bash
# The Kaldi anchor of the GMM rows (issue 23 item 6): mono, tri1 and tri2 trained by the reference
# Kaldi build's binaries (scripts/kaldi_gmm.sh: steps/train_mono.sh, align_si.sh, train_deltas.sh
# and train_lda_mllt.sh's sequence, Kaldi's defaults) on the recipe's own features, lang and sizes, then
# decoded with the recipe's decoder and graphs (asrkt make-graph / decode read Kaldi model dirs;
# scripts/kaldi_interop.sh checks that asrkt decode gives gmm-decode-faster's hypotheses), so
# the rows differ from asrkt's only in the training code.
#
# Usage: local/kaldi_anchor.sh [options] <work-dir>
#   e.g. local/kaldi_anchor.sh --sets dev /tmp/so762
#   <work-dir>       a run.sh work dir after its stage 4 (data/mfcc, data/lang, data/lang_test)
#   --sets "dev"     sets decoded (test only for the final tables)
#   --tri1-leaves N --tri1-gauss M   train_deltas.sh's sizes [conf/gmm.sh, run.sh's defaults]
#   --tri2-leaves N --tri2-gauss M   train_lda_mllt.sh's (from Kaldi's tri1 alignments) [conf/gmm.sh]
#   --gmms "mono tri1 tri2"          the systems trained and decoded (tri2 needs tri1, tri1 mono)
#   --mono-gauss N   train_mono.sh's --totgauss [conf/gmm.sh]
#   --gmm-min-lmwt N --gmm-max-lmwt M   the LM weights scored [conf/gmm.sh, run.sh's sweep]
#   --nj N           decoding jobs [2]
#   --kaldi-root DIR the reference build [$ASRKT_KALDI_ROOT or ~/.cache/asrkt/kaldi]
# Output: <work-dir>/kaldi_exp/{mono,mono_ali,tri1,tri1_ali,tri2}, each GMM with graph/ and
# decode_<set>/.
# Without the reference build it says so and exits 0 (the anchor is optional).
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")/.."
sets=dev
. ./conf/gmm.sh         # the recipe's GMM sizes (run.sh's defaults): mono_gauss, tri1_leaves, tri1_gauss
nj=2
gmms="mono tri1 tri2"
kaldi_root=${ASRKT_KALDI_ROOT:-$HOME/.cache/asrkt/kaldi}
. ../common/parse_options.sh
. ./path.sh
. ../common/stage.sh
. ../common/systems.sh
[ $# -eq 1 ] || { echo "Usage: $0 [options] <work-dir>  e.g. $0 --sets dev /tmp/so762" >&2; exit 1; }
work=$(caller_path "$1")
absolute_options kaldi_root
for g in $gmms; do
  case $g in mono|tri1|tri2) ;; *) echo "kaldi_anchor.sh: --gmms: mono, tri1 and/or tri2, not '$g'" >&2; exit 1 ;; esac
done
if [ ! -x "$kaldi_root/bin/gmm-init-model" ]; then
  echo "kaldi_anchor.sh: no Kaldi reference build with the GMM tools in $kaldi_root" \
       "(scripts/build_kaldi_reference.sh); the anchor is skipped" >&2
  exit 0
fi
cd "$work"
# scripts/kaldi_gmm.sh's stages: 1 mono 2 mono_ali 3 tri1 4 tri1_ali 5 tri2; kaldi_exp/tri1's
# marker covers stages 1-3 (mono and tri1 always train together), kaldi_exp/tri2's stages 4-5
kaldi_gmm=(bash "$ASRKT_ROOT/scripts/kaldi_gmm.sh" --kaldi-root "$kaldi_root")
sizes=(--mono-totgauss $mono_gauss --tri1-leaves $tri1_leaves --tri1-gauss $tri1_gauss)
done_or_run kaldi_exp/tri1 "${kaldi_gmm[@]}" --stop-stage 3 "${sizes[@]}" data/mfcc/train data/lang kaldi_exp
if [[ " $gmms " == *" tri2 "* ]]; then
  done_or_run kaldi_exp/tri2 "${kaldi_gmm[@]}" --stage 4 --stop-stage 5 "${sizes[@]}" \
    --tri2-leaves $tri2_leaves --tri2-gauss $tri2_gauss data/mfcc/train data/lang kaldi_exp
fi
for g in $gmms; do
  graph_system kaldi_exp/$g/graph data/lang_test kaldi_exp/$g
  for x in $sets; do
    decode_gmm_system kaldi_exp/$g/decode_$x kaldi_exp/$g/graph data/mfcc/$x kaldi_exp/$g --nj $nj \
      --min-lmwt $gmm_min_lmwt --max-lmwt $gmm_max_lmwt   # run.sh's sweep (conf/gmm.sh)
    echo "kaldi_exp/$g/decode_$x: $(cat kaldi_exp/$g/decode_$x/scoring_kaldi/best_wer)" >&2
  done
done
