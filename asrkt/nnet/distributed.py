"""Data-parallel training on torch.distributed (DistributedDataParallel), launched by torchrun.

``torchrun --nproc-per-node N [--nnodes M --rdzv-endpoint HOST:PORT] -m asrkt <command> ...``
starts N processes per machine with RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT
in their environment; :func:`init_distributed` joins them into one process group (gloo on CPU,
nccl on CUDA, one GPU per process: ``cuda:LOCAL_RANK``). Without those variables (a plain
``asrkt`` command) there is no process group and nothing changes.

What the training commands do with it: each rank reads a disjoint share of every epoch's
utterances (:class:`asrkt.nnet.corpus.BlockReader` with rank/world_size); gradients are averaged
by DDP; every rank runs the same number of steps per epoch (the largest share's, a shorter share
starting over, as torch's DistributedSampler pads); CV sums are all-reduced so newbob decides the
same everywhere; rank 0 alone writes files. A collective that waits longer than ``timeout_s``
fails (a hung or dead peer ends the job with an error instead of a hang).
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, List, Optional

import torch

from asrkt.errors import AsrktError
from asrkt.nnet.config import resolve_device
from asrkt.utils.logs import command_log

logger = logging.getLogger("asrkt.nnet")
LAUNCHER_VARS = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


@dataclass
class DistContext:
    """This process's place in the job (rank 0 of 1 when not distributed).

    Args:
        rank / world_size / local_rank: from torchrun's environment.
        device: where this process computes.
        backend: 'gloo', 'nccl' or '' (no process group).
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: Optional[torch.device] = None
    backend: str = ""

    @property
    def enabled(self) -> bool:
        """A process group exists (more than one process)."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that writes files."""
        return self.rank == 0


def launcher_env() -> Optional[dict]:
    """torchrun's variables (None when this process was not started by it, or alone)."""
    if not all(name in os.environ for name in LAUNCHER_VARS):
        return None
    try:
        env = {k: int(os.environ[k]) for k in ("RANK", "WORLD_SIZE")}
        env["LOCAL_RANK"] = int(os.environ.get("LOCAL_RANK", "0"))
    except ValueError:
        raise AsrktError("RANK, WORLD_SIZE and LOCAL_RANK must be integers (set by torchrun)"
                         ) from None
    return env if env["WORLD_SIZE"] > 1 else None


def init_distributed(device: torch.device, timeout_s: float) -> DistContext:
    """Join the process group torchrun set up (or return a single-process context).

    Args:
        device: the resolved ``--device``; CUDA becomes ``cuda:LOCAL_RANK`` with nccl,
            CPU uses gloo.
        timeout_s: seconds a collective (and the initial rendezvous) may wait for the others.
    """
    env = launcher_env()
    if env is None:
        return DistContext(device=device)
    import torch.distributed as dist

    rank, world, local = env["RANK"], env["WORLD_SIZE"], env["LOCAL_RANK"]
    if device.type == "cuda":
        if local >= torch.cuda.device_count():
            raise AsrktError(f"LOCAL_RANK {local} but only {torch.cuda.device_count()} GPUs "
                             f"(one process per GPU: --nproc-per-node <= GPUs)")
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout_s),
                                rank=rank, world_size=world)
    logger.info("data-parallel: rank %d of %d (local rank %d), backend %s, device %s",
                rank, world, local, backend, device)
    return DistContext(rank, world, local, device, backend)


def collective_failed(exc: BaseException) -> bool:
    """``exc`` is torch.distributed's error for a peer that died or did not answer in time."""
    import torch.distributed as dist

    if isinstance(exc, getattr(dist, "DistError", ())):
        return True
    text = str(exc)
    return any(mark in text for mark in ("Timed out", "Connection closed by peer",
                                         "Connection reset by peer", "NCCL"))


# set once this process has left a process group: it then ends through leave_process
_was_rank = False


def shutdown(ctx: DistContext) -> None:
    """Leave the process group (after the last collective).

    The group's gloo threads (its connection loop and work threads) keep running after this:
    DistributedDataParallel keeps a reference to the group that outlives the wrapper, so the
    group is never destroyed and its threads never joined. The process must then end through
    :func:`leave_process` (the CLI does) instead of the interpreter's teardown.
    """
    global _was_rank
    if ctx.enabled:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()
            _was_rank = True


