"""The one training loop of all supervised training commands (train-teacher, kt-pretrain,
finetune): epochs over a loader, cross-validation, Kaldi nnet1's newbob learning-rate schedule,
per-epoch checkpoints with exact resume, ``train.jsonl``, ``curves.png``, the final model.

Newbob (steps/nnet/train_scheduler.sh): the CV loss of the initial model is measured first;
after each epoch the new model is accepted if its CV loss is lower than the best so far (else
it is rejected and training continues from the best one); with ``rel = (best_before -
best_after) / best_before``, training stops when halving has begun and rel < end_halving_impr,
halving starts when rel < start_halving_impr, and while halving the learning rate is multiplied
by ``halving_factor`` after every epoch.

Exact resume: shuffling depends only on (seed, epoch), the checkpoint holds model, optimiser and
schedule state, so a resumed run ends with the same weights as an uninterrupted one.

Data-parallel (under torchrun, :mod:`asrkt.nnet.distributed`): the training steps go through DDP
(gradients averaged over the ranks), every rank runs the same number of steps per epoch (the
largest share's; a rank with fewer batches starts its share over, as DistributedSampler pads),
the epoch's sums (loss, correct frames, frames) are all-reduced, so every rank sees the same CV
loss and newbob takes the same decision everywhere; rank 0 alone writes checkpoints (holding
every rank's RNG state), ``train.jsonl``, ``curves.png`` and ``final.pt``; on resume every rank
loads rank 0's checkpoint.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import torch
from tqdm import tqdm

from asrkt.errors import AsrktError
from asrkt.nnet.augment import mask_frequencies
from asrkt.nnet.config import TrainConfig
from asrkt.nnet.distributed import DistContext, all_gather_object, all_reduce, wrap_model
from asrkt.nnet.losses import LossSpec, training_loss
from asrkt.nnet.modelio import load_torch, save_torch
from asrkt.nnet.models.base import detach_state
from asrkt.nnet.profiling import TrainerHooks
from asrkt.utils.fileio import atomic_output, write_text_atomic

logger = logging.getLogger("asrkt.nnet")

CURVES_EVERY_S = 30.0  # the least time between two drawings of curves.png during training


@dataclass
class ScheduleState:
    """Newbob state, saved in every checkpoint."""

    learning_rate: float
    halving: bool = False
    best_loss: float = math.inf
    done: bool = False
    epoch: int = 0


def newbob_update(state: ScheduleState, cv_loss: float, settings: TrainConfig) -> bool:
    """Apply one epoch's CV loss to the schedule; returns whether the epoch is accepted."""
    epoch = state.epoch
    previous = state.best_loss
    accepted = (cv_loss < previous or epoch <= settings.keep_lr_epochs
                or epoch <= settings.min_epochs)
    if accepted:
        state.best_loss = cv_loss
    rel = (previous - state.best_loss) / previous if math.isfinite(previous) and previous else 1.0
    if epoch >= settings.max_epochs:
        state.done = True
    if state.halving and rel < settings.end_halving_impr and epoch > settings.min_epochs:
        state.done = True
    if epoch > settings.keep_lr_epochs and rel < settings.start_halving_impr:
        state.halving = True
    if state.halving:
        state.learning_rate *= settings.halving_factor
    return accepted


def cv_loss_spec(spec: LossSpec) -> LossSpec:
    """The loss of the CV pass (and so of newbob's decisions): the training loss, except that
    training on hard and soft targets together (``finetune --kt-weight``, the KT loss kept as a
    regulariser) is judged by the CE on the hard targets alone, the task's objective. The KT
    term, already near its optimum after KT pre-training and the larger of the two, would
    otherwise decide: newbob stopped such runs after one or two epochs while the CE still fell.
    """
    if spec.hard_weight > 0 and spec.soft_weight > 0:
        return LossSpec(1.0, 0.0, 1.0)
    return spec


