#!/usr/bin/env bash
# speechocean762: connected read English of 250 non-native speakers (Mandarin L1; 104 children),
# 16 kHz; word recognition with an n-gram LM (issue 23), and the paper's experiment (Tang et al.
# 2015, knowledge-transfer pre-training of an LSTM from a DNN teacher) at senone scale:
#
# corpus -> data/{train,dev,test} (dev: every 5th training speaker of each age-group x gender
# stratum, README) -> dict (the corpus lexicon without stress digits: --keep-stress keeps them)
# + lang (optional silence 0.5) -> Kneser-Ney LMs of orders --lm-orders on the training text,
# vocabulary closed over the lexicon, perplexity on dev (and test, for the table only) ->
# the order with the lowest dev perplexity compiled into data/lang_test -> MFCC + GMMs mono ->
# tri1 -> tri2 per training condition (full: every training utterance; quarter: the
# deterministic 25%) -> on the senone alignments of --nn-gmm (tri2): (1) DNN from random init,
# (2) DNN from stacked RBMs -> soft targets (top K) -> (3) LSTM from random init (CE), (4)/(5)
# LSTM KT-pre-trained on the soft targets of (1)/(2), then fine-tuned; (4r)/(5r) the same
# fine-tuned with the KT loss kept (weight --kt-weight) -> hybrid decoding of dev (test only with
# --test true: the test speakers are read once, for the final table) through --nn-gmm's graph,
# an LM-weight sweep -> RESULTS_dev.md (dev, each system at its best weight on dev) and with
# --test true RESULTS.md (test, each system and seed at the weight with the lowest dev WER),
# + PNG, with %WER by age group, the LM's perplexity and the Kaldi anchor rows when present.
#
# Usage: ./run.sh [options] <corpus-dir>
#   e.g. ./run.sh --work /tmp/so762 /data/speechocean762     (the folder with WAVE/ train/ test/)
#        ./run.sh --stage 8 --conditions full --seeds 1 --work /tmp/so762 /data/speechocean762
# Relative paths on the command line are relative to where you run it from (../common/paths.sh).
# Work-dir layout:
#   data/{train,dev,test}                                    (stage 0)
#   data/local/dict, data/lang                               (stage 1)
#   data/local/lm (ppl.txt, order, lm.arpa), data/lang_test  (stage 2)
#   data/{mfcc,fbank}/{train,dev,test}, data/lists/train_quarter.list,
#   data/{mfcc,fbank}/quarter/train                          (stage 3)
#   exp/{mono,tri1,tri2} (+ _ali: training alignments), exp/<gmm>/graph, decode_<set>
#                                                            (full condition, stages 4-7)
#   exp/quarter/{mono,tri1,tri2} (+ _ali, graph, decode_<set>)   (quarter condition, its own triphone sizes)
#   exp/<cond>/seed<S>/dbn, exp/<cond>/seed<S>/<system>/decode_<set>   (networks, stages 8-15)
#   RESULTS_dev.md + .png, RESULTS.md + .png (test)          (stage 16)
# Stages:  0 data  1 dict + lang  2 LMs, perplexity table, G.fst  3 features + CMVN (+ the
#          quarter subset)  4 mono  5 tri1 (deltas)  6 tri2 (LDA+MLLT)  7 graphs, GMM decoding
#          8 RBMs  9 DNN teachers  10 soft targets  11 LSTM baseline  12 KT pre-training
#          13 fine-tuning  14 fine-tuning with the KT loss kept  15 hybrid decoding  16 tables
# The GMM sizes (--mono-gauss, --tri1-leaves, --tri1-gauss, --tri2-leaves, --tri2-gauss): their
# defaults are in conf/gmm.sh, shared with local/kaldi_anchor.sh; tri1's chosen on dev
# (local/gmm_dev_study.sh, DEV_STUDY_gmm.md), tri2's too (DEV_STUDY_gmm_tri2.md); the quarter condition's
# triphones have their own (--quarter-tri1-leaves ..., conf/gmm.sh; DEV_STUDY_gmm_quarter.md).
# Every stage skips work already done (a .done marker in its output directory); remove it to redo.
# A network whose training was interrupted continues from its last checkpoint (--resume).
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")"

