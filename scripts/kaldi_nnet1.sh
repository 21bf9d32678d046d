#!/usr/bin/env bash
# Kaldi nnet1 with Kaldi's own binaries on asrkt directories: the DNN anchor that asrkt's DNN
# teachers are compared with (issue 22; recipes/speech_commands/local/nnet1_anchor.sh), and with
# --network-type lstm the LSTM anchor of asrkt's LSTM baseline. Our own script; it runs the
# binaries in the order of Kaldi's egs/wsj/s5/steps/nnet/pretrain_dbn.sh, steps/nnet/train.sh
# (+ utils/nnet/make_nnet_proto.py or make_lstm_proto.py, steps/nnet/train_scheduler.sh; the LSTM
# as egs/rm/s5/local/nnet/run_lstm.sh calls train.sh --network-type lstm) and
# steps/nnet/decode.sh + local/score.sh, as one job, CPU only (--use-gpu=no), with their defaults
# unless an option says otherwise:
#   1 prep     the training list (DATA_DIR's utterances but the CV ones) and the CV list,
#              shuffled with --seed; the features re-saved (copy-feats --compress=true, as
#              train.sh's copy_feats), optional per-speaker CMVN (apply-cmvn --cmvn-opts with
#              DATA_DIR/cmvn.scp); the feature transform: <Splice> +-splice (nnet-initialize;
#              lstm: no splicing but run_lstm.sh's target delay, a <Splice> whose <BuildVector>
#              is --target-delay alone, so frame t is fed the features of t + delay: delay5.proto),
#              then global mean/variance normalisation from the transformed training features
#              (nnet-forward | compute-cmvn-stats, cmvn-to-nnet --std-dev=1.0, nnet-concat);
#              the targets: ali-to-post on ALI_DIR's pdf alignment; the priors: analyze-counts
#              --counts-dim=<pdfs of GMM_DIR/final.mdl> over the training and CV utterances
#   2 dbn      (--pretrain true) pretrain_dbn.sh: --hid-layers RBMs of --hid-dim units with
#              rbm-train-cd1-frmshuff: a Gaussian-Bernoulli RBM on the transformed features
#              (2 x --rbm-iter epochs, --rbm-lrate-low), then Bernoulli RBMs (--rbm-iter epochs,
#              --rbm-lrate, visible biases from the CMVN of the layer below), each converted
#              (rbm-convert-to-nnet) and stacked (nnet-concat) into dbn/<N>.dbn; on --dbn-data
#              (default: the training list) with its own feature transform, which the training
#              then imports (train.sh --feature-transform from the DBN dir)
#   3 train    the network prototype of make_nnet_proto.py (sigmoid hidden layers, Glorot-scaled
#              N(0, s) weights with the 1/sqrt(12) input-layer factor, hidden biases U(-4, 0),
#              the output layer's bias learning-rate coefficient 0.1, softmax; with a DBN only
#              the output layer) through nnet-initialize --seed, the DBN prepended (nnet-concat);
#              lstm: make_lstm_proto.py's prototype: --hid-layers <LstmProjected> layers
#              (--cell-dim cells, --proj-dim recurrent projection; the component's defaults:
#              parameters U(-0.1, 0.1), cell clip 50, diff clip 1, gradient clip 250), a <Tanh>,
#              the output <AffineTransform> (bias 0, weights N(0, 0.1)) and the softmax;
#              then train_scheduler.sh's newbob: CV of the initial network, per epoch
#              nnet-train-frmshuff (--minibatch-size, --randomizer-size 32768, --randomizer-seed
#              --seed; lstm: nnet-train-multistream, truncated BPTT over --num-streams utterances
#              at a time in chunks of --batch-size frames, the utterances in train.scp's one
#              shuffled order, its CV pass with the same tool) and a CV pass; the epoch is
#              accepted when the CV loss fell, else rejected;
#              halving (--halving-factor) starts when the relative improvement is below
#              --start-halving-impr and training stops when, while halving, it is below
#              --end-halving-impr, or after --max-iters; final.nnet = the last accepted network
#   4 decode   per --decode-sets data dir: nnet-forward --no-softmax=true --prior-scale
#              --class-frame-counts (decode.sh: pre-softmax activation - prior-scale x log prior;
#              a per-frame constant away from log-posterior - log-prior) to
#              decode_<set>/loglikes.{ark,scp} (Kaldi matrices: asrkt decode-nnet reads them too),
#              latgen-faster-mapped (--acwt, --beam, --lattice-beam, --min-active, --max-active,
#              --max-mem, --allow-partial=true) with GMM_DIR/final.mdl and GRAPH_DIR/HCLG.fst, then
#              for each LMWT of --min-lmwt..--max-lmwt lattice-best-path --acoustic-scale=1/LMWT
#              (local/score.sh's lattice-scale --inv-acoustic-scale=LMWT + best path, no word
#              insertion penalty), words through GRAPH_DIR/words.txt, compute-wer --text
#              --mode=present: decode_<set>/scoring/<LMWT>.txt, wer_<LMWT>, scoring_kaldi/best_wer
#              (the lowest %WER, the first LMWT on ties), the layout of asrkt decode-nnet's dirs
# Every step logs to EXP_DIR/log/<step>.log (epochs: log/iter<NN>.{tr,cv}.log, as Kaldi); a step
# that fails stops the script with its log's name. Each stage skips what is done (prep: its
# .done marker; dbn: each <N>.dbn; train: final.nnet, and an interrupted run resumes from its
# last finished epoch as train_scheduler.sh does; decode: lat.1.gz and each wer_<LMWT>).
# Without a Kaldi build that has the nnet1 tools the script says so and exits 0 (skipped).
#
# Usage: scripts/kaldi_nnet1.sh [options] DATA_DIR ALI_DIR GMM_DIR GRAPH_DIR EXP_DIR
#   DATA_DIR   training features: feats.scp, utt2spk (cmvn.scp with --cmvn-opts)
#   ALI_DIR    pdf.scp: the pdf-id alignment (asrkt align + asrkt ali-to-pdf, or Kaldi's ali-to-pdf
#              written as ark,scp)
#   GMM_DIR    final.mdl (Kaldi text or binary: the transition model of the graph; its pdf count)
#   GRAPH_DIR  HCLG.fst and words.txt (asrkt make-graph output, or Kaldi's mkgraph.sh)
#   EXP_DIR    gets log/, final.feature_transform, final.nnet, ali_train_pdf.counts, nnet/,
#              dbn/ (--pretrain true), decode_<set>/
# Example (recipes/speech_commands work dir):
#   scripts/kaldi_nnet1.sh --cv-list exp/cv.list --cmvn-opts "--norm-means=true --norm-vars=false" \
#     --hid-layers 3 --hid-dim 512 --decode-sets data/fbank/dev \
#     data/fbank/full/train exp/full/mono_ali exp/full/mono exp/full/mono/graph exp/full/nnet1
# Options (defaults in brackets; Kaldi's names):
#   --kaldi-root DIR           the build (bin/) [$ASRKT_KALDI_ROOT or ~/.cache/asrkt/kaldi]
#   --stage N --stop-stage M   1 prep, 2 dbn, 3 train, 4 decode [1..4]
#   --cv-list FILE             DATA_DIR's utterances held out for CV, one id a line (first
#                              field); [""]: --cv-fraction of them, drawn with --seed
#   --cv-fraction [0.1]
#   --max-skip-fraction [0]    the share of DATA_DIR's utterances that may lack an alignment in
#                              ALI_DIR (a GMM that failed to align them): they are dropped from the
#                              training and CV lists, named in log/unaligned.list (nnet-train-frmshuff
#                              skips an utterance without targets as well; asrkt's max_skip_fraction);
#                              more than that share, or with the default 0 any: the error
#   --decode-sets "DIR ..."    data dirs to decode (feats.scp, utt2spk, text, cmvn.scp with
#                              --cmvn-opts): EXP_DIR/decode_<basename of DIR> [""]
#   --cmvn-opts [""]           apply-cmvn options (per speaker, --utt2spk); "": no CMVN (nnet1)
#   --splice [5]               +-frames of the <Splice> transform
#   --hid-layers [4] --hid-dim [1024]   (train.sh; with --pretrain true: the RBMs, pretrain_dbn.sh's
#                              nn_depth and hid_dim; lstm: --hid-layers is make_lstm_proto.py's
#                              --num-layers, --hid-dim unused)
#   --network-type [dnn]       dnn or lstm (train.sh's; lstm needs nnet-train-multistream)
#   --cell-dim [320] --proj-dim [400]   LSTM cells and projection (make_lstm_proto.py's defaults)
#   --target-delay [5]         lstm: frames of look-ahead, the <Splice> <BuildVector> D of
#                              run_lstm.sh's delay5.proto (no +-splice with lstm)
#   --num-streams [4] --batch-size [20]  lstm: nnet-train-multistream's streams and chunk frames
#                              (its defaults; run_lstm.sh: --num-streams=10 --batch-size=20, with
#                              --learn-rate 0.0001 --momentum 0.9)
#   --pretrain [false]         DBN pre-training (stage 2) and the network on top of it
#   --dbn-data DIR             pre-train on this data dir's utterances [the training list]
#   --rbm-iter [1] --rbm-lrate [0.4] --rbm-lrate-low [0.01] --rbm-l2penalty [0.0002]
#   --param-stddev-first [0.1] --param-stddev [0.1]
#   --learn-rate [0.008] --momentum [0] --l1-penalty [0] --l2-penalty [0]
#   --minibatch-size [256] --randomizer-size [32768] --seed [777]
#   --max-iters [20] --min-iters [0] --keep-lr-iters [0] --start-halving-impr [0.01]
#   --end-halving-impr [0.001] --halving-factor [0.5]
#   --copy-feats [true]        re-save the training/CV features, --compress=true (train.sh)
#   --acwt [0.1] --beam [13.0] --lattice-beam [8.0] --min-active [200] --max-active [7000]
#   --max-mem [50000000] --prior-scale [1.0] --min-lmwt [4] --max-lmwt [15]  (decode.sh)
#   --decode-suffix [""]       decode dirs are decode_<set><suffix> (e.g. _ps0.5 for a rerun of
#                              stage 4 with --prior-scale 0.5)
#   --num-threads [1]          OMP_NUM_THREADS of the Kaldi binaries (their BLAS)
#   Relative paths are relative to the current directory.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
kroot=${ASRKT_KALDI_ROOT:-$HOME/.cache/asrkt/kaldi}
stage=1
stop_stage=4
cv_list=
cv_fraction=0.1
max_skip_fraction=0
decode_sets=
cmvn_opts=
splice=5
hid_layers=4
hid_dim=1024
pretrain=false
dbn_data=
rbm_iter=1
rbm_lrate=0.4
rbm_lrate_low=0.01
rbm_l2penalty=0.0002
param_stddev_first=0.1
param_stddev=0.1
learn_rate=0.008
momentum=0
l1_penalty=0
l2_penalty=0
minibatch_size=256
randomizer_size=32768
seed=777
max_iters=20
min_iters=0
keep_lr_iters=0
start_halving_impr=0.01
end_halving_impr=0.001
halving_factor=0.5
copy_feats=true
acwt=0.1
beam=13.0
lattice_beam=8.0
min_active=200
max_active=7000
max_mem=50000000
prior_scale=1.0
min_lmwt=4
max_lmwt=15
decode_suffix=
num_threads=1
network_type=dnn
cell_dim=320
proj_dim=400
target_delay=5
num_streams=4
batch_size=20
usage() { echo "Usage: $0 [options] DATA_DIR ALI_DIR GMM_DIR GRAPH_DIR EXP_DIR (--help for the options)" >&2; exit 1; }
NAME=kaldi_nnet1.sh
. "$here/scripts/kaldi_common.sh"
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) sed -n '2,112p' "$0"; exit 0 ;;
    --*)
      [ $# -ge 2 ] || die "option $1 needs a value"
      name=${1#--}; name=${name//-/_}
      case "$name" in
        kaldi_root) kroot=$2 ;;
        stage|stop_stage|cv_list|cv_fraction|max_skip_fraction|decode_sets|cmvn_opts|splice|hid_layers|hid_dim|\
pretrain|dbn_data|rbm_iter|rbm_lrate|rbm_lrate_low|rbm_l2penalty|param_stddev_first|param_stddev|\
learn_rate|momentum|l1_penalty|l2_penalty|minibatch_size|randomizer_size|seed|max_iters|min_iters|\
keep_lr_iters|start_halving_impr|end_halving_impr|halving_factor|copy_feats|acwt|beam|lattice_beam|\
min_active|max_active|max_mem|prior_scale|min_lmwt|max_lmwt|decode_suffix|num_threads|network_type|\
cell_dim|proj_dim|target_delay|num_streams|batch_size)
          printf -v "$name" '%s' "$2" ;;
        *) die "unknown option $1" ;;
      esac
      shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
