#!/usr/bin/env python3
"""Write a GMM size study's table from its decode directories (never by hand).

One row per GMM system dir: its kind (monophone, or the tree's leaves for a triphone model),
pdfs and Gaussians of ``final.npz``/``final.mdl``, the options it was trained with
(``config.yaml``: num_leaves, totgauss), and the WER of every LM weight of its
``decode_<set>`` sweep with the best one marked; the system with the lowest best WER is
marked ``chosen``.

Usage: gmm_study_table.py --work WORK --systems "exp/mono exp/gmm_study/tri1_1000_8000 ..."
         --set dev --command "..." --out DEV_STUDY_gmm.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from asrkt.errors import AsrktError  # noqa: E402
from asrkt.hmm.model import GmmModel  # noqa: E402
from asrkt.utils.fileio import write_text_atomic  # noqa: E402
from results_table import environment, read_best_wer, read_sweep  # noqa: E402


def system_row(work: Path, system: str, decode_set: str) -> dict:
    """The facts of one system dir for the table.

    Args:
        work: the recipe's work dir (system paths are relative to it).
        system: the system dir, relative to ``work``.
        decode_set: the data set whose ``decode_<set>`` dir is read.
    """
    model_dir = work / system
    try:
        model = GmmModel.load(model_dir)
    except AsrktError as err:
        raise SystemExit(f"gmm_study_table.py: {err}") from None
    config = {}
    if (model_dir / "config.yaml").exists():
        config = yaml.safe_load((model_dir / "config.yaml").read_text()) or {}
    decode_dir = model_dir / f"decode_{decode_set}"
    best = read_best_wer(decode_dir)
    if best is None:
        raise SystemExit(f"gmm_study_table.py: {decode_dir}: no scoring_kaldi/best_wer "
                         f"(decode it first)")
    return {"system": system, "pdfs": model.num_pdfs, "gauss": model.num_gauss,
            "leaves": config.get("num_leaves", "-"), "totgauss": config.get("totgauss", "-"),
            "best": best, "sweep": read_sweep(decode_dir)}


def render(rows: List[dict], decode_set: str, command: str) -> str:
    """The markdown table (rows in the given order; the lowest best WER marked chosen)."""
    chosen = min(range(len(rows)), key=lambda i: rows[i]["best"][0])
    weights = sorted(set().union(*[r["sweep"] for r in rows]))
    lines = [
        f"# GMM sizes chosen on {decode_set}",
        "",
        "Written by `scripts/gmm_study_table.py` from the decode directories; do not edit.",
        "",
        f"- command: `{command}`",
        f"- set: {decode_set} (test is not read); no seeds: GMM training is deterministic",
        f"- {environment()}",
        "",
        f"%WER on {decode_set} per LM weight; `best` is the lowest (its weight in brackets).",
        "",
        "| system | --num-leaves | --totgauss | pdfs | Gaussians | "
        + " | ".join(f"LMWT {w}" for w in weights) + " | best |",
        "|---|---|---|---|---|" + "---|" * len(weights) + "---|",
    ]
    for i, row in enumerate(rows):
        wer, errors, words = row["best"]
        sweep = " | ".join(f"{row['sweep'][w]:.2f}" if w in row["sweep"] else "-"
                           for w in weights)
        best_lmwt = min(row["sweep"], key=lambda w: (row["sweep"][w], w)) if row["sweep"] else "-"
        mark = " **chosen**" if i == chosen else ""
        lines.append(f"| `{row['system']}`{mark} | {row['leaves']} | {row['totgauss']} | "
                     f"{row['pdfs']} | {row['gauss']} | {sweep} | {wer:.2f} ({best_lmwt}; "
                     f"{errors}/{words}) |")
    return "\n".join(lines) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", required=True, type=Path, help="the recipe's work dir")
    parser.add_argument("--systems", required=True, help="system dirs (space separated)")
    parser.add_argument("--set", default="dev", help="the decoded set (decode_<set>)")
    parser.add_argument("--command", required=True, help="the command that made the study")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    rows = [system_row(args.work, s, args.set) for s in args.systems.split()]
    if not rows:
        raise SystemExit("gmm_study_table.py: no systems given")
    write_text_atomic(args.out, render(rows, args.set, args.command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