stage=0
stop_stage=16
nj=2                    # parallel jobs of the feature, GMM and decoding commands
. ./conf/gmm.sh         # the GMM sizes: --mono-gauss, --tri1-leaves/--tri1-gauss, --tri2-leaves/--tri2-gauss
gmms="mono tri1 tri2"   # GMMs decoded in stage 7 and in the tables (all three are trained)
                        # (their LM-weight sweep --gmm-min-lmwt..--gmm-max-lmwt, 7..25: conf/gmm.sh)
decode_opts=""          # extra options of asrkt decode (GMMs; e.g. "--beam 10 --max-active 2000")
work=.                  # where data/, exp/ and the tables go
keep_stress=false       # keep the lexicon's stress digits (65 phones, not 39; README)
sil_prob=0.5            # optional-silence probability between words (prepare_lang's default)
lm_orders="2 3 4"       # n-gram orders estimated; the one with the lowest dev perplexity is used
lm_sets="dev test"      # sets in the perplexity table (the first chooses the order)
conditions="full quarter"  # training data: full (GMMs exp/mono ...), quarter (the deterministic 25%, exp/quarter/mono ...)
                        #   (data/lists/train_quarter.list: SHA-1 of the utterance id mod 4, speech_commands' rule;
                        #   the quarter's triphone sizes are conf/gmm.sh's quarter_*: --quarter-tri1-leaves ...)
seeds="1 2 3"           # seeds of the neural systems (the GMMs are the same for every seed)
conf=conf               # network configs {rbm,dnn,lstm,kt,finetune}.yaml (conf: <= 3 h per system and seed; conf/tiny: tests)
                        #   (conf: sized for 2 cores at --nn-threads 1, README)
test=false              # also decode the test speakers (only for the final table, RESULTS.md)
nn_gmm=tri2             # the networks' GMM (mono, tri1 or tri2): its senone alignments, graph and model
                        #   (exp/<gmm>_ali, exp/quarter/<gmm>_ali: the targets; exp/<gmm>/graph: decoding)
nn_prior_scale=0.5      # S of log-posterior - S log-prior (0.5 against Kaldi's 1.0 on dev, every network: README)
nn_min_lmwt=4           # lowest LM weight swept by the networks' decoding (Kaldi's steps/nnet/decode.sh
                        #   scores from 4; the quarter's lstm_ce had its best dev weight at 7, the end of a 7..17 sweep)
nn_max_lmwt=17          # highest (the tables take each system's and seed's lowest-dev-WER weight)
nn_decode_opts="--acoustic-scale 0.1 --beam 11"  # extra options of asrkt decode-nnet (Kaldi's nnet acwt; beam 11 chosen on dev, README)
keep_loglikes=false     # write and keep exp/.../loglikes_<set> (hundreds of pdfs x 4 bytes a frame: GBs for test);
                        #   false: the network runs inside the decoding jobs (asrkt decode-hybrid)
temperature=2.0         # KT temperature (dump-posteriors, kt-pretrain, fine-tuning with KT kept)
top_k=20                # soft targets: the teacher's K largest posteriors per frame (20 against 5 and 50 on dev: README)
kt_weight=0.25          # (4r)/(5r): (1-W) CE + W KT in fine-tuning
kt_teachers="rand rbm"  # the teachers whose chains stages 8-14 train (rand: dnn_rand and its students;
                        #   rbm: the RBMs, dnn_rbm and its students): a cell's two chains can run side by
                        #   side in two processes (README, "One table from several sittings")
nn_decode_systems=""    # the networks stage 15 decodes (default: all seven, kt_stages.sh kt_systems)
nn_threads=1            # --num-threads of the neural commands
extra_nn_opts=""        # appended to every neural training command (e.g. "--max-epochs 1")
. ../common/parse_options.sh
. ./path.sh
. ../common/stage.sh
. ../common/systems.sh
. ../common/kt_stages.sh

