"""On-the-fly augmentation of training minibatches.

Frequency masking (the frequency half of SpecAugment, Park et al. 2019): each example of a
frame-level minibatch (each stream of a recurrent one) gets one band of up to ``max_width``
consecutive filterbank channels set to zero, the same band in every spliced context frame (and,
for a stream, in every frame of the chunk). Inputs are normalised by the feature pipeline, so zero
is the training mean. Only training minibatches are masked; CV and inference never are. The band
widths and positions are drawn from torch's global generator, which the checkpoints save.
"""

from __future__ import annotations

import torch


def mask_frequencies(inputs: torch.Tensor, feat_dim: int, max_width: int) -> torch.Tensor:
    """A copy of ``inputs`` with one random band of channels zeroed per example/stream.

    Args:
        inputs: [B, K * feat_dim] spliced frames or [S, C, K * feat_dim] stream chunks.
        feat_dim: channels per frame before splicing (the band lives in 0..feat_dim-1).
        max_width: widest band; each width is uniform in 0..max_width (0 leaves it unmasked).
    """
    if max_width <= 0:
        return inputs
    rows = inputs.shape[0]
    x = inputs.reshape(rows, -1, feat_dim)
    width = torch.randint(0, min(max_width, feat_dim) + 1, (rows,), device=inputs.device)
    start = (torch.rand(rows, device=inputs.device) * (feat_dim - width + 1)).long()
    channel = torch.arange(feat_dim, device=inputs.device)
    band = (channel >= start[:, None]) & (channel < (start + width)[:, None])
    return x.masked_fill(band[:, None, :], 0.0).reshape(inputs.shape)
