#!/usr/bin/env python3
"""speechocean762 dict dir from the corpus lexicon (asrkt.corpora.speechocean762): lexicon.txt
(<SIL> SIL and every word's pronunciations, stress digits removed; --keep-stress keeps them, a
vowel without a digit taking the next vowel's), silence_phones.txt, optional_silence.txt (SIL),
nonsilence_phones.txt.

Usage: local/prepare_dict.py [--keep-stress] <corpus-dir> <dict-dir>
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from asrkt.errors import AsrktError


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus")
    parser.add_argument("dict_dir")
    parser.add_argument("--keep-stress", action="store_true",
                        help="keep the stress digits (about 65 vowel+stress phones, not 39)")
    args = parser.parse_args(argv)
    from asrkt.corpora import speechocean762 as so

    try:
        lexicon = so.normalise_lexicon(so.read_lexicon(Path(args.corpus) / so.LEXICON),
                                       args.keep_stress)
        so.write_dict(lexicon, args.dict_dir)
    except AsrktError as exc:
        print(f"prepare_dict.py: error: {exc}", file=sys.stderr)
        return 1
    phones = {p for prons in lexicon.values() for pron in prons for p in pron}
    print(f"prepare_dict.py: {len(lexicon)} words, "
          f"{sum(len(p) for p in lexicon.values())} pronunciations, {len(phones)} phones + "
          f"{so.SILENCE_PHONE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