[ ${#args[@]} -eq 5 ] || usage
. "$here/recipes/common/paths.sh"
data=$(abs_path "${args[0]}"); ali=$(abs_path "${args[1]}"); gmm=$(abs_path "${args[2]}")
graph=$(abs_path "${args[3]}"); dir=$(abs_path "${args[4]}")
kroot=$(abs_path "$kroot"); cv_list=$(abs_path "$cv_list"); dbn_data=$(abs_path "$dbn_data")


int_opt() { [[ "$2" =~ ^[0-9]+$ ]] || die "--$1: a whole number, not '$2'"; }
num_opt() { [[ "$2" =~ ^-?[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$ ]] || die "--$1: a number, not '$2'"; }
bool_opt() { [ "$2" = true ] || [ "$2" = false ] || die "--$1: true or false, not '$2'"; }
for o in stage stop_stage splice hid_layers hid_dim rbm_iter minibatch_size randomizer_size seed \
         max_iters min_iters keep_lr_iters min_active max_active max_mem min_lmwt max_lmwt num_threads \
         cell_dim proj_dim target_delay num_streams batch_size; do
  int_opt "${o//_/-}" "${!o}"
done
for o in cv_fraction max_skip_fraction rbm_lrate rbm_lrate_low rbm_l2penalty param_stddev_first param_stddev learn_rate \
         momentum l1_penalty l2_penalty start_halving_impr end_halving_impr halving_factor acwt beam \
         lattice_beam prior_scale; do
  num_opt "${o//_/-}" "${!o}"
done
bool_opt pretrain "$pretrain"; bool_opt copy-feats "$copy_feats"
[ "$hid_dim" -gt 0 ] || die "--hid-dim must be > 0"
case "$network_type" in
  dnn) ;;
  lstm)
    [ "$pretrain" = false ] || die "--network-type lstm: no DBN pre-training (--pretrain false)"
    [ "$hid_layers" -gt 0 ] || die "--network-type lstm needs --hid-layers > 0 (the LSTM layers)"
    for o in cell_dim proj_dim num_streams batch_size; do
      [ "${!o}" -gt 0 ] || die "--${o//_/-} must be > 0"
    done ;;
  *) die "--network-type: dnn or lstm, not '$network_type'" ;;