[ $# -eq 1 ] || { echo "Usage: $0 [options] <corpus-dir>  e.g. $0 --work /tmp/so762 /data/speechocean762 (--help for more)" >&2; exit 1; }
corpus=$(caller_path "$1")
local=$(pwd)/local
absolute_options work conf
[ -d "$conf" ] || { echo "$0: --conf: no folder '$conf'" >&2; exit 1; }
for c in $conditions; do
  case $c in full|quarter) ;; *) echo "$0: --conditions: full or quarter, not '$c'" >&2; exit 1 ;; esac
done
for g in $gmms $nn_gmm; do
  case $g in mono|tri1|tri2) ;;
    *) echo "$0: '$g' (--gmms/--nn-gmm) is not one of the trained GMMs: mono tri1 tri2" >&2; exit 1 ;;
  esac
done
kt_chains >/dev/null || exit 1
for sys in $nn_decode_systems; do
  [[ " $kt_systems " == *" $sys "* ]] || { echo "$0: --nn-decode-systems: '$sys' is not one of: $kt_systems" >&2; exit 1; }
done
decode_write_loglikes=$keep_loglikes   # decode_system: forward + decode-nnet, or decode-hybrid
dict_opts=()
[ "$keep_stress" = false ] || dict_opts+=(--keep-stress)
thr="--num-threads $nn_threads"
[ "$nn_threads" -gt 0 ] && export OMP_NUM_THREADS=$nn_threads MKL_NUM_THREADS=$nn_threads
sets=dev
[ "$test" = false ] || sets="$sets test"
mkdir -p "$work" && cd "$work"

gmm_exp() {  # gmm_exp COND: where the condition's GMMs are (full: exp, the paths of stages 4-7)
  if [ $1 = full ]; then echo exp; else echo exp/$1; fi
}
train_dir() {  # train_dir KIND COND: the condition's training features
  if [ $2 = full ]; then echo data/$1/train; else echo data/$1/$2/train; fi
}
cells() {  # one "cond seed" line per neural cell
  local cond seed
  for cond in $conditions; do for seed in $seeds; do echo "$cond $seed"; done; done
}
nn_train() {  # nn_train ROLE COND: every network trains on the condition's fbank features (kt_stages.sh)
  train_dir fbank $2
}
nn_ali() {  # nn_ali ROLE COND: ... and on the senone alignments of --nn-gmm
  echo $(gmm_exp $2)/${nn_gmm}_ali
}

if stage_begins 0 "data dirs (train, dev, test) from $corpus"; then
  done_or_run data python $local/prepare_data.py "$corpus" data
fi

stress=removed; [ "$keep_stress" = false ] || stress=kept
if stage_begins 1 "dict (lexicon stress digits $stress) and lang dir"; then
  done_or_run data/local/dict python $local/prepare_dict.py "${dict_opts[@]}" "$corpus" data/local/dict
  done_or_run data/lang asrkt prepare-lang --sil-prob $sil_prob data/local/dict data/lang
fi

if stage_begins 2 "n-gram LMs (orders $lm_orders) on the training text, perplexity on $lm_sets, G.fst"; then
  done_or_run data/local/lm bash $local/train_lm.sh --orders "$lm_orders" --sets "$lm_sets" \
    data data/local/dict data/local/lm
  cat data/local/lm/ppl.txt >&2
  done_or_run data/lang_test asrkt format-lm data/local/lm/lm.arpa data/lang data/lang_test
fi

if stage_begins 3 "MFCC (GMM) and fbank (NN) features with per-speaker CMVN (train dev test; conditions $conditions)"; then
  for kind in mfcc fbank; do    # one make-feats process per kind
    feats_dirs $local/../conf/$kind.yaml $nj $kind true \
      "data/train data/$kind/train data/dev data/$kind/dev data/test data/$kind/test"
  done
  if [[ " $conditions " == *" quarter "* ]]; then
    done_or_run data/lists python $local/quarter_list.py data/train data/lists/train_quarter.list
    for kind in mfcc fbank; do
      subset_dir data/lists/train_quarter.list data/$kind/train $(train_dir $kind quarter)
    done
  fi
fi

