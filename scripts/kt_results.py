#!/usr/bin/env python3
"""Write a KT recipe's RESULTS.md and RESULTS.png from its decode directories (never by hand).

Layout read (recipes/fsdd/run.sh, recipes/speech_commands/run.sh):
  <exp>/<split>/<cond>/<gmm>/decode_test/scoring_kaldi/best_wer               GMMs (mono, tri1,
                                                                              tri2: one per split)
  <exp>/<split>/<cond>/seed<S>/<system>/decode_test/scoring_kaldi/best_wer    neural systems
  <exp>/<split>/<cond>/seed<S>/<system>/train.jsonl                           per-epoch CV accuracy
where <split> is ``official`` or ``si_<speaker>`` (one speaker-independent fold of recipes/fsdd)
or ``.`` (one split: ``<exp>/<cond>/...``, recipes/speech_commands) and <cond> is ``full`` or
``quarter``.

RESULTS.md: per condition, %WER per fold (mean over seeds) and pooled over the folds
(errors / words of all folds, per seed), mean ± sample std over seeds; the final CV frame accuracy
of each neural system; and paired per-seed comparisons of the KT students with the LSTM baseline
(the paper's claim). RESULTS.png: WER bars with std, and CV frame accuracy per epoch of the
baseline LSTM vs the fine-tuned KT students (mean over folds and seeds).

Usage: scripts/kt_results.py --exp exp --splits "si_george si_theo" --conditions "full quarter"
         --seeds "1 2 3" --systems "mono dnn_rand ..." --protocol si --command "..."
         --out RESULTS.md [--png RESULTS.png] [--conf DIR] [--temperature T] [--lmwt "..."]
         [--targets GMM] [--prior-scale S]
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import platform
import re
import statistics
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
from asrkt.utils.fileio import atomic_output, write_text_atomic  # noqa: E402
from results_table import describe, read_best_wer  # noqa: E402

Wer = Tuple[float, int, int]
BASELINE = "lstm_ce"
STUDENTS = ("lstm_kt_rand_ft", "lstm_kt_rbm_ft")
REG_STUDENTS = ("lstm_kt_rand_ftreg", "lstm_kt_rbm_ftreg")  # run.sh --kt-reg W
TEACHERS = ("dnn_rand", "dnn_rbm")
CURVE_SYSTEMS = (BASELINE,) + STUDENTS + REG_STUDENTS
GMM_SYSTEMS = ("mono", "tri1", "tri2")  # trained once per split and condition, no seeds


def is_gmm(system: str) -> bool:
    """Whether ``system`` is a GMM (stored without a seed dir, the same for every seed)."""
    return system in GMM_SYSTEMS


def fold_label(split: str, name: str = "decode_test") -> str:
    """A table's name of a split: the speaker of ``si_<speaker>``; the set of a one-split
    layout (``.``: ``test`` for decode_test)."""
    if split == ".":
        return name[len("decode_"):] if name.startswith("decode_") else name
    return split[3:] if split.startswith("si_") else split


def decode_dir(exp: Path, split: str, cond: str, seed: Optional[str], system: str,
               name: str = "decode_test") -> Path:
    base = exp / split / cond
    return (base / system if is_gmm(system) else base / f"seed{seed}" / system) / name


def collect(exp: Path, splits: List[str], conds: List[str], seeds: List[str],
            systems: List[str], name: str = "decode_test") -> Dict[Tuple[str, str, str, str], Wer]:
    """(cond, system, split, seed) -> (WER, errors, words); the GMMs are stored under seed '-'."""
    found = {}
    for cond in conds:
        for system in systems:
            for split in splits:
                for seed in (["-"] if is_gmm(system) else seeds):
                    result = read_best_wer(decode_dir(exp, split, cond, seed, system, name))
                    if result is not None:
                        found[(cond, system, split, seed)] = result
    return found


def used_lmwt(exp: Path, cond: str, splits: List[str], seeds: List[str], systems: List[str],
              name: str) -> str:
    """One line: the LM weight of each fold's GMM and neural decodes, read from best_wer (whose
    path ends in wer_<LMWT>).

    Args:
        exp: the recipe's exp dir.
        cond: training condition.
        splits: folds.
        seeds: seeds (the first decoded one of the first neural system is read).
        systems: systems of the table.
        name: decode dir name.
    """
    def weight(system: str, split: str) -> str:
        for seed in (["-"] if is_gmm(system) else seeds):
            path = decode_dir(exp, split, cond, seed, system, name) / "scoring_kaldi" / "best_wer"
            if path.exists():
                match = re.search(r"wer_(\d+)\s*$", path.read_text())
                return match.group(1) if match else "?"
        return "–"
    gmm = next((s for s in systems if is_gmm(s)), None)
    nn = next((s for s in systems if not is_gmm(s)), None)
    parts = [f"{fold_label(split, name)} "
             f"{weight(gmm, split) if gmm else '–'}/{weight(nn, split) if nn else '–'}"
             for split in splits]
    return "LM weight per fold (GMM/NN): " + ", ".join(parts) + "."


def mean_std(values: List[float]) -> str:
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


def pooled_per_seed(found, cond: str, system: str, splits: List[str],
                    seeds: List[str]) -> Dict[str, float]:
    """seed -> pooled WER over all folds (only seeds with every fold decoded)."""
    out = {}
    for seed in (["-"] if is_gmm(system) else seeds):
        cells = [found.get((cond, system, split, seed)) for split in splits]
        if all(c is not None for c in cells):
            errors, words = sum(c[1] for c in cells), sum(c[2] for c in cells)
            out[seed] = 100.0 * errors / max(words, 1)
    return out


def read_history(path: Path) -> List[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def final_cv_acc(history: List[dict]) -> Optional[float]:
    """CV frame accuracy of the kept model: the last accepted epoch."""
    accepted = [h for h in history if h.get("accepted", True) and h.get("cv_acc") is not None]
    return 100.0 * accepted[-1]["cv_acc"] if accepted else None


def wer_table(found, cond: str, systems: List[str], splits: List[str], seeds: List[str],
              exp: Path, name: str = "decode_test") -> List[str]:
    """Markdown rows: per fold (mean over seeds) and pooled over the folds; with one split
    (``["."]``) only the pooled column, which is then that set's WER (errors/words)."""
    folds = [] if splits == ["."] else [fold_label(s, name) for s in splits]
    pooled_head = ("%WER, mean ± std over seeds" if not folds
                   else "pooled, mean ± std over seeds")
    rows = ["| system | " + "".join(f"{f} | " for f in folds)
            + f"{pooled_head} | seeds | CV frame acc % |",
            "|" + "---|" * (len(folds) + 4)]
    for system in systems:
        cells = []
        for split in (splits if folds else []):
            values = [found[(cond, system, split, s)][0]
                      for s in (["-"] if is_gmm(system) else seeds)
                      if (cond, system, split, s) in found]
            cells.append(mean_std(values))
        pooled = pooled_per_seed(found, cond, system, splits, seeds)
        accs = [final_cv_acc(read_history(exp / split / cond / f"seed{s}" / system / "train.jsonl"))
                for split in splits for s in seeds] if not is_gmm(system) else []
        accs = [a for a in accs if a is not None]
        name = f"`{system}` {describe(system)}".strip()
        n = "–" if is_gmm(system) else str(len(pooled))
        rows.append(f"| {name} | " + "".join(f"{c} | " for c in cells)
                    + f"{mean_std(list(pooled.values()))} | {n} | "
                    f"{mean_std(accs)} |")
    return rows


