#!/usr/bin/env bash
# The neural stages of the paper's experiment (Tang et al. 2015: DNN teachers, soft targets, LSTM
# students with KT pre-training), shared by recipes/speech_commands/run.sh and
# recipes/speechocean762/run.sh (source after systems.sh). Each function runs one stage for every
# "COND SEED" line of the caller's `cells`, into exp/<cond>/seed<S>/<system>, with the systems.sh
# functions (skip-if-done). The caller defines
#   cells                 one "COND SEED" line per neural cell
#   nn_train ROLE COND    the training features of ROLE: rbm (the RBMs), kt (the teachers, their
#                         soft targets and the KT students) or base (the LSTM baseline)
#   nn_ali ROLE COND      the alignments (pdf targets) of ROLE: kt or base
# and the variables conf (the folder of rbm.yaml dnn.yaml lstm.yaml kt.yaml finetune.yaml; a
# condition's own values over them in conf/<cond>/<name>.yaml where present: nn_config), thr
# ("--num-threads N"), temperature (KT temperature) and extra_nn_opts (appended to every
# training command); teacher_nn_opts, if set, is appended to the two teachers' commands only
# (e.g. "--freq-mask 8"); kt_teachers, if set, names the teachers whose chains run (rand: dnn_rand
# and its students; rbm: the RBMs, dnn_rbm and its students; default both): two processes can
# then train one cell's two chains side by side (the baseline, lstm_ce, is in neither: stage 11).
#
#   kt_rbm_stage                stacked RBMs: dbn
#   kt_teachers_stage           DNN teachers dnn_rand (random init) and dnn_rbm (from dbn)
#   kt_posteriors_stage [opts]  their soft targets dnn_{rand,rbm}_post (opts: dump-posteriors')
#   kt_baseline_stage           the LSTM baseline lstm_ce (random init, cross-entropy)
#   kt_students_stage           KT pre-training of lstm_kt_{rand,rbm} on each teacher's targets
#   kt_finetune_stage SUFFIX W  lstm_kt_{rand,rbm}_SUFFIX fine-tuned from lstm_kt_{rand,rbm} on
#                               the hard targets; W > 0 keeps the KT loss ((1-W) CE + W KT)
#
# kt_systems names the decodable networks these stages leave in each cell, the paper's seven:
# (1) dnn_rand, (2) dnn_rbm, (3) lstm_ce, (4)/(5) lstm_kt_{rand,rbm}_ft, (4r)/(5r) ..._ftreg.

kt_systems="dnn_rand dnn_rbm lstm_ce lstm_kt_rand_ft lstm_kt_rbm_ft lstm_kt_rand_ftreg lstm_kt_rbm_ftreg"

# nn_config NAME COND: the --config options of config NAME in condition COND: $conf/NAME.yaml,
# then $conf/COND/NAME.yaml where that exists (a second --config sets only the fields it names,
# e.g. the 25% condition's own fine-tuning learning rate)
nn_config() {
  local opts="--config $conf/$1.yaml"
  [ ! -f $conf/$2/$1.yaml ] || opts="$opts --config $conf/$2/$1.yaml"
  echo "$opts"
}

# kt_chains: the teachers of $kt_teachers (default "rand rbm"), checked
kt_chains() {
  local t
  for t in ${kt_teachers:-rand rbm}; do
    case $t in rand|rbm) ;; *) echo "kt_stages.sh: --kt-teachers: rand or rbm, not '$t'" >&2; return 1 ;; esac
  done
  echo ${kt_teachers:-rand rbm}
}

kt_rbm_stage() {
  local cond seed chains
  chains=" $(kt_chains) "
  [[ $chains == *" rbm "* ]] || return 0
  while read -r cond seed; do
    rbm_system exp/$cond/seed$seed/dbn $(nn_train rbm $cond) $(nn_config rbm $cond) --seed $seed $thr
  done < <(cells)
}

kt_teachers_stage() {
  local cond seed s opts t init chains
  chains=$(kt_chains)
  while read -r cond seed; do
    s=exp/$cond/seed$seed
    opts="$(nn_config dnn $cond) --seed $seed $thr $extra_nn_opts ${teacher_nn_opts:-}"
    for t in $chains; do
      init=; [ $t = rand ] || init="--dbn $s/dbn"
      train_teacher_system $s/dnn_$t $(nn_train kt $cond) $(nn_ali kt $cond) $opts $init
    done
  done < <(cells)
}

kt_posteriors_stage() {
  local cond seed t chains
  chains=$(kt_chains)
  while read -r cond seed; do
    for t in $chains; do
      posteriors_system exp/$cond/seed$seed/dnn_${t}_post exp/$cond/seed$seed/dnn_$t \
        $(nn_train kt $cond) --temperature $temperature "$@" $thr
    done
  done < <(cells)
}

kt_baseline_stage() {
  local cond seed
  while read -r cond seed; do
    finetune_system exp/$cond/seed$seed/lstm_ce $(nn_train base $cond) $(nn_ali base $cond) \
      $(nn_config lstm $cond) --seed $seed $thr $extra_nn_opts
  done < <(cells)
}

kt_students_stage() {
  local cond seed t chains
  chains=$(kt_chains)
  while read -r cond seed; do
    for t in $chains; do
      kt_system exp/$cond/seed$seed/lstm_kt_$t $(nn_train kt $cond) exp/$cond/seed$seed/dnn_${t}_post \
        $(nn_config kt $cond) --seed $seed $thr --temperature $temperature $extra_nn_opts
    done
  done < <(cells)
}

kt_finetune_stage() {
  local suffix=$1 w=$2 cond seed s t chains
  chains=$(kt_chains)
  while read -r cond seed; do
    s=exp/$cond/seed$seed
    for t in $chains; do
      student_finetune_system $s/lstm_kt_${t}_$suffix $(nn_train kt $cond) $(nn_ali kt $cond) \
        $s/lstm_kt_$t $s/dnn_${t}_post $w $temperature $(nn_config finetune $cond) --seed $seed $thr $extra_nn_opts
    done
  done < <(cells)
}
