#!/usr/bin/env bash
# FSDD train/test data dirs and dict for one split (used by recipes/common/fsdd_mono.sh). Utterance ids are <speaker>-<digit>-<index>.
# Usage: fsdd_prepare.sh [--split official|heldout:<speaker>] [--condition full|quarter] <fsdd dir> <out dir>
#   official: indices 0-4 test, 5-49 train (the dataset authors' split)
#   heldout:SPK: train on the other speakers, test on SPK (speaker independent)
#   --condition quarter: every 4th training utterance per speaker/digit (see split_lists.sh)
# Writes <out>/train, <out>/test (wav.scp text utt2spk spk2utt), <out>/all and <out>/local/dict.
set -euo pipefail
split=official          # official, or heldout:<speaker>
condition=full          # full or quarter
. "$(dirname "$0")/../../common/parse_options.sh"
if [ $# -ne 2 ]; then
  echo "Usage: $0 [--split official|heldout:<speaker>] [--condition full|quarter] <fsdd-dir> <out-dir>" >&2; exit 1
fi
src=$1; out=$2
here=$(cd "$(dirname "$0")" && pwd)
case "$split" in official) name=official ;; heldout:*) name=si_${split#heldout:} ;;
  *) echo "$0: bad --split $split" >&2; exit 1 ;; esac
bash "$here/prepare_data.sh" "$src" "$out"
bash "$here/split_lists.sh" "$out/all" "$name" "$condition" "$out/lists"
for set in train test; do
  d=$out/$set; mkdir -p "$d"
  for f in wav.scp text utt2spk; do
    awk 'NR == FNR {keep[$1]; next} $1 in keep' "$out/lists/$set.list" "$out/all/$f" > "$d/$f"
  done
  awk '{a[$2]=a[$2]" "$1} END{for (s in a) print s a[s]}' "$d/utt2spk" | LC_ALL=C sort > "$d/spk2utt"
done
echo "$0: $(wc -l < "$out/train/text") train, $(wc -l < "$out/test/text") test utterances (split $split, $condition) in $out"
