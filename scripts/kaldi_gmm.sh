#!/usr/bin/env bash
# Kaldi's GMM training chain with Kaldi's own binaries on asrkt directories: the anchor that
# asrkt's train-mono / train-deltas / train-lda-mllt are compared with (scripts/kaldi_interop.sh
# stage 3, recipes that have a Kaldi build). Our own script; it runs the binaries in the order
# of Kaldi's egs/wsj/s5/steps/train_mono.sh, align_si.sh, train_deltas.sh and
# train_lda_mllt.sh, as one job (no split data), with their defaults:
#   mono       gmm-init-mono (--shared-phones=phones/sets.int, the first 10 utterances),
#              compile-train-graphs, align-equal-compiled + gmm-acc-stats-ali, gmm-est
#              --min-gaussian-occupancy=3, then passes 1..mono_num_iters-1 of gmm-acc-stats-ali /
#              gmm-est --mix-up with gmm-align-compiled (gmm-boost-silence) on mono_realign_iters
#   mono_ali   compile-train-graphs + gmm-align-compiled with exp/mono's final model (align_si.sh)
#   tri1       acc-tree-stats (--ci-phones=context_indep.csl) over the alignments of ALI_DIR
#              (exp/mono_ali, or --ali-dir: an asrkt ALI_DIR, ali.scp + final.mdl), sum-tree-stats,
#              cluster-phones, extra_questions.int appended, compile-questions, build-tree
#              (roots.int, --max-leaves, --cluster-thresh, --verbose=1), gmm-init-model,
#              gmm-mixup, convert-ali, compile-train-graphs, EM passes 1..num_iters-1 realigning
#              on realign_iters
#   tri1_ali   align_si.sh with exp/tri1
#   tri2       train_lda_mllt.sh from exp/tri1_ali: ali-to-post | weight-silence-post 0.0 |
#              acc-lda --rand-prune, est-lda --dim, the tree stage on the LDA features,
#              gmm-init-model, convert-ali, EM passes with gmm-acc-mllt / est-mllt /
#              gmm-transform-means / compose-transforms on mllt_iters (exp/tri2/final.mat)
# Features: apply-cmvn --utt2spk (DATA/cmvn.scp per speaker) + add-deltas (mono, tri1), or
# splice-feats + transform-feats with the LDA+MLLT matrix (tri2). Every step logs to
# EXP/<system>/log/<step>.log; a stage that fails stops the script with its log's name.
#
# Usage: scripts/kaldi_gmm.sh [options] DATA_DIR LANG_DIR EXP_DIR
#   DATA_DIR   feats.scp, cmvn.scp (speaker CMVN stats), utt2spk, text (asrkt writes Kaldi's)
#   LANG_DIR   asrkt prepare-lang output (Kaldi layout: topo, L.fst, words.txt, phones/*)
#   EXP_DIR    gets mono/ mono_ali/ tri1/ tri1_ali/ tri2/ (Kaldi exp dirs: final.mdl, tree,
#              ali.1.gz, num_jobs, log/; tri2 also final.mat)
# Options (defaults in brackets; Kaldi's names):
#   --kaldi-root DIR           the build (bin/), [$ASRKT_KALDI_ROOT or ~/.cache/asrkt/kaldi]
#   --stage N --stop-stage M   1 mono, 2 mono_ali, 3 tri1, 4 tri1_ali, 5 tri2 [1..5]
#   --ali-dir DIR              start tri1 from this alignment dir (asrkt ALI_DIR or Kaldi's)
#                              instead of exp/mono_ali (stages 1-2 are then not needed)
#   --tri2-ali-dir DIR         start tri2 from this alignment dir instead of exp/tri1_ali
#   --mono-totgauss [1000] --mono-num-iters [40] --mono-max-iter-inc [30]
#   --mono-realign-iters ["1 2 3 4 5 6 7 8 9 10 12 14 16 18 20 23 26 29 32 35 38"]
#   --tri1-leaves [2000] --tri1-gauss [10000] (train_deltas.sh <num-leaves> <tot-gauss>)
#   --tri2-leaves [2500] --tri2-gauss [15000] (train_lda_mllt.sh <#leaves> <#gauss>)
#   --num-iters [35] --max-iter-inc [25] --realign-iters ["10 20 30"] (tri1, tri2)
#   --mllt-iters ["2 4 6 12"] --lda-dim [40] --randprune [4.0] --splice-opts
#                              ["--left-context=3 --right-context=3"]
#   --beam [10] --retry-beam [40] --careful [false] --boost-silence [1.0] --power [0.25]
#   --cluster-thresh [-1] --context-opts [""] (e.g. "--context-width=3 --central-position=1")
#   --perturb-factor [0.01]    gmm-mixup / gmm-est --perturb-factor (0: split copies unmoved)
#   --keep-models [false]      keep every pass's X.mdl (the scripts remove them)
#   --rand-seed [""]           seed the C library's rand() of every binary (srand, through an
#                              LD_PRELOAD library compiled with cc into EXP_DIR/srand): Kaldi's
#                              RandGauss (the mixing-up perturbation) and RandInt (cluster-phones'
#                              k-means) draw from it; unseeded, it is seed 1
#   Relative paths are relative to the current directory.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
kroot=${ASRKT_KALDI_ROOT:-$HOME/.cache/asrkt/kaldi}
stage=1
stop_stage=5
ali_dir=
tri2_ali_dir=
mono_totgauss=1000
mono_num_iters=40
mono_max_iter_inc=30
mono_realign_iters="1 2 3 4 5 6 7 8 9 10 12 14 16 18 20 23 26 29 32 35 38"
tri1_leaves=2000
tri1_gauss=10000
tri2_leaves=2500
tri2_gauss=15000
num_iters=35
max_iter_inc=25
realign_iters="10 20 30"
mllt_iters="2 4 6 12"
lda_dim=40
randprune=4.0
splice_opts="--left-context=3 --right-context=3"
beam=10
retry_beam=40
careful=false
boost_silence=1.0
power=0.25
cluster_thresh=-1
context_opts=
perturb_factor=0.01
keep_models=false
rand_seed=
scale_opts="--transition-scale=1.0 --acoustic-scale=0.1 --self-loop-scale=0.1"
usage() { echo "Usage: $0 [options] DATA_DIR LANG_DIR EXP_DIR (--help for the options)" >&2; exit 1; }
NAME=kaldi_gmm.sh
. "$here/scripts/kaldi_common.sh"   # die, log, run, runsh
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) sed -n '2,53p' "$0"; exit 0 ;;
    --*)
      [ $# -ge 2 ] || die "option $1 needs a value"
      name=${1#--}; name=${name//-/_}
      case "$name" in
        kaldi_root) kroot=$2 ;;
        stage|stop_stage|ali_dir|tri2_ali_dir|mono_totgauss|mono_num_iters|mono_max_iter_inc|mono_realign_iters|\
tri1_leaves|tri1_gauss|tri2_leaves|tri2_gauss|num_iters|max_iter_inc|realign_iters|mllt_iters|\
lda_dim|randprune|splice_opts|beam|retry_beam|careful|boost_silence|power|cluster_thresh|context_opts|perturb_factor|keep_models|rand_seed)
          printf -v "$name" '%s' "$2" ;;
        *) die "unknown option $1" ;;
      esac
      shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
