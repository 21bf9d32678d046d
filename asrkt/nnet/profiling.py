"""Where a training step's time goes: the hooks :class:`asrkt.nnet.trainer.Trainer` calls, and a
profiler that times the phases of every step with them (``scripts/bench_stages.py`` uses it to
measure the trainer itself, not a copy of its loop).

A step of ``Trainer.run_epoch`` has the phases, in order: ``data`` (the loader's next batch),
``forward`` (augmentation, model, loss), ``backward`` (zero_grad, backward, gradient clipping;
training only), ``optimizer`` (the update; training only) and ``other`` (bookkeeping: the
running loss and its finite check, state detaching, the progress bar). On a GPU, kernels run
asynchronously, so a phase's wall time lands where the host next waits; time with a CPU clock
or on the CPU.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, List, Optional

PHASES = ("data", "forward", "backward", "optimizer", "other")


class TrainerHooks:
    """The points of a training run an observer sees (the corpora loaded, then every phase of
    ``Trainer.run_epoch``); every method here does nothing.

    Subclass and override what you need, then pass the object as ``Trainer(..., hooks=...)``.
    """

    def corpus_loaded(self, name: str, corpus: Any) -> None:
        """``asrkt.nnet.steps.train_supervised`` loaded the ``train`` or ``cv`` corpus."""

    def epoch_started(self, epoch: int, train: bool) -> None:
        """Before the first batch of an epoch (``train``: with updates, else CV)."""

    def batch_loaded(self, batch: Optional[Any]) -> None:
        """The loader returned ``batch`` (None: the epoch's batches are exhausted)."""

    def phase_done(self, phase: str) -> None:
        """A phase of the current step ended (``forward``, ``backward``, ``optimizer``,
        ``other``)."""

    def epoch_done(self, epoch: int, train: bool, stats: Any) -> None:
        """After the last batch; ``stats`` is the epoch's :class:`EpochStats`."""


class StepProfiler(TrainerHooks):
    """Seconds per phase of every epoch, by ``clock`` (``time.process_time`` for CPU time).

    After each epoch, ``epochs`` gains a dict: ``epoch``, ``train``, one entry per phase in
    :data:`PHASES`, ``total`` (clock, whole epoch), ``wall`` (perf_counter), ``frames``,
    ``steps`` and ``positions`` (input positions including padding: frames for a DNN,
    streams x chunk length for a recurrent model).

    Args:
        clock: the timer (seconds, monotonic within a process).
        train_only: record training epochs only (skip CV passes).
    """

    def __init__(self, clock: Callable[[], float] = time.process_time, train_only: bool = True):
        self.clock, self.train_only = clock, train_only
        self.epochs: List[Dict[str, Any]] = []
        self._current: Optional[Dict[str, Any]] = None
        self._last = 0.0
        self._start = 0.0
        self._wall = 0.0

    def epoch_started(self, epoch: int, train: bool) -> None:
        if self.train_only and not train:
            self._current = None
            return
        self._current = {"epoch": epoch, "train": train, **{p: 0.0 for p in PHASES},
                         "frames": 0, "steps": 0, "positions": 0}
        self._wall = time.perf_counter()
        self._start = self._last = self.clock()

    def _lap(self, phase: str) -> None:
        now = self.clock()
        self._current[phase] += now - self._last
        self._last = now

    def batch_loaded(self, batch: Optional[Any]) -> None:
        if self._current is None:
            return
        self._lap("data")
        if batch is not None:
            shape = batch.inputs.shape
            self._current["positions"] += int(shape[0] * (shape[1] if len(shape) == 3 else 1))
            self._current["frames"] += int(batch.num_frames)
            self._current["steps"] += 1

    def phase_done(self, phase: str) -> None:
        if self._current is not None:
            self._lap(phase)

    def epoch_done(self, epoch: int, train: bool, stats: Any) -> None:
        if self._current is None:
            return
        self._current["total"] = self.clock() - self._start
        self._current["wall"] = time.perf_counter() - self._wall
        self.epochs.append(self._current)
        self._current = None

    @staticmethod
    def shares(record: Dict[str, Any]) -> Dict[str, float]:
        """Each phase's share of the epoch's ``total`` time.

        Args:
            record: one entry of ``epochs``.
        """
        return {p: record[p] / max(record["total"], 1e-12) for p in PHASES}
