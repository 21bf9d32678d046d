"""The 2-process exit path, many times: a data-parallel ``train-teacher`` under torchrun (gloo,
CPU, one thread per rank) on a tiny synthetic corpus, run again and again; each run must exit 0
with ``final.pt`` written and neither rank aborting ("terminate called ...", a signal).

Usage: python scripts/ddp_exit_stress.py [--runs N] [--load L] [--nproc 2] [--epochs 3]
                                         [--work DIR] [--cores] [--keep]

``--load L`` keeps L busy-looping processes running beside the jobs (a loaded machine changes
the timing of the ranks' exits). Prints one line per failed run (its output goes to
WORK/run-K.log) and a summary line ``runs N, failures F, wall S s``; exits 1 when any run
failed. ``--cores`` lets the ranks write core files (into WORK/run-K/) for gdb.
tests/unit/test_nnet_distributed.py runs it with 3 runs in the slow tier (README "Failure
behaviour").
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers.synthetic_nnet import make_synthetic_corpus  # noqa: E402

# the settings of test_two_ranks_train_the_model_of_one_process[dnn-accum], where it was seen
FLAGS = ["--cmvn", "utterance", "--num-layers", "2", "--hidden-dim", "16", "--splice", "2",
         "--learning-rate", "0.01", "--cv-fraction", "0.25", "--no-shuffle", "--num-threads",
         "1", "--device", "cpu", "--batch-size", "16", "--accum-grad", "2",
         "--dist-timeout", "120"]
ABORT_MARKS = ("terminate called", "Signals.SIG", "core dumped", "Traceback")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def one_run(torchrun: Path, nproc: int, epochs: int, data: Path, ali: Path, run_dir: Path,
            cores: bool, timeout: float) -> tuple[bool, str]:
    """(passed, output) of one job in ``run_dir`` (its working directory: core files land there)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "OMP_NUM_THREADS": "1"}
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(name, None)
    command = [str(torchrun), "--nproc-per-node", str(nproc), "--master-addr", "127.0.0.1",
               "--master-port", str(free_port()), "-m", "asrkt", "train-teacher", *FLAGS,
               "--max-epochs", str(epochs), str(data), str(ali), str(run_dir / "exp")]

    def allow_cores() -> None:
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

    try:
        proc = subprocess.run(command, env=env, cwd=run_dir, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=timeout,
                              preexec_fn=allow_cores if cores else None)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout if isinstance(exc.stdout, str) else (exc.stdout or b"").decode()
        return False, f"{out}\n[stress] timed out after {timeout:.0f} s\n"
    out = proc.stdout
    problems = []
    if proc.returncode != 0:
        problems.append(f"exit status {proc.returncode}")
    if not (run_dir / "exp" / "final.pt").exists():
        problems.append("no final.pt")
    problems += [f"output has {mark!r}" for mark in ABORT_MARKS if mark in out]
    if problems:
        out += f"\n[stress] {'; '.join(problems)}\n"
    return not problems, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50, help="jobs to run (default 50)")
    parser.add_argument("--load", type=int, default=0,
                        help="busy-looping processes beside the jobs (default 0)")
    parser.add_argument("--nproc", type=int, default=2, help="ranks per job (default 2)")
    parser.add_argument("--epochs", type=int, default=3, help="--max-epochs of each job")
    parser.add_argument("--work", type=Path, help="working folder (default: a temporary one)")
    parser.add_argument("--cores", action="store_true", help="let the ranks write core files")
    parser.add_argument("--keep", action="store_true", help="keep the passed runs' folders")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per job")
    args = parser.parse_args()
    if args.runs < 1 or args.nproc < 2 or args.epochs < 1 or args.load < 0:
        parser.error("--runs and --epochs must be at least 1, --nproc at least 2, --load at "
                     "least 0")
    torchrun = Path(sys.executable).with_name("torchrun")
    if not torchrun.exists():
        print(f"ddp_exit_stress: no torchrun next to {sys.executable}", file=sys.stderr)
        return 1
    work = args.work or Path(tempfile.mkdtemp(prefix="ddp-exit-stress-"))
    work.mkdir(parents=True, exist_ok=True)
    data, ali = make_synthetic_corpus(work / "corpus", num_utts=16, min_len=32, max_len=32)
    load = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range(args.load)]
    try:
        failures, wall = run_all(args, torchrun, work, data, ali)
    finally:
        for proc in load:
            proc.kill()
            proc.wait()
    print(f"ddp_exit_stress: runs {args.runs}, failures {failures}, wall {wall:.0f} s "
          f"({wall / args.runs:.1f} s per run), {args.nproc} ranks, load {args.load}, "
          f"work {work}")
    if failures == 0 and args.work is None and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


def run_all(args: argparse.Namespace, torchrun: Path, work: Path, data: Path, ali: Path
            ) -> tuple[int, float]:
    """(failed runs, wall seconds) of ``args.runs`` jobs."""
    failures, start = 0, time.monotonic()
    for run in range(1, args.runs + 1):
        run_dir = work / f"run-{run}"
        passed, out = one_run(torchrun, args.nproc, args.epochs, data, ali, run_dir, args.cores,
                              args.timeout)
        if passed:
            if not args.keep:
                shutil.rmtree(run_dir, ignore_errors=True)
            continue
        failures += 1
        log = work / f"run-{run}.log"
        log.write_text(out)
        last = out.strip().splitlines()[-1] if out.strip() else ""
        print(f"run {run}: FAILED ({last.removeprefix('[stress] ')}); output in {log}",
              flush=True)
    return failures, time.monotonic() - start


if __name__ == "__main__":
    sys.exit(main())