esac
[ "$pretrain" = false ] || [ "$hid_layers" -gt 0 ] || die "--pretrain true needs --hid-layers > 0 (the RBMs)"
[ "$min_lmwt" -le "$max_lmwt" ] && [ "$min_lmwt" -gt 0 ] || die "--min-lmwt/--max-lmwt: 0 < min <= max, not $min_lmwt/$max_lmwt"
awk -v f="$cv_fraction" 'BEGIN {exit !(f > 0 && f < 1)}' || die "--cv-fraction must be in (0, 1), not $cv_fraction"

needs() { local d=$1 f; shift; for f in "$@"; do [ -s "$d/$f" ] || die "$d/$f does not exist or is empty"; done; }
needs "$data" feats.scp utt2spk
[ -z "$cmvn_opts" ] || needs "$data" cmvn.scp
needs "$ali" pdf.scp
needs "$gmm" final.mdl
needs "$graph" HCLG.fst words.txt
if [ -n "$cv_list" ]; then
  [ -s "$cv_list" ] || die "--cv-list: $cv_list does not exist or is empty"
  missing=$(awk 'NR == FNR {u[$1]; next} !($1 in u) {print $1; exit}' "$data/feats.scp" "$cv_list")
  [ -z "$missing" ] || die "$cv_list: utterance $missing is not in $data/feats.scp"
