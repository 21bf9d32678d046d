#!/usr/bin/env bash
# The nested folds that local/tri_study.sh makes (<work>/nest_<test speaker>/: a run.sh work dir
# training on the fold's speakers but one, the CV speaker, as split si_<cv>; the fold's test
# speaker is never read), for the studies that train in them (local/targets_study.sh,
# local/nnet1_anchor.sh). Source it, then call with $work (the study's work dir) and $cond set:
#   nested_folds          the test speakers of every nest_* of $work, or an error line (status 1)
#   nested_fold SPEAKER   one line: the CV speaker, the fold's exp dir (exp/si_<cv>/<cond>), its
#                         mfcc and fbank training data, lang, lang_test, the CV speaker's mfcc and
#                         fbank data; an error line (status 1) unless the fold has one si_<cv>
#   nested_resolve SPEAKER...
#                         nested_fold's line of each fold into the array fold_dirs[SPEAKER], once,
#                         before any work; the first fold's error line (status 1)
# e.g.  [ -n "$folds" ] || folds=$(nested_folds) || exit 1
#       nested_resolve $folds || exit 1
#       for f in $folds; do read -r cv e _ fbank _ <<< "${fold_dirs[$f]}"; ...; done

nested_folds() {
  local folds
  folds=$(cd "$work" && ls -d nest_* 2>/dev/null | sed 's/^nest_//' | tr '\n' ' ')
  [ -n "$folds" ] || { echo "$0: no nest_* folds in '$work' (run local/tri_study.sh first)" >&2; return 1; }
  echo ${folds% }
}

nested_fold() {
  local nest=$work/nest_$1 cv
  cv=$(ls "$nest/exp" 2>/dev/null | sed -n 's/^si_//p' | tr '\n' ' ')
  cv=${cv% }
  [ "$(echo $cv | wc -w)" = 1 ] || { echo "$0: $nest/exp: expected one si_<speaker> dir, found '$cv'" >&2; return 1; }
  echo $cv $nest/exp/si_$cv/$cond $nest/data/mfcc/si_$cv/$cond/train $nest/data/fbank/si_$cv/$cond/train \
    $nest/data/lang $nest/data/lang_test $nest/data/mfcc/si_$cv/test $nest/data/fbank/si_$cv/test
}

nested_resolve() {
  declare -gA fold_dirs=()
  local f
  for f in "$@"; do fold_dirs[$f]=$(nested_fold $f) || return 1; done
}
