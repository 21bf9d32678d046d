"""Restricted Boltzmann machines trained with CD-1, stacked into a DBN as Kaldi's
steps/nnet/pretrain_dbn.sh + rbm-train-cd1-frmshuff do.

The first RBM is Gaussian-Bernoulli (unit-variance linear visible units on spliced, globally
normalised features), the rest Bernoulli-Bernoulli on the sigmoid activations of the layer below.
Updates follow Kaldi's ``Rbm::RbmUpdate``: ``corr = momentum * corr + lr * (grad / N - l2 * W)``
(L2 on weights only), ``W += corr``; momentum ramps linearly from ``momentum`` to
``momentum_max``. Gaussian RBMs are guarded against weight explosion as Kaldi does: when the
reconstruction's standard deviation exceeds twice the data's, weights and biases are scaled by
their ratio, the learning rate is multiplied by 0.9, momentum buffers are cleared and the update
is skipped.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Callable, Dict, Optional

import torch

logger = logging.getLogger("asrkt.nnet")


@dataclass
class RBM:
    """One RBM: ``weight`` [hid, vis], biases, the visible type, and its training state."""

    weight: torch.Tensor
    vis_bias: torch.Tensor
    hid_bias: torch.Tensor
    vis_type: str  # 'gaussian' or 'bernoulli'
    learning_rate: float = 0.01
    frames_seen: int = 0
    weight_corr: Optional[torch.Tensor] = None
    vis_bias_corr: Optional[torch.Tensor] = None
    hid_bias_corr: Optional[torch.Tensor] = None

    @classmethod
    def initial(cls, vis_dim: int, hid_dim: int, vis_type: str, learning_rate: float,
                generator: torch.Generator, stddev: float = 0.1,
                vis_bias: Optional[torch.Tensor] = None) -> RBM:
        """Weights N(0, stddev), hidden biases 0, visible biases 0 or ``vis_bias``."""
        weight = torch.randn(hid_dim, vis_dim, generator=generator) * stddev
        vb = torch.zeros(vis_dim) if vis_bias is None else vis_bias.float().clone()
        rbm = cls(weight, vb, torch.zeros(hid_dim), vis_type, learning_rate)
        rbm.reset_momentum()
        return rbm

    def reset_momentum(self) -> None:
        self.weight_corr = torch.zeros_like(self.weight)
        self.vis_bias_corr = torch.zeros_like(self.vis_bias)
        self.hid_bias_corr = torch.zeros_like(self.hid_bias)

    def to(self, device) -> RBM:
        for name in ("weight", "vis_bias", "hid_bias", "weight_corr", "vis_bias_corr",
                     "hid_bias_corr"):
            setattr(self, name, getattr(self, name).to(device))
        return self

    def propagate(self, vis: torch.Tensor) -> torch.Tensor:
        """Hidden probabilities."""
        return torch.sigmoid(torch.addmm(self.hid_bias, vis, self.weight.t()))

    def reconstruct(self, hid: torch.Tensor) -> torch.Tensor:
        """Visible means (linear for Gaussian, sigmoid for Bernoulli)."""
        vis = torch.addmm(self.vis_bias, hid, self.weight)
        return vis if self.vis_type == "gaussian" else torch.sigmoid(vis)

    def state(self) -> Dict:
        """Everything needed to continue training (for checkpoints)."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_state(cls, state: Dict) -> RBM:
        return cls(**state)


def momentum_at(frames_seen: int, start: float, end: float, ramp_frames: int) -> float:
    """Linear ramp from ``start`` to ``end`` over ``ramp_frames`` frames."""
    if ramp_frames <= 0:
        return end
    return start + (end - start) * min(1.0, frames_seen / ramp_frames)


def cd1_step(rbm: RBM, vis: torch.Tensor, generator: torch.Generator, momentum: float,
             l2_penalty: float) -> float:
    """One CD-1 update on a minibatch; returns the summed squared reconstruction error.

    Args:
        rbm: the RBM (updated in place).
        vis: [N, vis] data.
        generator: for sampling the hidden states.
        momentum: momentum of this step.
        l2_penalty: weight decay on the weights.
    """
    pos_hid, neg_vis, neg_hid = _gibbs(rbm, vis, generator)
    error = float(torch.sum((neg_vis - vis) ** 2))
    if rbm.vis_type == "gaussian" and _explosion_guard(rbm, float(vis.std()),
                                                       float(neg_vis.std())):
        return error
    n = vis.shape[0]
    grad_w = (pos_hid.t() @ vis - neg_hid.t() @ neg_vis) / n
    _apply_update(rbm, (grad_w, (vis - neg_vis).mean(dim=0), (pos_hid - neg_hid).mean(dim=0)),
                  momentum, l2_penalty, n)
    return error


