#!/usr/bin/env python3
"""Speech Commands data and dict prep (asrkt.corpora.speech_commands.prepare): OUT/{all,train,dev,
test} (wav.scp text utt2spk spk2utt), OUT/lists/train_quarter.list, OUT/noise and OUT/local/dict.
With --no-split only OUT/all and the dict (an extra test set of the same layout).

Usage: local/prepare_data.py [--max-per-word N] [--no-split] <corpus-dir> <out-dir>
"""

from __future__ import annotations

import argparse
import sys

from asrkt.errors import AsrktError


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus")
    parser.add_argument("out")
    parser.add_argument("--max-per-word", type=int, default=None,
                        help="keep at most N clips of each word per split (tiny test corpora)")
    parser.add_argument("--no-split", action="store_true",
                        help="write only all/ and the dict (an extra test set)")
    args = parser.parse_args(argv)
    from asrkt.corpora.speech_commands import prepare

    try:
        counts = prepare(args.corpus, args.out, args.max_per_word, split=not args.no_split)
    except AsrktError as exc:
        print(f"prepare_data.py: error: {exc}", file=sys.stderr)
        return 1
    for name, c in counts.items():
        print(f"prepare_data.py: {name}: {c['utterances']} utterances, {c['speakers']} speakers",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
