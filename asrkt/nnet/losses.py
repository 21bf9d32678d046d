"""Training losses: cross-entropy on hard pdf targets and the knowledge-transfer (KT) loss
against soft targets (Hinton-style temperature on both sides), with their interpolation.

The KT loss at temperature T is ``T^2 * mean_frames( -sum_j q_j log softmax(z / T)_j )`` with
q the (already tempered) soft targets; its gradient w.r.t. the logits is the closed form
``T * (softmax(z / T) * sum(q) - q) / N``, computed in a custom autograd function so that no
softmax graph is kept. KL(q || p) differs from it only by q's entropy (a constant), so both have
the same gradient.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F


class _SoftTargetCrossEntropy(torch.autograd.Function):
    """Mean over rows of ``-T^2 * sum_j q_j log softmax(z/T)_j`` with the closed-form gradient."""

    @staticmethod
    def forward(ctx, logits, targets, temperature: float):  # noqa: D401
        log_p = F.log_softmax(logits.float() / temperature, dim=-1)
        rows = max(logits.shape[0], 1)
        loss = -(targets * log_p).sum() * (temperature ** 2 / rows)
        ctx.save_for_backward(log_p, targets)
        ctx.temperature = temperature
        ctx.rows = rows
        ctx.logits_dtype = logits.dtype
        return loss

    @staticmethod
    def backward(ctx, grad_output):
        log_p, targets = ctx.saved_tensors
        mass = targets.sum(dim=-1, keepdim=True)
        grad = (log_p.exp() * mass - targets) * (ctx.temperature / ctx.rows)
        return (grad * grad_output).to(ctx.logits_dtype), None, None


def soft_target_loss(logits: torch.Tensor, targets: torch.Tensor,
                     temperature: float = 1.0) -> torch.Tensor:
    """KT loss: cross-entropy of softmax(logits / T) against soft targets, times T^2, mean.

    Args:
        logits: [N, num_pdfs] student logits.
        targets: [N, num_pdfs] soft targets (rows summing to 1), already at temperature T.
        temperature: T (1 = plain CE against the teacher's posteriors).
    """
    return _SoftTargetCrossEntropy.apply(logits, targets.to(torch.float32), float(temperature))


def hard_target_loss(logits: torch.Tensor, pdfs: torch.Tensor) -> torch.Tensor:
    """Frame cross-entropy against pdf ids (mean over frames)."""
    return F.cross_entropy(logits.float(), pdfs)


@dataclass
class LossSpec:
    """Which loss a training command optimises.

    hard_weight: weight of CE on hard pdf targets ('pdf').
    soft_weight: weight of the KT loss on soft targets ('soft').
    temperature: KT temperature (student logits divided by it; targets already tempered).
    """

    hard_weight: float = 1.0
    soft_weight: float = 0.0
    temperature: float = 1.0

    @property
    def target_names(self) -> Tuple[str, ...]:
        names = []
        if self.hard_weight > 0:
            names.append("pdf")
        if self.soft_weight > 0:
            names.append("soft")
        return tuple(names)


def training_loss(logits: torch.Tensor, targets: Dict[str, torch.Tensor], spec: LossSpec
                  ) -> Tuple[torch.Tensor, torch.Tensor]:
    """(loss, number of correct frames) for a batch.

    Accuracy is against the hard targets when present, else against the soft targets' argmax.

    Args:
        logits: [N, num_pdfs].
        targets: 'pdf' [N] long and/or 'soft' [N, num_pdfs] float.
        spec: the loss weights and temperature.
    """
    loss: Optional[torch.Tensor] = None
    if spec.hard_weight > 0:
        loss = spec.hard_weight * hard_target_loss(logits, targets["pdf"])
    if spec.soft_weight > 0:
        kt = spec.soft_weight * soft_target_loss(logits, targets["soft"], spec.temperature)
        loss = kt if loss is None else loss + kt
    reference = targets["pdf"] if "pdf" in targets else targets["soft"].argmax(dim=-1)
    correct = (logits.detach().argmax(dim=-1) == reference).sum()
    return loss, correct
