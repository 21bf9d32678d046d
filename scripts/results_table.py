#!/usr/bin/env python3
"""Write a recipe's RESULTS.md from its decode directories (never by hand).

Reads ``<exp>/<system>/decode_<set>/scoring_kaldi/best_wer`` (written by ``asrkt score``) for
every system and test set, and writes a Markdown table of %WER with the command that produced
it, the seed(s), the corpus split and the corpus config.

Usage: scripts/results_table.py --exp exp --systems "mono tri1 dnn_rbm" --test-sets "test_clean"
         --title T --command "recipes/x/run.sh" --seed 777 --split "..." [--corpus-config F]
         --out RESULTS.md
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import statistics
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from asrkt.utils.fileio import write_text_atomic

WER_LINE = re.compile(r"%WER\s+([0-9.]+)\s+\[\s*(\d+)\s*/\s*(\d+)")

DESCRIPTIONS = {
    "mono": "monophone GMM-HMM (flat start)",
    "tri1": "triphone GMM-HMM, deltas (train-deltas on mono's alignments)",
    "tri2": "triphone GMM-HMM, LDA+MLLT (train-lda-mllt on tri1's alignments)",
    "dnn": "DNN teacher, random init",
    "lstm_kt_ft": "LSTM, KT from the DNN teacher, fine-tuned",
    "dnn_rand": "DNN teacher, random init",
    "dnn_rbm": "DNN teacher, RBM pre-trained",
    "lstm_ce": "LSTM, random init, CE (baseline)",
    "lstm_kt_rand_ft": "LSTM, KT from the random-init DNN, fine-tuned",
    "lstm_kt_rbm_ft": "LSTM, KT from the RBM-pre-trained DNN, fine-tuned",
    "lstm_kt_rand_ftreg": "as lstm_kt_rand_ft, KT loss kept in fine-tuning (finetune --kt-weight)",
    "lstm_kt_rbm_ftreg": "as lstm_kt_rbm_ft, KT loss kept in fine-tuning (finetune --kt-weight)",
    "dnn_rand_vtlp": "as dnn_rand, trained with VTLN-perturbed copies (--vtlp)",
    "dnn_rbm_vtlp": "as dnn_rbm, RBMs and DNN trained with VTLN-perturbed copies (--vtlp)",
}


def describe(system: str) -> str:
    """The table's description of ``system``, also for teacher variants named by their setting
    (``dnn_rbm_fm8``: frequency masking up to 8 channels, ``dnn_rand_do0.2``: dropout 0.2)."""
    if system in DESCRIPTIONS:
        return DESCRIPTIONS[system]
    match = re.fullmatch(r"(dnn_rand|dnn_rbm)_(fm|do)([0-9.]+)", system)
    if match is None:
        return ""
    base, kind, value = match.groups()
    if kind == "fm":
        return f"as {base}, frequency masking of up to {value} channels (--freq-mask {value})"
    return f"as {base}, dropout {value} after each hidden layer (--dropout {value})"


def read_best_wer(decode_dir: Path) -> Optional[Tuple[float, int, int]]:
    """(WER %, errors, words) from ``scoring_kaldi/best_wer``, or None when missing."""
    path = decode_dir / "scoring_kaldi" / "best_wer"
    if not path.exists():
        return None
    match = WER_LINE.search(path.read_text())
    if not match:
        raise SystemExit(f"{path}: no '%WER x [ e / n' line")
    return float(match.group(1)), int(match.group(2)), int(match.group(3))


def read_sweep(decode_dir: Path) -> Dict[int, float]:
    """LM weight -> %WER from the ``wer_<LMWT>`` files of a decode dir (empty when missing).

    Args:
        decode_dir: a decode dir of ``asrkt decode``/``decode-nnet`` with an LMWT sweep.
    """
    out = {}
    for path in decode_dir.glob("wer_*"):
        match = WER_LINE.search(path.read_text())
        if path.name[4:].isdigit() and match:
            out[int(path.name[4:])] = float(match.group(1))
    return out


def best_weight(sweeps: List[Dict[int, float]], where: str) -> int:
    """The LM weight with the lowest mean WER over ``sweeps`` (weights common to all of them).

    Args:
        sweeps: LM weight -> %WER, one dict per decode dir.
        where: names the decode dirs in errors.
    """
    common = set.intersection(*[set(s) for s in sweeps]) if sweeps and all(sweeps) else set()
    if not common:
        raise SystemExit(f"{Path(sys.argv[0]).name}: "
                         f"no LM weight decoded in every sweep of {where}")
    return min(sorted(common), key=lambda w: statistics.mean(s[w] for s in sweeps))


def table(exp: Path, systems: List[str], test_sets: List[str]) -> Tuple[List[str], Dict]:
    """Markdown rows and the raw numbers."""
    numbers: Dict[str, Dict[str, Optional[Tuple[float, int, int]]]] = {}
    header = "| system | " + " | ".join(test_sets) + " | all |"
    rows = [header, "|" + "---|" * (len(test_sets) + 2)]
    for system in systems:
        cells, errors, words = [], 0, 0
        numbers[system] = {}
        for test_set in test_sets:
            result = read_best_wer(exp / system / f"decode_{test_set}")
            numbers[system][test_set] = result
            if result is None:
                cells.append("–")
            else:
                cells.append(f"{result[0]:.2f}")
                errors, words = errors + result[1], words + result[2]
        total = f"{100.0 * errors / words:.2f}" if words and "–" not in cells else "–"
        name = f"`{system}` {describe(system)}".strip()
        rows.append(f"| {name} | " + " | ".join(cells) + f" | {total} |")
    return rows, numbers


def environment() -> str:
    """The packages and CPU that the numbers depend on: the same commands give the same table on
    one machine, but features and models differ in their last bits with the CPU's SIMD kernels
    (torch's CPU capability, numpy's AVX-512 loops, OpenBLAS's core) and the package builds, and
    the GMM amplifies such differences; asrkt pins the kernels to AVX2 unless
    ASRKT_CPU_KERNELS=native (asrkt/kernels.py)."""
    from importlib import metadata

    versions = []
    for name in ("torch", "torchaudio", "numpy", "kaldi-hmm-gmm", "espeakng-loader"):
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} -")
    cpu = next((line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "?") \
        if Path("/proc/cpuinfo").exists() else platform.processor() or "?"
    try:
        import torch

        cpu += (f", torch kernels {torch.backends.cpu.get_cpu_capability()} "
                f"(ASRKT_CPU_KERNELS={os.environ.get('ASRKT_CPU_KERNELS', 'avx2')})")
    except ImportError:
        pass
    from asrkt.kernels import numpy_avx512_active

    avx512 = numpy_avx512_active()
    if avx512 is not None:
        cpu += (f", numpy AVX-512 loops {'on' if avx512 else 'off'}, OpenBLAS "
                f"{os.environ.get('OPENBLAS_CORETYPE', 'auto')}")
    return f"{', '.join(versions)}; CPU: {cpu}"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exp", type=Path, required=True)
    parser.add_argument("--systems", required=True)
    parser.add_argument("--test-sets", required=True)
    parser.add_argument("--title", required=True)
    parser.add_argument("--command", required=True)
    parser.add_argument("--seed", required=True)
    parser.add_argument("--split", required=True)
    parser.add_argument("--corpus-config", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    systems, test_sets = args.systems.split(), args.test_sets.split()
    rows, numbers = table(args.exp, systems, test_sets)
    if all(v is None for s in numbers.values() for v in s.values()):
        print(f"results_table.py: no scored decode dirs under {args.exp}", file=sys.stderr)
        return 1
    lines = [f"# Results: {args.title}", "",
             "Written by `scripts/results_table.py` from the decode directories; do not edit.", "",
             f"- command: `{args.command}`",
             f"- seed(s): {args.seed}",
             f"- split: {args.split}",
             f"- date: {datetime.datetime.now():%Y-%m-%d %H:%M}, machine: {platform.machine()}, "
             f"{platform.system()}, Python {platform.python_version()}",
             f"- environment: {environment()}", "",
             "%WER (best LM weight of the sweep, as Kaldi's best_wer), per test set and pooled:",
             ""]
    lines += rows
    if args.corpus_config is not None and args.corpus_config.exists():
        lines += ["", "Corpus configuration:", "", "```yaml",
                  args.corpus_config.read_text().rstrip(), "```"]
    write_text_atomic(args.out, "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
