#!/usr/bin/env bash
# The stages the recipes share, one function per system or step (source after stage.sh). Each
# skips work already done (done_or_run: a .done marker in its output directory) and otherwise runs
# the asrkt command(s) with the arguments given; the commands check their inputs themselves.
# Options after the fixed arguments go to the asrkt command as they are.
#
#   feats_dir CONFIG NJ SRC DST KIND CMVN    copy SRC's data files to DST (unless the same dir),
#                                            make-feats (KIND mfcc|fbank), compute-cmvn if CMVN=true
#   feats_dirs CONFIG NJ KIND CMVN "SRC DST ..."   feats_dir of each pair, the DSTs not yet done
#                                            extracted by one make-feats process (--also)
#   subset_dir LIST SRC DST                  subset-data-dir --utt-list LIST + compute-cmvn of DST
#   noisy_dir CONFIG NJ SRC DST [opts]       DST = SRC (with features) + a noisy copy of it
#                                            (perturb-data-dir --noise-dir ... opts, make-feats
#                                            with CONFIG), compute-cmvn of DST
#   copy_ali_system ALI DATA SRC_ALI         copy-ali: SRC_ALI's alignments for DATA's copies
#   train_mono_system DIR DATA LANG [opts]   train-mono
#   train_deltas_system DIR DATA LANG ALI [opts]      train-deltas (tri1: tree + delta GMMs)
#   train_lda_mllt_system DIR DATA LANG ALI [opts]    train-lda-mllt (tri2: LDA+MLLT GMMs)
#   tri_points KIND PREFIX DATA LANG ALI LANG_TEST TEST NAME NJ "L:G ..." [decode opts]
#                                            a size study: KIND (tri1: train-deltas, tri2:
#                                            train-lda-mllt) for every point L:G (--num-leaves L
#                                            --totgauss G) into PREFIX_l<L>_g<G>, its graph, and
#                                            decode of TEST into PREFIX_l<L>_g<G>/NAME
#   tri_grid KIND PREFIX DATA LANG ALI LANG_TEST TEST NAME NJ "LEAVES" "GAUSS" [decode opts]
#                                            tri_points on every --num-leaves x --totgauss pair
#   grid_points "LEAVES" "GAUSS"             the pairs L:G of a grid, leaves outer
#   point_dirs PREFIX "L:G ..."              tri_points' system dirs, in the points' order
#   grid_dirs PREFIX "LEAVES" "GAUSS"        tri_grid's system dirs, in the grid's order
#   align_system ALI DATA LANG MODEL [opts]  align + ali-to-pdf (the pdf targets of the NNs)
#   graph_system GRAPH LANG_TEST MODEL       make-graph
#   decode_gmm_system DIR GRAPH DATA MODEL [opts]   decode (its options kept in DIR/options, as
#                                            decode_system's below)
#   graph_decode_gmm MODEL LANG_TEST DATA NAME [opts]  graph_system MODEL/graph, then
#                                            decode_gmm_system of DATA into MODEL/NAME
#   (the four trainers below continue an interrupted run: --resume when DIR holds checkpoints)
#   rbm_system DIR DATA [opts]               pretrain-rbm
#   train_teacher_system DIR DATA ALI [opts] train-teacher
#   posteriors_system DIR MODEL DATA [opts]  dump-posteriors (soft targets)
#   kt_system DIR DATA POST [opts]           kt-pretrain
#   finetune_system DIR DATA ALI [opts]      finetune (also the LSTM baseline: no --init)
#   student_finetune_system DIR DATA ALI INIT POST W T [opts]
#                                            a KT student's fine-tuning from INIT; W > 0 keeps
#                                            the KT loss ((1-W) CE + W KT on POST at temperature T)
#   decode_system DIR MODEL DATA GRAPH GMM LOGLIKES FORWARD_OPTS [decode-nnet opts]
#                                            forward into LOGLIKES (unless it holds loglikes.scp of
#                                            the same FORWARD_OPTS), then decode-nnet into DIR; with
#                                            decode_write_loglikes=false (default true) and no such
#                                            LOGLIKES, decode-hybrid instead (no archive); the
#                                            options are kept in DIR/options, and a DIR done with
#                                            other options stops with an error (move it aside)
#   decode_systems GRAPH GMM FORWARD_OPTS "DIR MODEL DATA LOGLIKES ..." [decode-nnet opts]
#                                            decode_system of each quadruple, except that the
#                                            ones for decode-hybrid (no archive wanted, none
#                                            there) not yet done go to one decode-hybrid process
#                                            (--also): the graph's and network's libraries load
#                                            once, not once per system and set

