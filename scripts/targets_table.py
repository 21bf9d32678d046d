#!/usr/bin/env python3
"""Write a recipe's TARGETS_STUDY.md from its decode directories (never by hand): the hybrid
networks trained on the alignments of each GMM (monophone vs triphone targets) and decoded at
each prior scale, next to that GMM, with the decision the numbers support (issues 21 item 5 and
22 item 2; recipes/{fsdd,speech_commands}/local/targets_study.sh).

The input is a tab-separated file, one line per decode dir (an LM-weight sweep: its ``wer_<LMWT>``
files): ``targets system prior_scale fold decode_dir net_dir``; ``system`` is ``GMM`` for the GMM
rows (prior scale and net dir ``-``); ``net_dir`` is an asrkt network dir (``train.jsonl``: the CV
frame accuracy of the kept model, as the trainers log it) or a Kaldi nnet1 dir of
scripts/kaldi_nnet1.sh (``nnet.proto`` and its epoch logs). With several folds every %WER is
pooled over them (errors / words of all folds, the same LM weight for all). ``fixed`` is the
recipe's LM weight chosen a priori (--gmm-lmwt, --nn-lmwt); ``best`` the lowest %WER over the
sweep, an oracle. The decision rule: the lowest (pooled) %WER at the fixed LM weight (with
--rule best: at each system's best swept weight, for recipes that choose the weight on dev).

Usage: scripts/targets_table.py --tsv decodes.tsv --title T --command "..." [--setting "..."]
         [--nn-lmwt 10] [--gmm-lmwt 12] --out TARGETS_STUDY.md
"""

from __future__ import annotations

import argparse
import datetime
import re
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
from asrkt.utils.fileio import write_text_atomic  # noqa: E402
from kt_results import final_cv_acc, read_history  # noqa: E402
from nnet1_anchor_table import epochs_kaldi  # noqa: E402
from results_table import environment  # noqa: E402
from wer_grid import Counts, best, pool, read_counts  # noqa: E402

Key = Tuple[str, str, str]            # (targets, system, prior scale)


def read_tsv(path: Path) -> List[Tuple[Key, str, Counts, Optional[Path], Path]]:
    """((targets, system, scale), fold, counts, net dir, decode dir) per line of ``path``; a
    malformed line or a decode dir without wer_<LMWT> files stops with a message naming it."""
    rows = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 6:
            raise SystemExit(f"targets_table.py: {path}:{n}: expected 6 tab-separated fields, "
                             f"got {len(fields)}")
        targets, system, scale, fold, decode, net = fields
        counts = read_counts(Path(decode))
        if not counts:
            raise SystemExit(f"targets_table.py: {path}:{n}: no wer_<LMWT> files in {decode}")
        rows.append(((targets, system, scale), fold, counts, None if net == "-" else Path(net),
                     Path(decode)))
    if not rows:
        raise SystemExit(f"targets_table.py: {path}: no decode dirs")
    return rows


def training(net: Optional[Path]) -> Tuple[Optional[float], Optional[int]]:
    """(CV frame accuracy % of the kept model, epochs run) of an asrkt or Kaldi nnet1 dir."""
    if net is None:
        return None, None
    if (net / "nnet.proto").exists():
        epochs = epochs_kaldi(net)
        kept = [e for e in epochs if e["accepted"]]
        return (kept[-1]["cv_acc"] if kept else None), len(epochs) or None
    hist = read_history(net / "train.jsonl")
    return final_cv_acc(hist), sum(1 for h in hist if h.get("epoch", 0) >= 1) or None


def num_pdfs(decode_dir: Path) -> str:
    """The pdfs of the GMM that decoded ``decode_dir`` (its graph's num_pdfs), or '-'."""
    f = decode_dir.parent / "graph" / "num_pdfs"
    return f.read_text().strip() if f.exists() else "-"


def fmt(x: Optional[float]) -> str:
    return "-" if x is None else f"{x:.2f}"


