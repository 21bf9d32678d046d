#!/usr/bin/env python3
"""The quarter condition's utterance list (asrkt.corpora.speechocean762.write_quarter_list): the
training utterances whose id's SHA-1 is 0 mod 4, the rule of recipes/speech_commands'
data/lists/train_quarter.list (about 25%).

Usage: local/quarter_list.py <train-data-dir> <out-list>
  e.g. local/quarter_list.py data/train data/lists/train_quarter.list
"""

from __future__ import annotations

import argparse
import sys

from asrkt.errors import AsrktError


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data")
    parser.add_argument("out")
    args = parser.parse_args(argv)
    from asrkt.corpora.speechocean762 import write_quarter_list

    try:
        kept, total = write_quarter_list(args.data, args.out)
    except AsrktError as exc:
        print(f"quarter_list.py: error: {exc}", file=sys.stderr)
        return 1
    print(f"quarter_list.py: {args.out}: {kept} of {total} utterances", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
