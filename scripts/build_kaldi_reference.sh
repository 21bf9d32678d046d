#!/usr/bin/env bash
# Build a reference Kaldi (only the binaries asrkt's interop checks need) into a cache folder
# outside the repository, from the Kaldi src/ tarball (Apache 2.0).
#
# OS packages it installs (Debian/Ubuntu, apt-get; skipped when already installed):
#   libfst-dev libfst-tools   OpenFst 1.7.9 (headers, libfst.so, fstinfo/fstprint/...)
#   libatlas-base-dev         ATLAS BLAS/LAPACK (cblas-atlas.h, clapack.h, libatlas.so ...)
#   g++ make                  the compiler (usually present)
#
# Usage: scripts/build_kaldi_reference.sh [--tarball PATH] [--root DIR] [--jobs N] [--without-nnet]
#   --tarball   Kaldi src/ tarball (default: $ASRKT_KALDI_TARBALL or ../shared/kaldi/kaldi-src.tar.gz
#               next to the repository)
#   --root      cache folder (default: $ASRKT_KALDI_ROOT or ~/.cache/asrkt/kaldi)
#   --jobs      make -j (default 2)
#   --without-nnet  skip the nnet1 tools (they need nnet/ and cudamatrix/, CPU only: a few more
#               minutes on 2 cores)
#
# Result: $ROOT/bin holds links to every built binary and to OpenFst's fstinfo/fstprint; the
# interop checks (scripts/kaldi_interop.sh, tests/interop/) look there. Idempotent: a second run
# re-extracts nothing and make rebuilds nothing that is up to date.
#
# What worked on Debian 12 (bookworm), g++ 12: OS OpenFst through --fst-root (a folder whose
# include/fst and lib/libfst.so link to the system ones) with --fst-version 1.7.9; ATLAS through
# --mathlib=ATLAS with an atlas root whose include/ holds cblas-atlas.h as cblas.h and clapack.h
# (with OpenBLAS, matrix/ does not compile against the OS's lapack.h); and in
# fstext/openfst_compat.h the pre-1.8 printer.Print(&os, s) must be printer.Print(os, s) for 1.7.9.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
tarball=${ASRKT_KALDI_TARBALL:-$here/../shared/kaldi/kaldi-src.tar.gz}
root=${ASRKT_KALDI_ROOT:-$HOME/.cache/asrkt/kaldi}
jobs=2
with_nnet=true
while [ $# -gt 0 ]; do
  case "$1" in
    --tarball) tarball=$2; shift 2 ;;
    --root) root=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --without-nnet) with_nnet=false; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "build_kaldi_reference.sh: error: unknown argument '$1'" >&2; exit 1 ;;
  esac
done
. "$here/recipes/common/paths.sh"
tarball=$(abs_path "$tarball"); root=$(abs_path "$root")   # used after cd "$root/src" and in links
[ -f "$tarball" ] || [ -f "$root/src/.extracted" ] || {
  echo "build_kaldi_reference.sh: error: no tarball at $tarball (nor sources in $root/src)" >&2; exit 1; }
start=$(date +%s)

# Libraries in dependency order, and the binaries per bin folder.
LIBS="base matrix util tree gmm transform hmm feat fstext lm lat decoder"
# Feature, alignment, decoding and format tools (the interop checks); the GMM, tree, LDA and MLLT
# tools of steps/train_mono.sh, train_deltas.sh and train_lda_mllt.sh (the tri1/tri2 anchors of
# the context-dependent checks); nnet1's DBN pre-training and frame-level training
# (steps/nnet/pretrain_dbn.sh, train.sh: the DNN anchor) and its LSTM trainers (train.sh
# --network-type lstm --train-tool nnet-train-multistream or nnet-train-multistream-perutt: the
# LSTM anchor).
FEATBIN="copy-feats compute-fbank-feats compute-mfcc-feats compute-cmvn-stats apply-cmvn add-deltas
         splice-feats transform-feats compose-transforms feat-to-dim feat-to-len"
GMMBIN="gmm-align-compiled gmm-align gmm-decode-faster gmm-latgen-faster gmm-info
        gmm-init-mono gmm-est gmm-acc-stats-ali gmm-sum-accs gmm-mixup gmm-init-model
        gmm-acc-mllt gmm-transform-means gmm-boost-silence gmm-copy"
