#!/usr/bin/env python3
"""The GPU check (``scripts/gpu_check.sh``, at most 5 minutes): on a machine with a GPU, train
one epoch of the DNN teacher and of the LSTMP student (the synth_digits recipe sizes, on FSDD
from ../shared/data/fsdd through the bench's setup stage, else on ``asrkt synth-digits``) on the
CPU and on the GPU, and compare.

    python scripts/gpu_check.py [--device cuda] [--work DIR] [--out gpu-check/gpu-check.json]

Per model it reports the train and CV losses on both devices and their relative difference
(PASS when below --tolerance), frames/s on both, the GPU's GEMM FLOP/s over the rate torch.mm
reaches at exactly the step's shapes on the same GPU, and the loss of a bf16 (autocast) epoch.
With two or more GPUs it runs the 2-rank data-parallel tests of
tests/unit/test_nnet_distributed.py with nccl. ``--device cpu`` runs the same steps on the CPU
only (a smoke test of this script where there is no GPU; the numbers then mean nothing).
Exit status 0 when every comparison passes, 1 otherwise, 2 without the requested device.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import ROOT, path_argument, run_stage, write_json  # noqa: E402

MODELS = (("dnn", "train-teacher", "recipes/synth_digits/conf/dnn.yaml"),
          ("lstm", "finetune", "recipes/synth_digits/conf/lstm.yaml"))


def time_mm_device(shape, device, repeats: int = 20) -> float:
    """Best seconds of one fp32 torch.mm at ``shape`` on ``device`` (CUDA events on a GPU).

    Args:
        shape: (M, K, N).
        device: torch device.
        repeats: timed calls (after 3 warm-up calls).
    """
    import torch

    m, k, n = shape
    a, b = torch.randn(m, k, device=device), torch.randn(k, n, device=device)
    out = torch.empty(m, n, device=device)
    for _ in range(3):
        torch.mm(a, b, out=out)
    if device.type != "cuda":
        start = time.perf_counter()
        for _ in range(repeats):
            torch.mm(a, b, out=out)
        return (time.perf_counter() - start) / repeats
    begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    begin.record()
    for _ in range(repeats):
        torch.mm(a, b, out=out)
    end.record()
    torch.cuda.synchronize()
    return begin.elapsed_time(end) / 1e3 / repeats


def mm_fraction(exp: Path, cfg, frames_per_s: float, device) -> Dict[str, float]:
    """The step's GEMM FLOP/s at ``frames_per_s`` over torch.mm's rate at the same shapes.

    Args:
        exp: the experiment directory (its final.pt gives the model's sizes).
        cfg: the training config.
        frames_per_s: measured training frames/s.
        device: where torch.mm is timed.
    """
    from collections import Counter

    from asrkt.nnet.modelio import load_model
    from bench_flops import flops
    from bench_stages import _gemms_for

    model = load_model(exp).model
    gemms = _gemms_for(model, cfg, model.num_pdfs, model.spliced_dim)
    counts = Counter(gemms)
    seconds = sum(time_mm_device(s, device) * c for s, c in counts.items())
    nominal = cfg.num_streams * cfg.chunk_len if model.recurrent else cfg.batch_size
    achieved = flops(gemms) / nominal * frames_per_s
    return {"gemm_gflops_per_s": achieved / 1e9,
            "mm_gflops_per_s": flops(gemms) / seconds / 1e9,
            "fraction_of_mm": achieved / (flops(gemms) / seconds)}


def train_epoch(key: str, command: str, conf: str, work: Path, device: str,
                precision: str = "fp32") -> Dict[str, Any]:
    """One epoch of ``command`` with the recipe config on ``device``; its train.jsonl line.

    Args:
        key: 'dnn' or 'lstm'.
        command: train-teacher or finetune.
        conf: the recipe's YAML.
        work: the bench work folder (fbank/train, exp/mono_ali).
        device: 'cpu' or 'cuda'.
        precision: fp32 or bf16.
    """
    from asrkt.nnet.config import FinetuneConfig, TeacherConfig
    from asrkt.nnet.losses import LossSpec
    from asrkt.nnet.steps import train_supervised
    from asrkt.utils.config import resolve_config

    cls = TeacherConfig if key == "dnn" else FinetuneConfig
    cfg = resolve_config(cls, ROOT / conf, {"device": device, "max_epochs": 1,
                                            "precision": precision})
    exp = work / "gpu_check" / f"{key}_{device}_{precision}"
    start = time.perf_counter()
    history = train_supervised(command, cfg, work / "fbank" / "train", exp,
                               LossSpec(1.0, 0.0, 1.0), ali_dir=work / "exp" / "mono_ali")
    line = dict(history[-1], command_seconds=time.perf_counter() - start)
    line["_exp"], line["_cfg"] = exp, cfg
    return line


def check_model(key: str, command: str, conf: str, work: Path, device,
                tolerance: float) -> Dict[str, Any]:
    """CPU vs ``device`` (and bf16 on ``device``) for one model.

    Args:
        key / command / conf: as :func:`train_epoch`.
        work: the bench work folder.
        device: the accelerator (torch device).
        tolerance: the largest relative loss difference that passes.
    """
    cpu = train_epoch(key, command, conf, work, "cpu")
    gpu = train_epoch(key, command, conf, work, str(device))
    bf16 = train_epoch(key, command, conf, work, str(device), "bf16")
    rel = {k: abs(gpu[k] - cpu[k]) / abs(cpu[k]) for k in ("train_loss", "cv_loss")}
    out = {"cpu": _public(cpu), "device": _public(gpu), "bf16": _public(bf16),
           "relative_difference": rel, "pass": max(rel.values()) <= tolerance,
           "speedup": gpu["frames_per_s"] / cpu["frames_per_s"],
           "bf16_relative_difference": abs(bf16["train_loss"] - gpu["train_loss"])
           / abs(gpu["train_loss"])}
    out.update(mm_fraction(gpu["_exp"], gpu["_cfg"], gpu["frames_per_s"], device))
    return out


def _public(line: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in line.items() if not k.startswith("_")}


def ddp_nccl(device) -> Optional[Dict[str, Any]]:
    """The 2-rank equivalence tests with nccl (None with fewer than 2 GPUs)."""
    import torch

    if device.type != "cuda" or torch.cuda.device_count() < 2:
        return None
    env = dict(os.environ, ASRKT_TEST_DEVICE="cuda")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x",
                           "tests/unit/test_nnet_distributed.py", "-k", "two_ranks"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    return {"returncode": proc.returncode, "seconds": time.perf_counter() - start,
            "tail": proc.stdout.strip().splitlines()[-3:], "pass": proc.returncode == 0}


def report(results: Dict[str, Any]) -> List[str]:
    """The printed summary."""
    lines = [f"GPU check {results['date']} on {results['device_name']} "
             f"({results['seconds']:.0f} s)"]
    for key, r in results["models"].items():
        lines.append(
            f"{key.upper()}: train loss CPU {r['cpu']['train_loss']:.4f} / GPU "
            f"{r['device']['train_loss']:.4f}, CV {r['cpu']['cv_loss']:.4f} / "
            f"{r['device']['cv_loss']:.4f} (max rel. diff "
            f"{max(r['relative_difference'].values()):.2e}: {'PASS' if r['pass'] else 'FAIL'}); "
            f"frames/s CPU {r['cpu']['frames_per_s']:,.0f}, GPU {r['device']['frames_per_s']:,.0f} "
            f"({r['speedup']:.1f}x); GPU GEMM rate {r['gemm_gflops_per_s']:.0f} GFLOP/s = "
            f"{r['fraction_of_mm']:.2f} of torch.mm at the step's shapes "
            f"({r['mm_gflops_per_s']:.0f}); bf16 train loss {r['bf16']['train_loss']:.4f} "
            f"(rel. diff {r['bf16_relative_difference']:.2e}), "
            f"{r['bf16']['frames_per_s']:,.0f} frames/s")
    ddp = results.get("ddp_nccl")
    lines.append("DDP with nccl: " + ("not run (fewer than 2 GPUs)" if ddp is None else
                                      f"{'PASS' if ddp['pass'] else 'FAIL'} ({ddp['tail']})"))
    return lines


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", help="The accelerator (default cuda).")
    parser.add_argument("--work", type=path_argument, default=None,
                        help="Work folder (default: a temporary one).")
    parser.add_argument("--out", type=path_argument, default=ROOT / "gpu-check" / "gpu-check.json",
                        help="JSON results (default: gpu-check/gpu-check.json in the repository).")
    parser.add_argument("--tolerance", type=float, default=0.01,
                        help="Largest relative CPU/GPU loss difference that passes.")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    import datetime

    import torch

    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("gpu_check: no CUDA device here; nothing was run", file=sys.stderr)
        return 2
    start = time.perf_counter()
    work = Path(args.work or tempfile.mkdtemp(prefix="asrkt-gpu-check-"))
    setup = run_stage("setup", {"quick": True, "work": str(work), "corpus": "auto"},
                      work / "logs", timeout=150)
    if "error" in setup:
        print(f"gpu_check: setup failed: {setup['error']}", file=sys.stderr)
        return 1
    results: Dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "device_name": (torch.cuda.get_device_name(device) if device.type == "cuda"
                        else "CPU (smoke run)"), "corpus": setup.get("corpus"),
        "torch": torch.__version__, "models": {}}
    for key, command, conf in MODELS:
        results["models"][key] = check_model(key, command, conf, work, device, args.tolerance)
    results["ddp_nccl"] = ddp_nccl(device)
    results["seconds"] = time.perf_counter() - start
    write_json(args.out, results)
    print("\n".join(report(results)))
    ok = all(r["pass"] for r in results["models"].values())
    ok = ok and (results["ddp_nccl"] is None or results["ddp_nccl"]["pass"])
    return 0 if ok else 1


if __name__ == "__main__":
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("TQDM_DISABLE", "1")
    sys.exit(main())
