#!/usr/bin/env bash
# The targets-and-priors study's steps (issues 21 item 5, 22 item 2), shared by
# recipes/fsdd/local/targets_study.sh and recipes/speech_commands/local/targets_study.sh (source
# after systems.sh). A GMM system of exp/<...> is named by its directory (mono, tri1,
# tri1_l100_g125): its alignments are <name>_ali, its graph <name>/graph, and a network trained on
# them is <seed dir>/<system> for $targets_home (run.sh's own networks' targets: mono unless the
# caller sets it) and <seed dir>/<system>_<name> otherwise. The sweeps run over LM weights
# $targets_lmwts ("MIN MAX", default "4 15").
#
#   target_net SYSTEM TARGETS                the network's directory name
#   targets_gmm_sweep E TARGETS LANG_TEST DATA NAME NJ
#                                            E/TARGETS's graph (make-graph with LANG_TEST) and
#                                            decode of DATA over the sweep's weights into
#                                            E/TARGETS/NAME_sweep (the GMM row)
#   targets_network E S TRAIN CONF TARGETS SYSTEM SEED THR
#                                            train SYSTEM (dnn_rand: conf/dnn.yaml; dnn_rbm: the
#                                            same from S/dbn; lstm_ce: conf/lstm.yaml, finetune
#                                            without --init) on E/TARGETS_ali (+ $targets_ali_suffix),
#                                            as run.sh does;
#                                            variants SYSTEM_<v>[_<v>...] add one option each:
#                                            fm<N> --freq-mask N, e<N> --max-epochs N,
#                                            st<N> --num-streams N, do<NN> --dropout 0.NN,
#                                            lr<X> --learning-rate X, mn<N> --min-epochs N
#                                            (newbob neither stops nor rejects before epoch N),
#                                            kl<N> --keep-lr-epochs N, bi --model blstm
#                                            (the same cells and projection in each direction,
#                                            whole utterances: st<N> utterances per minibatch),
#                                            nl<N> --num-layers N, hd<N> --hidden-dim N,
#                                            pd<N> --proj-dim N, dl<N> --target-delay N,
#                                            l2x<X> --l2-penalty X, nv --norm-vars (CMVN),
#                                            cmu --cmvn utterance, sgd --optimizer sgd,
#                                            ki --weight-init nnet1 (Kaldi nnet1's initialisation)
#                                            (e.g. lstm_ce_e40_st8, dnn_rand_do20, lstm_ce_lr0.0005);
#                                            the KT students (run.sh's kt_stages.sh systems, only
#                                            on $targets_home, whose teachers' soft targets
#                                            S/dnn_{rand,rbm}_post run.sh made):
#                                            lstm_kt_<T>[_<v>...] KT pre-training (conf/kt.yaml,
#                                            --temperature $targets_temperature) on teacher T's
#                                            targets, and lstm_kt_<T>[_<v>...]_ft[_<w>...] /
#                                            _ftreg[_<w>...] fine-tuned from it (conf/finetune.yaml;
#                                            ftreg keeps the KT loss, --kt-weight
#                                            $targets_kt_weight), <v> the KT stage's variants, <w>
#                                            the fine-tuning's (e.g. lstm_kt_rbm_lr0.0003_ft_lr0.0003);
#                                            a KT-stage variant k<N> learns from the teacher's top N
#                                            posteriors instead (dump-posteriors --top-k N into
#                                            S/dnn_<T>_post_k<N>; ftreg keeps those), e.g.
#                                            lstm_kt_rbm_k5_ft
#   targets_decode E NET TARGETS DATA NAME NJ THR "SCALES"
#                                            for each prior scale: forward --prior-scale (log-
#                                            posterior - S log-prior) into NET/loglikes_NAME[_psS]_sweep
#                                            and decode-nnet over the sweep (acoustic scale 0.1,
#                                            lattice beam 8: nnet1_anchor.sh's sweep) with
#                                            E/TARGETS/graph and E/TARGETS into
#                                            NET/decode_NAME[_psS]_sweep (no suffix for S = 1.0,
#                                            the anchor's names; a decode dir already done is
#                                            skipped; targets_keep_loglikes=false writes no
#                                            log-likelihoods (decode-hybrid) and removes old
#                                            ones; targets_decode_opts: more decode-nnet
#                                            options, e.g. a narrower beam)
#   targets_sweep_dir NET NAME S             the decode dir of prior scale S that targets_decode writes
#   targets_tsv_row TARGETS SYSTEM S FOLD DECODE NET
#                                            one line of scripts/targets_table.py's input
# A study on one dev set (speech_commands, speechocean762) sets the variables e (GMM exp dir),
# s (seed dir), train (training features), conf, seed, thr, nj, systems, prior_scales and calls
#   targets_dev_networks TARGETS             each of $systems trained on TARGETS and decoded on
#                                            data/fbank/dev at $prior_scales (decode_dev*_sweep)
#   targets_dev_rows TARGETS [LABEL]         the table's lines of those decodes that are done
#                                            (LABEL: their column, default dev)

