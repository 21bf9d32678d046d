#!/usr/bin/env python3
"""Write a study's %WER table from its decode directories (never by hand): one table per
condition, a row per system, a column per fold and the WER pooled over the folds (errors / words
of all of them). Used by the recipes' GMM-size studies (recipes/fsdd/local/tri_study.sh,
recipes/speech_commands/local/tri_study.sh).

The input is a tab-separated file, one line per decode dir: ``condition system fold decode_dir``
(``scoring_kaldi/best_wer`` of asrkt score is read). A missing decode dir is an error.

Usage: scripts/wer_grid.py --tsv decodes.tsv --title T --command "..." [--note "..."] --out FILE.md
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
from asrkt.utils.fileio import write_text_atomic  # noqa: E402
from results_table import read_best_wer  # noqa: E402


def read_tsv(path: Path) -> List[Tuple[str, str, str, Path]]:
    """(condition, system, fold, decode dir) per line of ``path``; a malformed line or a decode
    dir without a best_wer stops with a message naming it."""
    rows = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 4:
            raise SystemExit(f"wer_grid.py: {path}:{n}: expected 4 tab-separated fields, "
                             f"got {len(fields)}")
        cond, system, fold, decode = fields
        if read_best_wer(Path(decode)) is None:
            raise SystemExit(f"wer_grid.py: {path}:{n}: no scoring_kaldi/best_wer in {decode}")
        rows.append((cond, system, fold, Path(decode)))
    if not rows:
        raise SystemExit(f"wer_grid.py: {path}: no decode dirs")
    return rows


def tables(rows: List[Tuple[str, str, str, Path]]) -> List[str]:
    """Markdown lines: per condition, %WER per fold and pooled; the lowest pooled WER in bold."""
    lines: List[str] = []
    conds = list(dict.fromkeys(r[0] for r in rows))
    for cond in conds:
        mine = [r for r in rows if r[0] == cond]
        folds = list(dict.fromkeys(r[2] for r in mine))
        systems = list(dict.fromkeys(r[1] for r in mine))
        cells: Dict[Tuple[str, str], Tuple[float, int, int]] = {}
        for _, system, fold, decode in mine:
            cells[(system, fold)] = read_best_wer(decode)  # type: ignore[assignment]
        pooled = {}
        for system in systems:
            got = [cells[(system, f)] for f in folds if (system, f) in cells]
            errors, words = sum(c[1] for c in got), sum(c[2] for c in got)
            pooled[system] = (100.0 * errors / max(words, 1), errors, words, len(got))
        best = min(p[0] for s, p in pooled.items() if p[3] == len(folds))
        lines += [f"## {cond}", "", "| system | " + " | ".join(folds) + " | pooled |",
                  "|" + "---|" * (len(folds) + 2)]
        for system in systems:
            row = [f"{cells[(system, f)][0]:.2f}" if (system, f) in cells else "–" for f in folds]
            wer, errors, words, n = pooled[system]
            total = f"{wer:.2f} [{errors} / {words}]" if n == len(folds) else "–"
            if n == len(folds) and wer == best:
                total = f"**{total}**"
            lines.append(f"| {system} | " + " | ".join(row) + f" | {total} |")
        lines.append("")
    return lines


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tsv", type=Path, required=True)
    parser.add_argument("--title", required=True)
    parser.add_argument("--command", required=True)
    parser.add_argument("--note", default="")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    rows = read_tsv(args.tsv)
    lines = [f"# {args.title}", "",
             "Written by `scripts/wer_grid.py` from the decode directories; do not edit.", "",
             f"- command: `{args.command}`",
             f"- date: {datetime.datetime.now():%Y-%m-%d %H:%M}"]
    if args.note:
        lines.append(f"- {args.note}")
    lines += ["", "%WER per fold and pooled over the folds (errors / words); lowest pooled in "
              "bold.", ""]
    lines += tables(rows)
    write_text_atomic(args.out, "\n".join(lines).rstrip() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
