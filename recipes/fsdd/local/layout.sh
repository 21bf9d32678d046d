#!/usr/bin/env bash
# The FSDD work-dir layout that run.sh and local/*.sh share (source inside the work dir, after
# ../common/stage.sh and ../common/systems.sh). Reads the scripts' option variables protocol,
# folds, conditions, seeds, conf, nn_threads, nj, nn_gmm (the GMM of the networks' targets and
# hybrid decoding: run.sh --nn-gmm) and nn_prior_scale (run.sh --nn-prior-scale).
#   data/all                                  the whole corpus (stage 0 of run.sh)
#   data/{mfcc,fbank}/<split>/<cond>/train    training data of a split and condition
#   data/{mfcc,fbank}/<split>/test            its test data
#   exp/<split>/<cond>/mono, mono_ali         the GMMs and their alignments (tri1, tri1_ali, tri2)
#   exp/<split>/<cond>/seed<S>/<system>       the neural systems
# <split> is official or si_<speaker>; <cond> full or quarter.
#
#   fsdd_enter_work        conf and work made absolute (../../common/paths.sh), fsdd_threads, cd $work, fsdd_splits: the start of
#                          every script that adds systems to a work dir
#   fsdd_threads           sets $thr, the --num-threads option of the neural commands, and
#                          exports OMP/MKL_NUM_THREADS for the commands without it (GMM commands,
#                          make-feats), both from $nn_threads (0: torch's default)
#   fsdd_splits            sets $splits: official, or si_<speaker> for each of $folds (default:
#                          every speaker of data/all)
#   cells                  one "split cond seed" line per neural cell (read them with
#                          `while read -r split cond seed; do ...; done < <(cells)`)
#   nn_decode SPLIT COND SEED SYSTEM NAME LMWT   hybrid decoding of a system on its test data
#                          into <system>/NAME through $nn_gmm's graph and model, log-posterior
#                          - $nn_prior_scale log-prior (log-likelihoods in <system>/loglikes_test)
#   fsdd_table OUT SYSTEMS COMMAND [options]     OUT.md and OUT.png (scripts/kt_results.py;
#                          the options go to it)

fsdd_enter_work() {
  absolute_options conf work
  [ -d "$conf" ] || { echo "$0: --conf: no folder '$conf'" >&2; exit 1; }
  [ -d "$work" ] || { echo "$0: --work: no folder '$work' (run.sh's work dir)" >&2; exit 1; }
  fsdd_threads
  cd "$work"
  fsdd_splits
}

fsdd_threads() {
  thr="--num-threads $nn_threads"
  [ "$nn_threads" -gt 0 ] && export OMP_NUM_THREADS=$nn_threads MKL_NUM_THREADS=$nn_threads
  return 0
}

fsdd_splits() {
  case "$protocol" in
    official) splits=official ;;
    si) [ -n "$folds" ] || folds=$(cut -d' ' -f1 data/all/spk2utt)
        splits=$(for f in $folds; do echo -n "si_$f "; done); splits=${splits% } ;;
    *) echo "$0: --protocol is si or official, not '$protocol'" >&2; exit 1 ;;
  esac
}

cells() {
  local split cond seed
  for split in $splits; do for cond in $conditions; do for seed in $seeds; do
    echo "$split $cond $seed"
  done; done; done
}

nn_decode() {
  local split=$1 cond=$2 seed=$3 sys=$4 name=$5 lmwt=$6
  local e=exp/$split/$cond s=exp/$split/$cond/seed$seed/$sys
  decode_system $s/$name $s data/fbank/$split/test $e/$nn_gmm/graph $e/$nn_gmm $s/loglikes_test \
    "--num-threads $nn_threads --prior-scale $nn_prior_scale" --nj $nj --min-lmwt $lmwt --max-lmwt $lmwt
}

fsdd_table() {
  local out=$1 systems=$2 command=$3; shift 3
  python "$ASRKT_ROOT/scripts/kt_results.py" --exp exp --splits "$splits" \
    --conditions "$conditions" --seeds "$seeds" --systems "$systems" --protocol $protocol \
    --command "$command" --conf "$conf" --targets $nn_gmm --prior-scale $nn_prior_scale \
    --out $out.md --png $out.png "$@"
  cat $out.md
}