def build(rows, nn_lmwt: int, gmm_lmwt: int, rule: str = "fixed") -> List[str]:
    """The table's Markdown body: GMMs, networks x prior scales, per fold, the decision.

    Args:
        rule: what a cell's decision value is: ``fixed``, the %WER at the recipe's LM weight
            chosen a priori (nn_lmwt / gmm_lmwt); ``best``, the lowest over the swept weights
            (the recipes that choose the LM weight on dev, as speechocean762's run.sh does).
    """
    folds = list(dict.fromkeys(r[1] for r in rows))
    keys: List[Key] = list(dict.fromkeys(r[0] for r in rows))
    cells: Dict[Key, Dict[str, Counts]] = {}
    nets: Dict[Key, List[Path]] = {}
    pdfs: Dict[str, str] = {}
    for key, fold, counts, net, decode in rows:
        if key[1] == "GMM":
            pdfs[key[0]] = num_pdfs(decode)
        cells.setdefault(key, {})[fold] = counts
        if net is not None:
            nets.setdefault(key, []).append(net)
    complete = {k: len(cells[k]) == len(folds) for k in keys}
    pooled = {k: pool(list(cells[k].values())) for k in keys}

    def fixed_lmwt(k: Key) -> int:
        return gmm_lmwt if k[1] == "GMM" else nn_lmwt

    def fixed(k: Key) -> Optional[float]:
        if rule == "best":
            b = best(pooled[k]) if complete[k] else None
            return b[1] if b else None
        lmwt = fixed_lmwt(k)
        return pooled[k][lmwt][0] if complete[k] and lmwt in pooled[k] else None

    def fold_wer(k: Key, f: str) -> Optional[float]:
        """%WER of one fold at the fixed LM weight (None: not decoded)."""
        c = cells[k].get(f, {}).get(fixed_lmwt(k))
        return 100.0 * c[0] / max(c[1], 1) if c else None

    def cell(k: Key) -> str:
        if not complete[k]:
            return f"- ({len(cells[k])} of {len(folds)} folds)"
        b = best(pooled[k])
        return f"{fmt(fixed(k))} / {b[1]:.2f} (LMWT {b[0]})" if b else "-"

    pooled_word = " pooled over the folds" if len(folds) > 1 else ""
    targets = list(dict.fromkeys(k[0] for k in keys))
    systems = [s for s in dict.fromkeys(k[1] for k in keys) if s != "GMM"]
    scales = list(dict.fromkeys(k[2] for k in keys if k[1] != "GMM"))
    swept = sorted({w for k in keys for w in pooled[k]})
    span = f"{swept[0]}..{swept[-1]}" if swept else "-"
    oracle = ("(chosen on the same data: an oracle, not a result)" if rule == "fixed" else
              "(chosen on the same data: the recipe's rule for the weight; the decision below "
              "uses it)")
    out = [f"%WER{pooled_word}: `fixed` at the recipe's LM weight chosen a priori (GMM "
           f"{gmm_lmwt}, networks {nn_lmwt}) / `best` over LM weights {span} with its weight "
           f"{oracle}. Networks: log-likelihood = "
           "log-posterior - S x log-prior. " + ("Folds: " if len(folds) > 1 else "Set: ")
           + ", ".join(folds) + ".", "",
           "## GMMs", "", "| targets | pdfs | %WER fixed / best (LMWT) |", "|---|---|---|"]
    gmm_key = {t: (t, "GMM", "-") for t in targets if (t, "GMM", "-") in cells}
    for t, k in gmm_key.items():
        out.append(f"| {t} | {pdfs.get(t, '-')} | {cell(k)} |")
    out += ["", "## Networks", "",
            "| system | targets | " + " | ".join(f"S = {s}" for s in scales)
            + " | CV frame acc % | epochs |", "|---|---|" + "---|" * (len(scales) + 2)]
    lowest: Dict[str, Tuple[float, Key]] = {}
    for sysname in systems:
        for t in targets:
            for s in scales:
                k = (t, sysname, s)
                if k in cells and fixed(k) is not None:
                    if sysname not in lowest or fixed(k) < lowest[sysname][0]:
                        lowest[sysname] = (fixed(k), k)
    for sysname in systems:
        for t in targets:
            ks = [(t, sysname, s) for s in scales]
            if not any(k in cells for k in ks):
                continue
            row = []
            for k in ks:
                txt = cell(k) if k in cells else "-"
                if sysname in lowest and lowest[sysname][1] == k:
                    txt = f"**{txt}**"
                row.append(txt)
            trained = [training(n) for n in dict.fromkeys(p for k in ks for p in nets.get(k, []))]
            accs = [a for a, _ in trained if a is not None]
            eps = [e for _, e in trained if e is not None]
            acc = fmt(sum(accs) / len(accs)) if accs else "-"
            epochs = "-" if not eps else " ".join(str(e) for e in eps)
            out.append(f"| {sysname} | {t} | " + " | ".join(row) + f" | {acc} | {epochs} |")
    out += ["", "CV frame acc: the kept model's, on the trainer's held-out utterances of its own "
            "targets (mono and triphone targets are different tasks), mean over the folds "
            "(and seeds); epochs: per fold (and seed).", ""]
    if len(folds) > 1:
        out += ["## Per fold", "", "%WER at the fixed LM weight.", "",
                "| system | targets | S | " + " | ".join(folds) + " | pooled |",
                "|---|---|---|" + "---|" * (len(folds) + 1)]
        for k in keys:
            per = [fmt(fold_wer(k, f)) for f in folds]
            tot = pooled[k].get(fixed_lmwt(k)) if complete[k] else None
            out.append(f"| {k[1]} | {k[0]} | {k[2]} | " + " | ".join(per) + " | "
                       + (f"{tot[0]:.2f} [{tot[1]} / {tot[2]}]" if tot else "-") + " |")
        out.append("")
    at = (f"at the fixed LM weight ({nn_lmwt} for the networks, {gmm_lmwt} for the GMMs)"
          if rule == "fixed" else f"at each system's best LM weight over {span}")
    out += ["## Decision", "",
            f"Rule: the lowest %WER{pooled_word and ' (pooled over the folds)'} {at}; a network "
            "beats its GMM when its %WER is below that of the GMM whose alignments it trained "
            "on.", ""]
    for sysname in systems:
        for s in scales:
            got = [(t, fixed((t, sysname, s))) for t in targets if (t, sysname, s) in cells]
            got = [(t, w) for t, w in got if w is not None]
            if len(got) < 2:
                continue
            t_best = min(got, key=lambda x: x[1])[0]
            out.append(f"- {sysname}, S = {s}: " + ", ".join(f"{t} {w:.2f}" for t, w in got)
                       + f": lowest on {t_best} targets.")
    wins: Dict[str, int] = {}
    for sysname in systems:
        for s in scales:
            got = {t: fixed((t, sysname, s)) for t in targets if (t, sysname, s) in cells}
            got = {t: w for t, w in got.items() if w is not None}
            if len(got) >= 2:
                low = min(got.values())
                winners = [t for t, w in got.items() if w == low]
                key = winners[0] if len(winners) == 1 else "tie"
                wins[key] = wins.get(key, 0) + 1
    if wins:
        out.append("- targets over the (system, S) pairs with two or more targets decoded: "
                   "lowest on "
                   + ", ".join(f"{t} {n}" for t, n in wins.items()) + ".")
    prior_best = []
    for sysname in systems:
        for t in targets:
            got = {s: fixed((t, sysname, s)) for s in scales if (t, sysname, s) in cells}
            got = {s: w for s, w in got.items() if w is not None}
            if len(got) >= 2:
                low = min(got.values())
                prior_best.append(f"{sysname}/{t} S = "
                                  + " = ".join(s for s, w in got.items() if w == low))
    if prior_best:
        out.append("- the lowest prior scale per system and targets: " + ", ".join(prior_best)
                   + ".")
    for sysname in systems:
        if sysname not in lowest:
            continue
        w, (t, _, s) = lowest[sysname]
        g = fixed((t, "GMM", "-")) if (t, "GMM", "-") in cells else None
        verdict = "-" if g is None else ("beats" if w < g else "does not beat")
        out.append(f"- {sysname}: lowest at {t} targets, S = {s} ({w:.2f}); {verdict} its GMM "
                   f"({t} {fmt(g)}).")
    def folds_below(k: Key, gk: Key) -> str:
        """' (below it in i of n folds)' at the fixed LM weights, with several folds."""
        if len(folds) < 2 or rule != "fixed":
            return ""
        pairs = [(fold_wer(k, f), fold_wer(gk, f)) for f in folds]
        n = sum(1 for a, b in pairs if a is not None and b is not None and a < b)
        return f" (below it in {n} of {len(folds)} folds)"

    # folds labelled '<fold>, seed N' (a several-seed study): each seed's folds, in order
    seed_folds: Dict[Optional[str], List[str]] = {}
    for f in folds:
        m = re.search(r", seed (\S+)$", f)
        seed_folds.setdefault(m.group(1) if m else None, []).append(f)
    by_seed = rule == "fixed" and len(seed_folds) > 1 and None not in seed_folds

    def per_seed(k: Key) -> List[Optional[float]]:
        """%WER pooled over each seed's folds at the fixed LM weight (None: a fold missing)."""
        wers: List[Optional[float]] = []
        for group in seed_folds.values():
            got = [cells[k][f] for f in group if f in cells[k]]
            c = pool(got).get(fixed_lmwt(k)) if len(got) == len(group) else None
            wers.append(c[0] if c else None)
        return wers

    for s in scales if by_seed else []:
        for sysname in systems:
            for t in targets:
                k, gk = (t, sysname, s), (t, "GMM", "-")
                if k not in cells or gk not in cells:
                    continue
                mine, gmm = per_seed(k), per_seed(gk)
                below = sum(1 for a, b in zip(mine, gmm) if a is not None and b is not None
                            and a < b)
                out.append(f"- {sysname}/{t}, S = {s}, per seed (pooled over its folds), "
                           + " / ".join(f"seed {x} {fmt(w)}" for x, w in zip(seed_folds, mine))
                           + " against the GMM's " + " / ".join(fmt(w) for w in gmm)
                           + f": below it in {below} of {len(seed_folds)} seeds.")
    for s in scales:
        beats = []
        for sysname in systems:
            for t in targets:
                k, gk = (t, sysname, s), (t, "GMM", "-")
                if k in cells and gk in cells and fixed(k) is not None and fixed(gk) is not None:
                    beats.append(f"{sysname}/{t} {'yes' if fixed(k) < fixed(gk) else 'no'}"
                                 + folds_below(k, gk))
        if beats:
            out.append(f"- beats its GMM at S = {s}: " + ", ".join(beats) + ".")
    out.append("")
    return out


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tsv", type=Path, required=True)
    parser.add_argument("--title", required=True)
    parser.add_argument("--command", required=True)
    parser.add_argument("--setting", action="append", default=[], help="a settings line (repeat)")
    parser.add_argument("--nn-lmwt", type=int, default=10)
    parser.add_argument("--gmm-lmwt", type=int, default=12)
    parser.add_argument("--rule", choices=("fixed", "best"), default="fixed",
                        help="decide at the fixed LM weights (default) or at each system's best "
                             "swept weight (recipes that choose the weight on dev)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    rows = read_tsv(args.tsv)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# {args.title}", "",
             "Written by `scripts/targets_table.py` from the decode directories; do not edit.", "",
             f"- command: `{args.command}`", f"- date: {now}"]
    lines += [f"- {s}" for s in args.setting]
    lines += [""] + build(rows, args.nn_lmwt, args.gmm_lmwt, args.rule)
    lines += [f"Environment: {environment()}.", ""]
    write_text_atomic(args.out, "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
