"""``--nj`` workers: how a job process reacts to SIGTERM (sent when another job failed)."""

import subprocess
import sys
import textwrap

import pytest

from asrkt.errors import AsrktError
from asrkt.utils.parallel import run_jobs, split_evenly

# A worker process as run_jobs sets it up, then SIGTERM: inside the job (unwinds through the
# job's ``finally``) or after it, e.g. while multiprocessing's exit handlers flush a queue.
_SIGTERM_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    from asrkt.utils import parallel
    signal.signal(signal.SIGTERM, parallel._on_sigterm)
    parallel._job_running = sys.argv[1] == "in-job"
    try:
        os.kill(os.getpid(), signal.SIGTERM)
    finally:
        print("unwound", flush=True)
    print("not reached", flush=True)
""")


@pytest.mark.parametrize("when", ["in-job", "after-job"])
def test_sigterm_unwinds_in_the_job_and_exits_quietly_outside_it(when):
    out = subprocess.run([sys.executable, "-c", _SIGTERM_SCRIPT, when],
                         capture_output=True, text=True, timeout=60)
    assert "not reached" not in out.stdout
    if when == "in-job":  # _Terminated unwinds the job (run_jobs' worker then exits 143)
        assert "unwound" in out.stdout and "_Terminated" in out.stderr
    else:  # no unwinding, and nothing printed: the old handler left a traceback here
        assert out.returncode == 143 and out.stdout == "" and out.stderr == "", out


def _job(job, args, tick):
    if args == "fail":
        raise AsrktError(f"job {job} failed")
    tick(1)
    return args * 2


def test_run_jobs_returns_results_in_job_order_and_raises_the_first_error():
    assert run_jobs(_job, [1, 2, 3], total=3, desc="t") == [2, 4, 6]
    with pytest.raises(AsrktError, match="job 1 failed"):
        run_jobs(_job, [1, "fail", 3], total=3, desc="t")


def test_split_evenly_keeps_order_and_balances():
    assert split_evenly(list(range(7)), 3) == [[0, 1, 2], [3, 4], [5, 6]]
    assert split_evenly([1], 4) == [[1]]
