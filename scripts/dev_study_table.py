#!/usr/bin/env python3
"""Write recipes/speech_commands' DEV_STUDY.md from its dev decode directories (never by hand).

Reads the rows written by recipes/speech_commands/local/dev_study.sh (``exp/dev_study.tsv``:
round, family, system, what; tab-separated) and, per row, condition and seed,
``<exp>/<cond>/seed<S>/<system>/decode_dev/scoring_kaldi/best_wer`` and ``train.jsonl`` (the
epochs run and the CV frame accuracy of the kept model).

Per round and family (teacher, baseline, student, ktweight) the variants are compared with the
family's reference row; the lowest dev WER of each family in a round is marked: per condition
(`*` next to the number) and for the mean over the conditions (the `chosen` column). The epoch
limits are meant to be read per condition, the other settings on the mean.

Usage: scripts/dev_study_table.py --exp exp --rows exp/dev_study.tsv --conditions "full quarter"
         --seeds "1" --command "..." --out DEV_STUDY.md
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
from asrkt.utils.fileio import write_text_atomic  # noqa: E402
from kt_results import final_cv_acc, read_history  # noqa: E402
from results_table import environment, read_best_wer  # noqa: E402


class Row(NamedTuple):
    round: str
    family: str
    system: str
    what: str


def read_rows(path: Path) -> List[Row]:
    """The study's rows, in the order written (one clear error for a malformed line)."""
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        fields = line.split("\t")
        if len(fields) != 4:
            raise SystemExit(f"{path}:{number}: expected 4 tab-separated fields "
                             f"(round, family, system, what), got {len(fields)}")
        rows.append(Row(*fields))
    return rows


class Cell(NamedTuple):
    wer: Optional[float]      # mean over seeds
    epochs: List[int]         # epochs run, per seed
    cv_acc: List[float]       # CV frame accuracy % of the kept model, per seed


def cell(exp: Path, cond: str, seeds: List[str], system: str) -> Cell:
    wers, epochs, accs = [], [], []
    for seed in seeds:
        sdir = exp / cond / f"seed{seed}" / system
        result = read_best_wer(sdir / "decode_dev")
        if result is not None:
            wers.append(result[0])
        history = read_history(sdir / "train.jsonl")
        if history:
            epochs.append(max(int(h["epoch"]) for h in history))
            acc = final_cv_acc(history)
            if acc is not None:
                accs.append(acc)
    return Cell(statistics.mean(wers) if wers else None, epochs, accs)


def family_table(rows: List[Row], cells: Dict[str, Dict[str, Cell]],
                 conds: List[str]) -> List[str]:
    """Markdown lines of one family's rows (its reference first), lowest WERs marked."""
    def mean(system: str) -> Optional[float]:
        values = [cells[system][c].wer for c in conds]
        return None if None in values else statistics.mean(values)

    best = {c: min((cells[r.system][c].wer for r in rows
                    if cells[r.system][c].wer is not None), default=None) for c in conds}
    means = [mean(r.system) for r in rows if mean(r.system) is not None]
    best_mean = min(means, default=None)
    lines = ["| system | setting | " + " | ".join(f"%WER {c}" for c in conds)
             + " | mean | chosen | epochs run | CV frame acc % |",
             "|---|---|" + "---|" * len(conds) + "---|---|---|---|"]
    for r in rows:
        wers = []
        for c in conds:
            w = cells[r.system][c].wer
            wers.append("–" if w is None else f"{w:.2f}" + (" *" if w == best[c] else ""))
        m = mean(r.system)
        epochs = " / ".join(",".join(map(str, cells[r.system][c].epochs)) or "–" for c in conds)
        accs = " / ".join(",".join(f"{a:.1f}" for a in cells[r.system][c].cv_acc) or "–"
                          for c in conds)
        lines.append(f"| `{r.system}` | {r.what} | " + " | ".join(wers)
                     + f" | {'–' if m is None else f'{m:.2f}'} | "
                     f"{'◀' if m is not None and m == best_mean else ''} | {epochs} | {accs} |")
    return lines


def study_lines(rows: List[Row], exp: Path, conds: List[str], seeds: List[str]) -> List[str]:
    """The tables: one per round, one block per family (with its reference row)."""
    cells = {r.system: {c: cell(exp, c, seeds, r.system) for c in conds} for r in rows}
    reference = {r.family: r for r in rows if r.round == "reference"}
    rounds: OrderedDict[str, List[Row]] = OrderedDict()
    for r in rows:
        if r.round != "reference":
            rounds.setdefault(r.round, []).append(r)
    lines = []
    for name, members in rounds.items():
        lines += [f"## {name}", ""]
        for family in dict.fromkeys(r.family for r in members):
            group = [reference[family]] if family in reference else []
            group += [r for r in members if r.family == family]
            lines += [f"{family}:", ""] + family_table(group, cells, conds) + [""]
    return lines


def budget_line(rows: List[Row]) -> str:
    counts: Dict[str, int] = {}
    for r in rows:
        if r.round != "reference":
            counts[r.family] = counts.get(r.family, 0) + 1
    return ("Dev trainings per family besides the reference (the tuning budget): "
            + ", ".join(f"{f} {n}" for f, n in counts.items()) + ".")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exp", type=Path, required=True)
    parser.add_argument("--rows", type=Path, required=True, help="dev_study.sh's rows (TSV)")
    parser.add_argument("--conditions", required=True)
    parser.add_argument("--seeds", required=True)
    parser.add_argument("--command", required=True, help="the command that made the decodes")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if not args.rows.is_file():
        raise SystemExit(f"{args.rows}: no such file (run local/dev_study.sh's stage 2 first)")
    rows = read_rows(args.rows)
    conds, seeds = args.conditions.split(), args.seeds.split()
    text = ["# Speech Commands: settings chosen on the dev speakers", "",
            "Written by `scripts/dev_study_table.py` from the dev decode directories; "
            "do not edit.", "",
            f"- command: `{args.command}`",
            f"- seeds: {' '.join(seeds)}; conditions: {', '.join(conds)}; "
            "set: dev (34 speakers, 554 clips; the test speakers are not read)",
            f"- {environment()}", "",
            "One factor at a time around the reference. %WER on dev at LM weight 10, mean over "
            "seeds; `*` the lowest of the family in that condition, ◀ the lowest mean over the "
            "conditions. Epochs run and CV frame accuracy (of the kept model): per seed, "
            "conditions separated by /.", "",
            "How a setting is chosen (rules of local/dev_study.sh): epoch limits (round "
            "`epochs`): the smallest limit that newbob's own stop does not reach in either "
            "condition, so that newbob, not the limit, ends every training; every other round: "
            "the lowest mean (◀), the reference on a tie; the LSTM architecture (round `size`) "
            "is shared by the baseline and the students: the one with the lower mean over both "
            "families; a teacher setting of the rounds `teacher` and `noise` is judged by "
            "the student it teaches (the soft targets are the teacher's job here), the "
            "baseline's noise setting by the baseline. One seed: differences of a point or "
            "two (full) and several points (quarter) are within what the seed alone "
            "changes (the final run's RESULTS_dev.md gives the seed-to-seed std on dev).", "",
            budget_line(rows), ""]
    text += study_lines(rows, args.exp, conds, seeds)
    write_text_atomic(args.out, "\n".join(text).rstrip() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
