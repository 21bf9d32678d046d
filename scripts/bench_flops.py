"""Analytic matrix-multiply work of one training step, and the torch.mm bound at its shapes.

Each GEMM is (M, K, N): an [M, K] x [K, N] product, 2*M*K*N FLOPs. Elementwise work (biases,
sigmoid/tanh gates, the loss) is not counted: the bound is the time ``torch.mm`` needs for
exactly the products the step must compute, measured in the same process and run.

Linear layer, ``in`` -> ``out``, batch B (frames):
    forward  (B, in, out)          y = x W^T
    wgrad    (out, B, in)          dW = dy^T x
    dgrad    (B, out, in)          dx = dy W   (not needed for the first layer: inputs need no grad)
    => 3 x forward FLOPs, 2 x for the first layer.

LSTMP layer (proj_size P; cells H; input ``in``; S streams x C steps): the inputs of all C
steps are projected at once, only the recurrence loops over the steps, and the recurrent weights'
gradients are formed once over all positions (asrkt.nnet.models.lstmp; torch.nn.LSTM instead forms
them per step, (4H, S, P) + (P, S, H) x C, which torch.mm runs at a lower rate):
    input    forward (S*C, in, 4H), wgrad (4H, S*C, in), dgrad (S*C, 4H, in) except layer 1
    per step forward (S, P, 4H) [recurrent, W_hh] + (S, H, P) [projection, W_hr],
             dgrad   (S, 4H, P) + (S, P, H)                                 -- x C steps
    once     wgrad   (4H, S*C, P) + (P, S*C, H)
    => per frame and layer: 3 x 2 x (4H*in + 4H*P + H*P) (2 x for layer 1's input part).
Output layer: a Linear over the S*C positions.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Dict, List, Tuple

Gemm = Tuple[int, int, int]


def linear_gemms(batch: int, dim_in: int, dim_out: int, first: bool) -> List[Gemm]:
    gemms = [(batch, dim_in, dim_out), (dim_out, batch, dim_in)]
    if not first:
        gemms.append((batch, dim_out, dim_in))
    return gemms


def dnn_step_gemms(batch: int, dims: List[int]) -> List[Gemm]:
    """GEMMs of one DNN step; ``dims`` = [input, hidden..., num_pdfs]."""
    out: List[Gemm] = []
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
        out += linear_gemms(batch, a, b, first=(i == 0))
    return out


def lstmp_step_gemms(streams: int, chunk: int, dim_in: int, layers: int, cells: int, proj: int,
                     num_pdfs: int) -> List[Gemm]:
    """GEMMs of one LSTMP training step over a [streams, chunk] minibatch."""
    rows = streams * chunk
    out: List[Gemm] = []
    rec_out = proj if proj > 0 else cells
    layer_in = dim_in
    for layer in range(layers):
        out += linear_gemms(rows, layer_in, 4 * cells, first=(layer == 0))
        for _ in range(chunk):  # forward and input gradient of each step
            out += [(streams, rec_out, 4 * cells), (streams, 4 * cells, rec_out)]
            if proj > 0:
                out += [(streams, cells, proj), (streams, proj, cells)]
        out.append((4 * cells, rows, rec_out))  # weight gradients over all positions
        if proj > 0:
            out.append((proj, rows, cells))
        layer_in = rec_out
    out += linear_gemms(rows, rec_out, num_pdfs, first=False)
    return out


def flops(gemms: List[Gemm]) -> float:
    return float(sum(2 * m * k * n for m, k, n in gemms))


def time_mm(shape: Gemm, min_seconds: float = 0.02, repeats: int = 3) -> float:
    """Best CPU seconds of one fp32 torch.mm at ``shape`` (process time, one thread)."""
    import torch

    m, k, n = shape
    a, b = torch.randn(m, k), torch.randn(k, n)
    out = torch.empty(m, n)
    for _ in range(3):
        torch.mm(a, b, out=out)
    reps = 1
    while True:  # calibrate
        t = time.process_time()
        for _ in range(reps):
            torch.mm(a, b, out=out)
        dt = time.process_time() - t
        if dt >= min_seconds or reps >= 1 << 16:
            break
        reps *= 4
    best = dt / reps
    for _ in range(repeats - 1):
        t = time.process_time()
        for _ in range(reps):
            torch.mm(a, b, out=out)
        best = min(best, (time.process_time() - t) / reps)
    return best


def mm_bound(gemms: List[Gemm], min_seconds: float = 0.02) -> Dict[str, object]:
    """Seconds torch.mm needs for ``gemms`` (each distinct shape timed once), and the rate."""
    counts = Counter(gemms)
    per_shape = {shape: time_mm(shape, min_seconds) for shape in counts}
    seconds = sum(per_shape[s] * c for s, c in counts.items())
    total = flops(gemms)
    return {"seconds": seconds, "flops": total, "gflops_per_s": total / seconds / 1e9,
            "shapes": {f"{m}x{k}x{n}": {"count": c, "gflops_per_s":
                                        2 * m * k * n / per_shape[(m, k, n)] / 1e9}
                       for (m, k, n), c in counts.items()}}