def significance(diffs: List[float]) -> str:
    """A plain-words verdict on paired per-seed differences: the same sign in every seed, or a
    mean smaller than the seed-to-seed std of the differences (not established)."""
    if len(diffs) < 2:
        return " — one seed: no verdict"
    if all(d < 0 for d in diffs) or all(d > 0 for d in diffs):
        return " — the same sign in every seed"
    ties = sum(d == 0 for d in diffs)
    if ties == len(diffs):
        return " — tied in every seed"
    if 0 < ties < len(diffs) and (all(d <= 0 for d in diffs) or all(d >= 0 for d in diffs)):
        return f" — the same sign in every seed but {ties} tied"
    spread = statistics.stdev(diffs)
    if abs(statistics.mean(diffs)) < spread:
        return f" — smaller than its seed-to-seed std ({spread:.2f}): not established"
    return " — mixed signs across seeds"


def pooled_by_system(found, cond: str, splits: List[str], seeds: List[str],
                     systems: List[str]) -> Dict[str, Dict[str, float]]:
    """system -> seed -> pooled WER; a GMM (one per fold) is paired with every seed."""
    pooled = {s: pooled_per_seed(found, cond, s, splits, seeds) for s in systems}
    for gmm in GMM_SYSTEMS:
        if "-" in pooled.get(gmm, {}):
            pooled[gmm] = {seed: pooled[gmm]["-"] for seed in seeds}
    return pooled


