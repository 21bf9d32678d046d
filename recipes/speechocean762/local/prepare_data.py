#!/usr/bin/env python3
"""speechocean762 data prep (asrkt.corpora.speechocean762.prepare_data): OUT/{train,dev,test}
(wav.scp with absolute paths, text, utt2spk, spk2utt, spk2age, spk2gender); dev = every 5th
training speaker of each (age group, gender) stratum, sorted by id. Every input is checked
(layout, lexicon coverage of the transcripts, WAV headers) before anything is written.

Usage: local/prepare_data.py <corpus-dir> <out-dir>
"""

from __future__ import annotations

import argparse
import sys

from asrkt.errors import AsrktError


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus")
    parser.add_argument("out")
    args = parser.parse_args(argv)
    from asrkt.corpora.speechocean762 import prepare_data

    try:
        counts = prepare_data(args.corpus, args.out)
    except AsrktError as exc:
        print(f"prepare_data.py: error: {exc}", file=sys.stderr)
        return 1
    for name, c in counts.items():
        strata = ", ".join(f"{k} {v}" for k, v in c.items() if "/" in k)
        print(f"prepare_data.py: {name}: {c['utterances']} utterances, {c['speakers']} speakers "
              f"({strata})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