def update_weight(batch) -> float:
    """The weight of a training minibatch's mean loss in its update: valid frames / the frames
    a full minibatch holds (``Batch.capacity``; 1 where batches have no fixed size).

    Every frame then moves the model equally, as in Kaldi's nnet1, whose gradients are sums
    over frames: without it the last batches of a multistream epoch, where one or two streams
    play out a long utterance alone (tens of 20-frame chunks of a single utterance), each take
    a full-size step (Adam normalises the step, not the frame count) and the epoch ends fitted
    to that one utterance; on speechocean762 that cost an LSTM 7-21 points of CV frame accuracy
    at the end of some epochs, which newbob then rejected.
    """
    if batch.capacity <= 0:
        return 1.0
    return batch.num_frames / batch.capacity


def _without_dynamo_import() -> None:
    """Let torch.optim.Optimizer's bookkeeping methods run without importing torch._dynamo.

    torch wraps them (add_param_group, zero_grad, state_dict, ...) in
    ``torch._compile._disable_dynamo``, which on each one's first call imports torch._dynamo
    (about 1.6 s of a command's start on this machine, as long as ``import torch`` itself) only
    to mark the method as never compiled, and caches that on the function as
    ``__dynamo_disable``. asrkt never calls torch.compile, so the method itself is what the mark
    would run: it is put in that cache first. A torch whose wrapper looks different is left
    alone (the import then happens as before).
    """
    from torch import _compile

    code = getattr(_compile._disable_dynamo(lambda: None), "__code__", None)
    if code is None:
        return
    for attr in vars(torch.optim.Optimizer).values():
        fn = getattr(attr, "__wrapped__", None)
        if getattr(attr, "__code__", None) is code and callable(fn):
            fn.__dict__.setdefault("__dynamo_disable", fn)


def _plain_step(optimizer: torch.optim.Optimizer) -> Optional[Callable[[], Any]]:
    """``optimizer.step`` as torch runs it outside torch.compile, without torch._dynamo.

    ``Optimizer.step`` is the optimiser's own step inside two wrappers: the profiling/hook
    wrapper (a record_function range and the step hooks) and ``_use_grad_for_differentiable``,
    which sets grad mode to ``defaults['differentiable']`` around the step and imports
    torch._dynamo for a graph break that only matters under torch.compile (the import is the
    1.6 s of :func:`_without_dynamo_import`). The plain step is the innermost function under
    ``torch.no_grad()``: the same update, bit for bit. None (use ``optimizer.step()``) unless
    the wrappers are exactly those, the optimiser is not differentiable and no step hook is
    registered (asrkt registers none).
    """
    from torch.optim import optimizer as opt_module

    outer = type(optimizer).step
    use_grad = getattr(outer, "__wrapped__", None)
    raw = getattr(use_grad, "__wrapped__", None)
    probe = opt_module._use_grad_for_differentiable(lambda self: None)
    hook_lists = [getattr(opt_module, "_global_optimizer_pre_hooks", None),
                  getattr(opt_module, "_global_optimizer_post_hooks", None),
                  getattr(optimizer, "_optimizer_step_pre_hooks", None),
                  getattr(optimizer, "_optimizer_step_post_hooks", None)]
    if (raw is None or getattr(use_grad, "__code__", None) is not probe.__code__
            or optimizer.defaults.get("differentiable", False)
            or any(h is None or len(h) for h in hook_lists)):
        return None

    def step():
        with torch.no_grad():
            return raw(optimizer)

    return step