def leave_process(status: int) -> None:
    """End a process that was a rank of a job now, with ``status``, after flushing the logs and
    the standard streams; without the interpreter's teardown (module and object destruction,
    C++ static destructors), which would otherwise run beside gloo's still-running threads
    while the peers exit and close their connections: the phase in which a rank whose work was
    done sometimes aborted ("terminate called without an active exception", SIGABRT).
    Returns (does nothing) in a process that was not a rank of a job.
    """
    if not _was_rank:
        return
    logging.shutdown()  # flush and close every handler (console, command logs)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing left to keep
            pass
    os._exit(status)


def barrier(ctx: DistContext) -> None:
    """Wait for every rank (no-op alone)."""
    if ctx.enabled:
        import torch.distributed as dist

        dist.barrier()


def all_reduce(ctx: DistContext, values: List[float], op: str = "sum") -> List[float]:
    """Element-wise sum or max of ``values`` over the ranks (as float64; one collective).

    Args:
        ctx: the context.
        values: this rank's numbers.
        op: 'sum' or 'max'.
    """
    if not ctx.enabled:
        return list(values)
    import torch.distributed as dist

    device = ctx.device if ctx.backend == "nccl" else torch.device("cpu")
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM if op == "sum" else dist.ReduceOp.MAX)
    return tensor.cpu().tolist()


def all_reduce_tensor(ctx: DistContext, tensor: torch.Tensor) -> torch.Tensor:
    """The sum of ``tensor`` over the ranks (in place; ``tensor`` itself alone). With gloo
    the tensor must be on the CPU, with nccl on this rank's GPU."""
    if ctx.enabled:
        import torch.distributed as dist

        dist.all_reduce(tensor)
    return tensor


def all_gather_object(ctx: DistContext, value: Any) -> List[Any]:
    """Every rank's ``value`` (picklable), in rank order."""
    if not ctx.enabled:
        return [value]
    import torch.distributed as dist

    out: List[Any] = [None] * ctx.world_size
    dist.all_gather_object(out, value)
    return out


def wrap_model(ctx: DistContext, model: torch.nn.Module) -> torch.nn.Module:
    """The module the training steps call: ``model`` itself alone, else DDP around it (which
    averages gradients over the ranks during backward and starts every rank from rank 0's
    weights)."""
    if not ctx.enabled:
        return model
    from torch.nn.parallel import DistributedDataParallel

    ids = [ctx.device.index] if ctx.device is not None and ctx.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids, broadcast_buffers=False)


@contextlib.contextmanager
def training_run(config: Any, exp_dir: Path, command: str,
                 prepare: Callable[[], None], resume: bool = False) -> Iterator[DistContext]:
    """The frame of a training command: join the job (when under torchrun), let rank 0
    prepare EXP_DIR while the others wait, log to ``EXP_DIR/log/<command>.log`` on rank 0
    (the other ranks log warnings and errors to the console only), leave the group at the end.

    Args:
        config: the resolved config (``device``, ``dist_timeout``).
        exp_dir: the experiment directory.
        command: the command name (log file).
        prepare: what rank 0 does first (e.g. :func:`asrkt.nnet.expdir.prepare_exp_dir`).
        resume: the run continues an earlier one (``--resume``): it appends to that run's log
            instead of replacing it.
    """
    ctx = init_distributed(resolve_device(config.device), getattr(config, "dist_timeout", 600))
    root = logging.getLogger("asrkt")
    level = root.level
    try:
        if ctx.is_main:
            prepare()
        barrier(ctx)  # the others start once EXP_DIR is ready (old checkpoints removed)
        if not ctx.is_main:
            root.setLevel(logging.WARNING)
            yield ctx
        else:
            with command_log(Path(exp_dir) / "log", command, append=resume):
                yield ctx
        # leave together (rank 0 may still be writing final.pt); the process then ends through
        # leave_process, not the interpreter's teardown beside gloo's threads (see shutdown)
        barrier(ctx)
    except RuntimeError as exc:
        if ctx.enabled and collective_failed(exc):
            raise AsrktError(f"rank {ctx.rank} of {ctx.world_size}: lost the other processes "
                             f"({str(exc).strip().splitlines()[0][-160:]}): one of them died "
                             f"or hung for more than --dist-timeout "
                             f"{getattr(config, 'dist_timeout', 600)} s") from None
        raise
    finally:
        root.setLevel(level)
        shutdown(ctx)