fi
if [ "$pretrain" = true ] && [ -n "$dbn_data" ]; then
  needs "$dbn_data" feats.scp utt2spk; [ -z "$cmvn_opts" ] || needs "$dbn_data" cmvn.scp
fi
for d in $decode_sets; do
  d=$(abs_path "$d"); needs "$d" feats.scp utt2spk text; [ -z "$cmvn_opts" ] || needs "$d" cmvn.scp
done

tools="nnet-initialize nnet-train-frmshuff nnet-forward nnet-concat cmvn-to-nnet rbm-train-cd1-frmshuff
       rbm-convert-to-nnet copy-feats apply-cmvn compute-cmvn-stats feat-to-dim ali-to-post
       analyze-counts hmm-info latgen-faster-mapped lattice-best-path compute-wer"
[ "$network_type" = dnn ] || tools="$tools nnet-train-multistream"
for t in $tools; do
  if [ ! -x "$kroot/bin/$t" ]; then
    echo "kaldi_nnet1.sh: skipped: the Kaldi build in $kroot has no $t (scripts/build_kaldi_reference.sh builds the nnet1 tools)" >&2
    exit 0
  fi
done
export PATH="$kroot/bin:$PATH" OMP_NUM_THREADS=$num_threads

stage_on() { [ "$stage" -le "$1" ] && [ "$stop_stage" -ge "$1" ]; }
# shuffled SEED < LIST: the lines in a seeded random order (utils/shuffle_list.pl --srand)
shuffled() { awk -v s="$1" 'BEGIN {srand(s)} {printf "%.17f\t%s\n", rand(), $0}' | sort -k1,1 -s | cut -f2-; }
# feats_of SCP DATA: the feature pipeline of a list: copy-feats, optional per-speaker CMVN
feats_of() {
  local f="ark:copy-feats scp:$1 ark:- |"
  [ -z "$cmvn_opts" ] || f="$f apply-cmvn $cmvn_opts --utt2spk=ark:$2/utt2spk scp:$2/cmvn.scp ark:- ark:- |"
  echo "$f"
}
# last_loss LOG: the AvgLoss of nnet-train-frmshuff's log (train_scheduler.sh's grep)
last_loss() { grep "AvgLoss:" "$1" | tail -n 1 | awk '{print $4}'; }
frame_acc() { grep "FRAME_ACCURACY" "$1" | tail -n 1 | sed 's/.*>> *\([0-9.]*\)%.*/\1/'; }
glorot() { awk -v a="$1" -v b="$2" -v f="${3:-1}" 'BEGIN {printf "%f", 0.1 * 35.0 * sqrt(2.0 / (a + b)) * f}'; }
# feature_transform OUT_DIR SCP DATA: OUT_DIR/final.feature_transform (splice, or the lstm's
# target delay, + global CMVN)
feature_transform() {
  local d=$1 feats dim tr
  feats=$(feats_of "$2" "$3")
  dim=$(feat-to-dim "$feats" - 2>/dev/null) || die "feat-to-dim failed on $2"
  if [ "$network_type" = lstm ]; then   # run_lstm.sh's delay5.proto: frame t gets t + delay
    tr=delay$target_delay
    echo "<Splice> <InputDim> $dim <OutputDim> $dim <BuildVector> $target_delay </BuildVector>" > "$d/$tr.proto"
  else
    tr=splice$splice
    echo "<Splice> <InputDim> $dim <OutputDim> $(((2 * splice + 1) * dim)) <BuildVector> -$splice:$splice </BuildVector>" \
      > "$d/$tr.proto"
  fi
  run "$d/log/nnet_initialize_$tr.log" nnet-initialize --binary=false "$d/$tr.proto" "$d/tr_$tr.nnet"
  head -n 10000 "$2" > "$d/transform.scp.10k"   # train.sh: global stats from the first 10k utterances
  runsh "$d/log/cmvn_g.log" "nnet-forward --use-gpu=no $d/tr_$tr.nnet '$(feats_of "$d/transform.scp.10k" "$3")' ark:- | \
    compute-cmvn-stats ark:- $d/cmvn-g.stats"
  run "$d/log/nnet_concat_transform.log" nnet-concat --binary=false "$d/tr_$tr.nnet" \
    "cmvn-to-nnet --std-dev=1.0 $d/cmvn-g.stats -|" "$d/tr_${tr}_cmvn-g.nnet"
  ( cd "$d"; rm -f final.feature_transform; ln -s "tr_${tr}_cmvn-g.nnet" final.feature_transform )
  echo "$dim" > "$d/feat_dim"
}

start=$(date +%s)
mkdir -p "$dir/log"
[ -z "$cmvn_opts" ] || echo "$cmvn_opts" > "$dir/cmvn_opts"
fdir=$dir; [ "$pretrain" = false ] || fdir=$dir/dbn   # where the feature transform is made