def make_optimizer(model: torch.nn.Module, settings: TrainConfig) -> torch.optim.Optimizer:
    """SGD (with momentum, L2 as weight decay) or Adam, with torch's fused kernels (one kernel
    per parameter for the whole update; on one CPU thread Adam's step takes about a third of
    the time of the per-operation implementation) where the parameters' device and dtype have
    them, else torch's default implementation. Both give the same updates within
    float rounding."""
    _without_dynamo_import()
    params = [p for p in model.parameters() if p.requires_grad]
    kwargs: Dict[str, Any] = dict(lr=settings.learning_rate, weight_decay=settings.l2_penalty)
    if settings.optimizer == "sgd":
        cls, kwargs["momentum"] = torch.optim.SGD, settings.momentum
    elif settings.optimizer == "adam":
        cls = torch.optim.Adam
    else:
        raise AsrktError(f"unknown optimizer '{settings.optimizer}' (sgd, adam)")
    if params and all(p.dtype.is_floating_point and p.device.type in ("cpu", "cuda")
                      for p in params):
        try:
            return cls(params, fused=True, **kwargs)
        except (RuntimeError, TypeError):  # a torch build without the fused kernels
            pass
    return cls(params, **kwargs)


@dataclass
class EpochStats:
    loss: float = 0.0
    accuracy: float = 0.0
    frames: int = 0
    seconds: float = 0.0
    data_seconds: float = 0.0


