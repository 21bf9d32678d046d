#!/usr/bin/env bash
# Data prep for yesno (as Kaldi's egs/yesno/s5/local/prepare_data.sh): the sorted file list is
# split in half, the first half trains, the second half tests; each utterance is its own speaker.
# Usage: local/prepare_data.sh <waves_yesno dir> <data dir>
set -euo pipefail
if [ $# -ne 2 ]; then echo "Usage: $0 <waves_yesno-dir> <data-dir>" >&2; exit 1; fi
waves=$1; data=$2
[ -d "$waves" ] || { echo "$0: no such directory: $waves" >&2; exit 1; }
waves=$(cd "$waves" && pwd)
mkdir -p "$data"
LC_ALL=C ls "$waves" | grep -E '^[01](_[01])+\.wav$' | LC_ALL=C sort > "$data/.waves.list"
n=$(wc -l < "$data/.waves.list")
[ "$n" -ge 2 ] || { echo "$0: fewer than 2 yesno wav files in $waves" >&2; exit 1; }
half=$((n / 2))
head -n $half "$data/.waves.list" > "$data/.train.list"
tail -n +$((half + 1)) "$data/.waves.list" > "$data/.test.list"
for set in train test; do
  dir=$data/${set}_yesno
  mkdir -p "$dir"
  while read -r f; do
    utt=${f%.wav}
    echo "$utt $waves/$f" >&3
    echo "$utt $(echo "$utt" | tr '_' '\n' | sed 's/^1$/YES/; s/^0$/NO/' | paste -sd' ')" >&4
    echo "$utt $utt" >&5
  done < "$data/.$set.list" 3> "$dir/wav.scp.tmp" 4> "$dir/text.tmp" 5> "$dir/utt2spk.tmp"
  for f in wav.scp text utt2spk; do LC_ALL=C sort "$dir/$f.tmp" > "$dir/$f"; rm "$dir/$f.tmp"; done
  cp "$dir/utt2spk" "$dir/spk2utt"
done
rm -f "$data"/.*.list
echo "$0: $half train and $((n - half)) test utterances in $data/{train,test}_yesno"
