#!/usr/bin/env python3
"""Pick LM weights from LM-weight sweeps on CV data (``recipes/fsdd/local/choose_lmwt.sh``):
the GMM's weight from its sweep, the neural systems' weight from the mean WER of several sweeps
(ties go to the smaller weight). Writes a two-line file ``gmm N`` / ``nn M`` and a markdown table.

Usage: choose_lmwt.py --gmm DECODE_DIR --nn "DECODE_DIR ..." --out FILE --table FILE.md --title T
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
from asrkt.utils.fileio import write_text_atomic  # noqa: E402
from results_table import best_weight, read_sweep  # noqa: E402


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gmm", required=True, type=Path, help="GMM decode dir with wer_N files")
    parser.add_argument("--nn", required=True, help="neural decode dirs (space separated)")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--table", required=True, type=Path)
    parser.add_argument("--title", default="LM weights chosen on CV data")
    args = parser.parse_args(argv)
    gmm = read_sweep(args.gmm)
    nn_dirs = [Path(d) for d in args.nn.split()]
    nn = [read_sweep(d) for d in nn_dirs]
    gmm_w = best_weight([gmm], str(args.gmm))
    nn_w = best_weight(nn, args.nn)
    weights = sorted(gmm)
    lines = [f"# {args.title}", "", "%WER on the CV speaker per LM weight.", "",
             "| decode dir | " + " | ".join(str(w) for w in weights) + " | chosen |",
             "|---|" + "---|" * (len(weights) + 1)]
    for name, sweep, chosen in ([(args.gmm, gmm, gmm_w)]
                                + [(d, s, nn_w) for d, s in zip(nn_dirs, nn)]):
        cells = [f"{sweep[w]:.1f}" if w in sweep else "–" for w in weights]
        lines.append(f"| `{name}` | " + " | ".join(cells) + f" | {chosen} |")
    write_text_atomic(args.table, "\n".join(lines) + "\n")
    write_text_atomic(args.out, f"gmm {gmm_w}\nnn {nn_w}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