targets_home=${targets_home:-mono}   # the caller's run.sh targets: their networks have no suffix
targets_lmwts=${targets_lmwts:-"4 15"}   # the sweeps' LM weights, "MIN MAX"
targets_temperature=${targets_temperature:-2.0}   # the students' KT temperature (run.sh --temperature)
targets_kt_weight=${targets_kt_weight:-0.25}      # ftreg's KT weight (run.sh --kt-weight)
targets_ali_suffix=${targets_ali_suffix:-}        # the networks' alignments are E/<targets>_ali<suffix>
                                                  # (_aug: run.sh's copy for its noisy training data)

target_net() {
  if [ "$2" = "$targets_home" ]; then echo $1; else echo ${1}_$2; fi
}

targets_gmm_sweep() {
  local e=$1 t=$2 lang_test=$3 data=$4 name=$5 nj=$6 lo hi
  read -r lo hi <<< "$targets_lmwts"
  graph_decode_gmm $e/$t $lang_test $data ${name}_sweep --nj $nj --min-lmwt $lo --max-lmwt $hi
}

_targets_variant() {  # _targets_variant SYSTEM V: append V's option to the array _targets_opts
  case $2 in
    fm[1-9]*) _targets_opts+=(--freq-mask ${2#fm}) ;;
    e[1-9]*) _targets_opts+=(--max-epochs ${2#e}) ;;
    st[1-9]*) _targets_opts+=(--num-streams ${2#st}) ;;
    do[0-9][0-9]) _targets_opts+=(--dropout 0.${2#do}) ;;
    lr[0-9]*) _targets_opts+=(--learning-rate ${2#lr}) ;;
    mn[0-9]*) _targets_opts+=(--min-epochs ${2#mn}) ;;
    kl[0-9]*) _targets_opts+=(--keep-lr-epochs ${2#kl}) ;;
    bi) _targets_opts+=(--model blstm) ;;
    nl[1-9]*) _targets_opts+=(--num-layers ${2#nl}) ;;
    hd[1-9]*) _targets_opts+=(--hidden-dim ${2#hd}) ;;
    pd[0-9]*) _targets_opts+=(--proj-dim ${2#pd}) ;;
    dl[0-9]*) _targets_opts+=(--target-delay ${2#dl}) ;;
    l2x[0-9]*) _targets_opts+=(--l2-penalty ${2#l2x}) ;;
    nv) _targets_opts+=(--norm-vars) ;;
    cmu) _targets_opts+=(--cmvn utterance) ;;
    sgd) _targets_opts+=(--optimizer sgd) ;;
    ki) _targets_opts+=(--weight-init nnet1) ;;
    *) echo "targets_network: '$1': unknown variant '$2' (fm<N>, e<N>, st<N>, do<NN>, lr<X>, mn<N>, kl<N>, bi, nl<N>, hd<N>, pd<N>, dl<N>, l2x<X>, nv, cmu, sgd, ki)" >&2; return 1 ;;
  esac
}

targets_network() {
  local e=$1 s=$2 train=$3 conf=$4 t=$5 sys=$6 seed=$7 thr=$8 dir ali base extra=() v
  # shellcheck disable=SC2086
  dir=$s/$(target_net $sys $t); ali=$e/${t}_ali$targets_ali_suffix
  case $sys in lstm_kt_*) _targets_student "$@"; return ;; esac
  base=$(echo $sys | cut -d_ -f1-2)
  _targets_opts=()
  for v in $(echo $sys | cut -s -d_ -f3- | tr _ ' '); do   # variants: one option each
    _targets_variant $sys $v || return 1
  done
  extra=("${_targets_opts[@]}")
  case $base in
    dnn_rand) train_teacher_system $dir $train $ali --config $conf/dnn.yaml --seed $seed $thr "${extra[@]}" ;;
    dnn_rbm) train_teacher_system $dir $train $ali --config $conf/dnn.yaml --seed $seed $thr --dbn $s/dbn "${extra[@]}" ;;
    lstm_ce) finetune_system $dir $train $ali --config $conf/lstm.yaml --seed $seed $thr "${extra[@]}" ;;
    *) echo "targets_network: SYSTEM is dnn_rand, dnn_rbm, lstm_ce or lstm_kt_<rand|rbm>[_ft|_ftreg] (+ variants, above), not '$sys'" >&2; return 1 ;;
  esac
}

_targets_student() {  # targets_network's arguments, SYSTEM lstm_kt_<T>[_<v>...][_ft|_ftreg[_<w>...]]
  local e=$1 s=$2 train=$3 conf=$4 t=$5 sys=$6 seed=$7 thr=$8 teacher kt phase=kt v kt_opts=() w=0
  local post
  teacher=$(echo $sys | cut -d_ -f3); kt=lstm_kt_$teacher; post=$s/dnn_${teacher}_post
  case $teacher in rand|rbm) ;; *)
    echo "targets_network: '$sys': a student's teacher is rand or rbm (lstm_kt_rand..., lstm_kt_rbm...)" >&2; return 1 ;;
  esac
  if [ "$t" != "$targets_home" ]; then
    echo "targets_network: '$sys': students learn from run.sh's teachers, on $targets_home's targets only, not $t" >&2; return 1
  fi
  _targets_opts=()
  for v in $(echo $sys | cut -s -d_ -f4- | tr _ ' '); do
    case $phase:$v in
      kt:ft|kt:ftreg) phase=$v; kt_opts=("${_targets_opts[@]}"); _targets_opts=() ;;
      *:ft|*:ftreg) echo "targets_network: '$sys': one fine-tuning per name" >&2; return 1 ;;
      kt:k[1-9]*) kt=${kt}_$v; post=$s/dnn_${teacher}_post_$v
        [[ ${v#k} =~ ^[0-9]+$ ]] || { echo "targets_network: '$sys': k<N> is a number of posteriors, not '$v'" >&2; return 1; }
        posteriors_system $post $s/dnn_$teacher $train --temperature $targets_temperature --top-k ${v#k} $thr ;;
      *:k[1-9]*) echo "targets_network: '$sys': k<N> (the soft targets) belongs to the KT stage, before _ft" >&2; return 1 ;;
      kt:*) kt=${kt}_$v; _targets_variant $sys $v || return 1 ;;
      *) _targets_variant $sys $v || return 1 ;;
    esac
  done
  [ $phase != kt ] || kt_opts=("${_targets_opts[@]}")
  kt_system $s/$kt $train $post --config $conf/kt.yaml --seed $seed $thr \
    --temperature $targets_temperature "${kt_opts[@]}"
  [ $phase != kt ] || return 0
  [ $phase = ft ] || w=$targets_kt_weight
  student_finetune_system $s/$sys $train $e/${t}_ali$targets_ali_suffix $s/$kt $post $w $targets_temperature \
    --config $conf/finetune.yaml --seed $seed $thr "${_targets_opts[@]}"
}