feats_dir() {
  feats_dirs $1 $2 $5 $6 "$3 $4"
}

feats_dirs() {
  local config=$1 nj=$2 kind=$3 cmvn=$4 pairs=($5) i src dst todo=() also=()
  if [ $(( ${#pairs[@]} % 2 )) != 0 ]; then
    echo "feats_dirs: the list is SRC DST pairs, not '${pairs[*]}'" >&2
    return 1
  fi
  for ((i = 0; i < ${#pairs[@]}; i += 2)); do
    src=${pairs[i]} dst=${pairs[i+1]}
    [ -f $dst/.done ] && continue
    if [ "$src" != "$dst" ]; then mkdir -p $dst && cp $src/{wav.scp,text,utt2spk,spk2utt} $dst/; fi
    todo+=($dst)
  done
  [ ${#todo[@]} -gt 0 ] || return 0
  for dst in "${todo[@]:1}"; do also+=(--also $dst); done
  asrkt make-feats --config $config --nj $nj "${also[@]}" ${todo[0]} $kind || return
  for dst in "${todo[@]}"; do
    [ "$cmvn" = false ] || asrkt compute-cmvn $dst || return
    touch $dst/.done
  done
}

subset_dir() {
  local list=$1 src=$2 dst=$3
  [ -f $dst/.done ] && return 0
  asrkt subset-data-dir --utt-list $list $src $dst
  asrkt compute-cmvn $dst     # CMVN stats of this subset only
  touch $dst/.done
}

noisy_dir() {
  local config=$1 nj=$2 src=$3 dst=$4; shift 4
  [ -f $dst/.done ] && return 0
  if [ ! -f ${dst}_copy/.done ]; then
    asrkt perturb-data-dir "$@" $src ${dst}_copy
    asrkt make-feats --config $config --nj $nj ${dst}_copy ${dst}_copy/data   # archives named after the dir: one dir each
    touch ${dst}_copy/.done
  fi
  asrkt combine-data-dirs $dst $src ${dst}_copy
  asrkt compute-cmvn $dst
  touch $dst/.done
}

copy_ali_system() {
  done_or_run $1 asrkt copy-ali $2 $3 $1
}

train_mono_system() {
  local dir=$1 data=$2 lang=$3; shift 3
  done_or_run $dir asrkt train-mono "$@" $data $lang $dir
}

train_deltas_system() {
  local dir=$1 data=$2 lang=$3 ali=$4; shift 4
  done_or_run $dir asrkt train-deltas "$@" $data $lang $ali $dir
}

train_lda_mllt_system() {
  local dir=$1 data=$2 lang=$3 ali=$4; shift 4
  done_or_run $dir asrkt train-lda-mllt "$@" $data $lang $ali $dir
}

tri_points() {
  local kind=$1 prefix=$2 data=$3 lang=$4 ali=$5 lang_test=$6 test=$7 name=$8 nj=$9
  local points=${10} p l g d
  shift 10
  for p in $points; do
    [[ $p =~ ^[0-9]+:[0-9]+$ ]] || {
      echo "tri_points: a point is LEAVES:GAUSSIANS (e.g. 500:4000), not '$p'" >&2; return 1; }
    l=${p%%:*}; g=${p##*:}; d=${prefix}_l${l}_g${g}
    case $kind in
      tri1) train_deltas_system $d $data $lang $ali --nj $nj --num-leaves $l --totgauss $g ;;
      tri2) train_lda_mllt_system $d $data $lang $ali --nj $nj --num-leaves $l --totgauss $g ;;
      *) echo "tri_points: KIND is tri1 or tri2, not '$kind'" >&2; return 1 ;;
    esac
    graph_decode_gmm $d $lang_test $test $name --nj $nj "$@"
  done
}

tri_grid() {
  local leaves=${10} gauss=${11} args=("${@:1:9}")
  shift 11
  tri_points "${args[@]}" "$(grid_points "$leaves" "$gauss")" "$@"
}

grid_points() {
  local l g
  for l in $1; do for g in $2; do echo $l:$g; done; done
}

point_dirs() {
  local p
  for p in $2; do echo ${1}_l${p%%:*}_g${p##*:}; done
}

grid_dirs() {
  point_dirs $1 "$(grid_points "$2" "$3")"
}

_align_and_pdf() {
  local ali=$1 data=$2 lang=$3 model=$4; shift 4
  asrkt align "$@" $data $lang $model $ali
  asrkt ali-to-pdf $ali scp:$ali/ali.scp $ali/pdf.ark
}

align_system() {
  done_or_run $1 _align_and_pdf "$@"
}

graph_system() {
  done_or_run $1 asrkt make-graph $2 $3 $1
}

graph_decode_gmm() {
  local model=$1 lang_test=$2 data=$3 name=$4; shift 4
  graph_system $model/graph $lang_test $model
  decode_gmm_system $model/$name $model/graph $data $model "$@"
}

decode_gmm_system() {
  local dir=$1 graph=$2 data=$3 model=$4; shift 4
  local opts="decode $(result_opts "$@")" rc=0
  decoded $dir "$opts" || rc=$?
  [ $rc = 1 ] || return $rc
  asrkt decode "$@" $graph $data $model $dir </dev/null
  mark_decoded $dir "$opts"
}

# mark_decoded DIR OPTS: DIR's decode is complete and was made with the options OPTS
mark_decoded() {
  mkdir -p $1 && echo "$2" > $1/options && touch $1/.done
}

# nnet_decode_opts FORWARD_OPTS [decode-nnet opts]: what a hybrid decode dir records in options
# (forward | decode-nnet, or decode-hybrid: the same numbers)
nnet_decode_opts() {
  local forward_opts=$1; shift
  echo "forward $(result_opts $forward_opts) | decode-nnet $(result_opts "$@")"
}

# decoded DIR OPTS: 0 (and a line saying so) when DIR was decoded with the options OPTS (or
# before decodes kept theirs in DIR/options), 1 when it was not decoded, 2 (and an error line)
# when it was decoded with other options: another prior scale or beam is not this decode's result
decoded() {
  local dir=$1 opts=$2
  [ -f $dir/.done ] || return 1
  if [ -f $dir/options ] && [ "$(cat $dir/options)" != "$opts" ]; then
    echo "ERROR: $dir was decoded with other options ($(cat $dir/options)); move it aside or remove it to decode with: $opts" >&2
    return 2
  fi
  echo "  $dir: done already, skipping (remove $dir/.done to redo)" >&2
}

resume_opt() {  # resume_opt DIR: --resume where DIR holds an interrupted run's checkpoints
  if compgen -G "$1/checkpoints/*.pt" >/dev/null; then echo --resume; fi
}

rbm_system() {
  local dir=$1 data=$2; shift 2
  done_or_run $dir asrkt pretrain-rbm $(resume_opt $dir) "$@" $data $dir </dev/null
}

train_teacher_system() {
  local dir=$1 data=$2 ali=$3; shift 3
  done_or_run $dir asrkt train-teacher $(resume_opt $dir) "$@" $data $ali $dir </dev/null
}

posteriors_system() {
  local dir=$1 model=$2 data=$3; shift 3
  done_or_run $dir asrkt dump-posteriors "$@" $model $data $dir </dev/null
}

kt_system() {
  local dir=$1 data=$2 post=$3; shift 3
  done_or_run $dir asrkt kt-pretrain $(resume_opt $dir) "$@" $data $post $dir </dev/null
}

finetune_system() {
  local dir=$1 data=$2 ali=$3; shift 3
  done_or_run $dir asrkt finetune $(resume_opt $dir) "$@" $data $ali $dir </dev/null
}

student_finetune_system() {
  local dir=$1 data=$2 ali=$3 init=$4 post=$5 w=$6 t=$7; shift 7
  local reg=()
  [ "$w" = 0 ] || reg=(--kt-weight $w --post-dir $post --temperature $t)
  finetune_system $dir $data $ali --init $init "${reg[@]}" "$@"
}

decode_system() {
  local dir=$1 model=$2 data=$3 graph=$4 gmm=$5 loglikes=$6 forward_opts=$7; shift 7
  local opts rc=0
  opts=$(nnet_decode_opts "$forward_opts" "$@")
  decoded $dir "$opts" || rc=$?
  [ $rc = 1 ] || return $rc
  # loglikes.scp is written atomically and forward_opts after it: both, and the same, mean complete
  local fwd; fwd=$(result_opts $forward_opts)
  if [ -f $loglikes/loglikes.scp ] && [ "$(cat $loglikes/forward_opts 2>/dev/null)" != "$fwd" ]; then
    rm -rf $loglikes
  fi
  if [ ! -f $loglikes/loglikes.scp ] && [ "${decode_write_loglikes:-true}" != true ]; then
    # no archive wanted: the network runs inside the decoding jobs (the same numbers, bit for
    # bit, so the options string is forward's | decode-nnet's)
    asrkt decode-hybrid $forward_opts "$@" $graph $model $data $gmm $dir </dev/null
  else
    if [ ! -f $loglikes/loglikes.scp ]; then
      asrkt forward $forward_opts $model $data $loglikes </dev/null
      echo "$fwd" > $loglikes/forward_opts
    fi
    asrkt decode-nnet "$@" --data-dir $data $graph scp:$loglikes/loglikes.scp $gmm $dir </dev/null
  fi
  mark_decoded $dir "$opts"
}

decode_systems() {
  local graph=$1 gmm=$2 forward_opts=$3 quads=($4); shift 4
  local opts; opts=$(nnet_decode_opts "$forward_opts" "$@")
  local i rc dir model data loglikes first=() also=() pending=()
  if [ $(( ${#quads[@]} % 4 )) != 0 ]; then
    echo "decode_systems: the list is DIR MODEL DATA LOGLIKES quadruples, not '${quads[*]}'" >&2
    return 1
  fi
  for ((i = 0; i < ${#quads[@]}; i += 4)); do
    dir=${quads[i]} model=${quads[i+1]} data=${quads[i+2]} loglikes=${quads[i+3]}
    if [ "${decode_write_loglikes:-true}" = true ] || [ -f $loglikes/loglikes.scp ]; then
      decode_system $dir $model $data $graph $gmm $loglikes "$forward_opts" "$@" || return
      continue
    fi
    rc=0; decoded $dir "$opts" || rc=$?
    [ $rc = 0 ] && continue
    [ $rc = 1 ] || return $rc
    if [ ${#first[@]} = 0 ]; then first=($model $data $dir); else also+=(--also $model $data $dir); fi
    pending+=($dir)
  done
  [ ${#pending[@]} -gt 0 ] || return 0
  asrkt decode-hybrid $forward_opts "$@" "${also[@]}" $graph ${first[0]} ${first[1]} $gmm ${first[2]} </dev/null || return
  for dir in "${pending[@]}"; do
    mark_decoded $dir "$opts"
  done
}