def _gibbs(rbm: RBM, vis: torch.Tensor, generator: torch.Generator):
    """(positive hidden probabilities, reconstruction, its hidden probabilities) of CD-1."""
    pos_hid = rbm.propagate(vis)
    sample = (torch.rand(pos_hid.shape, generator=generator, device=vis.device) < pos_hid)
    neg_vis = rbm.reconstruct(sample.to(vis.dtype))
    return pos_hid, neg_vis, rbm.propagate(neg_vis)


def _explosion_guard(rbm: RBM, pos_std: float, neg_std: float) -> bool:
    """Kaldi's guard of a Gaussian RBM: when the reconstruction's std exceeds twice the data's,
    scale the parameters down, lower the learning rate, clear momentum; True: skip the update."""
    if pos_std * 2 >= neg_std:
        return False
    scale = pos_std / neg_std
    rbm.weight *= scale
    rbm.vis_bias *= scale
    rbm.hid_bias *= scale
    rbm.learning_rate *= 0.9
    rbm.reset_momentum()
    logger.warning("Gaussian RBM: reconstruction std %.3f > 2 x data std %.3f, danger of "
                   "weight explosion: weights scaled by %.3f, learning rate lowered to %g",
                   neg_std, pos_std, scale, rbm.learning_rate)
    return True


def _apply_update(rbm: RBM, grads, momentum: float, l2_penalty: float, frames: int) -> None:
    """The momentum update from the minibatch-mean gradients (weights, visible, hidden
    biases) of ``frames`` frames."""
    grad_w, grad_vis, grad_hid = grads
    lr = rbm.learning_rate
    rbm.weight_corr.mul_(momentum).add_(lr * (grad_w - l2_penalty * rbm.weight))
    rbm.vis_bias_corr.mul_(momentum).add_(lr * grad_vis)
    rbm.hid_bias_corr.mul_(momentum).add_(lr * grad_hid)
    rbm.weight += rbm.weight_corr
    rbm.vis_bias += rbm.vis_bias_corr
    rbm.hid_bias += rbm.hid_bias_corr
    rbm.frames_seen += frames


class SharedCD1:
    """CD-1 steps of data-parallel ranks: each step sums the minibatch statistics of every
    rank (one all-reduce of one flat tensor: weight and bias gradient sums, frames, error and
    the moments the Gaussian guard needs), so every rank applies the same update, that of the
    ranks' minibatches together. A rank without a batch left joins each step with zeros until
    a step where no rank had one (:meth:`drain`); the totals of the epoch's steps are kept.

    Args:
        reduce: sums a tensor over the ranks (returns the sum).
    """

    def __init__(self, reduce: Callable[[torch.Tensor], torch.Tensor]):
        self.reduce = reduce
        self.error, self.frames = 0.0, 0

    @staticmethod
    def statistics(rbm: RBM, vis: Optional[torch.Tensor],
                   generator: torch.Generator) -> torch.Tensor:
        """This rank's sums of one step as one flat tensor (zeros for ``vis`` None)."""
        hid_dim, vis_dim = rbm.weight.shape
        if vis is None:
            return torch.zeros(hid_dim * vis_dim + vis_dim + hid_dim + 6,
                               device=rbm.weight.device, dtype=rbm.weight.dtype)
        pos_hid, neg_vis, neg_hid = _gibbs(rbm, vis, generator)
        grad_w = pos_hid.t() @ vis - neg_hid.t() @ neg_vis
        scalars = torch.stack([torch.tensor(float(vis.shape[0]), device=vis.device),
                               torch.sum((neg_vis - vis) ** 2), vis.sum(), (vis ** 2).sum(),
                               neg_vis.sum(), (neg_vis ** 2).sum()])
        return torch.cat([grad_w.reshape(-1), (vis - neg_vis).sum(dim=0),
                          (pos_hid - neg_hid).sum(dim=0), scalars.to(grad_w.dtype)])

    def step(self, rbm: RBM, vis: Optional[torch.Tensor], generator: torch.Generator,
             momentum: float, l2_penalty: float) -> int:
        """One shared step; returns the frames of all ranks' batches (0: none had one).

        Args:
            rbm: the RBM (the same on every rank; updated in place).
            vis: this rank's batch, or None when its data is used up.
            generator / momentum / l2_penalty: as :func:`cd1_step`.
        """
        total = self.reduce(self.statistics(rbm, vis, generator))
        hid_dim, vis_dim = rbm.weight.shape
        cut = hid_dim * vis_dim
        n, error, s_v, ss_v, s_n, ss_n = total[-6:].tolist()
        frames = int(round(n))
        if not frames:
            return 0
        self.error += error
        self.frames += frames
        elements = frames * vis_dim
        std = [math.sqrt(max(ss - s * s / elements, 0.0) / max(elements - 1, 1))
               for s, ss in ((s_v, ss_v), (s_n, ss_n))]
        if rbm.vis_type == "gaussian" and _explosion_guard(rbm, *std):
            return frames
        grads = (total[:cut].view(hid_dim, vis_dim) / frames,
                 total[cut:cut + vis_dim] / frames, total[cut + vis_dim:-6] / frames)
        _apply_update(rbm, grads, momentum, l2_penalty, frames)
        return frames

    def drain(self, rbm: RBM, generator: torch.Generator, momentum_range, ramp_frames: int,
              l2_penalty: float) -> None:
        """Join the other ranks' remaining steps of the epoch with no batch of this rank's."""
        while self.step(rbm, None, generator, momentum_at(rbm.frames_seen, *momentum_range,
                                                          ramp_frames), l2_penalty):
            pass