if stage_on 1 && [ ! -f "$dir/.prep_done" ]; then
  if [ "$network_type" = lstm ]; then ft_text="target delay $target_delay"; else ft_text="splice +-$splice"; fi
  log "prep: lists, features, feature transform ($ft_text${cmvn_opts:+, apply-cmvn $cmvn_opts}), targets, priors"
  cut -d' ' -f1 "$data/feats.scp" > "$dir/all.list"
  if [ -n "$cv_list" ]; then
    awk '{print $1}' "$cv_list" | sort -u > "$dir/cv.list"
  else
    n=$(wc -l < "$dir/all.list")
    k=$(awk -v n="$n" -v f="$cv_fraction" 'BEGIN {k = int(n * f + 0.5); if (k < 1) k = 1; print k}')
    shuffled "$seed" < "$dir/all.list" | head -n "$k" | sort > "$dir/cv.list"
  fi
  awk 'NR == FNR {cv[$1]; next} ($1 in cv)' "$dir/cv.list" "$data/feats.scp" > "$dir/cv_sorted.scp.src"
  awk 'NR == FNR {cv[$1]; next} !($1 in cv)' "$dir/cv.list" "$data/feats.scp" > "$dir/train_sorted.scp.src"
  [ -s "$dir/train_sorted.scp.src" ] || die "no training utterances left after the CV list"
  [ -s "$dir/cv_sorted.scp.src" ] || die "no CV utterances"
  # targets: pdf alignments of DATA_DIR's utterances; every one must have one
  awk 'NR == FNR {u[$1]; next} ($1 in u)' "$dir/all.list" "$ali/pdf.scp" > "$dir/pdf.scp"
  nali=$(wc -l < "$dir/pdf.scp"); nall=$(wc -l < "$dir/all.list")
  if [ "$nali" -ne "$nall" ]; then
    awk 'NR == FNR {a[$1]; next} !($1 in a)' "$dir/pdf.scp" "$dir/all.list" > "$dir/log/unaligned.list"
    awk -v m=$((nall - nali)) -v n="$nall" -v f="$max_skip_fraction" 'BEGIN {exit !(m <= f * n)}' ||
      die "$ali/pdf.scp: no alignment for utterance $(head -n 1 "$dir/log/unaligned.list") of $data ($nali of $nall aligned; --max-skip-fraction $max_skip_fraction)"
    for l in train cv; do
      awk 'NR == FNR {u[$1]; next} !($1 in u)' "$dir/log/unaligned.list" "$dir/${l}_sorted.scp.src" > "$dir/${l}_sorted.scp.tmp"
      mv "$dir/${l}_sorted.scp.tmp" "$dir/${l}_sorted.scp.src"
    done
    log "prep: $((nall - nali)) of $nall utterances without an alignment in $ali/pdf.scp, skipped: $(head -n 3 "$dir/log/unaligned.list" | tr '\n' ' ')(log/unaligned.list)"
  fi
  num_pdf=$(hmm-info --print-args=false "$gmm/final.mdl" 2>/dev/null | awk '/pdfs/ {print $NF}')
  [ -n "$num_pdf" ] || die "hmm-info could not read $gmm/final.mdl"
  echo "$num_pdf" > "$dir/num_pdf"
  run "$dir/log/analyze_counts_pdf.log" analyze-counts --verbose=1 --binary=false --counts-dim="$num_pdf" \
    "scp:$dir/pdf.scp" "$dir/ali_train_pdf.counts"
  run "$dir/log/ali_to_post.log" ali-to-post "scp:$dir/pdf.scp" "ark,scp:$dir/pdf_post.ark,$dir/pdf_post.scp"
  # features: re-saved compressed (train.sh's copy_feats), the training list shuffled
  if [ "$copy_feats" = true ]; then
    mkdir -p "$dir/feats"
    run "$dir/log/copy_feats_train.log" copy-feats --compress=true "scp:$dir/train_sorted.scp.src" \
      "ark,scp:$dir/feats/train.ark,$dir/train_sorted.scp"
    run "$dir/log/copy_feats_cv.log" copy-feats --compress=true "scp:$dir/cv_sorted.scp.src" \
      "ark,scp:$dir/feats/cv.ark,$dir/cv.scp"
  else
    cp "$dir/train_sorted.scp.src" "$dir/train_sorted.scp"; cp "$dir/cv_sorted.scp.src" "$dir/cv.scp"
  fi
  shuffled "$seed" < "$dir/train_sorted.scp" > "$dir/train.scp"
  if [ "$pretrain" = true ]; then
    mkdir -p "$dir/dbn/log"
    if [ -n "$dbn_data" ]; then
      shuffled 777 < "$dbn_data/feats.scp" > "$dir/dbn/train.scp"   # pretrain_dbn.sh: --srand 777
      echo "$dbn_data" > "$dir/dbn/data"
    else
      cp "$dir/train.scp" "$dir/dbn/train.scp"; echo "$data" > "$dir/dbn/data"
    fi
    feature_transform "$dir/dbn" "$dir/dbn/train.scp" "$(cat "$dir/dbn/data")"
    ( cd "$dir"; rm -f final.feature_transform; ln -s dbn/final.feature_transform final.feature_transform )
  else
    feature_transform "$dir" "$dir/train.scp" "$data"
  fi
  ctx=$((2 * splice + 1)); [ "$network_type" = dnn ] || ctx=1
  log "prep: $(wc -l < "$dir/train.scp") training / $(wc -l < "$dir/cv.scp") CV utterances, $num_pdf pdfs, input $(cat "$fdir/feat_dim") x $ctx"
  touch "$dir/.prep_done"
