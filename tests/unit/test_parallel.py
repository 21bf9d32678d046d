"""``--nj`` workers: how a job process reacts to SIGTERM (sent when another job failed)."""

import subprocess
import sys
import textwrap

import pytest

from asrkt.errors import AsrktError
from asrkt.utils.parallel import run_jobs, split_evenly

# A worker process as run_jobs sets it up, then SIGTERM: inside the job (the handler only
# notes it; the job's next tick raises _Terminated, which unwinds through the job's
# ``finally``) or after it, e.g. while multiprocessing's exit handlers flush a queue.
_SIGTERM_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    from asrkt.utils import parallel
    signal.signal(signal.SIGTERM, parallel._on_sigterm)
    parallel._job_running = sys.argv[1] == "in-job"
    tick = parallel._stopping_tick(lambda n: print("ticked", flush=True))
    try:
        tick(1)
        os.kill(os.getpid(), signal.SIGTERM)
        print("continued", flush=True)
        tick(1)
    finally:
        print("unwound", flush=True)
    print("not reached", flush=True)
""")


@pytest.mark.parametrize("when", ["in-job", "after-job"])
def test_sigterm_unwinds_in_the_job_and_exits_quietly_outside_it(when):
    out = subprocess.run([sys.executable, "-c", _SIGTERM_SCRIPT, when],
                         capture_output=True, text=True, timeout=60)
    assert "not reached" not in out.stdout
    if when == "in-job":  # the next tick unwinds the job (run_jobs' worker then exits 143)
        assert out.stdout.split() == ["ticked", "continued", "unwound"], out
        assert "_Terminated" in out.stderr
    else:  # no unwinding, and nothing printed: the old handler left a traceback here
        assert out.returncode == 143 and out.stdout == "ticked\n" and out.stderr == "", out


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


class _SelfTerminatingError(AsrktError):
    """A job error whose message is formatted in the worker's error handling, where a
    SIGTERM (another job failed) used to raise out of ``_worker`` and print a traceback."""

    sent = False

    def __str__(self):
        import os
        import signal

        if not _SelfTerminatingError.sent:  # once: printing a traceback formats it again
            _SelfTerminatingError.sent = True
            os.kill(os.getpid(), signal.SIGTERM)
        return "formatted after SIGTERM"


def _job_terminated_while_reporting(job, args, tick):
    if args == "terminate":
        raise _SelfTerminatingError()
    return args


def test_sigterm_while_a_job_reports_its_error_exits_quietly(capfd):
    with pytest.raises(AsrktError, match="job 1 died with exit code 143"):
        run_jobs(_job_terminated_while_reporting, [1, "terminate"], total=2, desc="t")
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Process" not in err, err


def _job_terminated_in_a_callback(job, marker, tick):
    """SIGTERM while C code calls back into Python (as soundfile's virtual IO does): an
    exception raised by the handler there would be printed and swallowed."""
    import ctypes
    import os
    import signal

    if marker is None:
        tick(1)
        return
    callback = ctypes.CFUNCTYPE(ctypes.c_int)(lambda: os.kill(os.getpid(), signal.SIGTERM) or 0)
    try:
        callback()
        tick(1)
        marker.with_suffix(".not_reached").write_text("")
    finally:
        marker.write_text("unwound")


def test_sigterm_in_a_callback_stops_the_job_at_its_next_tick(capfd, tmp_path):
    with pytest.raises(AsrktError, match="job 1 died with exit code 143"):
        run_jobs(_job_terminated_in_a_callback, [None, tmp_path / "m"], total=2, desc="t")
    assert (tmp_path / "m").read_text() == "unwound"
    assert not (tmp_path / "m.not_reached").exists()
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception ignored" not in err, err