def paired(pooled: Dict[str, Dict[str, float]], a: str, b: str) -> List[float]:
    """Per-seed differences a - b of the seeds both have (empty when either is missing)."""
    if a not in pooled or b not in pooled:
        return []
    return [pooled[a][s] - pooled[b][s] for s in sorted(set(pooled[a]) & set(pooled[b]))]


def claim_lines(found, cond: str, splits: List[str], seeds: List[str],
                systems: List[str]) -> List[str]:
    """Paired per-seed comparisons (pooled WER): students vs baseline, RBM student vs rand student,
    students vs their teachers, teachers vs baseline, teachers vs the GMM (one GMM per fold:
    compared with every seed), and the --kt-reg students vs the baseline and their plain
    fine-tuned counterparts, teacher variants (``dnn_rand_<x>``, ``dnn_rbm_<x>``: --vtlp,
    local/teacher_study.sh) vs the plain teacher and the GMM."""
    pooled = pooled_by_system(found, cond, splits, seeds, systems)
    pairs = [(st, BASELINE) for st in STUDENTS] + [("lstm_kt_rbm_ft", "lstm_kt_rand_ft")]
    pairs += list(zip(STUDENTS, TEACHERS))
    pairs += [(BASELINE, "dnn_rand"), (BASELINE, "dnn_rbm"), ("dnn_rand", "mono"),
              ("dnn_rbm", "mono")]
    pairs += [(reg, BASELINE) for reg in REG_STUDENTS]
    pairs += list(zip(REG_STUDENTS, STUDENTS))
    # teacher variants (dnn_rand_vtlp, dnn_rbm_do0.2, ...): vs their plain teacher and the GMM
    variants = [(s, t) for s in systems for t in TEACHERS if s.startswith(t + "_")]
    pairs += [(s, t) for s, t in variants] + [(s, "mono") for s, _ in variants]
    lines = []
    for a, b in pairs:
        diffs = paired(pooled, a, b)
        if not diffs:
            continue
        wins = sum(d < 0 for d in diffs)
        ties = sum(d == 0 for d in diffs)
        mean = statistics.mean(diffs)
        verdict = "lower" if mean < 0 else ("higher" if mean > 0 else "equal")
        lines.append(f"- `{a}` vs `{b}`: mean pooled WER difference {mean:+.2f} points "
                     f"({verdict}); `{a}` better in {wins}, tied in {ties}, "
                     f"worse in {len(diffs) - wins - ties} "
                     f"of {len(diffs)} seed(s){significance(diffs)}.")
    return lines


CLAIMS = (
    ("(a) KT-pre-trained LSTM vs randomly initialised LSTM",
     [(st, BASELINE) for st in STUDENTS]),
    ("(b) RBM-pre-trained vs randomly initialised teacher as the source of the soft targets",
     [("lstm_kt_rbm_ft", "lstm_kt_rand_ft")]),
    ("(c) LSTM student vs its DNN teacher", list(zip(STUDENTS, TEACHERS))),
)


