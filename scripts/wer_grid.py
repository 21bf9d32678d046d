#!/usr/bin/env python3
"""Write a study's %WER table from its decode directories (never by hand): one table per
condition, a row per system. Used by the recipes' GMM-size studies
(recipes/fsdd/local/tri_study.sh, recipes/speech_commands/local/tri_study.sh,
recipes/speechocean762/local/gmm_dev_study.sh).

The input is a tab-separated file, one line per decode dir: ``condition system fold decode_dir``
(``scoring_kaldi/best_wer`` and ``wer_<LMWT>`` of asrkt score are read). A missing decode dir is
an error. Two layouts:

- default: a column per fold (its best_wer) and the WER pooled over the folds (errors / words
  of all of them); the lowest pooled WER in bold;
- ``--sweep``: a column per LM weight, the WER at that weight pooled over the folds, and
  ``best``: the lowest of them with its weight; the lowest best in bold, and a best that sits at
  an end of the sweep marked (a wider sweep could find a lower one).

``--model-info`` adds each system's tree and GMM sizes: the model dir is the decode dir's parent
(``--num-leaves``/``--totgauss`` of its config.yaml, pdfs and Gaussians of its model).
``--environment`` adds the packages and CPU the numbers depend on.

Usage: scripts/wer_grid.py --tsv decodes.tsv --title T --command "..." [--note "..."]
         [--sweep] [--model-info] [--environment] --out FILE.md
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from asrkt.data.kaldi_files import read_map  # noqa: E402
from asrkt.decode.score import score_hyps  # noqa: E402
from asrkt.errors import AsrktError  # noqa: E402
from asrkt.hmm.model import GmmModel  # noqa: E402
from asrkt.utils.fileio import write_text_atomic  # noqa: E402
from results_table import WER_LINE, environment, read_best_wer  # noqa: E402

Row = Tuple[str, str, str, Path]


def read_tsv(path: Path) -> List[Row]:
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


Counts = Dict[int, Tuple[int, int]]  # LM weight -> (errors, words)
Pooled = Dict[int, Tuple[float, int, int]]  # LM weight -> (%WER, errors, words)


def read_counts(decode_dir: Path) -> Counts:
    """LM weight -> (errors, words) from the ``wer_<LMWT>`` files of a decode dir (empty
    without any)."""
    out = {}
    for path in decode_dir.glob("wer_*"):
        match = WER_LINE.search(path.read_text())
        if path.name[4:].isdigit() and match:
            out[int(path.name[4:])] = (int(match.group(2)), int(match.group(3)))
    return out


def utterance_counts(decode_dir: Path, weight: int,
                     refs: Dict[str, List[str]]) -> Dict[str, Tuple[int, int]]:
    """utterance -> (errors, words) of the hypotheses ``scoring/<weight>.txt`` against ``refs``
    (asrkt score's alignment); their sum must be ``wer_<weight>``'s, else the references are not
    the decoded set's and it stops with a message naming both files."""
    hyps_path = decode_dir / "scoring" / f"{weight}.txt"
    if not hyps_path.exists():
        raise SystemExit(f"wer_grid.py: {hyps_path}: missing (LM weight {weight})")
    try:
        hyps = {u: v.split() for u, v in read_map(hyps_path, allow_empty_value=True).items()}
        _, per_utt = score_hyps(refs, hyps, str(hyps_path))
    except AsrktError as err:
        raise SystemExit(f"wer_grid.py: {err}") from None
    out = {u: (c.errors, c.words) for u, (_, c) in per_utt.items()}
    total = read_counts(decode_dir).get(weight)
    summed = (sum(e for e, _ in out.values()), sum(n for _, n in out.values()))
    if total != summed:
        raise SystemExit(f"wer_grid.py: {hyps_path}: {summed[0]} errors / {summed[1]} words "
                         f"against the given text, {decode_dir / f'wer_{weight}'} says {total}: "
                         "not the decoded set's text")
    return out


def read_sweep_counts(decode_dir: Path) -> Counts:
    """:func:`read_counts`; a decode dir without wer_<LMWT> files stops with a message."""
    out = read_counts(decode_dir)
    if not out:
        raise SystemExit(f"wer_grid.py: {decode_dir}: no wer_<LMWT> files")
    return out


def pool(per_fold: List[Counts]) -> Pooled:
    """LM weight -> (%WER, errors, words) summed over the folds, for the weights all of them
    decoded."""
    out = {}
    for w in sorted(set.intersection(*[set(c) for c in per_fold])):
        errors, words = sum(c[w][0] for c in per_fold), sum(c[w][1] for c in per_fold)
        out[w] = (100.0 * errors / max(words, 1), errors, words)
    return out


def best(pooled: Pooled) -> Optional[Tuple[int, float]]:
    """(weight, %WER) of the lowest %WER; the lowest weight on ties; None when empty."""
    if not pooled:
        return None
    w = min(pooled, key=lambda k: (pooled[k][0], k))
    return w, pooled[w][0]


def model_info(model_dir: Path) -> Dict[str, object]:
    """The sizes of a GMM system dir: ``--num-leaves`` and ``--totgauss`` it was trained with
    (config.yaml; '-' where absent, e.g. a monophone's leaves) and the model's pdfs and
    Gaussians."""
    try:
        model = GmmModel.load(model_dir)
    except AsrktError as err:
        raise SystemExit(f"wer_grid.py: {err}") from None
    config = {}
    if (model_dir / "config.yaml").exists():
        config = yaml.safe_load((model_dir / "config.yaml").read_text()) or {}
    return {"leaves": config.get("num_leaves", "-"), "totgauss": config.get("totgauss", "-"),
            "pdfs": model.num_pdfs, "gauss": model.num_gauss}


def _info_cells(infos: Dict[str, Dict[str, object]], system: str) -> List[str]:
    if not infos:
        return []
    i = infos[system]
    return [str(i["leaves"]), str(i["totgauss"]), str(i["pdfs"]), str(i["gauss"])]


INFO_HEADER = ["--num-leaves", "--totgauss", "pdfs", "Gaussians"]


def _fold_table(mine: List[Row], infos: Dict[str, Dict[str, object]]) -> List[str]:
    """%WER per fold (best_wer) and pooled; the lowest pooled in bold."""
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
    lowest = min(p[0] for s, p in pooled.items() if p[3] == len(folds))
    info = INFO_HEADER if infos else []
    lines = ["| " + " | ".join(["system", *info, *folds, "pooled"]) + " |",
             "|" + "---|" * (len(info) + len(folds) + 2)]
    for system in systems:
        row = [f"{cells[(system, f)][0]:.2f}" if (system, f) in cells else "–" for f in folds]
        wer, errors, words, n = pooled[system]
        total = f"{wer:.2f} [{errors} / {words}]" if n == len(folds) else "–"
        if n == len(folds) and wer == lowest:
            total = f"**{total}**"
        lines.append("| " + " | ".join([system, *_info_cells(infos, system), *row, total])
                     + " |")
    return lines


def _sweep_table(mine: List[Row], infos: Dict[str, Dict[str, object]]) -> List[str]:
    """%WER per LM weight pooled over the folds, the best weight per system; the lowest best in
    bold, a best at an end of the system's sweep marked."""
    folds = list(dict.fromkeys(r[2] for r in mine))
    systems = list(dict.fromkeys(r[1] for r in mine))
    sweeps: Dict[str, List[Counts]] = {s: [] for s in systems}
    for _, system, _, decode in mine:
        sweeps[system].append(read_sweep_counts(decode))
    pooled: Dict[str, Pooled] = {system: pool(got) for system, got in sweeps.items()}
    complete = {s for s in systems if len(sweeps[s]) == len(folds) and pooled[s]}
    best_w = {s: best(pooled[s])[0] for s in systems if pooled[s]}
    lowest = min((pooled[s][best_w[s]][0] for s in complete), default=None)
    weights = sorted(set().union(*[set(p) for p in pooled.values()]))
    info = INFO_HEADER if infos else []
    lines = ["| " + " | ".join(["system", *info, *(f"LMWT {w}" for w in weights), "best"])
             + " |", "|" + "---|" * (len(info) + len(weights) + 2)]
    for system in systems:
        row = [f"{pooled[system][w][0]:.2f}" if w in pooled[system] else "-" for w in weights]
        cell = "–"
        if system in complete:
            w = best_w[system]
            wer, errors, words = pooled[system][w]
            edge = " (end of the sweep)" if w in (min(pooled[system]), max(pooled[system])) \
                else ""
            cell = f"{wer:.2f} (LMWT {w}{edge}; {errors} / {words})"
            if wer == lowest:
                cell = f"**{cell}**"
        lines.append("| " + " | ".join([system, *_info_cells(infos, system), *row, cell])
                     + " |")
    return lines


def tables(rows: List[Row], sweep: bool = False, with_info: bool = False) -> List[str]:
    """Markdown lines: per condition, a table of the chosen layout (module docstring).

    Args:
        rows: (condition, system, fold, decode dir) per decode dir.
        sweep: a column per LM weight instead of per fold.
        with_info: the systems' tree and GMM sizes (the decode dir's parent is the model).
    """
    lines: List[str] = []
    infos: Dict[str, Dict[str, object]] = {}
    if with_info:
        for _, system, _, decode in rows:
            infos.setdefault(system, model_info(decode.parent))
    for cond in dict.fromkeys(r[0] for r in rows):
        mine = [r for r in rows if r[0] == cond]
        lines += [f"## {cond}", ""]
        lines += _sweep_table(mine, infos) if sweep else _fold_table(mine, infos)
        lines.append("")
    return lines


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tsv", type=Path, required=True)
    parser.add_argument("--title", required=True)
    parser.add_argument("--command", required=True)
    parser.add_argument("--note", default="")
    parser.add_argument("--sweep", action="store_true",
                        help="a column per LM weight (pooled over the folds) and the best one")
    parser.add_argument("--model-info", action="store_true",
                        help="the systems' --num-leaves, --totgauss, pdfs and Gaussians")
    parser.add_argument("--environment", action="store_true",
                        help="a line with the packages and CPU the numbers depend on")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    rows = read_tsv(args.tsv)
    lines = [f"# {args.title}", "",
             "Written by `scripts/wer_grid.py` from the decode directories; do not edit.", "",
             f"- command: `{args.command}`",
             f"- date: {datetime.datetime.now():%Y-%m-%d %H:%M}"]
    if args.note:
        lines.append(f"- {args.note}")
    if args.environment:
        lines.append(f"- {environment()}")
    if args.sweep:
        lines += ["", "%WER per LM weight, pooled over the folds (errors / words); `best`: the "
                  "lowest, with its weight; lowest best in bold.", ""]
    else:
        lines += ["", "%WER per fold and pooled over the folds (errors / words); lowest pooled "
                  "in bold.", ""]
    lines += tables(rows, args.sweep, args.model_info)
    write_text_atomic(args.out, "\n".join(lines).rstrip() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
