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
    """Mean over rows of ``-T^2 * sum_j q_j log softmax(z/T)_j`` with the closed-form gradient.

    ``weights`` are dense [N, num_pdfs] targets (``ids`` None) or sparse [N, K] weights of the
    pdfs ``ids`` [N, K]: then the loss gathers log softmax(z/T) at the ids and the gradient
    scatters the weights (repeated ids add up; padding has weight 0), so the [N, num_pdfs]
    targets are never built.
    """

    @staticmethod
    def forward(ctx, logits, weights, ids, temperature: float):  # noqa: D401
        log_p = F.log_softmax(logits.float() / temperature, dim=-1)
        rows = max(logits.shape[0], 1)
        picked = log_p if ids is None else log_p.gather(1, ids)
        loss = -(weights * picked).sum() * (temperature ** 2 / rows)
        ctx.save_for_backward(log_p, weights, ids)
        ctx.temperature = temperature
        ctx.rows = rows
        ctx.logits_dtype = logits.dtype
        return loss

    @staticmethod
    def backward(ctx, grad_output):
        log_p, weights, ids = ctx.saved_tensors
        grad = log_p.exp() * weights.sum(dim=-1, keepdim=True)
        if ids is None:
            grad = grad - weights
        else:
            grad = grad.scatter_add_(1, ids, -weights)
        grad = grad * (ctx.temperature / ctx.rows)
        return (grad * grad_output).to(ctx.logits_dtype), None, None, None


def sparse_target_loss(logits: torch.Tensor, ids: torch.Tensor, weights: torch.Tensor,
                       temperature: float = 1.0) -> torch.Tensor:
    """:func:`soft_target_loss` for sparse soft targets (Kaldi Posterior rows).

    Args:
        logits: [N, num_pdfs] student logits.
        ids: [N, K] pdf ids (any integer dtype).
        weights: [N, K] their weights (rows summing to 1, padding 0), already at temperature T.
        temperature: T.
    """
    return _SoftTargetCrossEntropy.apply(logits, weights.to(torch.float32), ids.long(),
                                         float(temperature))


def soft_target_loss(logits: torch.Tensor, targets: torch.Tensor,
                     temperature: float = 1.0) -> torch.Tensor:
    """KT loss: cross-entropy of softmax(logits / T) against soft targets, times T^2, mean.

    Args:
        logits: [N, num_pdfs] student logits.
        targets: [N, num_pdfs] soft targets (rows summing to 1), already at temperature T.
        temperature: T (1 = plain CE against the teacher's posteriors).
    """
    return _SoftTargetCrossEntropy.apply(logits, targets.to(torch.float32), None,
                                         float(temperature))


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
        targets: 'pdf' [N] long and/or soft targets: 'soft' [N, num_pdfs] float (dense) or
            'soft_ids' [N, K] int + 'soft_weights' [N, K] float (sparse).
        spec: the loss weights and temperature.
    """
    loss: Optional[torch.Tensor] = None
    if spec.hard_weight > 0:
        loss = spec.hard_weight * hard_target_loss(logits, targets["pdf"])
    if spec.soft_weight > 0:
        if "soft" in targets:
            kt = soft_target_loss(logits, targets["soft"], spec.temperature)
        else:
            kt = sparse_target_loss(logits, targets["soft_ids"], targets["soft_weights"],
                                    spec.temperature)
        kt = spec.soft_weight * kt
        loss = kt if loss is None else loss + kt
    if "pdf" in targets:
        reference = targets["pdf"]
    elif "soft" in targets:
        reference = targets["soft"].argmax(dim=-1)
    else:  # the id of each frame's largest weight
        best = targets["soft_weights"].argmax(dim=-1, keepdim=True)
        reference = targets["soft_ids"].gather(1, best).squeeze(1).long()
    correct = (logits.detach().argmax(dim=-1) == reference).sum()
    return loss, correct