def claim_sentences(found, cond: str, splits: List[str], seeds: List[str],
                    systems: List[str]) -> List[str]:
    """One sentence per claim of the paper (CLAIMS), from the paired per-seed pooled WERs:
    which system is better on average, by how much, in how many seeds, and the verdict of
    :func:`significance`. Claims whose systems are missing are left out."""
    pooled = pooled_by_system(found, cond, splits, seeds, systems)
    lines = []
    for title, pairs in CLAIMS:
        parts = []
        for a, b in pairs:
            diffs = paired(pooled, a, b)
            if not diffs:
                continue
            mean_a = statistics.mean(pooled[a][s] for s in pooled[a] if s in pooled[b])
            mean_b = statistics.mean(pooled[b][s] for s in pooled[b] if s in pooled[a])
            better = sum(d < 0 for d in diffs)
            relation = "equal"
            if mean_a != mean_b:
                relation = (f"{'lower' if mean_a < mean_b else 'higher'} by "
                            f"{abs(mean_a - mean_b):.2f} points")
            parts.append(f"`{a}` {mean_a:.2f} vs `{b}` {mean_b:.2f} %WER ({relation}; "
                         f"better in {better} of {len(diffs)} seed(s){significance(diffs)})")
        if parts:
            lines.append(f"- {title}: " + "; ".join(parts) + ".")
    return lines


def curves(exp: Path, cond: str, splits: List[str], seeds: List[str],
           system: str) -> List[Tuple[int, float]]:
    """Mean CV frame accuracy (%) per epoch over folds and seeds."""
    per_epoch: Dict[int, List[float]] = {}
    for split in splits:
        for seed in seeds:
            for h in read_history(exp / split / cond / f"seed{seed}" / system / "train.jsonl"):
                if h.get("cv_acc") is not None:
                    per_epoch.setdefault(int(h["epoch"]), []).append(100.0 * h["cv_acc"])
    return [(e, statistics.mean(v)) for e, v in sorted(per_epoch.items())]


