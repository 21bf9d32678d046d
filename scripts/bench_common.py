"""Helpers shared by scripts/bench.py and its stages (not part of the asrkt package).

Every measurement of ``make bench`` runs in a fresh child process (``run_stage``) with one
intra-op thread (per-core numbers, and no OpenMP oversubscription on a shared machine) and
returns a JSON dict; the child's peak resident memory comes from ``os.wait4``.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, Optional

from asrkt.utils.fileio import write_text_atomic

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# One thread everywhere unless a stage asks for more: "per core" numbers, and on a machine
# shared with other jobs a second OpenMP thread mostly spins (measured: torch.mm at 256^3 runs
# 3.5x slower with 2 threads than with 1 while the other core is busy).
CHILD_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
             "TQDM_DISABLE": "1", "PYTHONWARNINGS": "ignore"}


def cpu_seconds() -> float:
    """User + system CPU time of this process and its reaped children."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


class Clock:
    """Wall and CPU time of a block: ``with Clock() as c: ...; c.wall, c.cpu``."""

    def __enter__(self) -> Clock:
        self._w, self._c = time.perf_counter(), cpu_seconds()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self._w
        self.cpu = cpu_seconds() - self._c


def run_stage(stage: str, args: Dict[str, Any], log_dir: Path, timeout: float = 900,
              threads: int = 1) -> Dict[str, Any]:
    """Run ``bench_stages.py STAGE`` in a fresh Python process; return its result dict.

    The result gets ``_wall`` (s), ``_cpu`` (child user+sys, s) and ``_peak_rss_mb`` (the
    child's own peak RSS, from wait4). A failed stage returns ``{"error": ...}``.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    out = log_dir / f"{stage}-{args.get('tag', '')}.json".replace("-.json", ".json")
    log = out.with_suffix(".log")
    out.unlink(missing_ok=True)
    env = dict(os.environ, **CHILD_ENV)
    env["OMP_NUM_THREADS"] = str(threads)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(HERE), env.get("PYTHONPATH", "")])
    cmd = [sys.executable, str(HERE / "bench_stages.py"), stage, json.dumps(args), str(out)]
    start = time.perf_counter()
    with open(log, "w") as logf:
        proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        deadline = start + timeout
        status, usage = None, None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                _, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    result: Dict[str, Any]
    if proc.returncode == 0 and out.exists():
        result = json.loads(out.read_text())
    else:
        tail = log.read_text(errors="replace").strip().splitlines()[-15:]
        result = {"error": f"stage {stage} exited with {proc.returncode}"
                           f"{' (timeout)' if wall > timeout else ''}; log {log}",
                  "log_tail": tail}
    result["_wall"] = wall
    result["_cpu"] = usage.ru_utime + usage.ru_stime
    result["_peak_rss_mb"] = usage.ru_maxrss / 1024.0  # Linux: KiB
    return result


def path_argument(path: str) -> Path:
    """A path on the command line, absolute against the current directory: the stages run in
    the repository (``run_stage``), so a relative path would name another file there."""
    return Path(path).resolve()


def write_json(path: Path, data: Any) -> None:
    """``data`` as indented JSON, written atomically (parent folders created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True, default=float) + "\n")


def fsdd_root() -> Optional[Path]:
    """../shared/data/fsdd relative to the project root, when present."""
    path = (ROOT / ".." / "shared" / "data" / "fsdd").resolve()
    return path if (path / "recordings").is_dir() else None