fi
[ "$stop_stage" -lt 2 ] || [ -f "$dir/.prep_done" ] || die "$dir: stage 1 (prep) has not run"

feats_tr=$(feats_of "$dir/train.scp" "$data")
feats_cv=$(feats_of "$dir/cv.scp" "$data")
labels="scp:$dir/pdf_post.scp"
ft=$dir/final.feature_transform

if stage_on 2 && [ "$pretrain" = true ]; then
  d=$dir/dbn; feats_dbn=$(feats_of "$d/train.scp" "$(cat "$d/data")")
  for depth in $(seq 1 "$hid_layers"); do
    [ -f "$d/$depth.dbn" ] && continue
    if [ "$depth" = 1 ]; then
      num_in=$(((2 * splice + 1) * $(cat "$d/feat_dim")))
      echo "<Rbm> <InputDim> $num_in <OutputDim> $hid_dim <VisibleType> gauss <HiddenType> bern <ParamStddev> $param_stddev_first" > "$d/1.rbm.proto"
      run "$d/log/nnet-initialize.1.log" nnet-initialize --seed="$seed" "$d/1.rbm.proto" "$d/1.rbm.init"
      log "dbn: RBM 1 (Gaussian-Bernoulli, $num_in x $hid_dim, lrate $rbm_lrate_low, $((2 * rbm_iter)) epochs)"
      run "$d/log/rbm.1.log" rbm-train-cd1-frmshuff --use-gpu=no --learn-rate="$rbm_lrate_low" \
        --l2-penalty="$rbm_l2penalty" --num-iters=$((2 * rbm_iter)) --verbose=1 --randomizer-seed="$seed" \
        --feature-transform="$d/final.feature_transform" "$d/1.rbm.init" "$feats_dbn" "$d/1.rbm"
      run "$d/log/rbm_convert.1.log" rbm-convert-to-nnet "$d/1.rbm" "$d/1.dbn.tmp"
    else
      below="nnet-concat $d/final.feature_transform $d/$((depth - 1)).dbn - |"
      runsh "$d/log/cmvn.$depth.log" "nnet-forward --use-gpu=no '$below' '$(feats_of "$d/transform.scp.10k" "$(cat "$d/data")")' ark:- | \
        compute-cmvn-stats ark:- - | cmvn-to-nnet - $d/$depth.cmvn"
      echo "<Rbm> <InputDim> $hid_dim <OutputDim> $hid_dim <VisibleType> bern <HiddenType> bern <ParamStddev> $param_stddev <VisibleBiasCmvnFilename> $d/$depth.cmvn" > "$d/$depth.rbm.proto"
      run "$d/log/nnet-initialize.$depth.log" nnet-initialize --seed="$seed" "$d/$depth.rbm.proto" "$d/$depth.rbm.init"
      log "dbn: RBM $depth (Bernoulli-Bernoulli, $hid_dim x $hid_dim, lrate $rbm_lrate, $rbm_iter epochs)"
      run "$d/log/rbm.$depth.log" rbm-train-cd1-frmshuff --use-gpu=no --learn-rate="$rbm_lrate" \
        --l2-penalty="$rbm_l2penalty" --num-iters="$rbm_iter" --verbose=1 --randomizer-seed="$seed" \
        --feature-transform="$below" "$d/$depth.rbm.init" "$feats_dbn" "$d/$depth.rbm"
      run "$d/log/rbm_convert.$depth.log" nnet-concat "$d/$((depth - 1)).dbn" "rbm-convert-to-nnet $d/$depth.rbm - |" "$d/$depth.dbn.tmp"
    fi
    mv "$d/$depth.dbn.tmp" "$d/$depth.dbn"
  done
fi