gmm_sizes() {  # gmm_sizes tri1|tri2 COND: --num-leaves L --totgauss G of the condition (conf/gmm.sh)
  local prefix=; [ $2 = full ] || prefix=${2}_
  local leaves=${prefix}${1}_leaves gauss=${prefix}${1}_gauss
  echo "--num-leaves ${!leaves} --totgauss ${!gauss}"
}

gmm_stage() {  # gmm_stage KIND: train KIND (mono, tri1 on mono_ali, tri2 on tri1_ali) and its alignments, every condition
  local kind=$1 cond e train
  for cond in $conditions; do
    e=$(gmm_exp $cond); train=$(train_dir mfcc $cond)
    case $kind in
      mono) train_mono_system $e/mono $train data/lang --nj $nj --totgauss $mono_gauss ;;
      tri1) train_deltas_system $e/tri1 $train data/lang $e/mono_ali --nj $nj $(gmm_sizes tri1 $cond) ;;
      tri2) train_lda_mllt_system $e/tri2 $train data/lang $e/tri1_ali --nj $nj $(gmm_sizes tri2 $cond) ;;
    esac
    align_system $e/${kind}_ali $train data/lang $e/$kind --nj $nj
  done
}

if stage_begins 4 "monophone GMM (flat start, --totgauss $mono_gauss) and training alignments ($conditions)"; then
  gmm_stage mono
fi

if stage_begins 5 "tri1: tree + delta GMMs ($tri1_leaves leaves, $tri1_gauss Gaussians; quarter $quarter_tri1_leaves, $quarter_tri1_gauss) and alignments ($conditions)"; then
  gmm_stage tri1
fi

if stage_begins 6 "tri2: LDA+MLLT GMMs ($tri2_leaves leaves, $tri2_gauss Gaussians; quarter $quarter_tri2_leaves, $quarter_tri2_gauss) and alignments ($conditions)"; then
  gmm_stage tri2
fi

if stage_begins 7 "decoding graphs and decoding of $gmms on $sets (LM weights $gmm_min_lmwt..$gmm_max_lmwt; $conditions)"; then
  for cond in $conditions; do
    e=$(gmm_exp $cond)
    for g in $gmms; do
      graph_system $e/$g/graph data/lang_test $e/$g
      for set in $sets; do
        decode_gmm_system $e/$g/decode_$set $e/$g/graph data/mfcc/$set $e/$g --nj $nj \
          --min-lmwt $gmm_min_lmwt --max-lmwt $gmm_max_lmwt $decode_opts
        grep WER $e/$g/decode_$set/scoring_kaldi/best_wer >&2 || true
      done
    done
  done
fi

if stage_begins 8 "stacked RBMs (pretrain-rbm; $conditions, seeds $seeds)"; then
  kt_rbm_stage
fi

if stage_begins 9 "DNN teachers on $nn_gmm's senones: random init and RBM-pre-trained (cross-entropy, newbob)"; then
  kt_teachers_stage
fi

if stage_begins 10 "soft targets of the teachers (T=$temperature, top $top_k per frame)"; then
  kt_posteriors_stage --top-k $top_k
fi

if stage_begins 11 "LSTM baseline: random init, cross-entropy on $nn_gmm's senones"; then
  kt_baseline_stage
fi

if stage_begins 12 "LSTM KT pre-training on each teacher's soft targets (T=$temperature)"; then
  kt_students_stage
fi

if stage_begins 13 "fine-tuning the KT-pre-trained LSTMs on hard targets ($conf/finetune.yaml)"; then
  kt_finetune_stage ft 0
fi

if stage_begins 14 "fine-tuning with the KT loss kept (W $kt_weight): (4r)/(5r)"; then
  kt_finetune_stage ftreg $kt_weight
fi