class Trainer:
    """Train ``model`` with newbob over ``train_loader``, CV on ``cv_loader``.

    Args:
        model: the acoustic model (already on ``device``).
        train_loader / cv_loader: loaders from :func:`asrkt.nnet.loaders.make_loader`.
        loss_spec: which targets and weights.
        settings: optimisation and schedule settings.
        exp_dir: the experiment directory (checkpoints/, train.jsonl, curves.png).
        final_payload: callable(model) -> dict saved as ``final.pt``.
        hooks: an observer of every step's phases (e.g. :class:`asrkt.nnet.profiling.StepProfiler`);
            default: none.
        dist: this process's place in a data-parallel job (default: alone).
    """

    def __init__(self, model, train_loader, cv_loader, loss_spec: LossSpec,
                 settings: TrainConfig, exp_dir: Path,
                 final_payload: Callable[[torch.nn.Module], Dict[str, Any]],
                 hooks: Optional[TrainerHooks] = None, dist: Optional[DistContext] = None):
        self.model, self.train_loader, self.cv_loader = model, train_loader, cv_loader
        self.dist = dist or DistContext()
        self.net = wrap_model(self.dist, model)  # what training steps call (DDP or the model)
        self.loss_spec, self.settings, self.exp_dir = loss_spec, settings, Path(exp_dir)
        self.cv_spec = cv_loss_spec(loss_spec)
        self.final_payload = final_payload
        self.optimizer = make_optimizer(model, settings)
        self._optimizer_step = _plain_step(self.optimizer) or self.optimizer.step
        self.state = ScheduleState(settings.learning_rate)
        self.history: List[Dict[str, Any]] = []
        self._plotted = (0, -math.inf)  # (history records in curves.png, when it was drawn)
        self.hooks = hooks or TrainerHooks()

    # -- one pass ---------------------------------------------------------------------------
    def run_epoch(self, loader, epoch: int, train: bool) -> EpochStats:
        """One pass over ``loader``: training (with updates) or evaluation."""
        self.model.train(train)
        stats, state = EpochStats(), None
        total_loss, correct = 0.0, 0
        device = next(self.model.parameters()).device
        check_every = 1 if device.type == "cpu" else 50
        net = self.net if train else self.model  # CV needs no gradient averaging
        autocast = torch.autocast(device.type, dtype=torch.bfloat16,
                                  enabled=getattr(self.settings, "precision", "fp32") == "bf16")
        start = time.perf_counter()
        steps = self.agreed_steps(loader, epoch) if train and self.dist.enabled else None
        batches = self.batches_of(loader, epoch, steps)
        expected = steps or len(loader)  # may differ by a batch between epochs (streams)
        bar = tqdm(total=expected, desc=f"epoch {epoch} {'train' if train else 'cv'}",
                   unit="batch", leave=False, disable=None)
        hooks = self.hooks
        hooks.epoch_started(epoch, train)
        accum = self.settings.accum_grad if train else 1
        pending = 0  # minibatches whose gradients wait for the next optimiser step
        if train:
            self.optimizer.zero_grad(set_to_none=True)
        with torch.set_grad_enabled(train):
            for number in range(1, 1 << 62):
                tick = time.perf_counter()
                batch = next(batches, None)
                stats.data_seconds += time.perf_counter() - tick
                hooks.batch_loaded(batch)
                if batch is None:
                    break
                if batch.reset is None:
                    state = None
                # an update's last minibatch steps (under DDP it all-reduces the gradients);
                # so does the epoch's last under DDP, where every rank runs exactly `expected`
                step = train and (number % accum == 0
                                  or (self.dist.enabled and number >= expected))
                with self._gradient_sync(train and not step):
                    state, loss, hits = self._forward(net, batch, state, autocast)
                    hooks.phase_done("forward")
                    total_loss = total_loss + loss.detach() * batch.num_frames
                    correct = correct + hits
                    if number % check_every == 0 or number >= expected:
                        self._check_finite(total_loss, epoch, train, number, check_every)
                    if train:
                        self._backward(loss * update_weight(batch) / accum)
                        pending += 1
                if step:
                    self._step()
                    pending = 0
                state = detach_state(state)
                stats.frames += batch.num_frames
                bar.update(1)
                hooks.phase_done("other")
        if pending:  # the epoch ended inside an update (one process): apply what is there
            self._step()
        bar.close()
        if number > 1 and check_every > 1:
            self._check_finite(total_loss, epoch, train, number - 1, check_every)
        stats.seconds = time.perf_counter() - start
        total, hit_count, stats.frames = all_reduce(
            self.dist, [float(total_loss), float(correct), float(stats.frames)])
        stats.frames = int(stats.frames)
        stats.loss = total / max(stats.frames, 1)
        stats.accuracy = hit_count / max(stats.frames, 1)
        hooks.epoch_done(epoch, train, stats)
        return stats

    def agreed_steps(self, loader, epoch: int) -> int:
        """The number of training steps of ``epoch`` on every rank: the largest share's
        (``loader.num_batches(epoch)`` when the loader knows it exactly, else ``len``)."""
        count = loader.num_batches(epoch) if hasattr(loader, "num_batches") else len(loader)
        return int(all_reduce(self.dist, [count], op="max")[0])

    def batches_of(self, loader, epoch: int, steps: Optional[int]):
        """The batches of ``epoch``: the loader's own (``steps`` None), else exactly ``steps``
        of them, the share started over when it has fewer (its first batches again) and cut
        when it has more (a streaming estimate that was low; logged).

        Args:
            loader: the loader.
            epoch: the epoch.
            steps: from :meth:`agreed_steps`, or None.
        """
        if steps is None:
            yield from loader.batches(epoch)
            return
        done, passes = 0, 0
        while done < steps:
            passes += 1
            before = done
            for batch in loader.batches(epoch):
                if done == steps:
                    logger.warning("rank %d, epoch %d: %d steps agreed; the rest of this "
                                   "rank's batches are left out", self.dist.rank, epoch, steps)
                    return
                done += 1
                yield batch
            if done == before:
                raise AsrktError(f"rank {self.dist.rank}: no training batches in this "
                                 f"process's share of the data (fewer utterances than "
                                 f"processes?)")
        if passes > 1:
            logger.debug("rank %d, epoch %d: repeated batches to reach %d steps",
                         self.dist.rank, epoch, steps)

    @staticmethod
    def _check_finite(total_loss: torch.Tensor, epoch: int, train: bool, number: int,
                      every: int) -> None:
        """One-line error when the running loss became NaN/inf (checked every ``every``
        batches; 1 on CPU, where the check costs nothing)."""
        value = float(total_loss)
        if not math.isfinite(value):
            where = f"batch {number}" if every == 1 else f"batches {number - every + 1}-{number}"
            raise AsrktError(f"epoch {epoch}, {'training' if train else 'CV'} {where}: loss is "
                             f"{value} (NaN/inf); lower the learning rate or check the inputs")

    def _forward(self, net, batch, state, autocast):
        """Carried state, mean loss and correct frames of one minibatch."""
        inputs = batch.inputs
        if self.model.training and self.settings.freq_mask > 0:
            inputs = mask_frequencies(inputs, self.model.input_dim, self.settings.freq_mask)
        with autocast:
            logits, state = net(inputs, state=state, reset=batch.reset, lengths=batch.lengths)
        if batch.positions is not None:
            logits = logits.reshape(-1, logits.shape[-1]).index_select(0, batch.positions)
        spec = self.loss_spec if self.model.training else self.cv_spec
        loss, hits = training_loss(logits.float(), batch.targets, spec)
        return state, loss, hits

    def _gradient_sync(self, skip: bool):
        """DDP's ``no_sync`` when ``skip`` (a minibatch inside an update: its gradients stay
        local until the update's last one), else nothing."""
        if skip and self.net is not self.model:
            return self.net.no_sync()
        return contextlib.nullcontext()

    def _backward(self, loss: torch.Tensor) -> None:
        self.hooks.phase_done("other")
        loss.backward()
        self.hooks.phase_done("backward")

    def _step(self) -> None:
        if self.settings.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.settings.grad_clip)
        self._optimizer_step()
        self.optimizer.zero_grad(set_to_none=True)
        self.hooks.phase_done("optimizer")

    # -- checkpoints ------------------------------------------------------------------------
    def checkpoint_path(self, epoch: int) -> Path:
        return self.exp_dir / "checkpoints" / f"epoch-{epoch}.pt"

    def save_checkpoint(self) -> None:
        # the RNG state too: dropout draws from it, and a resumed run must draw the same masks
        # (every rank's: rank 0 writes them all)
        rng = {"cpu": torch.get_rng_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        ranks = all_gather_object(self.dist, rng)
        if not self.dist.is_main:
            return
        save_torch({"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                    "schedule": asdict(self.state), "history": self.history, "rng": rng,
                    "rng_ranks": ranks}, self.checkpoint_path(self.state.epoch))

    def load_latest_checkpoint(self) -> bool:
        """Restore the newest checkpoint; False when there is none."""
        folder = self.exp_dir / "checkpoints"
        epochs = sorted(int(p.stem.split("-")[1]) for p in folder.glob("epoch-*.pt")
                        if p.stem.split("-")[1].isdigit()) if folder.is_dir() else []
        if not epochs:
            return False
        path = self.checkpoint_path(epochs[-1])
        saved = load_torch(path, "checkpoint")
        try:
            self.model.load_state_dict(saved["model"])
            self.optimizer.load_state_dict(saved["optimizer"])
        except (RuntimeError, ValueError, KeyError) as exc:
            raise AsrktError(f"{path}: checkpoint does not fit this model/config: "
                             f"{str(exc).splitlines()[0]}") from None
        self.state = ScheduleState(**saved["schedule"])
        self.history = list(saved["history"])
        rng = saved.get("rng") or {}
        ranks = saved.get("rng_ranks") or []
        if self.dist.enabled and len(ranks) == self.dist.world_size:
            rng = ranks[self.dist.rank]
        if "cpu" in rng:
            torch.set_rng_state(rng["cpu"])
        if "cuda" in rng and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(rng["cuda"])
        logger.info("resuming after epoch %d from %s (lr %g)", self.state.epoch, path,
                    self.state.learning_rate)
        return True

    # -- the loop ---------------------------------------------------------------------------
    def fit(self, resume: bool = False) -> List[Dict[str, Any]]:
        """Train to the end of the schedule; writes checkpoints, logs and ``final.pt``."""
        if not (resume and self.load_latest_checkpoint()):
            cv = self.run_epoch(self.cv_loader, 0, train=False)
            self.state.best_loss = cv.loss
            self._record(0, None, cv, True)
            logger.info("epoch 0 (initial model): CV loss %.4f, CV frame acc %.2f%%",
                        cv.loss, 100 * cv.accuracy)
        best = (copy.deepcopy(self.model.state_dict()), copy.deepcopy(self.optimizer.state_dict()))
        while not self.state.done and self.state.epoch < self.settings.max_epochs:
            self.state.epoch += 1
            epoch, lr = self.state.epoch, self.state.learning_rate
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            train = self.run_epoch(self.train_loader, epoch, train=True)
            cv = self.run_epoch(self.cv_loader, epoch, train=False)
            accepted = newbob_update(self.state, cv.loss, self.settings)
            if accepted:
                best = (copy.deepcopy(self.model.state_dict()),
                        copy.deepcopy(self.optimizer.state_dict()))
            else:
                self.model.load_state_dict(best[0])
                self.optimizer.load_state_dict(best[1])
            self._record(epoch, train, cv, accepted, lr)
            self.save_checkpoint()
        if self.dist.is_main:
            self._plot(force=True)
            save_torch(self.final_payload(self.model), self.exp_dir / "final.pt")
        return self.history

    def _plot(self, force: bool = False) -> None:
        """Redraw curves.png when it lacks records, at most every CURVES_EVERY_S seconds
        unless ``force`` (the end of training): drawing takes about 0.3 s, the first one in a
        process another 0.5 s to import matplotlib, a lot for the many short trainings of tests
        and small corpora, nothing for epochs of minutes."""
        if len(self.history) == self._plotted[0]:
            return
        if force or time.monotonic() - self._plotted[1] >= CURVES_EVERY_S:
            plot_curves(self.exp_dir / "curves.png", self.history)
            self._plotted = (len(self.history), time.monotonic())

    def _record(self, epoch: int, train: Optional[EpochStats], cv: EpochStats,
                accepted: bool, lr: Optional[float] = None) -> None:
        line: Dict[str, Any] = {"epoch": epoch, "lr": lr, "cv_loss": cv.loss, "cv_acc": cv.accuracy,
                                "accepted": accepted}
        if train is not None:
            fps = train.frames / max(train.seconds, 1e-9)
            line.update(train_loss=train.loss, train_acc=train.accuracy, frames_per_s=fps,
                        train_gflops_per_s=3 * self.model.flops_per_frame() * fps / 1e9,
                        data_share=train.data_seconds / max(train.seconds, 1e-9),
                        train_seconds=train.seconds, train_frames=train.frames)
            logger.info("epoch %d: lr %g, train loss %.4f acc %.2f%%, CV loss %.4f acc %.2f%% "
                        "(%s), %.0f frames/s (%.1f GFLOP/s), data loading %.1f%% of step time",
                        epoch, lr, train.loss, 100 * train.accuracy, cv.loss,
                        100 * cv.accuracy, "accepted" if accepted else "REJECTED", fps,
                        line["train_gflops_per_s"], 100 * line["data_share"])
        self.history.append(line)
        if self.dist.is_main:
            write_history(self.exp_dir, self.history)
            if train is not None:  # not the initial model's CV point alone
                self._plot()


def write_history(exp_dir: Path, history: List[Dict[str, Any]]) -> None:
    """Rewrite ``train.jsonl`` (one JSON object per epoch) atomically."""
    write_text_atomic(Path(exp_dir) / "train.jsonl",
                      "".join(json.dumps(line, sort_keys=True) + "\n" for line in history))


def plot_curves(path: Path, history: List[Dict[str, Any]],
                panels: Optional[List[List[str]]] = None) -> None:
    """PNG of the per-epoch curves (loss and accuracy panels by default).

    Args:
        path: the PNG to write.
        history: the per-epoch records.
        panels: keys to plot per panel.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = panels or [["train_loss", "cv_loss"], ["train_acc", "cv_acc"]]
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.5), squeeze=False)
    for ax, keys in zip(axes[0], panels):
        for key in keys:
            points = [(h["epoch"], h[key]) for h in history if h.get(key) is not None]
            if points:
                ax.plot(*zip(*points), marker="o", label=key)
        ax.set_xlabel("epoch")
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="png", dpi=80)
    plt.close(fig)