def plot(png: Path, found, exp: Path, conds: List[str], systems: List[str], splits: List[str],
         seeds: List[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # the LSTMs' curves (KT head start); a table without LSTMs shows its teachers' curves, a
    # table of GMMs alone only the WER bars
    curve_systems = [s for s in CURVE_SYSTEMS if s in systems]
    kind = "LSTM" if curve_systems else "DNN"
    curve_systems = curve_systems or [s for s in systems if not is_gmm(s)]
    panels = 1 + (len(conds) if curve_systems else 0)
    fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4), squeeze=False)
    ax = axes[0][0]
    width = 0.8 / max(len(conds), 1)
    for i, cond in enumerate(conds):
        means, stds = [], []
        for system in systems:
            values = list(pooled_per_seed(found, cond, system, splits, seeds).values())
            means.append(statistics.mean(values) if values else math.nan)
            stds.append(statistics.stdev(values) if len(values) > 1 else 0.0)
        xs = [j + (i - (len(conds) - 1) / 2) * width for j in range(len(systems))]
        ax.bar(xs, means, width, yerr=stds, capsize=3, label=cond)
    ax.set_xticks(range(len(systems)))
    ax.set_xticklabels(systems, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("%WER (pooled over folds; mean ± std over seeds)")
    ax.set_title("systems")
    ax.legend(title="training data")
    for i, cond in enumerate(conds if curve_systems else []):
        ax = axes[0][1 + i]
        for system in curve_systems:
            points = curves(exp, cond, splits, seeds, system)
            if points:
                ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=system)
        ax.set_xlabel("epoch (0 = initial model)")
        ax.set_ylabel("CV frame accuracy %")
        ax.set_title(f"{kind} training on hard targets ({cond})")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_output(png) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exp", type=Path, required=True)
    parser.add_argument("--splits", required=True, help="official or si_<speaker> ... (folds)")
    parser.add_argument("--conditions", default="full quarter")
    parser.add_argument("--seeds", required=True)
    parser.add_argument("--systems",
                        default="mono dnn_rand dnn_rbm lstm_ce lstm_kt_rand_ft lstm_kt_rbm_ft")
    parser.add_argument("--protocol", default="si")
    parser.add_argument("--command", required=True)
    parser.add_argument("--conf", type=Path, help="config dir to quote")
    parser.add_argument("--temperature", default="?")
    parser.add_argument("--lmwt", default="?", help="how the LM weights were set (text)")
    parser.add_argument("--targets", default="mono",
                        help="the GMM whose alignments the networks train on (run.sh --nn-gmm)")
    parser.add_argument("--prior-scale", default="1.0",
                        help="S of the hybrid decoding, log-posterior - S log-prior "
                             "(run.sh --nn-prior-scale)")
    parser.add_argument("--decode-name", default="decode_test",
                        help="decode dir name under each system dir")
    parser.add_argument("--title", default="Results: FSDD (Free Spoken Digit Dataset), "
                                           "KT pre-training of LSTMs")
    parser.add_argument("--split-text", help="the corpus split in words (default: FSDD's, from "
                                             "--protocol and --splits)")
    parser.add_argument("--conditions-text", help="the training conditions in words",
                        default="full = all training utterances; quarter = every 4th training "
                                "utterance of each speaker/digit (25%); CV = 10% of the "
                                "training utterances, held out by the trainers")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--png", type=Path)
    args = parser.parse_args(argv)
    splits, conds, seeds, systems = (args.splits.split(), args.conditions.split(),
                                     args.seeds.split(), args.systems.split())
    found = collect(args.exp, splits, conds, seeds, systems, args.decode_name)
    if not found:
        print(f"kt_results.py: no scored decode dirs under {args.exp}", file=sys.stderr)
        return 1
    if args.split_text:
        split_text = args.split_text
    elif args.protocol == "official":
        split_text = "official FSDD split: recording indices 0-4 test, 5-49 train"
    else:
        split_text = ("speaker-independent folds: train on the other speakers, "
                      "test on the fold's speaker "
                      f"(folds: {', '.join(s[3:] for s in splits)})")
    lines = [f"# {args.title}", "",
             f"Written by `scripts/{Path(__file__).name}` from the decode directories; "
             "do not edit.", "",
             f"- command: `{args.command}`",
             f"- seeds of the neural systems: {' '.join(seeds)} "
             "(the GMMs are trained once per fold and condition)",
             f"- protocol/split: {split_text}",
             f"- conditions: {args.conditions_text}",
             f"- KT temperature: {args.temperature}; LM weight {args.lmwt}; hybrid decoding: "
             f"log-posterior - {args.prior_scale} log-prior",
             f"- date: {datetime.datetime.now():%Y-%m-%d %H:%M}, machine: {platform.machine()}, "
             f"{platform.system()}, Python {platform.python_version()}", "",
             ("%WER (errors/words per seed), mean ± sample std over seeds; CV frame accuracy "
              "of the kept model (mean ± std over seeds; targets are the pdfs of the "
              f"alignments of the condition's `{args.targets}` GMM)." if splits == ["."] else
              "%WER per fold (mean over seeds) and pooled over the folds (errors/words of all "
              "folds, per seed), mean ± sample std over seeds; CV frame accuracy of the kept "
              "model (mean ± std over folds and seeds; targets are the pdfs of the "
              f"alignments of the condition's `{args.targets}` GMM)."), ""]
    for cond in conds:
        lines += [f"## {cond} training data", ""]
        lines += wer_table(found, cond, systems, splits, seeds, args.exp, args.decode_name)
        lines += ["", used_lmwt(args.exp, cond, splits, seeds, systems, args.decode_name)]
        claims = claim_sentences(found, cond, splits, seeds, systems)
        if claims:
            lines += ["", "The paper's claims (mean pooled %WER over seeds; paired by seed):", ""]
            lines += claims
        claim = claim_lines(found, cond, splits, seeds, systems)
        if claim:
            lines += ["", "Paired comparisons (same seed, pooled WER; negative = first system "
                          "better):", ""]
            lines += claim
        lines.append("")
    if args.png is not None:
        plot(args.png, found, args.exp, conds, [s for s in systems], splits, seeds)
        lines += [f"![systems and CV curves]({args.png.name})", ""]
    if args.conf is not None and args.conf.is_dir():
        lines += ["## Configuration", ""]
        for f in sorted(args.conf.glob("*.yaml")):
            lines += [f"`{f.name}`:", "", "```yaml", f.read_text().rstrip(), "```", ""]
    write_text_atomic(args.out, "\n".join(lines).rstrip() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