systems=$kt_systems   # recipes/common/kt_stages.sh
decoded=${nn_decode_systems:-$systems}
if stage_begins 15 "hybrid decoding of $sets (log-posterior - $nn_prior_scale log-prior through $nn_gmm's HCLG, LM weights $nn_min_lmwt..$nn_max_lmwt)"; then
  while read -r cond seed; do
    g=$(gmm_exp $cond)/$nn_gmm
    graph_system $g/graph data/lang_test $g
    quads=""   # every system and set of the cell: one decode-hybrid process (decode_systems)
    for sys in $decoded; do
      s=exp/$cond/seed$seed/$sys
      for set in $sets; do quads="$quads $s/decode_$set $s data/fbank/$set $s/loglikes_$set"; done
    done
    decode_systems $g/graph $g "$thr --prior-scale $nn_prior_scale" "$quads" --nj $nj \
      --min-lmwt $nn_min_lmwt --max-lmwt $nn_max_lmwt $nn_decode_opts
    if [ "$keep_loglikes" != true ]; then
      for sys in $decoded; do for set in $sets; do rm -rf exp/$cond/seed$seed/$sys/loglikes_$set; done; done
    fi
  done < <(cells)
fi

if stage_begins 16 "tables: RESULTS_dev.md (+ RESULTS.md for test) + PNG, %WER by age group"; then
  command=$(quote_command recipes/speechocean762/run.sh "${script_args[@]}")
  chosen=$(awk -F'|' '/\(chosen\)/ {gsub(/ /, ""); print}' data/local/lm/ppl.txt)
  IFS='|' read -r _ order dev_ppl dev_oov _ test_ppl test_oov _ <<<"$chosen"
  for set in $sets; do
    out=RESULTS_$set; [ $set != test ] || out=RESULTS
    lm_note="LM: Kneser-Ney ${order%(chosen)}-gram on the training text, vocabulary closed over the lexicon (order chosen on dev perplexity; data/local/lm/ppl.txt): dev perplexity $dev_ppl, OOV $dev_oov %"
    [ $set = dev ] || lm_note="$lm_note; test perplexity $test_ppl, OOV $test_oov %"
    gmm_dirs="full:mono=mono full:tri1=tri1 full:tri2=tri2"
    rows="$gmms"
    notes=(--note "$lm_note" --note "soft targets: the teacher's top $top_k posteriors per frame (dump-posteriors --top-k $top_k), renormalised"
           --note "networks decoded by asrkt decode-nnet $nn_decode_opts (README: decoding cost); GMMs by asrkt decode ${decode_opts:-with its defaults (beam 13)}")
    for g in mono tri1 tri2; do   # the Kaldi anchor (local/kaldi_anchor.sh) when it has decoded this set
      a=kaldi_exp/$g/decode_$set
      [ -f $a/scoring_kaldi/best_wer ] && [ -f kaldi_exp/$g/decode_dev/scoring_kaldi/best_wer ] || continue
      gmm_dirs="$gmm_dirs full:kaldi_$g=../kaldi_exp/$g"; rows="$rows kaldi_$g"
      notes+=(--note "kaldi_$g: $g trained by the reference Kaldi binaries (local/kaldi_anchor.sh), full condition only; decoded $(date -r $a/scoring_kaldi/best_wer '+%Y-%m-%d %H:%M')")
    done
    python "$ASRKT_ROOT/scripts/kt_results.py" --exp exp --splits . --conditions "$conditions" \
      --seeds "$seeds" --systems "$rows $systems" --command "$command" --conf "$conf" \
      --decode-name decode_$set --lmwt-from decode_dev --gmm-dirs "$gmm_dirs" --age-data data/$set \
      --temperature $temperature --targets $nn_gmm --prior-scale $nn_prior_scale \
      --lmwt "swept (GMMs $gmm_min_lmwt..$gmm_max_lmwt unless --decode-opts; networks $nn_min_lmwt..$nn_max_lmwt), the one with the lowest dev %WER per system and seed" \
      --title "Results: speechocean762, set '$set', KT pre-training of LSTMs on $nn_gmm senones" \
      --split-text "the corpus's training speakers without a dev set of whole speakers (every 5th of each age group x gender stratum, README) for training; dev for every choice; the corpus's test speakers read only for RESULTS.md; this table: $set" \
      --conditions-text "full = every utterance of data/train; quarter = those whose utterance id's SHA-1 is 0 mod 4 (data/lists/train_quarter.list, about 25%); CV = 10% of the training utterances, held out by the trainers" \
      "${notes[@]}" --out $out.md --png $out.png
    cat $out.md
  done
fi