if stage_on 3 && [ ! -e "$dir/final.nnet" ]; then
  num_pdf=$(cat "$dir/num_pdf")
  num_in=$(((2 * splice + 1) * $(cat "$fdir/feat_dim")))
  [ "$network_type" = dnn ] || num_in=$(cat "$fdir/feat_dim")
  mkdir -p "$dir/nnet"
  if [ ! -f "$dir/nnet.init" ]; then
    # utils/nnet/make_nnet_proto.py <feat-dim> <num-leaves> <num-hid-layers> <num-hid-neurons>
    # (lstm: make_lstm_proto.py --num-layers --cell-dim --proj-dim <feat-dim> <num-leaves>)
    {
      echo "<NnetProto>"
      if [ "$network_type" = lstm ]; then
        echo "<LstmProjected> <InputDim> $num_in <OutputDim> $proj_dim <CellDim> $cell_dim"
        for _ in $(seq 2 "$hid_layers"); do
          echo "<LstmProjected> <InputDim> $proj_dim <OutputDim> $proj_dim <CellDim> $cell_dim"
        done
        echo "<Tanh> <InputDim> $proj_dim <OutputDim> $proj_dim"
        echo "<AffineTransform> <InputDim> $proj_dim <OutputDim> $num_pdf <BiasMean> 0.0 <BiasRange> 0.0"
      elif [ "$pretrain" = true ]; then   # train.sh --dbn: --hid-layers 0, the output layer only
        echo "<AffineTransform> <InputDim> $hid_dim <OutputDim> $num_pdf <BiasMean> 0.0 <BiasRange> 0.0 <ParamStddev> $(glorot "$hid_dim" "$num_pdf")"
      else
        echo "<AffineTransform> <InputDim> $num_in <OutputDim> $hid_dim <BiasMean> -2.0 <BiasRange> 4.0 <ParamStddev> $(glorot "$num_in" "$hid_dim" 0.2886751345948129) <MaxNorm> 0.0"
        echo "<Sigmoid> <InputDim> $hid_dim <OutputDim> $hid_dim"
        for _ in $(seq 2 "$hid_layers"); do
          echo "<AffineTransform> <InputDim> $hid_dim <OutputDim> $hid_dim <BiasMean> -2.0 <BiasRange> 4.0 <ParamStddev> $(glorot "$hid_dim" "$hid_dim") <MaxNorm> 0.0"
          echo "<Sigmoid> <InputDim> $hid_dim <OutputDim> $hid_dim"
        done
        echo "<AffineTransform> <InputDim> $hid_dim <OutputDim> $num_pdf <BiasMean> 0.0 <BiasRange> 0.0 <ParamStddev> $(glorot "$hid_dim" "$num_pdf") <LearnRateCoef> 1.0 <BiasLearnRateCoef> 0.1"
      fi
      echo "<Softmax> <InputDim> $num_pdf <OutputDim> $num_pdf"
      echo "</NnetProto>"
    } > "$dir/nnet.proto"
    if [ "$pretrain" = true ]; then
      [ -f "$dir/dbn/$hid_layers.dbn" ] || die "$dir/dbn/$hid_layers.dbn does not exist (stage 2)"
      run "$dir/log/nnet_initialize.log" nnet-initialize --seed="$seed" "$dir/nnet.proto" "$dir/nnet_out.init"
      run "$dir/log/nnet_concat_dbn.log" nnet-concat "$dir/dbn/$hid_layers.dbn" "$dir/nnet_out.init" "$dir/nnet.init.tmp"
    else
      run "$dir/log/nnet_initialize.log" nnet-initialize --seed="$seed" "$dir/nnet.proto" "$dir/nnet.init.tmp"
    fi
    mv "$dir/nnet.init.tmp" "$dir/nnet.init"
  fi
  # train_scheduler.sh (train.sh --train-tool / --train-tool-opts for the lstm, as run_lstm.sh)
  if [ "$network_type" = lstm ]; then
    train_tool=nnet-train-multistream
    train_opts=(--num-streams="$num_streams" --batch-size="$batch_size" --use-gpu=no --feature-transform="$ft")
  else
    train_tool=nnet-train-frmshuff
    train_opts=(--minibatch-size="$minibatch_size" --randomizer-size="$randomizer_size" --randomizer-seed="$seed"
                --use-gpu=no --feature-transform="$ft")
  fi
  mlp_best=$dir/nnet.init; lr=$learn_rate; halving=0
  [ -e "$dir/.mlp_best" ] && mlp_best=$(cat "$dir/.mlp_best")
  [ -e "$dir/.learn_rate" ] && lr=$(cat "$dir/.learn_rate")
  [ -e "$dir/.halving" ] && halving=$(cat "$dir/.halving")
  [ -f "$dir/log/iter00.initial.log" ] && [ -n "$(last_loss "$dir/log/iter00.initial.log")" ] ||
    run "$dir/log/iter00.initial.log" "$train_tool" --cross-validate=true --randomize=false \
      "${train_opts[@]}" "$feats_cv" "$labels" "$dir/nnet.init"
  loss=$(last_loss "$dir/log/iter00.initial.log")
  [ -e "$dir/.loss" ] && loss=$(cat "$dir/.loss")
  init_kind="random init"; [ "$pretrain" = false ] || init_kind="DBN"
  if [ "$network_type" = lstm ]; then
    log "train: $hid_layers x LSTM (cell $cell_dim, projection $proj_dim, target delay $target_delay), lrate $lr, momentum $momentum, $num_streams streams x $batch_size frames; initial CV loss $loss"
  else
    log "train: $hid_layers x $hid_dim sigmoid ($init_kind), lrate $lr, minibatch $minibatch_size; initial CV loss $loss"
  fi
  for iter in $(seq -f %02g 1 "$max_iters"); do
    [ -e "$dir/.done_iter$iter" ] && continue
    next=$dir/nnet/nnet_iter$iter
    run "$dir/log/iter$iter.tr.log" "$train_tool" --cross-validate=false --randomize=true \
      "${train_opts[@]}" --learn-rate="$lr" --momentum="$momentum" --l1-penalty="$l1_penalty" \
      --l2-penalty="$l2_penalty" "$feats_tr" "$labels" "$mlp_best" "$next"
    tr_loss=$(last_loss "$dir/log/iter$iter.tr.log")
    run "$dir/log/iter$iter.cv.log" "$train_tool" --cross-validate=true --randomize=false \
      "${train_opts[@]}" "$feats_cv" "$labels" "$next"
    loss_new=$(last_loss "$dir/log/iter$iter.cv.log")
    name=nnet_iter${iter}_learnrate${lr}_tr$(printf "%.4f" "$tr_loss")_cv$(printf "%.4f" "$loss_new")
    loss_prev=$loss
    if awk -v a="$loss_new" -v b="$loss" 'BEGIN {exit !(a < b)}' || [ "$((10#$iter))" -le "$keep_lr_iters" ] ||
       [ "$((10#$iter))" -le "$min_iters" ]; then
      loss=$loss_new; mlp_best=$dir/nnet/$name; mv "$next" "$mlp_best"
      echo "$mlp_best" > "$dir/.mlp_best"; echo "$loss" > "$dir/.loss"; verdict=accepted
    else
      mv "$next" "$dir/nnet/${name}_rejected"; verdict=rejected
    fi
    log "epoch $iter: train loss $(printf "%.4f" "$tr_loss") (frame acc $(frame_acc "$dir/log/iter$iter.tr.log")%), CV loss $(printf "%.4f" "$loss_new") (frame acc $(frame_acc "$dir/log/iter$iter.cv.log")%), lrate $lr: $verdict"
    touch "$dir/.done_iter$iter"
    [ "$((10#$iter))" -le "$keep_lr_iters" ] && continue
    rel_impr=$(awk -v p="$loss_prev" -v l="$loss" 'BEGIN {print (p - l) / p}')
    if [ "$halving" = 1 ] && awk -v r="$rel_impr" -v e="$end_halving_impr" 'BEGIN {exit !(r < e)}'; then
      [ "$((10#$iter))" -le "$min_iters" ] && continue
      log "train: stopped, relative improvement $rel_impr < $end_halving_impr while halving"
      break
    fi
    if awk -v r="$rel_impr" -v s="$start_halving_impr" 'BEGIN {exit !(r < s)}'; then
      halving=1; echo 1 > "$dir/.halving"
    fi
    if [ "$halving" = 1 ]; then
      lr=$(awk -v l="$lr" -v h="$halving_factor" 'BEGIN {print l * h}'); echo "$lr" > "$dir/.learn_rate"
    fi
  done
  [ "$mlp_best" != "$dir/nnet.init" ] || die "training accepted no epoch (see $dir/log/iter*.cv.log)"
  ( cd "$dir"; rm -f final.nnet; ln -s "nnet/$(basename "$mlp_best")" final.nnet )
  log "train: final.nnet = $(basename "$mlp_best")"