BIN="ali-to-pdf ali-to-post analyze-counts compile-train-graphs compute-wer copy-post tree-info
     hmm-info latgen-faster-mapped copy-matrix align-equal-compiled acc-tree-stats sum-tree-stats
     cluster-phones compile-questions build-tree convert-ali copy-tree copy-transition-model
     draw-tree ali-to-phones show-alignments acc-lda est-lda sum-lda-accs est-mllt
     sum-mllt-accs align-mapped align-compiled-mapped weight-silence-post"
LATBIN="lattice-best-path lattice-copy"
NNETBIN="nnet-forward nnet-initialize nnet-train-frmshuff rbm-train-cd1-frmshuff
         rbm-convert-to-nnet nnet-concat nnet-copy nnet-info cmvn-to-nnet transf-to-nnet
         nnet-train-multistream nnet-train-multistream-perutt"

install_os_packages() {
  local missing=()
  for p in libfst-dev libfst-tools libatlas-base-dev g++ make; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing OS packages: ${missing[*]}"
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get install -y -q "${missing[@]}"
}

prepare_roots() {
  # OpenFst root: include/fst and lib/libfst.so link to the OS's; ATLAS root: include/.
  mkdir -p "$root/fst/include" "$root/fst/lib" "$root/atlas/include" "$root/bin"
  local multi; multi=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
  ln -sfn /usr/include/fst "$root/fst/include/fst"
  ln -sfn "/usr/lib/$multi/libfst.so" "$root/fst/lib/libfst.so"
  ln -sfn "/usr/include/$multi/cblas-atlas.h" "$root/atlas/include/cblas.h"
  ln -sfn "/usr/include/$multi/clapack.h" "$root/atlas/include/clapack.h"
  # cblas-atlas.h includes atlas headers by relative name in some builds
  [ -d "/usr/include/$multi/atlas" ] && ln -sfn "/usr/include/$multi/atlas" "$root/atlas/include/atlas"
  for t in fstinfo fstprint fstcompile fstdraw; do
    command -v "$t" >/dev/null && ln -sfn "$(command -v "$t")" "$root/bin/$t"
  done
  return 0
}

extract_and_configure() {
  if [ ! -f "$root/src/.extracted" ]; then
    [ -f "$tarball" ] || { echo "build_kaldi_reference.sh: error: no tarball at $tarball" >&2; exit 1; }
    rm -rf "$root/src"
    tar -xzf "$tarball" -C "$root"
    # OpenFst 1.7.9 takes the stream by reference (Kaldi's pre-1.8 branch passes a pointer).
    sed -i 's/printer\.Print(&os, s);/printer.Print(os, s);/' "$root/src/fstext/openfst_compat.h"
    touch "$root/src/.short_version" "$root/src/.extracted"
  fi
  if [ ! -f "$root/src/kaldi.mk" ]; then
    (cd "$root/src" && ./configure --fst-root="$root/fst" --fst-version=1.7.9 \
        --mathlib=ATLAS --atlas-root="$root/atlas" --use-cuda=no)
  fi
}

build_bins() {
  # Args: $1 bin folder, $2 ADDLIBS override (libs it needs), rest: binaries.
  local dir=$1 libs=$2; shift 2
  local addlibs=""
  for l in $libs; do addlibs="$addlibs ../$l/kaldi-$l.a"; done
  nice -n 10 make -C "$root/src/$dir" -j "$jobs" ADDLIBS="$addlibs" "$@"
  for b in "$@"; do ln -sfn "$root/src/$dir/$b" "$root/bin/$b"; done
}

main() {
  install_os_packages
  prepare_roots
  extract_and_configure
  local l
  for l in $LIBS; do nice -n 10 make -C "$root/src/$l" -j "$jobs"; done
  local core="tree util matrix base"
  build_bins featbin "hmm feat transform gmm $core" $FEATBIN
  build_bins gmmbin "decoder lat fstext hmm feat transform gmm $core" $GMMBIN
  build_bins bin "decoder lat lm fstext hmm transform gmm $core" $BIN
  build_bins latbin "lat lm fstext hmm $core" $LATBIN
  if $with_nnet; then
    for l in cudamatrix nnet; do nice -n 10 make -C "$root/src/$l" -j "$jobs"; done
    build_bins nnetbin "nnet cudamatrix lat hmm $core" $NNETBIN
  fi
  echo "Kaldi reference binaries in $root/bin ($(ls "$root/bin" | wc -l) tools);" \
       "took $(( $(date +%s) - start )) s"
}

main
