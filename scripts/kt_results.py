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

The WER of a decode dir is its best_wer (the lowest over its LM-weight sweep) unless
``--lmwt-from NAME`` names another decode dir of the same system (e.g. ``decode_dev``): then it is
the ``wer_<LMWT>`` at the weight with the lowest WER there (Kaldi's practice: test scored at the
weight chosen on dev), and the table shows the chosen weights. ``--gmm-dirs`` places GMM systems
elsewhere (recipes/speechocean762: the full condition's GMMs are ``exp/mono``, not
``exp/full/mono``; the Kaldi anchor's ``kaldi_exp/mono``). ``--age-data DIR`` (one split) adds
%WER by age group (the speakers' ``spk2age`` in DIR, asrkt.corpora.speechocean762.age_group)
from the per-utterance errors at the chosen weight.

Usage: scripts/kt_results.py --exp exp --splits "si_george si_theo" --conditions "full quarter"
         --seeds "1 2 3" --systems "mono dnn_rand ..." --protocol si --command "..."
         --out RESULTS.md [--png RESULTS.png] [--conf DIR] [--temperature T] [--lmwt "..."]
         [--targets GMM] [--prior-scale S] [--lmwt-from decode_dev] [--age-data data/test]
         [--gmm-dirs "full:mono=mono full:kaldi_mono=../kaldi_exp/mono"] [--note TEXT ...]
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
from typing import Dict, FrozenSet, Iterable, List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
from asrkt.corpora.speechocean762 import AGE_GROUPS, age_group  # noqa: E402
from asrkt.data.kaldi_files import read_map  # noqa: E402
from asrkt.errors import AsrktError  # noqa: E402
from asrkt.utils.fileio import atomic_output, write_text_atomic  # noqa: E402
from results_table import describe, environment, read_best_wer  # noqa: E402
from wer_grid import best, pool, read_counts, utterance_counts  # noqa: E402

Wer = Tuple[float, int, int]
BASELINE = "lstm_ce"
STUDENTS = ("lstm_kt_rand_ft", "lstm_kt_rbm_ft")
REG_STUDENTS = ("lstm_kt_rand_ftreg", "lstm_kt_rbm_ftreg")  # run.sh --kt-reg W
TEACHERS = ("dnn_rand", "dnn_rbm")
CURVE_SYSTEMS = (BASELINE,) + STUDENTS + REG_STUDENTS
GMM_SYSTEMS = ("mono", "tri1", "tri2")  # trained once per split and condition, no seeds
GmmDirs = Dict[Tuple[str, str], str]  # (condition, system) -> its dir under <exp>/<split>
Choice = Tuple[Optional[int], Wer]     # (LM weight, (WER, errors, words))


def is_gmm(system: str, gmms: Iterable[str] = GMM_SYSTEMS) -> bool:
    """Whether ``system`` is a GMM (stored without a seed dir, the same for every seed)."""
    return system in gmms


def gmm_systems(gmm_dirs: Optional[GmmDirs] = None) -> FrozenSet[str]:
    """The GMM systems of a table: mono tri1 tri2 and every system --gmm-dirs names (e.g. the
    Kaldi anchor's kaldi_mono)."""
    return frozenset(GMM_SYSTEMS) | {system for _, system in (gmm_dirs or {})}


def parse_gmm_dirs(spec: str) -> GmmDirs:
    """``--gmm-dirs "COND:SYSTEM=DIR ..."`` -> {(COND, SYSTEM): DIR}; a malformed item stops."""
    out = {}
    for item in spec.split():
        match = re.fullmatch(r"([^:=]+):([^:=]+)=(.+)", item)
        if match is None:
            raise SystemExit(f"kt_results.py: --gmm-dirs: '{item}' is not COND:SYSTEM=DIR")
        out[(match.group(1), match.group(2))] = match.group(3)
    return out


def fold_label(split: str, name: str = "decode_test") -> str:
    """A table's name of a split: the speaker of ``si_<speaker>``; the set of a one-split
    layout (``.``: ``test`` for decode_test)."""
    if split == ".":
        return name[len("decode_"):] if name.startswith("decode_") else name
    return split[3:] if split.startswith("si_") else split


def decode_dir(exp: Path, split: str, cond: str, seed: Optional[str], system: str,
               name: str = "decode_test", gmm_dirs: Optional[GmmDirs] = None) -> Path:
    if gmm_dirs and (cond, system) in gmm_dirs:
        return exp / split / gmm_dirs[(cond, system)] / name
    base = exp / split / cond
    gmm = is_gmm(system, gmm_systems(gmm_dirs))
    return (base / system if gmm else base / f"seed{seed}" / system) / name


def choose(decode: Path, lmwt_from: Optional[str] = None) -> Optional[Choice]:
    """(LM weight, (WER, errors, words)) of a decode dir: its best_wer (the weight read from the
    path it names), or with ``lmwt_from`` its ``wer_<LMWT>`` at the weight with the lowest WER in
    the sibling decode dir ``lmwt_from`` (ties to the lower weight, wer_grid.best); None when not
    scored. A weight chosen there but not decoded here stops with a message."""
    if lmwt_from is None:
        result = read_best_wer(decode)
        if result is None:
            return None
        match = re.search(r"wer_(\d+)\s*$", (decode / "scoring_kaldi" / "best_wer").read_text())
        return (int(match.group(1)) if match else None), result
    select = read_counts(decode.parent / lmwt_from)
    chosen = best(pool([select])) if select else None
    counts = read_counts(decode)
    if chosen is None or not counts:
        return None
    if chosen[0] not in counts:
        raise SystemExit(f"kt_results.py: {decode}: no wer_{chosen[0]} (the LM weight chosen on "
                         f"{decode.parent / lmwt_from})")
    errors, words = counts[chosen[0]]
    return chosen[0], (100.0 * errors / max(words, 1), errors, words)


def choices(exp: Path, splits: List[str], conds: List[str], seeds: List[str],
            systems: List[str], name: str = "decode_test", lmwt_from: Optional[str] = None,
            gmm_dirs: Optional[GmmDirs] = None) -> Dict[Tuple[str, str, str, str], Choice]:
    """(cond, system, split, seed) -> :func:`choose`'s (LM weight, WER); GMMs under seed '-'."""
    found, gmms = {}, gmm_systems(gmm_dirs)
    for cond in conds:
        for system in systems:
            for split in splits:
                for seed in (["-"] if is_gmm(system, gmms) else seeds):
                    result = choose(decode_dir(exp, split, cond, seed, system, name, gmm_dirs),
                                    lmwt_from)
                    if result is not None:
                        found[(cond, system, split, seed)] = result
    return found


def used_lmwt(exp: Path, cond: str, splits: List[str], seeds: List[str], systems: List[str],
              name: str, gmm_dirs: Optional[GmmDirs] = None) -> str:
    """One line: the LM weight of each fold's GMM and neural decodes, read from best_wer (whose
    path ends in wer_<LMWT>).

    Args:
        exp: the recipe's exp dir.
        cond: training condition.
        splits: folds.
        seeds: seeds (the first decoded one of the first neural system is read).
        systems: systems of the table.
        name: decode dir name.
        gmm_dirs: GMM systems' dirs (:func:`parse_gmm_dirs`).
    """
    gmms = gmm_systems(gmm_dirs)

    def weight(system: str, split: str) -> str:
        for seed in (["-"] if is_gmm(system, gmms) else seeds):
            path = decode_dir(exp, split, cond, seed, system, name, gmm_dirs) \
                / "scoring_kaldi" / "best_wer"
            if path.exists():
                match = re.search(r"wer_(\d+)\s*$", path.read_text())
                return match.group(1) if match else "?"
        return "–"
    gmm = next((s for s in systems if is_gmm(s, gmms)), None)
    nn = next((s for s in systems if not is_gmm(s, gmms)), None)
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


def pooled_per_seed(found, cond: str, system: str, splits: List[str], seeds: List[str],
                    gmms: Iterable[str] = GMM_SYSTEMS) -> Dict[str, float]:
    """seed -> pooled WER over all folds (only seeds with every fold decoded); a GMM of
    ``gmms`` is stored under seed '-'."""
    out = {}
    for seed in (["-"] if is_gmm(system, gmms) else seeds):
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
              exp: Path, name: str = "decode_test", weights=None,
              gmms: Iterable[str] = GMM_SYSTEMS) -> List[str]:
    """Markdown rows: per fold (mean over seeds) and pooled over the folds; with one split
    (``["."]``) only the pooled column, which is then that set's WER (errors/words). With
    ``weights`` (:func:`choices`) a column of the LM weights used, per fold and seed; ``gmms``:
    the systems without seeds (:func:`gmm_systems`)."""
    folds = [] if splits == ["."] else [fold_label(s, name) for s in splits]
    pooled_head = ("%WER, mean ± std over seeds" if not folds
                   else "pooled, mean ± std over seeds")
    rows = ["| system | " + "".join(f"{f} | " for f in folds)
            + f"{pooled_head} | seeds | "
            + ("LM weight per seed | " if weights is not None else "") + "CV frame acc % |",
            "|" + "---|" * (len(folds) + 4 + (weights is not None))]
    for system in systems:
        gmm = is_gmm(system, gmms)
        cells = []
        for split in (splits if folds else []):
            values = [found[(cond, system, split, s)][0]
                      for s in (["-"] if gmm else seeds)
                      if (cond, system, split, s) in found]
            cells.append(mean_std(values))
        pooled = pooled_per_seed(found, cond, system, splits, seeds, gmms)
        accs = [final_cv_acc(read_history(exp / split / cond / f"seed{s}" / system / "train.jsonl"))
                for split in splits for s in seeds] if not gmm else []
        accs = [a for a in accs if a is not None]
        name = f"`{system}` {describe(system)}".strip()
        n = "–" if gmm else str(len(pooled))
        used = ""
        if weights is not None:
            used = ", ".join(str(weights[(cond, system, split, s)][0])
                             for split in splits for s in (["-"] if gmm else seeds)
                             if (cond, system, split, s) in weights) or "–"
            used += " | "
        rows.append(f"| {name} | " + "".join(f"{c} | " for c in cells)
                    + f"{mean_std(list(pooled.values()))} | {n} | {used}"
                    f"{mean_std(accs)} |")
    return rows


AGE_LABELS = {"child": "children", "teen": "teenagers", "adult": "adults"}


def age_table(weights, cond: str, systems: List[str], seeds: List[str], exp: Path, name: str,
              data: Path, gmm_dirs: Optional[GmmDirs] = None) -> List[str]:
    """Markdown rows (one split): %WER per age group of the speakers (age_group: children up to
    12, teenagers 13-17, adults 18 and over) and of the whole set, from the per-utterance errors
    at each decode's LM weight in ``weights`` (:func:`choices`; wer_grid.utterance_counts
    against ``data``'s text), mean ± std over seeds ([errors / words] with one seed); a first
    row of the words per group, which add up to the set's.

    Args:
        data: the decoded set's data dir (text, utt2spk, spk2age).
    """
    try:
        refs = {u: v.split() for u, v in
                read_map(data / "text", allow_empty_value=True).items()}
        utt2spk, spk2age = read_map(data / "utt2spk"), read_map(data / "spk2age")
    except AsrktError as err:
        raise SystemExit(f"kt_results.py: --age-data: {err}") from None
    group, ages = {}, {}
    for utt in refs:
        age = spk2age.get(utt2spk.get(utt, ""), "")
        if not age.isdigit():
            raise SystemExit(f"kt_results.py: {data}: utterance {utt}: no speaker age "
                             "(utt2spk, spk2age)")
        group[utt] = age_group(int(age))
        ages.setdefault(group[utt], {})[utt2spk[utt]] = int(age)
    groups = [g for g in AGE_GROUPS if g in ages]
    words = {g: sum(len(refs[u]) for u in refs if group[u] == g) for g in groups}
    head = []
    for g in groups:
        low, high = min(ages[g].values()), max(ages[g].values())
        span = f"age {low}" if low == high else f"ages {low}-{high}"
        head.append(f"{AGE_LABELS[g]} ({span}, {len(ages[g])} speakers)")
    rows = ["| system | " + " | ".join(head) + " | all |", "|" + "---|" * (len(groups) + 2),
            "| words | " + " | ".join(str(words[g]) for g in groups)
            + f" | {sum(words.values())} |"]
    gmms = gmm_systems(gmm_dirs)
    for system in systems:
        per_seed: Dict[str, List[Tuple[int, int]]] = {g: [] for g in groups + ["all"]}
        for seed in (["-"] if is_gmm(system, gmms) else seeds):
            weight = weights.get((cond, system, ".", seed), (None,))[0]
            if weight is None:
                continue
            counts = utterance_counts(decode_dir(exp, ".", cond, seed, system, name, gmm_dirs),
                                      weight, refs)
            for g in groups + ["all"]:
                mine = [c for u, c in counts.items() if g in ("all", group[u])]
                per_seed[g].append((sum(e for e, _ in mine), sum(n for _, n in mine)))

        def cell(got: List[Tuple[int, int]]) -> str:
            if len(got) == 1:
                return f"{100.0 * got[0][0] / max(got[0][1], 1):.2f} [{got[0][0]} / {got[0][1]}]"
            return mean_std([100.0 * e / max(n, 1) for e, n in got])

        rows.append(f"| `{system}` | " + " | ".join(cell(per_seed[g]) for g in groups + ["all"])
                    + " |")
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
         seeds: List[str], gmms: Iterable[str] = GMM_SYSTEMS) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # the LSTMs' curves (KT head start); a table without LSTMs shows its teachers' curves, a
    # table of GMMs alone only the WER bars
    curve_systems = [s for s in CURVE_SYSTEMS if s in systems]
    kind = "LSTM" if curve_systems else "DNN"
    curve_systems = curve_systems or [s for s in systems if not is_gmm(s, gmms)]
    panels = 1 + (len(conds) if curve_systems else 0)
    fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4), squeeze=False)
    ax = axes[0][0]
    width = 0.8 / max(len(conds), 1)
    for i, cond in enumerate(conds):
        means, stds = [], []
        for system in systems:
            values = list(pooled_per_seed(found, cond, system, splits, seeds, gmms).values())
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
    parser.add_argument("--lmwt-from", metavar="NAME",
                        help="score each decode dir at the LM weight with the lowest WER in its "
                             "sibling decode dir NAME (e.g. decode_dev: Kaldi's practice), not "
                             "at its own best; the table shows the weights")
    parser.add_argument("--gmm-dirs", default="", metavar="'COND:SYSTEM=DIR ...'",
                        help="GMM systems' dirs under <exp>/<split> where not <COND>/<SYSTEM>; "
                             "a SYSTEM not among mono tri1 tri2 becomes a GMM row (an anchor)")
    parser.add_argument("--age-data", type=Path, metavar="DIR",
                        help="the decoded set's data dir (text, utt2spk, spk2age): a table of "
                             "%%WER by age group (one split only)")
    parser.add_argument("--note", action="append", default=[],
                        help="a further line of the header (repeatable)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--png", type=Path)
    args = parser.parse_args(argv)
    splits, conds, seeds, systems = (args.splits.split(), args.conditions.split(),
                                     args.seeds.split(), args.systems.split())
    gmm_dirs = parse_gmm_dirs(args.gmm_dirs)
    gmms = gmm_systems(gmm_dirs)
    if args.age_data is not None and splits != ["."]:
        raise SystemExit("kt_results.py: --age-data needs one split (--splits .)")
    chosen = choices(args.exp, splits, conds, seeds, systems, args.decode_name, args.lmwt_from,
                     gmm_dirs)
    found = {k: v[1] for k, v in chosen.items()}
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
             *[f"- {note}" for note in args.note],
             f"- date: {datetime.datetime.now():%Y-%m-%d %H:%M}, machine: {platform.machine()}, "
             f"{platform.system()}, Python {platform.python_version()}",
             f"- environment: {environment()}", "",
             ("%WER (errors/words per seed), mean ± sample std over seeds; CV frame accuracy "
              "of the kept model (mean ± std over seeds; targets are the pdfs of the "
              f"alignments of the condition's `{args.targets}` GMM)." if splits == ["."] else
              "%WER per fold (mean over seeds) and pooled over the folds (errors/words of all "
              "folds, per seed), mean ± sample std over seeds; CV frame accuracy of the kept "
              "model (mean ± std over folds and seeds; targets are the pdfs of the "
              f"alignments of the condition's `{args.targets}` GMM)."), ""]
    for cond in conds:
        lines += [f"## {cond} training data", ""]
        lines += wer_table(found, cond, systems, splits, seeds, args.exp, args.decode_name,
                           chosen if args.lmwt_from else None, gmms)
        if args.lmwt_from is None:
            lines += ["", used_lmwt(args.exp, cond, splits, seeds, systems, args.decode_name,
                                    gmm_dirs)]
        else:
            same = args.lmwt_from == args.decode_name
            lines += ["", f"LM weight of each system and seed: the one with the lowest %WER on "
                          f"`{args.lmwt_from}` "
                      + ("(chosen on the same data as the table: optimistic)." if same else
                         f"(chosen on that set, applied to `{args.decode_name}`; never chosen "
                         "on this set).")]
        if args.age_data is not None:
            lines += ["", f"%WER by the speakers' age group ({args.age_data}/spk2age), at the "
                          "same LM weights; mean ± std over seeds ([errors / words] with one "
                          "seed):", ""]
            lines += age_table(chosen, cond, systems, seeds, args.exp, args.decode_name,
                               args.age_data, gmm_dirs)
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
        plot(args.png, found, args.exp, conds, [s for s in systems], splits, seeds, gmms)
        lines += [f"![systems and CV curves]({args.png.name})", ""]
    if args.conf is not None and args.conf.is_dir():
        lines += ["## Configuration", ""]
        for f in sorted(args.conf.glob("*.yaml")):
            lines += [f"`{f.name}`:", "", "```yaml", f.read_text().rstrip(), "```", ""]
    write_text_atomic(args.out, "\n".join(lines).rstrip() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