fi

if stage_on 4 && [ -n "$decode_sets" ]; then
  [ -e "$dir/final.nnet" ] || die "$dir/final.nnet does not exist (stage 3)"
  for set_dir in $decode_sets; do
    set_dir=$(abs_path "$set_dir"); name=$(basename "$set_dir"); d=$dir/decode_$name$decode_suffix
    mkdir -p "$d/log" "$d/scoring" "$d/scoring_kaldi"
    if [ ! -f "$d/lat.1.gz" ]; then
      log "decode $name: nnet-forward (prior scale $prior_scale) + latgen-faster-mapped (acwt $acwt, beam $beam, lattice beam $lattice_beam)"
      run "$d/log/nnet_forward.log" nnet-forward --no-softmax=true --prior-scale="$prior_scale" \
        --feature-transform="$ft" --class-frame-counts="$dir/ali_train_pdf.counts" --use-gpu=no \
        "$dir/final.nnet" "$(feats_of "$set_dir/feats.scp" "$set_dir")" "ark,scp:$d/loglikes.ark,$d/loglikes.scp"
      run "$d/log/decode.log" latgen-faster-mapped --min-active="$min_active" --max-active="$max_active" \
        --max-mem="$max_mem" --beam="$beam" --lattice-beam="$lattice_beam" --acoustic-scale="$acwt" \
        --allow-partial=true --word-symbol-table="$graph/words.txt" "$gmm/final.mdl" "$graph/HCLG.fst" \
        "scp:$d/loglikes.scp" "ark:|gzip -c > $d/lat.1.gz.tmp"
      mv "$d/lat.1.gz.tmp" "$d/lat.1.gz"
    fi
    for lmwt in $(seq "$min_lmwt" "$max_lmwt"); do
      [ -s "$d/wer_$lmwt" ] && continue
      runsh "$d/log/best_path.$lmwt.log" "lattice-best-path --acoustic-scale=$(awk -v w="$lmwt" 'BEGIN {printf "%.10g", 1 / w}') \
        'ark:gunzip -c $d/lat.1.gz |' ark,t:- | \
        awk 'NR == FNR {w[\$2] = \$1; next} {l = \$1; for (i = 2; i <= NF; i++) l = l \" \" w[\$i]; print l}' $graph/words.txt - \
        > $d/scoring/$lmwt.txt"
      runsh "$d/log/score.$lmwt.log" "compute-wer --text --mode=present ark:$set_dir/text \
        ark:$d/scoring/$lmwt.txt > $d/wer_$lmwt.tmp"
      mv "$d/wer_$lmwt.tmp" "$d/wer_$lmwt"
    done
    # best_wer.sh: the lowest %WER over the weights (the first on ties)
    for lmwt in $(seq "$min_lmwt" "$max_lmwt"); do
      echo "$(grep '%WER' "$d/wer_$lmwt") $d/wer_$lmwt"
    done | awk 'NR == 1 || $2 + 0 < best {best = $2 + 0; line = $0} END {print line}' > "$d/scoring_kaldi/best_wer"
    log "decode $name: $(cat "$d/scoring_kaldi/best_wer")"
  done
fi
log "done in $(($(date +%s) - start)) s: $dir"
