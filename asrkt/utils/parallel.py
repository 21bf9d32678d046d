"""``--nj`` parallel jobs in forked worker processes, with one shared progress bar."""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import signal
import sys
from typing import Any, Callable, List, Sequence, TypeVar

from tqdm import tqdm

from asrkt.errors import AsrktError, os_error_text, reason

T = TypeVar("T")


def split_evenly(items: Sequence[T], nj: int) -> List[List[T]]:
    """Split into ``nj`` contiguous parts of nearly equal size (as Kaldi's split_scp.pl)."""
    nj = max(1, min(nj, len(items))) if items else 1
    base, extra = divmod(len(items), nj)
    parts, start = [], 0
    for j in range(nj):
        size = base + (1 if j < extra else 0)
        parts.append(list(items[start:start + size]))
        start += size
    return parts


class _Terminated(BaseException):
    """Raised in a worker at its next ``tick`` after SIGTERM (another job failed)."""


_job_running = False  # per worker process (each is forked)
_stop_requested = False


def _on_sigterm(*_):
    """Before or after the job, leave at once. In the middle of it, only note the request:
    the job's next ``tick`` raises ``_Terminated``, which unwinds it (atomic writers delete
    their temporary files). Raising from the handler itself is not safe: it can land inside
    a C callback (soundfile's virtual IO), where Python prints and swallows it, or inside
    ``Queue.put``, outside any handler of the job."""
    global _stop_requested
    if not _job_running:
        os._exit(143)
    _stop_requested = True


def check_stop() -> None:
    """Raise ``_Terminated`` in a ``--nj`` job that has been sent SIGTERM: for long native calls
    to poll (the decoder's search calls it every 16 frames), so that a job stops within a
    fraction of a second even inside a long utterance. Calling into Python also runs the
    pending signal handler. A no-op outside a job."""
    if _stop_requested:
        raise _Terminated()


def _stopping_tick(tick: Callable[[int], None]) -> Callable[[int], None]:
    """``tick`` that first raises ``_Terminated`` when SIGTERM has arrived."""
    def checked(n: int) -> None:
        check_stop()
        tick(n)
    return checked


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent_pid: int) -> None:
    """Have the kernel send SIGTERM to this process when its parent dies (Linux
    PR_SET_PDEATHSIG), so ``--nj`` jobs never outlive a killed command.

    Args:
        parent_pid: the parent's pid; if it already died before the call, exit at once.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(143)


def _outcome(fn, job, args, tick):
    """Run one job and turn its end into ``(status, value)``; ``_Terminated`` (raised by
    ``tick`` after a SIGTERM) passes through, after the job's ``finally`` blocks ran."""
    global _job_running
    _job_running = True
    try:
        limit_threads(1)
        return "ok", fn(job, args, tick)
    except _Terminated:
        raise
    except AsrktError as exc:
        return "error", str(exc)
    except OSError as exc:  # disk full, read-only output, ...
        return "error", os_error_text(exc)
    except BaseException as exc:  # a bug: keep the type for the message
        return "error", reason(exc)
    finally:
        _job_running = False


def _worker(fn, job, args, progress, results, parent_pid):
    # Terminated because another job failed or the parent died: the job stops at its next
    # tick (every job ticks once per utterance; a job stuck longer is killed by run_jobs
    # after 10 s, and the next write removes its temporary files), then the worker leaves
    # at once, without flushing queues nobody reads any more. The outcome is queued only
    # after the job is over, when a SIGTERM exits at once.
    signal.signal(signal.SIGTERM, _on_sigterm)
    die_with_parent(parent_pid)
    progress.cancel_join_thread()
    try:
        status, value = _outcome(fn, job, args, _stopping_tick(progress.put))
    except _Terminated:
        os._exit(143)
    if _stop_requested:
        os._exit(143)
    results.put((job, status, value))


def limit_threads(threads: int = 1):
    """Limit this process's compute threads: BLAS/OpenMP pools (numpy) and, when torch is
    already loaded, torch's intra-op pool. Parallelism comes from ``--nj`` processes instead.

    Multi-threaded BLAS on the many small matrices of GMM and feature code mostly spends its
    time waking threads (measured 5-67 ms instead of 0.1 ms for one product on a busy 2-core
    machine). torch is not imported here: that costs seconds per forked job.

    Args:
        threads: threads per pool.

    Returns:
        A threadpoolctl limiter; ``.restore_original_limits()`` undoes the BLAS/OpenMP part.
    """
    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)
    return threadpool_limits(limits=threads)


def _run_single_threaded(fn, args, tick):
    """One job in this process, with one compute thread like each forked job."""
    torch = sys.modules.get("torch")
    torch_threads = torch.get_num_threads() if torch is not None else None
    limiter = limit_threads(1)
    try:
        return fn(0, args, tick)
    finally:
        limiter.restore_original_limits()
        if torch_threads is not None:
            torch.set_num_threads(torch_threads)


def run_jobs(fn: Callable[[int, Any, Callable[[int], None]], Any], job_args: List[Any],
             total: int, desc: str) -> List[Any]:
    """Run ``fn(job_index, args, tick)`` for each element of ``job_args``, in parallel.

    Args:
        fn: the job; it calls ``tick(n)`` to advance the progress bar by ``n`` items.
        job_args: one argument per job; one job runs in this process without forking.
        total: total number of items for the progress bar.
        desc: progress-bar label.

    Returns:
        The jobs' return values in job order. The first job error is raised as AsrktError.
    """
    with tqdm(total=total, desc=desc, unit="utt", dynamic_ncols=True, leave=False) as bar:
        if len(job_args) == 1:
            return [_run_single_threaded(fn, job_args[0], bar.update)]
        ctx = mp.get_context("fork")
        progress, results = ctx.Queue(), ctx.Queue()
        procs = [ctx.Process(target=_worker, args=(fn, j, a, progress, results, os.getpid()))
                 for j, a in enumerate(job_args)]
        for p in procs:
            p.start()
        outputs, errors = {}, []
        while not errors and len(outputs) < len(procs):
            try:
                bar.update(progress.get(timeout=0.2))
            except queue.Empty:
                pass
            while True:
                try:
                    job, status, value = results.get_nowait()
                except queue.Empty:
                    break
                (outputs.__setitem__(job, value) if status == "ok" else errors.append((job, value)))
            if not errors and any(p.exitcode not in (None, 0) for p in procs):
                dead = [j for j, p in enumerate(procs) if p.exitcode not in (None, 0)
                        and j not in outputs]
                if dead:
                    errors.append((dead[0], f"job {dead[0]} died with exit code "
                                            f"{procs[dead[0]].exitcode}"))
        for p in procs:
            if errors:
                p.terminate()
            p.join(timeout=10 if errors else None)
            if p.is_alive():  # stuck flushing a queue nobody reads any more
                p.kill()
                p.join()
        if errors:
            raise AsrktError(sorted(errors)[0][1])
        return [outputs[j] for j in range(len(procs))]