def train_rbm_epoch(rbm: RBM, inputs: Callable[[torch.Tensor], torch.Tensor],
                    below: Callable[[torch.Tensor], torch.Tensor], order: torch.Tensor,
                    batch_size: int, generator: torch.Generator,
                    momentum_range, ramp_frames: int, l2_penalty: float,
                    progress=None, shared: Optional[SharedCD1] = None) -> Dict[str, float]:
    """One CD-1 epoch over frames ``order``; returns error per frame and per element.

    Args:
        rbm: the RBM being trained.
        inputs: frame indices -> spliced features (timed as data loading).
        below: spliced features -> visible data of this RBM (the lower RBMs; compute).
        order: shuffled frame indices.
        batch_size: frames per minibatch (Kaldi: 100).
        generator: sampling generator.
        momentum_range: (start, max) momentum.
        ramp_frames: frames over which momentum ramps.
        l2_penalty: weight decay.
        progress: optional tqdm bar to advance per batch.
        shared: data-parallel steps (the error totals are then ``shared``'s).
    """
    import time

    total, data_time, start = 0.0, 0.0, time.perf_counter()
    for first in range(0, order.numel(), batch_size):
        tick = time.perf_counter()
        vis = inputs(order[first:first + batch_size])
        data_time += time.perf_counter() - tick
        vis = below(vis)
        momentum = momentum_at(rbm.frames_seen, momentum_range[0], momentum_range[1], ramp_frames)
        if shared is None:
            total += cd1_step(rbm, vis, generator, momentum, l2_penalty)
        else:
            shared.step(rbm, vis, generator, momentum, l2_penalty)
        if progress is not None:
            progress.update(1)
    seconds = time.perf_counter() - start
    frames = max(order.numel(), 1)
    return {"recon_error": total / frames, "recon_mse": total / frames / rbm.weight.shape[1],
            "momentum": momentum_at(rbm.frames_seen, momentum_range[0], momentum_range[1],
                                    ramp_frames),
            "frames_per_s": frames / max(seconds, 1e-9),
            # CD-1: 3 products (up, down, up) + 2 for the statistics, 2 FLOPs per weight each
            "gflops_per_s": 10 * rbm.weight.numel() * frames / max(seconds, 1e-9) / 1e9,
            "data_share": data_time / max(seconds, 1e-9)}


@torch.no_grad()
def activation_means(inputs: Callable[[torch.Tensor], torch.Tensor], num_frames: int,
                     batch_size: int, device) -> torch.Tensor:
    """Mean of ``inputs`` over all frames (the next Bernoulli RBM's visible-bias source)."""
    total = None
    for first in range(0, num_frames, batch_size):
        idx = torch.arange(first, min(first + batch_size, num_frames), device=device)
        part = inputs(idx).sum(dim=0)
        total = part if total is None else total + part
    return total / num_frames


def bernoulli_vis_bias(means: torch.Tensor) -> torch.Tensor:
    """Visible biases log(p / (1 - p)) from activation means (Kaldi's pretrain_dbn.sh)."""
    p = means.clamp(1e-4, 1 - 1e-4)
    return torch.log(p / (1 - p))
