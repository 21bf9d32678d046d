#!/usr/bin/env bash
# Dictionary and LM for yesno (Kaldi's egs/yesno/s5/input/): two words, one phone each, and a
# YES/NO unigram.  Usage: local/prepare_dict.sh <dict dir> <lm dir>
set -euo pipefail
dict=$1; lm=$2
mkdir -p "$dict" "$lm"
printf '<SIL> SIL\nYES Y\nNO N\n' > "$dict/lexicon.txt"
echo SIL > "$dict/silence_phones.txt"
echo SIL > "$dict/optional_silence.txt"
printf 'Y\nN\n' > "$dict/nonsilence_phones.txt"
cat > "$lm/task.arpabo" <<'ARPA'
\data\
ngram 1=4

\1-grams:
-1	NO
-1	YES
-99	<s>
-1	</s>

\end\
ARPA
