#!/usr/bin/env bash
# The targets-and-priors study's steps (issues 21 item 5, 22 item 2), shared by
# recipes/fsdd/local/targets_study.sh and recipes/speech_commands/local/targets_study.sh (source
# after systems.sh). A GMM system of exp/<...> is named by its directory (mono, tri1,
# tri1_l100_g125): its alignments are <name>_ali, its graph <name>/graph, and a network trained on
# them is <seed dir>/<system> for mono (run.sh's own teachers) and <seed dir>/<system>_<name>
# otherwise.
#
#   target_net SYSTEM TARGETS                the network's directory name
#   targets_gmm_sweep E TARGETS LANG_TEST DATA NAME NJ
#                                            E/TARGETS's graph (make-graph with LANG_TEST) and
#                                            decode of DATA over LMWT 4..15 into
#                                            E/TARGETS/NAME_sweep (the GMM row)
#   targets_network E S TRAIN CONF TARGETS SYSTEM SEED THR
#                                            train SYSTEM (dnn_rand: conf/dnn.yaml; dnn_rbm: the
#                                            same from S/dbn; lstm_ce: conf/lstm.yaml, finetune
#                                            without --init) on E/TARGETS_ali, as run.sh does
#   targets_decode E NET TARGETS DATA NAME NJ THR "SCALES"
#                                            for each prior scale: forward --prior-scale (log-
#                                            posterior - S log-prior) into NET/loglikes_NAME[_psS]
#                                            and decode-nnet over LMWT 4..15 (acoustic scale 0.1,
#                                            lattice beam 8: nnet1_anchor.sh's sweep) with
#                                            E/TARGETS/graph and E/TARGETS into
#                                            NET/decode_NAME[_psS]_sweep (no suffix for S = 1.0,
#                                            the anchor's names)
#   targets_sweep_dir NET NAME S             the decode dir of prior scale S that targets_decode writes
#   targets_tsv_row TARGETS SYSTEM S FOLD DECODE NET
#                                            one line of scripts/targets_table.py's input

target_net() {
  if [ "$2" = mono ]; then echo $1; else echo ${1}_$2; fi
}

targets_gmm_sweep() {
  local e=$1 t=$2 lang_test=$3 data=$4 name=$5 nj=$6
  graph_system $e/$t/graph $lang_test $e/$t
  decode_gmm_system $e/$t/${name}_sweep $e/$t/graph $data $e/$t --nj $nj --min-lmwt 4 --max-lmwt 15
}

targets_network() {
  local e=$1 s=$2 train=$3 conf=$4 t=$5 sys=$6 seed=$7 thr=$8 dir ali
  # shellcheck disable=SC2086
  dir=$s/$(target_net $sys $t); ali=$e/${t}_ali
  case $sys in
    dnn_rand) train_teacher_system $dir $train $ali --config $conf/dnn.yaml --seed $seed $thr ;;
    dnn_rbm) train_teacher_system $dir $train $ali --config $conf/dnn.yaml --seed $seed $thr --dbn $s/dbn ;;
    lstm_ce) finetune_system $dir $train $ali --config $conf/lstm.yaml --seed $seed $thr ;;
    *) echo "targets_network: SYSTEM is dnn_rand, dnn_rbm or lstm_ce, not '$sys'" >&2; return 1 ;;
  esac
}

_ps_suffix() {  # "" for prior scale 1.0 (1, 1.0), _ps<S> otherwise
  case $1 in 1|1.0|1.00) echo "" ;; *) echo _ps$1 ;; esac
}

targets_decode() {
  local e=$1 net=$2 t=$3 data=$4 name=$5 nj=$6 thr=$7 scales=$8 ps suf
  for ps in $scales; do
    suf=$(_ps_suffix $ps)
    decode_system $net/decode_${name}${suf}_sweep $net $data $e/$t/graph $e/$t $net/loglikes_${name}$suf \
      "$thr --prior-scale $ps" --nj $nj --min-lmwt 4 --max-lmwt 15 --acoustic-scale 0.1 --lattice-beam 8
  done
}

targets_sweep_dir() {  # targets_sweep_dir NET NAME S: the decode dir targets_decode writes
  echo $1/decode_${2}$(_ps_suffix $3)_sweep
}

targets_tsv_row() {
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@"
}