_ps_suffix() {  # "" for prior scale 1.0 (1, 1.0), _ps<S> otherwise
  case $1 in 1|1.0|1.00) echo "" ;; *) echo _ps$1 ;; esac
}

targets_decode() {
  local e=$1 net=$2 t=$3 data=$4 name=$5 nj=$6 thr=$7 scales=$8 ps suf lo hi
  read -r lo hi <<< "$targets_lmwts"
  for ps in $scales; do
    suf=$(_ps_suffix $ps)
    [ ! -f $net/decode_${name}${suf}_sweep/.done ] || continue   # done: no forward pass again
    decode_write_loglikes=${targets_keep_loglikes:-true} \
      decode_system $net/decode_${name}${suf}_sweep $net $data $e/$t/graph $e/$t $net/loglikes_${name}${suf}_sweep \
      "$thr --prior-scale $ps" --nj $nj --min-lmwt $lo --max-lmwt $hi --acoustic-scale 0.1 --lattice-beam 8 \
      ${targets_decode_opts:-}
    [ "${targets_keep_loglikes:-true}" = true ] || rm -rf $net/loglikes_${name}${suf}_sweep
  done
}

targets_sweep_dir() {  # targets_sweep_dir NET NAME S: the decode dir targets_decode writes
  echo $1/decode_${2}$(_ps_suffix $3)_sweep
}

targets_tsv_row() {
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@"
}

targets_dev_networks() {
  local t=$1 sys
  for sys in $systems; do
    targets_network $e $s $train $conf $t $sys $seed "$thr"
    targets_decode $e $s/$(target_net $sys $t) $t data/fbank/dev dev $nj "$thr" "$prior_scales"
  done
}

targets_dev_rows() {
  local t=$1 label=${2:-dev} sys ps n d
  for sys in $systems; do
    for ps in $prior_scales; do
      n=$s/$(target_net $sys $t); d=$(targets_sweep_dir $n dev $ps)
      if [ -f $d/.done ]; then targets_tsv_row $t $sys $ps "$label" $PWD/$d $PWD/$n; fi
    done
  done
}
