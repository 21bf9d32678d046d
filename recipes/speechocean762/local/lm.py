#!/usr/bin/env python3
"""Language-model steps of the speechocean762 recipe (asrkt.corpora.speechocean762):

  close ARPA_IN TRAIN_TEXT DICT_DIR ARPA_OUT
      the model's vocabulary closed over the lexicon's words: the lexicon words absent from the
      training text get the Good-Turing unseen mass of TRAIN_TEXT (types seen once / tokens),
      shared equally; the model's unigrams are scaled down and the unigram back-off weights
      recomputed (close_vocabulary). A model word outside the lexicon is an error.
  table --orders "2 3 4" --lm-dir DIR --train-text FILE --set NAME=TEXT ...
      DIR/ppl.txt, a table of DIR/ppl_<order>_<set>.txt (kaldingram ppl reports) with the rate
      of each set's tokens unseen in the training text, and DIR/order: the order with the lowest
      dev perplexity (a tie: the lower order). The first --set is the one the order is chosen on.

Usage: local/lm.py close ... | local/lm.py table ...
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from asrkt.errors import AsrktError
from asrkt.utils.fileio import write_text_atomic


def _close(args) -> str:
    from asrkt.corpora import speechocean762 as so

    sentences = Path(args.train_text).read_text(encoding="utf-8").splitlines()
    mass = so.unseen_mass(sentences)
    arpa = Path(args.arpa_in).read_text(encoding="utf-8")
    closed, zerotons = so.close_vocabulary(arpa, so.lexicon_words(args.dict_dir), mass)
    write_text_atomic(args.arpa_out, closed)
    return (f"{args.arpa_out}: {len(zerotons)} lexicon words unseen in the training text added "
            f"with {mass:.4f} of the unigram mass")


def _table(args) -> str:
    from asrkt.corpora import speechocean762 as so

    lm_dir = Path(args.lm_dir)
    orders = [int(n) for n in args.orders.split()]
    sets = []
    for item in args.set:
        name, _, text = item.partition("=")
        if not name or not text:
            raise AsrktError(f"--set '{item}': expected NAME=TEXT_FILE")
        sets.append((name, so.read_text_file(text)))
    seen = {w for s in so.read_text_file(args.train_text).values() for w in s.split()}
    reports = {}
    for n in orders:
        for name, _ in sets:
            path = lm_dir / f"ppl_{n}_{name}.txt"
            if not path.is_file():
                raise AsrktError(f"{path}: no kaldingram ppl report")
            reports[n, name] = so.parse_ppl_report(path.read_text(encoding="utf-8"), str(path))
    choose_on = sets[0][0]
    best = so.choose_order({n: reports[n, choose_on].ppl for n in orders})
    head = ["order"]
    for name, _ in sets:
        head += [f"{name} ppl", f"{name} OOV %", f"{name} unseen in train %"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for n in orders:
        cells = [f"{n}{' (chosen)' if n == best else ''}"]
        for name, text in sets:
            r = reports[n, name]
            if r.zeroprobs:
                raise AsrktError(f"{lm_dir / f'ppl_{n}_{name}.txt'}: {r.zeroprobs} sentences not "
                                 "scored: the model's vocabulary is not closed")
            unseen, tokens = so.unseen_rate(text.values(), seen)
            cells += [f"{r.ppl:.2f}", f"{100 * r.oovs / max(r.words, 1):.2f}",
                      f"{100 * unseen / max(tokens, 1):.2f}"]
        rows.append("| " + " | ".join(cells) + " |")
    counts = ", ".join(f"{name} {len(text)} sentences, "
                       f"{sum(len(s.split()) for s in text.values())} words" for name, text in sets)
    note = (f"Kneser-Ney n-gram LMs on the training text ({len(seen)} word types), vocabulary "
            f"closed over the lexicon; perplexity with </s> (kaldingram ppl); OOV: tokens not in "
            f"the model; unseen in train: tokens not in the training text. {counts}. Order "
            f"chosen on {choose_on}: the lowest perplexity, a tie to the lower order.\n")
    write_text_atomic(lm_dir / "ppl.txt", note + "\n" + "\n".join(rows) + "\n")
    write_text_atomic(lm_dir / "order", f"{best}\n")
    return (lm_dir / "ppl.txt").read_text(encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    close = sub.add_parser("close", help="close the vocabulary over the lexicon")
    close.add_argument("arpa_in")
    close.add_argument("train_text", help="the LM training sentences, one a line")
    close.add_argument("dict_dir")
    close.add_argument("arpa_out")
    table = sub.add_parser("table", help="perplexity table and the chosen order")
    table.add_argument("--orders", required=True)
    table.add_argument("--lm-dir", required=True)
    table.add_argument("--train-text", required=True, help="data dir text of the training set")
    table.add_argument("--set", action="append", required=True,
                       help="NAME=TEXT (a data dir's text file); the first one chooses the order")
    args = parser.parse_args(argv)
    try:
        message = _close(args) if args.command == "close" else _table(args)
    except AsrktError as exc:
        print(f"lm.py: error: {exc}", file=sys.stderr)
        return 1
    print(f"lm.py: {message}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
