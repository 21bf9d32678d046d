#!/usr/bin/env bash
# FSDD data and dict prep: every recording recordings/{digit}_{speaker}_{index}.wav becomes one
# utterance <speaker>-<digit>-<index, 2 digits> of the single word zero..nine, in OUT/all
# (wav.scp text utt2spk spk2utt, sorted), plus OUT/local/dict (hand-written ARPAbet lexicon of the
# ten digits, 20 phones + SIL). The train/test split is made later from OUT/all by
# local/split_lists.sh, so features are extracted once for every fold.
# Usage: prepare_data.sh [--speakers "george jackson"] [--max-index N] <fsdd dir> <out dir>
#   --speakers: keep only these speakers (default: all in recordings/)
#   --max-index: keep only indices < N (default: all; small values make tiny test corpora)
set -euo pipefail
speakers=""             # keep only these speakers ("": all in recordings/)
max_index=""            # keep only indices < N ("": all)
. "$(dirname "$0")/../../common/parse_options.sh"
if [ $# -ne 2 ]; then
  echo "Usage: $0 [--speakers 'A B'] [--max-index N] <fsdd-dir> <out-dir>" >&2; exit 1
fi
src=$1; out=$2
if [ ! -d "$src/recordings" ]; then
  echo "$0: no recordings/ in '$src'. Get the Free Spoken Digit Dataset from" \
       "https://github.com/Jakobovski/free-spoken-digit-dataset and pass the folder holding recordings/." >&2
  exit 1
fi
src=$(cd "$src" && pwd)
mkdir -p "$out/all" "$out/local/dict"
words=(zero one two three four five six seven eight nine)
LC_ALL=C ls "$src/recordings" | grep -E '^[0-9]_[A-Za-z]+_[0-9]+\.wav$' | while IFS=_ read -r digit spk rest; do
  index=${rest%.wav}
  [ -z "$max_index" ] || [ "$index" -lt "$max_index" ] || continue
  if [ -n "$speakers" ] && [[ " $speakers " != *" $spk "* ]]; then continue; fi
  printf '%s-%s-%02d %s %s %s\n' "$spk" "$digit" "$index" "$spk" "${words[$digit]}" \
    "$src/recordings/${digit}_${spk}_${index}.wav"
done > "$out/all/.list"
d=$out/all
[ -s "$d/.list" ] || { echo "$0: no recordings selected from $src/recordings" >&2; exit 1; }
awk '{print $1, $4}' "$d/.list" | LC_ALL=C sort > "$d/wav.scp"
awk '{print $1, $3}' "$d/.list" | LC_ALL=C sort > "$d/text"
awk '{print $1, $2}' "$d/.list" | LC_ALL=C sort > "$d/utt2spk"
awk '{a[$2]=a[$2]" "$1} END{for (s in a) print s a[s]}' "$d/utt2spk" | LC_ALL=C sort > "$d/spk2utt"
rm "$d/.list"
if [ -n "$speakers" ]; then
  for s in $speakers; do
    grep -q "^$s " "$d/spk2utt" || { echo "$0: speaker '$s' has no recordings in $src/recordings" >&2; exit 1; }
  done
fi
dict=$out/local/dict
cat > "$dict/lexicon.txt" <<'LEX'
<SIL> SIL
eight EY T
five F AY V
four F AO R
nine N AY N
one W AH N
seven S EH V AH N
six S IH K S
three TH R IY
two T UW
zero Z IH R OW
LEX
echo SIL > "$dict/silence_phones.txt"
echo SIL > "$dict/optional_silence.txt"
printf '%s\n' AH AO AY EH EY F IH IY K N OW R S T TH UW V W Z > "$dict/nonsilence_phones.txt"
echo "$0: $(wc -l < "$d/text") utterances, speakers: $(cut -d' ' -f1 "$d/spk2utt" | tr '\n' ' ')" >&2