[ ${#args[@]} -eq 3 ] || usage
[ -z "$rand_seed" ] || [[ "$rand_seed" =~ ^[0-9]+$ ]] ||
  die "--rand-seed must be a non-negative integer, not '$rand_seed'"
. "$here/recipes/common/paths.sh"
data=$(abs_path "${args[0]}"); lang=$(abs_path "${args[1]}"); exp=$(abs_path "${args[2]}")
kroot=$(abs_path "$kroot"); [ -z "$ali_dir" ] || ali_dir=$(abs_path "$ali_dir")
[ -z "$tri2_ali_dir" ] || tri2_ali_dir=$(abs_path "$tri2_ali_dir")
for f in feats.scp cmvn.scp utt2spk text; do [ -f "$data/$f" ] || die "$data/$f does not exist"; done
for f in topo L.fst words.txt phones/sets.int phones/roots.int phones/context_indep.csl \
         phones/disambig.int phones/optional_silence.csl phones/silence.csl; do
  [ -f "$lang/$f" ] || die "$lang/$f does not exist (an asrkt prepare-lang dir?)"
done
[ -x "$kroot/bin/gmm-init-model" ] || die "no Kaldi build with the GMM tools in $kroot (run scripts/build_kaldi_reference.sh)"
export PATH="$kroot/bin:$PATH" OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
if [ -n "$rand_seed" ]; then
  command -v cc >/dev/null || die "--rand-seed needs a C compiler (cc) for its LD_PRELOAD library"
  mkdir -p "$exp/srand"
  printf '%s\n' '#include <stdlib.h>' \
    'static void seed(void) __attribute__((constructor));' \
    'static void seed(void) { const char *s = getenv("ASRKT_KALDI_SRAND"); if (s) srand((unsigned) atol(s)); }' \
    > "$exp/srand/srand.c"
  cc -shared -fPIC -O1 -o "$exp/srand/srand.so" "$exp/srand/srand.c" || die "cc failed on $exp/srand/srand.c"
  export ASRKT_KALDI_SRAND=$rand_seed LD_PRELOAD="$exp/srand/srand.so${LD_PRELOAD:+:$LD_PRELOAD}"
fi

in_list() { echo " $2 " | grep -q " $1 "; }

delta_feats="ark,s,cs:apply-cmvn --utt2spk=ark:$data/utt2spk scp:$data/cmvn.scp scp:$data/feats.scp ark:- | add-deltas ark:- ark:- |"
spliced_feats="ark,s,cs:apply-cmvn --utt2spk=ark:$data/utt2spk scp:$data/cmvn.scp scp:$data/feats.scp ark:- | splice-feats $splice_opts ark:- ark:- |"
lda_feats() { echo "$spliced_feats transform-feats $1 ark:- ark:- |"; }

# transcripts as word ids (utils/sym2int.pl --map-oov lang/oov.int -f 2-; without oov.int an
# unknown word is an error)
text_int() {  # text_int OUT
  local oov=""; [ -f "$lang/oov.int" ] && oov=$(cat "$lang/oov.int")
  awk -v oov="$oov" 'NR == FNR {id[$1] = $2; next}
    {line = $1; for (i = 2; i <= NF; i++) {
       if ($i in id) w = id[$i]; else if (oov != "") w = oov;
       else {print "kaldi_gmm.sh: error: word " $i " of " $1 " not in words.txt" > "/dev/stderr"; exit 1}
       line = line " " w}
     print line}' "$lang/words.txt" "$data/text" > "$1"
}

# ali_rspec DIR: a Kaldi alignment dir's ali.1.gz, or an asrkt ALI_DIR's ali.scp
ali_rspec() {
  if [ -f "$1/ali.1.gz" ]; then echo "ark:gunzip -c $1/ali.1.gz|"
  elif [ -f "$1/ali.scp" ]; then echo "scp:$1/ali.scp"
  else die "$1: no alignments (ali.1.gz or ali.scp)"; fi
}

compile_graphs() {  # compile_graphs DIR: DIR/fsts.1.gz from DIR/tree, DIR/1.mdl or final.mdl
  local d=$1 mdl=$1/1.mdl; [ -f "$mdl" ] || mdl=$1/final.mdl
  text_int "$d/text.int"
  runsh "$d/log/compile_graphs.1.log" "compile-train-graphs --read-disambig-syms=$lang/phones/disambig.int \
    $d/tree $mdl $lang/L.fst ark:$d/text.int 'ark:|gzip -c > $d/fsts.1.gz'"
}

# align_pass DIR MODEL FEATS GRAPHS LOG: gmm-align-compiled with the boosted-silence model
align_pass() {
  local d=$1 mdl=$2 feats=$3 graphs=$4 logf=$5
  run "$logf" gmm-align-compiled $scale_opts --beam=$beam --retry-beam=$retry_beam \
    --careful=$careful "gmm-boost-silence --boost=$boost_silence $(cat "$lang/phones/optional_silence.csl") $mdl - |" \
    "$graphs" "$feats" "ark:|gzip -c > $d/ali.1.gz"
}

# em_pass DIR X FEATS NUMGAUSS: gmm-acc-stats-ali with X.mdl, gmm-est --mix-up to X+1.mdl
em_pass() {
  local d=$1 x=$2 feats=$3 numgauss=$4
  run "$d/log/acc.$x.1.log" gmm-acc-stats-ali "$d/$x.mdl" "$feats" \
    "ark,s,cs:gunzip -c $d/ali.1.gz|" "$d/$x.1.acc"
  run "$d/log/update.$x.log" gmm-est --write-occs="$d/$((x + 1)).occs" --mix-up="$numgauss" \
    --power="$power" --perturb-factor="$perturb_factor" "$d/$x.mdl" \
    "gmm-sum-accs - $d/$x.1.acc |" "$d/$((x + 1)).mdl"
  rm -f "$d/$x.1.acc" "$d/$x.occs"
  [ "$keep_models" = true ] || rm -f "$d/$x.mdl"
}

finish() {  # finish DIR X: final.mdl / final.occs as links to the last pass's
  ( cd "$1"; rm -f final.mdl final.occs; ln -s "$2.mdl" final.mdl; ln -s "$2.occs" final.occs )
  log "$1: $(gmm-info "$1/final.mdl" 2>/dev/null | awk '/number of pdfs/ {p = $NF} /number of gaussians/ {g = $NF} END {print p " pdfs, " g " Gaussians"}')"
}

train_mono() {
  local d=$exp/mono
  log "mono: steps/train_mono.sh (totgauss $mono_totgauss, $mono_num_iters passes)"
  newdir "$d"
  head -n 10 "$data/feats.scp" > "$d/init_feats.scp"
  local init_feats="ark,s,cs:apply-cmvn --utt2spk=ark:$data/utt2spk scp:$data/cmvn.scp scp:$d/init_feats.scp ark:- | add-deltas ark:- ark:- |"
  local dim; dim=$(feat-to-dim "$delta_feats" - 2>/dev/null) || die "feat-to-dim failed on $data"
  run "$d/log/init.log" gmm-init-mono --shared-phones="$lang/phones/sets.int" \
    "--train-feats=$init_feats" "$lang/topo" "$dim" "$d/0.mdl" "$d/tree"
  local numgauss incgauss
  numgauss=$(gmm-info --print-args=false "$d/0.mdl" 2>/dev/null | awk '/gaussians/ {print $NF}')
  incgauss=$(( (mono_totgauss - numgauss) / mono_max_iter_inc ))
  text_int "$d/text.int"
  runsh "$d/log/compile_graphs.1.log" "compile-train-graphs --read-disambig-syms=$lang/phones/disambig.int \
    $d/tree $d/0.mdl $lang/L.fst ark:$d/text.int 'ark:|gzip -c > $d/fsts.1.gz'"
  runsh "$d/log/align.0.1.log" "align-equal-compiled 'ark:gunzip -c $d/fsts.1.gz|' '$delta_feats' ark,t:- | \
    gmm-acc-stats-ali --binary=true $d/0.mdl '$delta_feats' ark:- $d/0.1.acc"
  run "$d/log/update.0.log" gmm-est --min-gaussian-occupancy=3 --mix-up="$numgauss" \
    --power="$power" --perturb-factor="$perturb_factor" "$d/0.mdl" "gmm-sum-accs - $d/0.1.acc|" "$d/1.mdl"
  rm -f "$d/0.1.acc"
  local x=1 b=6   # initial_beam 6, regular_beam 10 after the first pass
  while [ $x -lt "$mono_num_iters" ]; do
    if in_list $x "$mono_realign_iters"; then
      local saved=$beam; beam=$b
      align_pass "$d" "$d/$x.mdl" "$delta_feats" "ark:gunzip -c $d/fsts.1.gz|" "$d/log/align.$x.1.log"
      beam=$saved
    fi
    em_pass "$d" $x "$delta_feats" "$numgauss"
    [ $x -le "$mono_max_iter_inc" ] && numgauss=$((numgauss + incgauss))
    b=10; x=$((x + 1))
  done
  finish "$d" $x
}

align_si() {  # align_si SRC DEST FEATS (steps/align_si.sh)
  local src=$1 d=$2 feats=$3
  log "$(basename "$d"): steps/align_si.sh with $src"
  newdir "$d"
  cp "$src/final.mdl" "$src/tree" "$d/"
  for f in final.mat full.mat splice_opts; do [ ! -f "$src/$f" ] || cp "$src/$f" "$d/"; done
  compile_graphs "$d"
  align_pass "$d" "$d/final.mdl" "$feats" "ark:gunzip -c $d/fsts.1.gz|" "$d/log/align.1.log"
}

# tree_stage DIR ALIDIR FEATS NUMLEAVES: acc-tree-stats .. build-tree, gmm-init-model
tree_stage() {
  local d=$1 alidir=$2 feats=$3 numleaves=$4
  run "$d/log/acc_tree.1.log" acc-tree-stats $context_opts \
    --ci-phones="$(cat "$lang/phones/context_indep.csl")" "$alidir/final.mdl" "$feats" \
    "$(ali_rspec "$alidir")" "$d/1.treeacc"
  run "$d/log/sum_tree_acc.log" sum-tree-stats "$d/treeacc" "$d/1.treeacc"
  rm -f "$d/1.treeacc"
  run "$d/log/questions.log" cluster-phones $context_opts "$d/treeacc" "$lang/phones/sets.int" \
    "$d/questions.int"
  [ ! -f "$lang/phones/extra_questions.int" ] || cat "$lang/phones/extra_questions.int" >> "$d/questions.int"
  run "$d/log/compile_questions.log" compile-questions $context_opts "$lang/topo" \
    "$d/questions.int" "$d/questions.qst"
  run "$d/log/build_tree.log" build-tree $context_opts --verbose=1 --max-leaves="$numleaves" \
    --cluster-thresh="$cluster_thresh" "$d/treeacc" "$lang/phones/roots.int" \
    "$d/questions.qst" "$lang/topo" "$d/tree"
  run "$d/log/init_model.log" gmm-init-model --write-occs="$d/1.occs" "$d/tree" "$d/treeacc" \
    "$lang/topo" "$d/1.mdl"
  ! grep 'no stats' "$d/log/init_model.log" >&2 || log "warning: gmm-init-model: pdfs without statistics (see $d/log/init_model.log)"
}

convert_ali() {  # convert_ali DIR ALIDIR
  run "$1/log/convert.1.log" convert-ali "$2/final.mdl" "$1/1.mdl" "$1/tree" \
    "$(ali_rspec "$2")" "ark:|gzip -c > $1/ali.1.gz"
}

train_deltas() {  # steps/train_deltas.sh NUMLEAVES TOTGAUSS DATA LANG ALIDIR EXP/tri1
  local alidir=$1 d=$exp/tri1
  log "tri1: steps/train_deltas.sh $tri1_leaves $tri1_gauss from $alidir"
  [ -f "$alidir/final.mdl" ] || die "$alidir/final.mdl does not exist"
  newdir "$d"
  local numgauss=$tri1_leaves incgauss=$(( (tri1_gauss - tri1_leaves) / max_iter_inc ))
  tree_stage "$d" "$alidir" "$delta_feats" "$tri1_leaves"
  run "$d/log/mixup.log" gmm-mixup --mix-up="$numgauss" --perturb-factor="$perturb_factor" "$d/1.mdl" "$d/1.occs" "$d/1.mdl"
  rm -f "$d/treeacc"
  convert_ali "$d" "$alidir"
  compile_graphs "$d"
  tri_passes "$d" "$delta_feats" "$numgauss" "$incgauss"
}

# tri_passes DIR FEATS NUMGAUSS INCGAUSS [MLLT_ITERS]: the passes 1..num_iters-1 of
# train_deltas.sh and train_lda_mllt.sh: realign on realign_iters; on MLLT_ITERS (an LDA dir,
# DIR/0.mat) gmm-acc-mllt / est-mllt / gmm-transform-means / compose-transforms to DIR/<x>.mat
# and the features through it; gmm-acc-stats-ali + gmm-est --mix-up; then final.mdl (and
# final.mat: the last transform)
tri_passes() {
  local d=$1 feats=$2 numgauss=$3 incgauss=$4 mllt=${5:-} x=1 cur=0
  while [ $x -lt "$num_iters" ]; do
    ! in_list $x "$realign_iters" || align_pass "$d" "$d/$x.mdl" "$feats" \
      "ark:gunzip -c $d/fsts.1.gz|" "$d/log/align.$x.1.log"
    if [ -n "$mllt" ] && in_list $x "$mllt"; then
      silence_free_post "ark:gunzip -c $d/ali.1.gz|" "$d/$x.mdl" "$d/log/mllt_post.$x.1.log" > "$d/mllt_post.txt"
      run "$d/log/macc.$x.1.log" gmm-acc-mllt --rand-prune="$randprune" "$d/$x.mdl" "$feats" \
        "ark,s,cs:$d/mllt_post.txt" "$d/$x.1.macc"
      run "$d/log/mupdate.$x.log" est-mllt "$d/$x.mat.new" "$d/$x.1.macc"
      run "$d/log/transform_means.$x.log" gmm-transform-means "$d/$x.mat.new" "$d/$x.mdl" "$d/$x.mdl"
      run "$d/log/compose_transforms.$x.log" compose-transforms --print-args=false \
        "$d/$x.mat.new" "$d/$cur.mat" "$d/$x.mat"
      rm -f "$d/$x.1.macc" "$d/mllt_post.txt"
      feats=$(lda_feats "$d/$x.mat"); cur=$x
    fi
    em_pass "$d" $x "$feats" "$numgauss"
    [ $x -le "$max_iter_inc" ] && numgauss=$((numgauss + incgauss))
    x=$((x + 1))
  done
  finish "$d" $x
  [ ! -f "$d/0.mat" ] || ( cd "$d"; rm -f final.mat; ln -s "$cur.mat" final.mat )
}

# post with silence frames dropped (ali-to-post | weight-silence-post 0.0 SIL MODEL); without
# the weight-silence-post binary, the same through ali-to-phones --per-frame
silence_free_post() {  # silence_free_post ALI_RSPEC MODEL LOG: Posterior text on stdout
  local sil; sil=$(cat "$lang/phones/silence.csl")
  if command -v weight-silence-post >/dev/null; then
    ali-to-post "$1" ark:- 2>>"$3" | weight-silence-post 0.0 "$sil" "$2" ark:- ark,t:- 2>>"$3"
    return
  fi
  paste -d '\n' <(ali-to-post "$1" ark,t:- 2>>"$3") \
    <(ali-to-phones --per-frame=true "$2" "$1" ark,t:- 2>>"$3") |
  awk -v sil="$sil" 'BEGIN {n = split(sil, s, ":"); for (i = 1; i <= n; i++) is_sil[s[i]] = 1}
    NR % 2 == 1 {post = $0; next}
    {np = split($0, ph, " "); m = split(post, tok, " "); out = tok[1]; f = 1
     for (i = 2; i <= m; i++) {
       if (tok[i] == "[") {frame = ""; f++; continue}
       if (tok[i] == "]") {out = out " [" (is_sil[ph[f]] ? "" : frame) " ]"; continue}
       frame = frame " " tok[i]}
     print out}'
}

train_lda_mllt() {  # steps/train_lda_mllt.sh NUMLEAVES TOTGAUSS DATA LANG EXP/tri1_ali EXP/tri2
  local alidir=$1 d=$exp/tri2
  log "tri2: steps/train_lda_mllt.sh $tri2_leaves $tri2_gauss from $alidir"
  [ -f "$alidir/final.mdl" ] || die "$alidir/final.mdl does not exist"
  newdir "$d"
  echo "$splice_opts" > "$d/splice_opts"
  local numgauss=$tri2_leaves incgauss=$(( (tri2_gauss - tri2_leaves) / max_iter_inc ))
  silence_free_post "$(ali_rspec "$alidir")" "$alidir/final.mdl" "$d/log/lda_post.1.log" > "$d/lda_post.txt"
  run "$d/log/lda_acc.1.log" acc-lda --rand-prune="$randprune" "$alidir/final.mdl" \
    "$spliced_feats" "ark,s,cs:$d/lda_post.txt" "$d/lda.1.acc"
  run "$d/log/lda_est.log" est-lda --write-full-matrix="$d/full.mat" --dim="$lda_dim" \
    "$d/0.mat" "$d/lda.1.acc"
  rm -f "$d/lda.1.acc" "$d/lda_post.txt"
  local feats; feats=$(lda_feats "$d/0.mat")
  tree_stage "$d" "$alidir" "$feats" "$tri2_leaves"
  rm -f "$d/treeacc"
  convert_ali "$d" "$alidir"
  compile_graphs "$d"
  tri_passes "$d" "$feats" "$numgauss" "$incgauss" "$mllt_iters"
}

# newdir DIR: an empty exp dir with what Kaldi's scripts leave for the next step (num_jobs,
# phones.txt, cmvn_opts: steps/decode.sh and align_si.sh read them)
newdir() {
  rm -rf "$1"; mkdir -p "$1/log"
  echo 1 > "$1/num_jobs"; echo > "$1/cmvn_opts"; cp "$lang/phones.txt" "$1/"
}

start=$(date +%s)
mkdir -p "$exp"
stage_on() { [ "$stage" -le "$1" ] && [ "$stop_stage" -ge "$1" ]; }
if stage_on 1; then train_mono; fi
if stage_on 2; then align_si "$exp/mono" "$exp/mono_ali" "$delta_feats"; fi
if stage_on 3; then train_deltas "${ali_dir:-$exp/mono_ali}"; fi
if stage_on 4; then align_si "$exp/tri1" "$exp/tri1_ali" "$delta_feats"; fi
if stage_on 5; then
  train_lda_mllt "${tri2_ali_dir:-$exp/tri1_ali}"
fi
log "done in $(( $(date +%s) - start )) s"
