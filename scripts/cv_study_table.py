#!/usr/bin/env python3
"""CV_STUDY.md of ``recipes/fsdd/local/cv_study.sh``: per system, the CV frame accuracy on
held-out utterances of the training speakers (train.jsonl), the frame CE/accuracy on the held-out
speaker (eval_test.json of ``asrkt eval-frames``), the gap between the two, and the WER on the
held-out speaker; mean ± std over seeds.

Usage: cv_study_table.py --exp EXP/SPLIT/full --seeds "1 2" --systems "dnn_rand ..." \
           --split si_lucas --lmwt 10 --command "..." --out CV_STUDY.md
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
from pathlib import Path
from typing import List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
from asrkt.utils.fileio import write_text_atomic  # noqa: E402
from kt_results import final_cv_acc, mean_std, read_history  # noqa: E402
from results_table import best_weight, read_best_wer, read_sweep  # noqa: E402

VARIANTS = {
    "dnn_rand": "DNN teacher, random init",
    "dnn_rbm": "DNN teacher, RBM pre-trained",
    "lstm_ce": "LSTM baseline (random init, CE)",
    "lstm_kt_rand_ft": "LSTM, KT from dnn_rand, fine-tuned",
    "lstm_kt_rbm_ft": "LSTM, KT from dnn_rbm, fine-tuned",
    "lstm_ce_splice5": "baseline with +-5 input frames (the DNN's context)",
    "lstm_ce_big": "baseline, 2 x 256 cells, 128-dim projection",
    "lstm_ce_e20": "baseline, at most 20 epochs instead of 10",
    "lstm_ce_e40": "baseline, at most 40 epochs instead of 10",
    "lstm_kt_rand": "KT-pre-trained student (from dnn_rand), not fine-tuned",
    "lstm_kt_rand_e10_ft": "KT from dnn_rand with 10 KT epochs instead of 5, fine-tuned",
    "lstm_kt_rand_T1_ft": "KT from dnn_rand at temperature 1 instead of 2, fine-tuned",
    "lstm_kt_rand_T4_ft": "KT from dnn_rand at temperature 4 instead of 2, fine-tuned",
    "lstm_kt_rand_ft_w05": "KT from dnn_rand, fine-tuned with 0.5 CE + 0.5 KT",
    "lstm_kt_rbm_ft_w05": "KT from dnn_rbm, fine-tuned with 0.5 CE + 0.5 KT",
    "lstm_s5_kt_rbm_ft_w05": "the same with +-5 input frames",
}


def system_row(exp: Path, system: str, seeds: List[str]) -> Optional[List[str]]:
    """One table row (cells as text) of ``system``, or None when no seed has results.

    Args:
        exp: EXP/SPLIT/full.
        system: system directory name under seed<S>/.
        seeds: seeds to average.
    """
    cv, held, ce, runs, wers, per_seed = [], [], [], [], [], []
    for seed in seeds:
        d = exp / f"seed{seed}" / system
        wer = read_best_wer(d / "decode_test")
        ev = d / "eval_test.json"
        if wer is None or not ev.exists():
            continue
        result = json.loads(ev.read_text())
        acc = final_cv_acc(read_history(d / "train.jsonl"))
        if acc is not None:
            cv.append(acc)
        held.append(100.0 * result["frame_acc"])
        ce.append(result["ce"])
        runs.append(result["mean_error_run"])
        wers.append(wer[0])
        per_seed.append(f"{wer[0]:.1f}")
    if not wers:
        return None
    gap = [c - h for c, h in zip(cv, held)] if len(cv) == len(held) else []
    return [f"`{system}` {VARIANTS.get(system, '')}".strip(), mean_std(cv), mean_std(held),
            mean_std(gap), mean_std(ce), mean_std(runs), mean_std(wers), " / ".join(per_seed)]


def sweep_rows(exp: Path, systems: List[str], seeds: List[str]) -> List[str]:
    """Markdown rows of the LM-weight sweep: mean %WER over seeds per LMWT, and the best LMWT.

    Args:
        exp: EXP/SPLIT/full.
        systems: NN systems (the GMM, ``mono``, is added first).
        seeds: seeds to average.
    """
    tables = {"mono": [read_sweep(exp / "mono" / "decode_sweep")]}
    for system in systems:
        tables[system] = [read_sweep(exp / f"seed{seed}" / system / "decode_sweep")
                          for seed in seeds]
    weights = sorted(set.intersection(*[set(t) for ts in tables.values() for t in ts if t]) or [])
    if not weights:
        return []
    rows = ["| system | " + " | ".join(str(w) for w in weights) + " | best LMWT |",
            "|---|" + "---|" * (len(weights) + 1)]
    for system, runs in tables.items():
        runs = [r for r in runs if r]
        if not runs:
            continue
        means = {w: statistics.mean(r[w] for r in runs) for w in weights}
        best = best_weight([{w: r[w] for w in weights} for r in runs], system)
        rows.append(f"| `{system}` | " + " | ".join(f"{means[w]:.1f}" for w in weights)
                    + f" | {best} ({means[best]:.2f}) |")
    return rows


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exp", required=True, type=Path)
    parser.add_argument("--seeds", required=True)
    parser.add_argument("--systems", required=True)
    parser.add_argument("--split", required=True)
    parser.add_argument("--lmwt", type=int, required=True)
    parser.add_argument("--command", required=True)
    parser.add_argument("--ref-ali", required=True, help="alignment dir of the frame metrics")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    seeds = args.seeds.split()
    rows = [r for r in (system_row(args.exp, s, seeds) for s in args.systems.split())
            if r is not None]
    if not rows:
        raise SystemExit(f"{args.exp}: no decoded systems with eval_test.json")
    speaker = args.split[3:] if args.split.startswith("si_") else args.split
    lines = [
        f"# CV study: held-out training speaker `{speaker}`",
        "",
        f"Written by `scripts/cv_study_table.py` on {datetime.date.today()} from `{args.exp}`.",
        f"Command: `{args.command}`; seeds {', '.join(seeds)}; LM weight {args.lmwt} (fixed).",
        "",
        "CV acc = frame accuracy on the 10% held-out utterances of the *training* speakers (the",
        "newbob CV set; for the KT-only student: agreement with the teacher's soft targets);",
        f"held-out acc / CE = on every utterance of `{speaker}`, against the pdf alignment in",
        f"`{args.ref_ali}`; gap = CV acc - held-out acc; error run = mean length (frames) of the",
        "runs of consecutive misclassified held-out frames. Mean ± std over seeds.",
        "",
        "| system | CV acc % | held-out acc % | gap | held-out CE | error run | held-out %WER "
        "| WER per seed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    sweep = sweep_rows(args.exp, args.systems.split(), seeds)
    if sweep:
        lines += ["", f"## LM-weight sweep on `{speaker}`", "",
                  "%WER on the held-out speaker per LM weight "
                  f"(mean over seeds {', '.join(seeds)}; "
                  "the GMM is one model); run.sh fixes GMM 12 and NN 10 a priori.", ""] + sweep
    write_text_atomic(args.out, "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
