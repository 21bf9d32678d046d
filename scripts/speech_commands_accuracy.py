#!/usr/bin/env python3
"""Write recipes/speech_commands' ACCURACY_<set>.md from its decode directories (never by hand).

A clip is correct when its hypothesis is exactly its one reference word. Reads, per condition,
system and seed (recipes/speech_commands/run.sh's layout):
  <exp>/<cond>/<gmm>/decode_<set>/                GMMs mono, tri1, tri2 (the same for every seed)
  <exp>/<cond>/seed<S>/<system>/decode_<set>/     neural systems
each with scoring/<LMWT>.txt (hypotheses), scoring_kaldi/wer_details/lmwt (the LM weight scored)
and scoring_kaldi/best_wer (%WER); the reference is the set's ``text``.

The table: per condition and system, %WER, accuracy on the ten command words and on all 35 words,
mean ± sample std over seeds; then the accuracy per command word (pooled over seeds).

Usage: scripts/speech_commands_accuracy.py --exp exp --conditions "full quarter" --seeds "1 2 3"
         --systems "mono dnn_rand ..." --set dev --text data/fbank/dev/text --command "..."
         --out ACCURACY_dev.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
from asrkt.corpora.speech_commands import COMMAND_WORDS  # noqa: E402
from asrkt.data.kaldi_files import read_map  # noqa: E402
from asrkt.utils.fileio import write_text_atomic  # noqa: E402
from kt_results import is_gmm, mean_std  # noqa: E402
from results_table import describe, environment, read_best_wer  # noqa: E402

Counts = Dict[str, Tuple[int, int]]  # reference word -> (correct, clips)


def word_counts(refs: Dict[str, str], hyps: Dict[str, str]) -> Counts:
    """Per reference word: (clips whose hypothesis is exactly that word, clips).

    Args:
        refs: utterance -> reference text (one word).
        hyps: utterance -> hypothesis text; a missing utterance counts as wrong.
    """
    counts: Dict[str, List[int]] = {}
    for utt, ref in refs.items():
        entry = counts.setdefault(ref.strip(), [0, 0])
        entry[0] += hyps.get(utt, "").split() == ref.split()
        entry[1] += 1
    return {w: (c[0], c[1]) for w, c in counts.items()}


def accuracy(counts: Counts, words: Optional[Tuple[str, ...]] = None) -> Optional[float]:
    """% correct over the clips of ``words`` (None: all words); None when there are none."""
    picked = [c for w, c in counts.items() if words is None or w in words]
    total = sum(n for _, n in picked)
    return 100.0 * sum(k for k, _ in picked) / total if total else None


def decode_counts(decode: Path, refs: Dict[str, str]) -> Optional[Counts]:
    """Word counts of a decode dir at the LM weight it was scored with; None when not decoded."""
    lmwt_file = decode / "scoring_kaldi" / "wer_details" / "lmwt"
    if not lmwt_file.exists():
        return None
    hyp_file = decode / "scoring" / f"{lmwt_file.read_text().strip()}.txt"
    return word_counts(refs, read_map(hyp_file, allow_empty_value=True))


def system_dir(exp: Path, cond: str, seed: str, system: str) -> Path:
    return exp / cond / system if is_gmm(system) else exp / cond / f"seed{seed}" / system


def main_table(exp: Path, args, refs: Dict[str, str]) -> Tuple[List[str], int]:
    """The table lines (one row per condition and system, then per-command-word accuracy) and
    the number of systems found."""
    lines = ["| condition | system | %WER | % correct, 10 command words | % correct, all words "
             "| seeds | description |", "|---|---|---|---|---|---|---|"]
    per_word: List[Tuple[str, str, Counts]] = []
    for cond in args.conditions.split():
        for system in args.systems.split():
            seeds = ["-"] if is_gmm(system) else args.seeds.split()
            wers, cmd, allw, pooled = [], [], [], {}
            for seed in seeds:
                decode = system_dir(exp, cond, seed, system) / f"decode_{args.set}"
                counts, wer = decode_counts(decode, refs), read_best_wer(decode)
                if counts is None or wer is None:
                    continue
                wers.append(wer[0])
                cmd.append(accuracy(counts, COMMAND_WORDS))
                allw.append(accuracy(counts))
                for w, (k, n) in counts.items():
                    pooled[w] = (pooled.get(w, (0, 0))[0] + k, pooled.get(w, (0, 0))[1] + n)
            if not wers:
                continue
            cmd_str = mean_std([a for a in cmd if a is not None])
            lines.append(f"| {cond} | {system} | {mean_std(wers)} | {cmd_str} | {mean_std(allw)} "
                         f"| {len(wers)} | {describe(system)} |")
            per_word.append((cond, system, pooled))
    lines += ["", "Per command word, % correct (pooled over seeds):", "",
              "| condition | system | " + " | ".join(COMMAND_WORDS) + " |",
              "|---|---|" + "---|" * len(COMMAND_WORDS)]
    for cond, system, pooled in per_word:
        cells = [f"{100.0 * pooled[w][0] / pooled[w][1]:.1f}" if pooled.get(w, (0, 0))[1] else "–"
                 for w in COMMAND_WORDS]
        lines.append(f"| {cond} | {system} | " + " | ".join(cells) + " |")
    return lines, len(per_word)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exp", type=Path, required=True)
    parser.add_argument("--conditions", required=True)
    parser.add_argument("--seeds", required=True)
    parser.add_argument("--systems", required=True)
    parser.add_argument("--set", required=True, help="evaluation set name (decode_<set>)")
    parser.add_argument("--text", type=Path, required=True, help="the set's reference text")
    parser.add_argument("--command", required=True, help="the command that made the decodes")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    refs = read_map(args.text)
    table, found = main_table(args.exp, args, refs)
    if not found:
        raise SystemExit(f"{args.exp}: no scored decode_{args.set} dirs for these systems")
    text = [f"# Speech Commands, set '{args.set}': WER and word accuracy", "",
            f"Command: `{args.command}`  ", f"{len(refs)} clips; {environment()}", "", *table]
    write_text_atomic(args.out, "\n".join(text) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
